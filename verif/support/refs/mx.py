"""Independent references for the MX scale rules, NVFP4 and dequantization to fp32/bf16: Fractions and the
formats' published parameters (OCP MX v1.0, NVIDIA's NVFP4 description), plus torchao's bit-level formulas re-stated in numpy (from reading
torchao/prototype/mx_formats/mx_tensor.py: to_mx and _f32_to_e8m0_rceil), so that the golden's exact
definitions can be compared with the framework's."""

from fractions import Fraction

import numpy as np

from fmtforge.verif.support.refs.block import MX_ELEMS, floor_log2, ref_float

# element formats: (fraction bits of an element, max) -- INT8's element is q * 2**-6, 6 fraction bits
FRAC_BITS = {"fp8_e4m3": 3, "fp8_e5m2": 2, "fp6_e2m3": 3, "fp6_e3m2": 2, "fp4_e2m1": 1, "int8": 6}
MAX = {e: (Fraction(127, 64) if e == "int8" else Fraction(MX_ELEMS[e][2])) for e in MX_ELEMS}
E4M3 = dict(frac_bits=3, emin=-6, top=448)
E2M1 = dict(frac_bits=1, emin=0, top=6)
FP32 = dict(frac_bits=23, emin=-126, top=(2 - Fraction(2) ** -23) * Fraction(2) ** 127)
BF16 = dict(frac_bits=7, emin=-126, top=(2 - Fraction(2) ** -7) * Fraction(2) ** 127)


def ceil_log2(a):
    e = floor_log2(a)
    return e if Fraction(2) ** e == a else e + 1


def ref_shared(amax, element, mode):
    """Shared exponent of a block with largest magnitude ``amax`` (Fraction > 0), unclamped."""
    emax = MX_ELEMS[element][3]
    if mode == "floor":
        return floor_log2(amax) - emax
    if mode == "ceil":
        return ceil_log2(amax) - emax
    if mode == "even":  # amax rounded to the element's fraction bits, ties away from zero
        ulp = Fraction(2) ** (floor_log2(amax) - FRAC_BITS[element])
        return floor_log2((amax / ulp + Fraction(1, 2)).__floor__() * ulp) - emax
    k = ceil_log2(amax / MAX[element])  # rceil: the smallest k with amax <= max * 2**k
    assert amax <= MAX[element] * Fraction(2) ** k < 2 * amax
    return k


def ref_mx(vals, element, mode):
    """(E8M0 pattern, exact element values times X) of one block, as MX v1.0 6.3 with the shared exponent of
    ``mode``; (0xFF, None) for a NaN block."""
    if not all(np.isfinite(vals)):
        return 0xFF, None
    amax = max(abs(Fraction(v)) for v in vals)
    shared = -127 if amax == 0 else max(ref_shared(amax, element, mode), -127)
    if shared > 127:
        return 0xFF, None
    x = Fraction(2) ** shared
    if element == "int8":
        out = [min(max(round(Fraction(v) / x * 64), -127), 127) * x / 64 for v in vals]
    else:
        frac, emin, top, _ = MX_ELEMS[element]
        out = [ref_float(Fraction(v) / x, frac, emin, top) * x for v in vals]
    return shared + 127, out


def ref_round_up(x, frac_bits, emin, top):
    """The smallest value of the format >= Fraction ``x`` >= 0, saturating at ``top``."""
    if x == 0:
        return Fraction(0)
    ulp = Fraction(2) ** (max(floor_log2(x), emin) - frac_bits)
    return min(-((-x / ulp).__floor__()) * ulp, Fraction(top))


def ref_nvfp4_block(vals, s, scale_rounding):
    """(UE4M3 value or None for a NaN block, exact element values times S * s) of one NVFP4 block."""
    if not all(np.isfinite(vals)):
        return None, None
    amax = max(abs(Fraction(v)) for v in vals)
    q = amax / (6 * Fraction(s))
    S = ref_float(q, **E4M3) if scale_rounding == "rne" else ref_round_up(q, **E4M3)
    if S == 0:
        return S, [Fraction(0)] * len(vals)
    d = S * Fraction(s)
    return S, [ref_float(Fraction(v) / d, **E2M1) * d for v in vals]


def ref_ieee(x, p):
    """Fraction ``x`` rounded to nearest-even into an IEEE format with parameters ``p``; +-inf as float
    beyond its range (the rounding overflows)."""
    if x == 0:
        return Fraction(0)
    big = p["top"] + Fraction(2) ** (floor_log2(p["top"]) - p["frac_bits"] - 1)  # max + half an ulp
    if abs(x) >= big:
        return float("inf") if x > 0 else float("-inf")
    return ref_float(x, p["frac_bits"], p["emin"], p["top"])


# -- torchao's formulas on fp32 bit patterns (their definitions, for comparison) --------------------------------
def torchao_shared(amax_f32, mbits, emax, max_pos, mode):
    """torchao's unbiased scale exponent (before its clamp) for fp32 ``amax_f32`` (a float32 array)."""
    bits = amax_f32.view(np.uint32).astype(np.int64)
    if mode == "rceil":
        descale = (amax_f32 * np.float32(1.0 / np.float32(max_pos))).astype(np.float32)
        b = descale.view(np.uint32).astype(np.int64)
        e, m = (b >> 23) & 0xFF, b & 0x7FFFFF
        up = np.where(e == 0, m > 0x400000, m != 0)
        return e + up - 127
    if mode == "even":
        bits = (bits + (1 << (23 - mbits - 1))) & (0x1FF << 23)
    e = ((bits >> 23) & 0xFF) - 127
    if mode == "ceil":
        e = e + ((bits & 0x7FFFFF) > 0)
    return e - emax
