"""Specifications of conversions to and from integers (two's complement / unsigned, with an optional fixed
binary point: MXINT8 is ``q * 2**-6``).

Float -> integer is SMT-LIB's ``fp.roundToIntegral`` with the rounding mode on the value scaled by
``2**frac_bits``, then ``fp.to_sbv`` / ``fp.to_ubv`` of that integral value. SMT-LIB leaves ``fp.to_sbv`` /
``fp.to_ubv`` unspecified for NaN and out-of-range operands, so the README's rules are written around it
explicitly, and the conversion only ever sees in-range integral values:

- "Float -> integer rounds by the mode, then saturates; NaN gives 0" and "+-inf and out-of-range values the
  range's ends, with NV" (README); the range is ``min_int .. max_int`` (``-2**(b-1) .. 2**(b-1) - 1``,
  ``0 .. 2**b - 1`` unsigned; symmetric formats such as MXINT8 stop at ``-max_int``);
- flags from IEEE 754-2019 5.8: invalid (NV) for NaN, infinities and results out of range (then nothing
  else); inexact (NX) when an in-range result differs from the operand;
- stochastic rounding: :mod:`stochastic`'s truncation to ``frac_bits + rand_bits`` fraction bits and carry.

Integer -> float is ``fp.to_fp`` of the signed or unsigned bit-vector (exact in a sort of the integer's
precision, then scaled by ``2**-frac_bits``); the destination's own module rounds it.
"""

import z3

from ..options import SpecOut
from . import ocp
from .stochastic import carry, truncate_fixed

__all__ = ["decode", "encode", "limits"]


def limits(fmt):
    """(min_int, max_int) of an integer format, from its published parameters."""
    b = fmt.bits
    if not fmt.signed:
        return 0, (1 << b) - 1
    hi = (1 << (b - 1)) - 1
    return (-hi if fmt.symmetric else -(1 << (b - 1))), hi


def decode(fmt, x, opts=None):
    """The exact value ``q * 2**-frac_bits`` of integer pattern ``x`` as an :class:`ocp.Exact`."""
    b, f = fmt.bits, fmt.frac_bits
    sort = ocp._sort_holding(-f - 1, b + 1, b + 1)
    # the pattern widened to >= 8 bits first (exact): z3 5.4 stops with "invalid sign_extend application"
    # converting a 1-2 bit vector
    if b < 8:
        x = z3.SignExt(8 - b, x) if fmt.signed else z3.ZeroExt(8 - b, x)
    q = z3.fpSignedToFP(z3.RNE(), x, sort) if fmt.signed else z3.fpUnsignedToFP(z3.RNE(), x, sort)
    value = z3.fpMul(z3.RNE(), q, ocp._pow2(-f, sort)) if f else q
    sign = z3.Extract(b - 1, b - 1, x) == 1 if fmt.signed else z3.BoolVal(False)
    return ocp.Exact(value, z3.BoolVal(False), -f, b - f, b, sign)


def encode(fmt, v, opts, rand=None):
    """Integer bits and flags for the exact value ``v`` (an :class:`ocp.Exact`) under ``opts``."""
    b, f = fmt.bits, fmt.frac_bits
    lo, hi = limits(fmt)
    R = opts.rand_bits if opts.rounding == "stochastic" else 0
    # a sort holding v, v * 2**(f + R) and the range's ends exactly (>= 12 significand bits, more than
    # the 8-bit fp.to_sbv below: z3 5.4 stops with "invalid sign_extend application" otherwise, e.g. bf16 -> uint4)
    sort = ocp._sort_holding(min(v.lo, -2), max(v.hi, b + 2) + f + R + 2, max(v.prec, b + 2, 12) + R)
    vw = z3.fpToFP(z3.RNE(), v.fp, sort)
    isnan, isinf = z3.fpIsNaN(vw), z3.fpIsInf(vw)
    neg = z3.fpIsNegative(vw)
    scaled = z3.fpMul(z3.RNE(), vw, ocp._pow2(f, sort)) if f else vw
    if opts.rounding == "stochastic":
        cap = max(b, 2) + 2  # magnitudes at or beyond 2**cap units are out of range whatever the carry
        big = z3.fpGEQ(z3.fpAbs(scaled), ocp._pow2(cap, sort))
        small = z3.If(big, z3.fpPlusZero(sort), vw)
        kept, t, rest = truncate_fixed(small, f, cap + 1, R)
        mag = z3.ZeroExt(1, kept) + z3.If(carry(t, rand, R), z3.BitVecVal(1, kept.size() + 1),
                                          z3.BitVecVal(0, kept.size() + 1))
        mag_fp = z3.fpUnsignedToFP(z3.RNE(), mag, sort)
        r = z3.If(big, scaled, z3.If(neg, z3.fpNeg(mag_fp), mag_fp))
        inexact = z3.Or(t != 0, rest)
    else:
        r = z3.fpRoundToIntegral(ocp.RM[opts.rounding], scaled)
        inexact = z3.Not(z3.fpEQ(r, scaled))
    over = z3.fpGT(r, z3.FPVal(hi, sort))      # hi + 1 and lo are within the sort's precision
    under = z3.fpLT(r, z3.FPVal(lo, sort))
    w = fmt.width
    # at least 8 bits: z3 5.4 stops with "invalid sign_extend application" on fp.to_sbv into 2-3 bit vectors
    inrange = z3.fpToSBV(z3.RTZ(), r, z3.BitVecSort(max(w + 1, 8)))
    val = z3.Extract(w - 1, 0, inrange)
    hi_w, lo_w = z3.BitVecVal(hi % (1 << w), w), z3.BitVecVal(lo % (1 << w), w)
    res = z3.If(isnan, z3.BitVecVal(0, w),
                z3.If(isinf, z3.If(neg, lo_w, hi_w), z3.If(over, hi_w, z3.If(under, lo_w, val))))
    bad = z3.Or(isnan, isinf, over, under)
    return SpecOut(res, ocp.flags_word(nx=z3.And(z3.Not(bad), inexact), nv=bad))
