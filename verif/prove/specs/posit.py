"""Specifications of posit(n, es) as a source (exact value) and as a destination, from the Posit Standard (2022).

Written from the standard's definitions (digest in /work/shared/SPECS.md) and the README, independent of the
RTL's construction:

- *Decode.* Zero is all zeros, NaR a 1 followed by zeros. A negative posit is the two's complement of its
  magnitude's pattern. After the sign, a run of ``r`` identical bits ended by the opposite bit (or the end of
  the word) is the regime, ``k = r - 1`` for a run of ones and ``-r`` for a run of zeros; then up to ``es``
  exponent bits (missing bits are 0), then the fraction: ``value = 2**(k * 2**es + e) * 1.f``. The value is
  built as an FP term of a sort holding every posit(n, es) exactly (``n`` significand bits, an exponent for
  ``+-(n - 2) * 2**es``); NaR is NaN.
- *Encode.* The exact value ``|v| = 2**s * 1.f`` gives the unbounded string: regime (``k = floor(s / 2**es)``:
  ``k + 1`` ones and a 0, or ``-k`` zeros and a 1), the ``es`` bits of ``e = s mod 2**es``, every fraction bit.
  The first ``n - 1`` bits are kept and the string is rounded on its bit pattern: ``rne`` to nearest with ties
  to the even pattern (the standard); ``rtz``, ``rdn``, ``rup``, ``rmm`` by the same increment rule as floats
  on the magnitude (README); ``stochastic`` the top ``rand_bits`` discarded bits plus ``rand``. A nonzero value
  never rounds to 0 nor to NaR: ``|v| <= minpos`` gives minpos and ``|v| >= maxpos`` gives maxpos. The sign is
  applied by two's complement. NaN gives NaR; +-inf give NaR, or +-maxpos with ``saturate`` (README).
- *Flags.* NX when the result differs from the exact value; NV for infinities and signaling NaNs (README: an
  infinity a format cannot hold). Posits have no underflow or overflow (values clamp to minpos / maxpos).
"""

import z3

from ..options import SpecOut
from . import ocp
from .stochastic import carry

__all__ = ["decode", "encode"]


def _run_length(y, bit):
    """Number of leading bits of ``y`` equal to ``bit`` (a 1-bit value), as a BitVec of ``y``'s width."""
    m = y.size()
    count = z3.BitVecVal(m, m)
    for i in range(m):  # from the lowest bit up, so the highest differing bit wins
        count = z3.If(z3.Extract(i, i, y) != bit, z3.BitVecVal(m - 1 - i, m), count)
    return count


def _posit_sort(n, es):
    top = (n - 2) << es
    return ocp._sort_holding(-top, top, n)


def decode(fmt, x, opts=None):
    """The exact value of posit pattern ``x`` as an :class:`ocp.Exact` (NaR as NaN)."""
    n, es = fmt.n, fmt.es
    sort = _posit_sort(n, es)
    sign = z3.Extract(n - 1, n - 1, x)
    mag = z3.If(sign == 1, -x, x)
    y = z3.Extract(n - 2, 0, mag)                       # n - 1 bits after the sign
    r0 = z3.Extract(n - 2, n - 2, y)
    run = _run_length(y, r0)
    wide = n + 8
    runw = z3.ZeroExt(wide - (n - 1), run)
    k = z3.If(r0 == 1, runw - 1, -runw)
    rest = y << (run + 1)                               # the run and its terminator shifted out
    e = z3.Extract(n - 2, n - 1 - es, rest) if es else None
    frac = rest << es if es else rest                   # n - 1 bits, left-aligned fraction
    scale = (k << es) + (z3.ZeroExt(wide - es, e) if es else 0)
    eb, sb = sort.ebits(), sort.sbits()
    field = z3.Extract(eb - 1, 0, scale + ((1 << (eb - 1)) - 1))
    fr = z3.Concat(frac, z3.BitVecVal(0, sb - 1 - (n - 1))) if sb - 1 > n - 1 else z3.Extract(n - 2, n - sb, frac)
    val = z3.fpFP(sign, field, fr)
    value = z3.If(x == 0, z3.fpPlusZero(sort), z3.If(x == 1 << (n - 1), z3.fpNaN(sort), val))
    top = (n - 2) << es
    # NaR has no sign (it is not a sign-magnitude pattern): it reads as +NaN
    return ocp.Exact(value, z3.BoolVal(False), -top, top, max(n - 1 - es, 1), z3.And(sign == 1, x != 1 << (n - 1)))


