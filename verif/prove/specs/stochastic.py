"""Stochastic rounding as the README documents it, as bit-vector arithmetic on the exact value.

README (rounding modes): "``stochastic`` (with the random bits passed in, so hardware reproduces it: the top
``rand_bits`` discarded bits plus the random integer round up on carry)", and the converter's port table: "round
up when (top ``--rand-bits`` discarded bits) + ``rand`` carries out". So with ``R = rand_bits``: truncate the
exact magnitude to the destination's grid (toward zero); read the ``R`` bits just below the last kept bit as an
integer ``t`` (the discarded fraction truncated to ``R`` bits, zero-extended when the value has fewer); the
magnitude goes up one unit in the last place exactly when ``t + rand >= 2**R``. Bits below the top ``R``
discarded ones play no part.

The truncation itself is the SMT FloatingPoint theory's ``roundTowardZero`` into a sort that keeps ``R`` more
significand bits than the destination (for floats, :func:`truncate_float`) or into a fixed-point integer with
``R`` more fraction bits (integers, :func:`truncate_fixed`); the carry is :func:`carry`. Nothing here comes from
golden's or the RTL's code.
"""

import z3

__all__ = ["carry", "truncate_fixed", "truncate_float"]


def carry(t, rand, rand_bits):
    """Whether ``t + rand`` carries out of ``rand_bits`` bits (both ``BitVec(rand_bits)``): the round-up bit."""
    wide = z3.ZeroExt(1, t) + z3.ZeroExt(1, rand)
    return z3.Extract(rand_bits, rand_bits, wide) == 1


def truncate_float(v_s, exp_bits, prec, rand_bits):
    """Truncate ``v_s`` (a finite FP term, already scaled so that the sort ``(exp_bits, prec)`` has the
    destination's subnormal grid) to ``prec`` significant bits, keeping the next ``rand_bits`` bits apart.

    Returns ``(kept, t, rest)``: ``kept`` the magnitude pattern (``exp_bits + prec - 1`` bits, exponent field
    over fraction) of the truncation, ``t`` the ``rand_bits`` discarded bits below it as an integer, ``rest``
    whether anything nonzero lies below those (the truncation into ``prec + rand_bits`` bits was inexact).
    """
    sort = z3.FPSort(exp_bits, prec + rand_bits)
    trunc = z3.fpToFP(z3.RTZ(), v_s, sort)
    word = z3.fpToIEEEBV(trunc)
    mag = z3.Extract(exp_bits + prec + rand_bits - 2, 0, word)
    kept = z3.Extract(exp_bits + prec + rand_bits - 2, rand_bits, mag)
    t = z3.Extract(rand_bits - 1, 0, mag)
    rest = z3.Not(z3.fpEQ(z3.fpToFP(z3.RNE(), trunc, v_s.sort()), v_s))
    return kept, t, rest


def truncate_fixed(v, frac_bits, int_bits, rand_bits):
    """Truncate ``|v|`` (a finite FP term) to a multiple of ``2**-frac_bits`` with ``rand_bits`` more bits kept.

    Returns ``(kept, t, rest)`` as :func:`truncate_float`, ``kept`` an unsigned ``int_bits + frac_bits``-bit
    integer counting units of ``2**-frac_bits`` (the caller makes ``int_bits`` wide enough for every value it
    does not clamp first), ``t`` the ``rand_bits`` bits below.
    """
    width = int_bits + frac_bits + rand_bits
    sort = v.sort()
    scale = z3.FPVal(2.0 ** (frac_bits + rand_bits), sort)
    scaled = z3.fpMul(z3.RNE(), z3.fpAbs(v), scale)
    whole = z3.fpToUBV(z3.RTZ(), scaled, z3.BitVecSort(width))
    back = z3.fpToFPUnsigned(z3.RNE(), whole, sort)
    kept = z3.Extract(width - 1, rand_bits, whole)
    t = z3.Extract(rand_bits - 1, 0, whole)
    return kept, t, z3.Not(z3.fpEQ(back, scaled))
