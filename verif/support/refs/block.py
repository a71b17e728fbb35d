"""Independent references for golden.block: Fractions rounded with formats described by their published
parameters (OCP MX v1.0, MSFP, the QLoRA NF4 table), written independently of golden's format objects."""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np

from fmtforge.golden import block

HALF = Fraction(1, 2)


def floor_log2(a):
    a = Fraction(a)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def ref_float(x, frac_bits, emin, top):
    """The binary float nearest to Fraction ``x`` (ties to even), ``frac_bits`` fraction bits, subnormals below
    ``2**emin``, saturating at ``top``."""
    x = Fraction(x)
    if x == 0:
        return Fraction(0)
    ulp = Fraction(2) ** (max(floor_log2(abs(x)), emin) - frac_bits)
    v = min(round(abs(x) / ulp) * ulp, Fraction(top))
    return v if x > 0 else -v


FP16 = dict(frac_bits=10, emin=-14, top=65504)
FP32 = dict(frac_bits=23, emin=-126, top=(2 - Fraction(2) ** -23) * Fraction(2) ** 127)
# element formats of MX v1.0: (fraction bits, emin, max, emax_elem)
MX_ELEMS = {"fp8_e4m3": (3, -6, 448, 8), "fp8_e5m2": (2, -14, 57344, 15), "fp6_e2m3": (3, 0, Fraction(15, 2), 2),
            "fp6_e3m2": (2, -2, 28, 4), "fp4_e2m1": (1, 0, 6, 2), "int8": (None, None, None, 0)}
MX_SCHEMES = {"fp8_e4m3": block.MXFP8_E4M3, "fp8_e5m2": block.MXFP8_E5M2, "fp6_e2m3": block.MXFP6_E2M3,
              "fp6_e3m2": block.MXFP6_E3M2, "fp4_e2m1": block.MXFP4, "int8": block.MXINT8}
ML_DTYPES = {"fp8_e4m3": ml_dtypes.float8_e4m3fn, "fp8_e5m2": ml_dtypes.float8_e5m2,
             "fp6_e2m3": ml_dtypes.float6_e2m3fn, "fp6_e3m2": ml_dtypes.float6_e3m2fn,
             "fp4_e2m1": ml_dtypes.float4_e2m1fn}


def ref_mx_block(vals, element):
    """(shared exponent or None for a NaN block, exact element values times X)."""
    if not all(math.isfinite(v) for v in vals):
        return None, None
    frac, emin, top, emax_elem = MX_ELEMS[element]
    amax = max(abs(Fraction(v)) for v in vals)
    shared = -127 if amax == 0 else max(floor_log2(amax) - emax_elem, -127)
    if shared > 127:
        return None, None
    x = Fraction(2) ** shared
    if element == "int8":
        out = [min(max(round(Fraction(v) / x * 64), -127), 127) * x / 64 for v in vals]
    else:
        out = [ref_float(Fraction(v) / x, frac, emin, top) * x for v in vals]
    return shared, out


def mx_data(rng, nblocks, k=32):
    x = rng.standard_normal((nblocks, k)) * np.exp2(rng.integers(-30, 30, (nblocks, 1)))
    x *= np.exp2(-rng.integers(0, 14, (nblocks, k)) * (rng.random((nblocks, k)) < 0.3))  # small elements too
    x[0] = 0.0
    x[1, :] = 0.0
    x[1, 3] = -2.0 ** -130  # a tiny block: the shared exponent clamps at -127
    x[2, 5] = 1e300  # beyond E8M0: NaN scale
    x[3, 7] = np.nan
    x[4, 9] = -np.inf
    x[5] = 1e-3
    x[5, 0] = 1000.0  # a single outlier
    x[6] = np.arange(32) * 0.25 - 4  # many ties for E2M1 once scaled
    return x