def encode(fmt, v, opts, rand=None):
    """Posit bits and flags for the exact value ``v`` (an :class:`ocp.Exact`) under ``opts``."""
    n, es = fmt.n, fmt.es
    top = (n - 2) << es
    mode = opts.rounding
    R = opts.rand_bits if mode == "stochastic" else 0
    sort = ocp._sort_holding(min(v.lo, -top) - 2, max(v.hi, top) + 2, max(v.prec, 3))
    vw = z3.fpToFP(z3.RNE(), v.fp, sort)
    isnan, isinf, iszero = z3.fpIsNaN(vw), z3.fpIsInf(vw), z3.fpIsZero(vw)
    neg = z3.fpIsNegative(vw)
    a = z3.fpAbs(vw)
    maxpos, minpos = ocp._pow2(top, sort), ocp._pow2(-top, sort)
    big, small = z3.fpGEQ(a, maxpos), z3.fpLEQ(a, minpos)
    # |v| = 2**s * 1.F in the wide sort (always normal there)
    eb, sb = sort.ebits(), sort.sbits()
    word = z3.fpToIEEEBV(z3.If(z3.Or(big, small, isnan, isinf), z3.fpPlusZero(sort), a))
    wide = eb + 8
    s = z3.ZeroExt(wide - eb, z3.Extract(eb + sb - 2, sb - 1, word)) - ((1 << (eb - 1)) - 1)
    F = z3.Extract(sb - 2, 0, word)
    k = s >> es                                          # floor(s / 2**es): arithmetic shift
    e = z3.Extract(es - 1, 0, s) if es else None
    T = (n - 1) + 1 + es + (sb - 1) + R + 2
    nonneg = k >= 0
    run = z3.If(nonneg, k + 1, -k)
    tail = z3.Concat(z3.If(nonneg, z3.BitVecVal(0, 1), z3.BitVecVal(1, 1)), *( [e] if es else []), F)
    aligned = z3.Concat(tail, z3.BitVecVal(0, T - tail.size()))
    runT = z3.Extract(T - 1, 0, z3.ZeroExt(T, run)) if T > wide else z3.Extract(T - 1, 0, run)
    ones = z3.BitVecVal((1 << T) - 1, T)
    string = z3.If(nonneg, ~z3.LShR(ones, runT), z3.BitVecVal(0, T)) | z3.LShR(aligned, runT)
    kept = z3.Extract(T - 1, T - n + 1, string)          # n - 1 bits
    low = z3.Extract(T - n, 0, string)
    if mode == "stochastic":
        t = z3.Extract(T - n, T - n - R + 1, string)
        inc = carry(t, rand, R)
    else:
        rbit = z3.Extract(T - n, T - n, string) == 1
        sticky = z3.Extract(T - n - 1, 0, string) != 0
        lsb = z3.Extract(0, 0, kept) == 1
        inc = {"rne": z3.And(rbit, z3.Or(sticky, lsb)), "rmm": rbit, "rtz": z3.BoolVal(False),
               "rup": z3.And(z3.Not(neg), z3.Or(rbit, sticky)), "rdn": z3.And(neg, z3.Or(rbit, sticky))}[mode]
    maxmag = z3.BitVecVal((1 << (n - 1)) - 1, n - 1)
    rounded = z3.If(z3.And(inc, kept != maxmag), kept + 1, kept)  # never up into NaR
    magnitude = z3.If(big, maxmag, z3.If(small, z3.BitVecVal(1, n - 1), rounded))
    inexact = z3.If(big, z3.fpGT(a, maxpos), z3.If(small, z3.fpLT(a, minpos), low != 0))
    m = z3.ZeroExt(1, magnitude)
    signed = z3.If(neg, -m, m)
    nar = z3.BitVecVal(1 << (n - 1), n)
    maxw = z3.If(neg, -z3.ZeroExt(1, maxmag), z3.ZeroExt(1, maxmag))
    res = z3.If(isnan, nar, z3.If(isinf, z3.If(bool(opts.saturate), maxw, nar),
                                 z3.If(iszero, z3.BitVecVal(0, n), signed)))
    fin = z3.And(z3.Not(isnan), z3.Not(isinf), z3.Not(iszero))
    return SpecOut(res, ocp.flags_word(nx=z3.And(fin, inexact), nv=z3.Or(v.snan, isinf)))
