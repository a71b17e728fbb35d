"""Independent references for golden.quant: Python ints and Fractions, written from the definitions
(Jacob et al. 2018, gemmlowp's fixedpoint.h, TFLite's quantization spec), never from the vectorised code."""

import math
from fractions import Fraction

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
HALF = Fraction(1, 2)


def ref_round(x, mode):
    x = Fraction(x)
    if mode == "rne":
        return round(x)  # Python rounds Fractions half to even
    if mode == "rmm":
        mag = math.floor(abs(x) + HALF)
        return mag if x >= 0 else -mag
    return {"rtz": int, "rdn": math.floor, "rup": math.ceil}[mode](x)


def ref_srdhm(a, b):
    if a == b == I32_MIN:
        return I32_MAX
    return math.floor(Fraction(a * b, 1 << 31) + HALF)  # ties toward +inf


def ref_rdbpot(x, e):
    return ref_round(Fraction(x, 1 << e), "rmm")  # ties away from zero


def ref_wrap32(v, overflow):
    if overflow == "wrap":
        return (v + (1 << 31)) % (1 << 32) - (1 << 31)
    return min(max(v, I32_MIN), I32_MAX)


def ref_requantize(acc, m0, shift, zp, qmin, qmax, mode, overflow="wrap"):
    exact = Fraction(acc * m0) * Fraction(2) ** (shift - 31)
    if mode == "gemmlowp":
        y = ref_rdbpot(ref_srdhm(ref_wrap32(acc * 2 ** max(shift, 0), overflow), m0), max(-shift, 0))
    elif mode == "single":
        y = ref_wrap32(math.floor(exact + HALF), overflow)
    else:
        y = round(exact)
    return min(max(y + zp, qmin), qmax)


def ref_quantize_multiplier(m):
    f = Fraction(m)
    if f == 0:
        return 0, 0
    s = f.numerator.bit_length() - f.denominator.bit_length()
    while f >= Fraction(2) ** s:
        s += 1
    while f < Fraction(2) ** (s - 1):
        s -= 1
    m0 = math.floor(f * Fraction(2) ** (31 - s) + HALF)
    if m0 == 1 << 31:
        m0, s = 1 << 30, s + 1
    return (0, 0) if s < -31 else (m0, s)


def ref_quantize(r, s, z, qmin, qmax, mode="rne"):
    return min(max(ref_round(Fraction(r) / Fraction(s), mode) + z, qmin), qmax)


def ref_qmatmul(q1, z1, q2, z2, m0, shift, z3, qmin, qmax, bias, mode, acc_bits, overflow="wrap"):
    m, n = len(q1), len(q1[0])
    k = len(q2[0])
    out = []
    for i in range(m):
        row = []
        for c in range(k):
            s = sum((q1[i][j] - z1) * (q2[j][c] - z2[c]) for j in range(n)) + bias[c]
            s = (s + (1 << (acc_bits - 1))) % (1 << acc_bits) - (1 << (acc_bits - 1))
            row.append(ref_requantize(s, m0[c], shift[c], z3, qmin, qmax, mode, overflow))
        out.append(row)
    return out
