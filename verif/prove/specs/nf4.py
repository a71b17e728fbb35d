"""Specification of NF4 (QLoRA NormalFloat 4-bit) as a source (table lookup) and as a destination (nearest
level).

The table is QLoRA's (Dettmers et al. 2023, appendix E, and bitsandbytes' NF4 table), codes 0..15 in order,
as published: 16 decimal strings of float32 values. The README defines the format as "the published QLoRA
levels, float32 values" (docs/weights.md), so each level here is the float32 nearest to its published decimal
(the test checks that each decimal already *is* a float32 value, so nothing hangs on that choice).

- Source: ``level[code]`` as an exact ``Float32`` term.
- Destination (README: "nearest level; a tie goes to the lower level (as bitsandbytes' strict comparisons)";
  only nearest rounding is defined): the code is the number of midpoints ``(level[i] + level[i+1]) / 2`` that
  the value lies strictly above, so values beyond the ends clamp to the end levels; NaN gives the code of 0.0
  (7) with NV; +-inf clamp to the end codes with NV (an infinity the format cannot hold). NX when the chosen
  level differs from the value.
"""

from fractions import Fraction

import z3

from ..options import SpecOut
from . import ocp

__all__ = ["LEVELS", "decode", "encode", "levels"]

#: QLoRA's NF4 table as published (bitsandbytes' ``NF4`` constants / QLoRA appendix E), codes 0..15.
LEVELS = (
    "-1.0", "-0.6961928009986877", "-0.5250730514526367", "-0.39491748809814453", "-0.28444138169288635",
    "-0.18477343022823334", "-0.09105003625154495", "0.0", "0.07958029955625534", "0.16093020141124725",
    "0.24611230194568634", "0.33791524171829224", "0.44070982933044434", "0.5626170039176941",
    "0.7229568362236023", "1.0",
)
ZERO_CODE = 7


def levels():
    """The 16 levels as exact Fractions: each published decimal rounded to the nearest float32."""
    out = []
    for text in LEVELS:
        val = z3.simplify(z3.fpToReal(z3.FPVal(text, z3.Float32())))
        out.append(Fraction(val.as_fraction().numerator, val.as_fraction().denominator))
    return out


def _fp(value, sort):
    """An exact FP constant of a dyadic Fraction (the table's values and midpoints are)."""
    return z3.FPVal(float(value), sort)  # exact: every value here has far fewer than 53 significant bits


def decode(fmt, x, opts=None):
    """``level[x]`` as an :class:`ocp.Exact` (a Float32 term)."""
    sort = z3.Float32()
    value = _fp(levels()[0], sort)
    for code, lv in enumerate(levels()[1:], start=1):
        value = z3.If(x == code, _fp(lv, sort), value)
    return ocp.Exact(value, z3.BoolVal(False), -30, 0, 24, z3.ULT(x, ZERO_CODE))


def encode(fmt, v, opts, rand=None):
    """NF4 code and flags for the exact value ``v`` (an :class:`ocp.Exact`); only ``rne`` (nearest) exists."""
    if opts.rounding != "rne":
        raise ValueError(f"rounding: NF4 defines nearest rounding only (rne), not {opts.rounding}")
    lv = levels()
    sort = ocp._sort_holding(min(v.lo, -40), max(v.hi, 2), max(v.prec, 54))
    vw = z3.fpToFP(z3.RNE(), v.fp, sort)
    code = z3.BitVecVal(0, 4)
    for i in range(15):
        mid = (lv[i] + lv[i + 1]) / 2
        code = code + z3.If(z3.fpGT(vw, _fp(mid, sort)), z3.BitVecVal(1, 4), z3.BitVecVal(0, 4))
    isnan, isinf = z3.fpIsNaN(vw), z3.fpIsInf(vw)
    chosen = z3.fpToFP(z3.RNE(), decode(fmt, code).fp, sort)
    res = z3.If(isnan, z3.BitVecVal(ZERO_CODE, 4), code)
    nx = z3.And(z3.Not(isnan), z3.Not(isinf), z3.Not(z3.fpEQ(chosen, vw)))
    return SpecOut(res, ocp.flags_word(nx=nx, nv=z3.Or(isnan, isinf, v.snan)))
