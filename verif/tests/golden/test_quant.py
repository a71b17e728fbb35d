"""golden.quant against exact arithmetic: affine quantization, gemmlowp/TFLite requantization, qmatmul.

The references below use Python ints and Fractions, written from the definitions (SPECS.md, TFLite), not
from the vectorised code.
"""

import doctest
import itertools
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest

from fmtforge.golden import quant as quant
from fmtforge.verif.support.vectors import seed

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
HALF = Fraction(1, 2)


# -- references ---------------------------------------------------------------------------------------------
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


# -- quantize_multiplier --------------------------------------------------------------------------------------
@pytest.mark.parametrize("m, want", [
    (0.5, (1 << 30, 0)), (1.0, (1 << 30, 1)), (0.25, (1 << 30, -1)),  # TFLite's known answers
    (0.75, (3 << 29, 0)), (0.0, (0, 0)), (2.0 ** -31, (1 << 30, -30)), (2.0 ** -32, (1 << 30, -31)),
    (2.0 ** -33, (0, 0)), (1 - 2.0 ** -40, (1 << 30, 1)), (2.0 ** 30 - 1, ((1 << 31) - 2, 30)),
    (1 / 3, (1431655765, -1)), (0.1, (1717986918, -3)),
])
def test_quantize_multiplier_known_answers(m, want):
    assert quant.quantize_multiplier(m) == want
    assert ref_quantize_multiplier(m) == want


def test_quantize_multiplier_random_and_vectorised():
    rng = np.random.default_rng([seed(), 1])
    print(f"seed {seed()}")
    m = np.exp2(rng.uniform(-34, 29.9, 3000))
    m[::7] = np.ldexp(np.floor(rng.uniform(2 ** 52, 2 ** 53, m[::7].size)), rng.integers(-80, -24, m[::7].size))
    m0, sh = quant.quantize_multiplier(m)
    for k, v in enumerate(m):
        assert (int(m0[k]), int(sh[k])) == ref_quantize_multiplier(float(v)) == quant.quantize_multiplier(float(v))
        if m0[k]:
            assert (1 << 30) <= m0[k] < (1 << 31)
            assert abs(quant.real_multiplier(int(m0[k]), int(sh[k])) - Fraction(float(v))) <= Fraction(2) ** (
                int(sh[k]) - 32)


@pytest.mark.parametrize("m, msg", [
    (-0.5, "M must be a finite number >= 0"), (float("nan"), "M must be a finite number >= 0"),
    (float("inf"), "M must be a finite number >= 0"), (2.0 ** 30, "shift must be an integer in -31..30"),
    (2.0 ** 30 - 2.0 ** -24, "M must be below 2**30"),
])
def test_quantize_multiplier_rejects(m, msg):
    with pytest.raises(ValueError, match=msg.replace("*", r"\*")):
        quant.quantize_multiplier(m)


# -- SRDHM and RoundingDivideByPOT ------------------------------------------------------------------------------
def test_srdhm_edges_and_random():
    rng = np.random.default_rng([seed(), 2])
    print(f"seed {seed()}")
    edges = [I32_MIN, I32_MIN + 1, -(1 << 30), -3, -1, 0, 1, 3, 1 << 30, I32_MAX]
    a, b = map(np.array, zip(*itertools.product(edges, edges)))
    ties = rng.integers(-(1 << 15), 1 << 15, 500) * 2 + 1  # a * 2**30 with a odd: exactly .5 after >> 31
    a = np.concatenate([a, ties, ties, rng.integers(I32_MIN, I32_MAX, 3000, endpoint=True)])
    b = np.concatenate([b, np.full(500, 1 << 30), np.full(500, -(1 << 30)), rng.integers(I32_MIN, I32_MAX, 3000,
                                                                                      endpoint=True)])
    got = quant.srdhm(a, b)
    assert got.dtype == np.int64
    assert [int(g) for g in got] == [ref_srdhm(int(x), int(y)) for x, y in zip(a, b)]
    assert quant.srdhm(I32_MIN, I32_MIN) == I32_MAX
    assert quant.srdhm(3, 1 << 30) == 2 and quant.srdhm(-3, 1 << 30) == -1  # 1.5 -> 2, -1.5 -> -1: toward +inf


def test_rounding_divide_by_pot_edges_and_random():
    rng = np.random.default_rng([seed(), 3])
    print(f"seed {seed()}")
    xs, es = [], []
    for e in range(32):
        for x in (I32_MIN, I32_MIN + 1, -1, 0, 1, I32_MAX):
            xs.append(x), es.append(e)
        if e:
            for k in (0, 1, 2, 5, -1, -2, -6):  # ties: (2k+1) * 2**(e-1), both signs
                x = (2 * k + 1) << (e - 1)
                if I32_MIN <= x <= I32_MAX:
                    xs.append(x), es.append(e)
    x = np.concatenate([xs, rng.integers(I32_MIN, I32_MAX, 5000, endpoint=True)])
    e = np.concatenate([es, rng.integers(0, 31, 5000, endpoint=True)])
    got = quant.rounding_divide_by_pot(x, e)
    assert [int(g) for g in got] == [ref_rdbpot(int(a), int(b)) for a, b in zip(x, e)]
    assert [quant.rounding_divide_by_pot(v, 1) for v in (5, -5, 7, -7, 3)] == [3, -3, 4, -4, 2]
    assert quant.rounding_divide_by_pot(I32_MIN, 31) == -1 and quant.rounding_divide_by_pot(I32_MAX, 31) == 1


@pytest.mark.parametrize("call, msg", [
    (lambda: quant.rounding_divide_by_pot(1, 32), "exponent must be an integer in 0..31, not 32"),
    (lambda: quant.rounding_divide_by_pot(1, -1), "exponent must be an integer in 0..31, not -1"),
    (lambda: quant.rounding_divide_by_pot(1 << 31, 0), "x must be an integer in -2147483648..2147483647"),
    (lambda: quant.srdhm(1.5, 2), "a must be an integer in -2147483648..2147483647, not 1.5"),
    (lambda: quant.srdhm(1, I32_MIN - 1), "b must be an integer in -2147483648..2147483647, not -2147483649"),
])
def test_fixed_point_rejects(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


# -- requantize -------------------------------------------------------------------------------------------------
MODES = ["gemmlowp", "single", "float-rne"]


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("mode", MODES)
def test_requantize_edge_grid(mode, overflow):
    """Every combination of edge accumulators, multipliers, shifts (both extremes, 0) and zero points (both ends
    of the range), in one broadcast call, against the exact reference."""
    accs = [I32_MIN, I32_MIN + 1, -(1 << 30), -5, -3, -1, 0, 1, 3, 5, 1 << 30, I32_MAX]
    m0s = [0, 1 << 30, (1 << 30) + 1, 3 << 29, I32_MAX]
    shifts = [-31, -30, -2, -1, 0, 1, 2, 29, 30]
    for qmin, qmax, zps in ((-128, 127, (-128, 0, 127)), (0, 255, (0, 128, 255)), (I32_MIN, I32_MAX, (0,))):
        grid = np.array(list(itertools.product(accs, m0s, shifts, zps)), dtype=np.int64)
        got = quant.requantize(grid[:, 0], grid[:, 1], grid[:, 2], grid[:, 3], qmin, qmax, mode, overflow=overflow)
        assert got.dtype == np.int32
        want = [ref_requantize(*map(int, row), qmin, qmax, mode, overflow) for row in grid]
        bad = [(tuple(map(int, grid[k])), int(got[k]), want[k]) for k in range(len(want)) if got[k] != want[k]]
        assert not bad, bad[:5]


@pytest.mark.parametrize("acc, m0, shift, want", [
    # (gemmlowp, single, float-rne). M = 0.25, acc = 1: SRDHM gives 0.5 -> 1, then /2 rounds 0.5 away -> 1,
    # where one rounding of 0.25 gives 0: gemmlowp's double rounding.
    (1, 1 << 30, -1, (1, 0, 0)),
    (-1, 1 << 30, -1, (0, 0, 0)),
    (3, 1 << 30, 0, (2, 2, 2)),  # 1.5: all up (even is 2 too)
    (5, 1 << 30, 0, (3, 3, 2)),  # 2.5: ties toward +inf / half to even
    (-5, 1 << 30, 0, (-2, -2, -2)),  # -2.5: SRDHM rounds ties toward +inf
    (-3, 1 << 30, -1, (-1, -1, -1)),  # -0.75
    (-5, 1 << 30, -1, (-1, -1, -1)),  # -1.25: SRDHM -2.5 -> -2, /2 = -1 exactly
    (-7, 1 << 30, -1, (-2, -2, -2)),  # -1.75: SRDHM -3.5 -> -3, /2 = -1.5 away -> -2
    (6, 1 << 30, -2, (1, 1, 1)),  # 0.75: SRDHM 3, /4 = 0.75 -> 1
    (3, 1 << 30, -2, (1, 0, 0)),  # 0.375: SRDHM 1.5 -> 2, /4 = 0.5 away -> 1; one rounding: 0
    (10, 1 << 30, -2, (1, 1, 1)),  # 1.25: SRDHM 5, /4 = 1.25 -> 1
    (-10, 1 << 30, -2, (-1, -1, -1)),  # -1.25: SRDHM -5, /4 = -1.25 -> -1
    (-6, 1 << 30, -2, (-1, -1, -1)),  # -0.75
])
def test_requantize_rounding_worked_examples(acc, m0, shift, want):
    for mode, w in zip(MODES, want):
        assert quant.requantize(acc, m0, shift, 0, -128, 127, mode) == w, mode
        assert ref_requantize(acc, m0, shift, 0, -128, 127, mode) == w, mode


def test_requantize_random_per_element():
    rng = np.random.default_rng([seed(), 4])
    print(f"seed {seed()}")
    n = 4000
    acc = np.where(rng.random(n) < 0.5, rng.integers(I32_MIN, I32_MAX, n, endpoint=True),
                   rng.integers(-(1 << 16), 1 << 16, n))
    m0 = rng.integers(1 << 30, 1 << 31, n)
    shift = rng.integers(-31, 30, n, endpoint=True)
    zp = rng.integers(-128, 127, n, endpoint=True)
    for mode in MODES:
        for overflow in ("wrap", "saturate"):
            got = quant.requantize(acc, m0, shift, zp, -128, 127, mode, overflow=overflow)
            want = [ref_requantize(*map(int, t), -128, 127, mode, overflow) for t in zip(acc, m0, shift, zp)]
            assert got.tolist() == want, (mode, overflow)


def test_requantize_int32_overflow_policy():
    # gemmlowp: acc * 2**shift = 2**32 wraps to 0 (TFLite's int32 product), or saturates to INT32_MAX.
    assert quant.requantize(1 << 30, 1 << 30, 2, 0, I32_MIN, I32_MAX) == 0
    assert quant.requantize(1 << 30, 1 << 30, 2, 0, I32_MIN, I32_MAX, overflow="saturate") == 1 << 30
    assert quant.requantize(-(1 << 30), 1 << 30, 2, 0, -128, 127, overflow="saturate") == -128
    # single rounding: 2**30 * 2**30 >> 29 = 2**31 wraps to INT32_MIN, or saturates to INT32_MAX
    assert quant.requantize(1 << 30, 1 << 30, 2, 0, I32_MIN, I32_MAX, "single") == I32_MIN
    assert quant.requantize(1 << 30, 1 << 30, 2, 0, I32_MIN, I32_MAX, "single", overflow="saturate") == I32_MAX
    # float-rne has no int32 stage: exact, then clamped
    assert quant.requantize(1 << 30, 1 << 30, 2, 0, I32_MIN, I32_MAX, "float-rne") == I32_MAX
    # the zero point is added exactly: no wrap from INT32_MAX + 10
    assert quant.requantize(I32_MAX, I32_MAX, 0, 10, 0, I32_MAX, "float-rne") == I32_MAX


def test_requantize_saturates_at_both_ends_with_extreme_zero_points():
    big, small = np.array([1 << 20, -(1 << 20)]), np.array([0, 0])
    for qmin, qmax in ((-128, 127), (0, 255), (-8, 7)):
        for zp in (qmin, qmax):
            for mode in MODES:
                assert quant.requantize(big, 1 << 30, 0, zp, qmin, qmax, mode).tolist() == [qmax, qmin]
                assert quant.requantize(small, 1 << 30, 0, zp, qmin, qmax, mode).tolist() == [zp, zp]


def test_requantize_per_channel_broadcast():
    acc = np.arange(-12, 12).reshape(4, 6) * 1000
    m0 = np.array([1 << 30, 3 << 29, I32_MAX, 1 << 30, 1 << 30, 1500000000])
    shift = np.array([-31, -3, 0, 1, 5, -8])
    zp = np.array([0, 1, -1, 5, -128, 127])
    got = quant.requantize(acc, m0, shift, zp, -128, 127)
    want = [[ref_requantize(int(acc[i, k]), int(m0[k]), int(shift[k]), int(zp[k]), -128, 127, "gemmlowp")
             for k in range(6)] for i in range(4)]
    assert got.tolist() == want


@pytest.mark.parametrize("kwargs, msg", [
    (dict(shift=40), "shift must be an integer in -31..30, not 40"),
    (dict(shift=-32), "shift must be an integer in -31..30, not -32"),
    (dict(shift=np.array([0, 31])), "shift must be an integer in -31..30, not 31"),
    (dict(M0=-1), "M0 must be an integer in 0..2147483647, not -1"),
    (dict(M0=1 << 31), "M0 must be an integer in 0..2147483647, not 2147483648"),
    (dict(acc=1 << 31), "acc must be an integer in -2147483648..2147483647, not 2147483648"),
    (dict(zero_point=128), "zero_point must be an integer in -128..127, not 128"),
    (dict(qmax=-129), "qmax must be an integer in -128..2147483647, not -129"),
    (dict(mode="tflite"), "mode must be one of gemmlowp, single, float-rne, not 'tflite'"),
    (dict(overflow="clip"), "overflow must be one of wrap, saturate, not 'clip'"),
])
def test_requantize_rejects(kwargs, msg):
    args = dict(acc=5, M0=1 << 30, shift=0, zero_point=0, qmin=-128, qmax=127)
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        quant.requantize(**args)


# -- affine quantization ---------------------------------------------------------------------------------------
def test_choose_qparams_known_values():
    assert quant.choose_qparams(-1.0, 1.0, "uint8") == (2 / 255, 128)  # Z = round(127.5) = 128 (even)
    assert quant.choose_qparams(-1.0, 1.0, "int8") == (2 / 255, 0)  # round(-0.5) = 0
    assert quant.choose_qparams(2.0, 5.0, "uint8") == (5 / 255, 0)  # widened to [0, 5]
    assert quant.choose_qparams(-5.0, -2.0, "uint8") == (5 / 255, 255)  # widened to [-5, 0]: Z at the top
    assert quant.choose_qparams(-3.0, 1.0, "int8", symmetric=True) == (3 / 127, 0)
    assert quant.choose_qparams(-3.0, 1.0, "uint8", symmetric=True) == (3 / 127, 128)
    assert quant.choose_qparams(-1.0, 1.0, "int8", narrow_range=True) == (2 / 254, 0)
    assert quant.choose_qparams(0.0, 0.0, "int8") == (1.0, -128)
    assert quant.choose_qparams(0.0, 0.0, "int8", symmetric=True) == (1.0, 0)
    s, z = quant.choose_qparams(np.array([-1.0, 0.0, -2.0]), np.array([1.0, 4.0, 6.0]), "uint8")
    assert s.tolist() == [2 / 255, 4 / 255, 8 / 255] and z.tolist() == [128, 0, 64]


def test_choose_qparams_zero_point_exact():
    rng = np.random.default_rng([seed(), 5])
    print(f"seed {seed()}")
    lo, hi = -rng.exponential(1.0, 500), rng.exponential(1.0, 500)
    for dtype, narrow in (("int8", False), ("uint8", False), ("int8", True), ("uint4", False)):
        fmt = quant.int_format(dtype)
        qmin, qmax = fmt.min_int + narrow, fmt.max_int
        s, z = quant.choose_qparams(lo, hi, dtype, narrow_range=narrow)
        for k in range(lo.size):
            assert s[k] == (hi[k] - lo[k]) / (qmax - qmin)
            want = min(max(round(qmin - Fraction(float(lo[k])) / Fraction(float(s[k]))), qmin), qmax)
            assert z[k] == want
            assert quant.quantize(0.0, s[k], int(z[k]), dtype) == z[k]  # 0 is exact


@pytest.mark.parametrize("mode, want", [
    ("rne", [2, 4, -2, -4, 0, 0]), ("rmm", [3, 4, -3, -4, 1, -1]), ("rtz", [2, 3, -2, -3, 0, 0]),
    ("rdn", [2, 3, -3, -4, 0, -1]), ("rup", [3, 4, -2, -3, 1, 0]),
])
def test_quantize_ties(mode, want):
    r = np.array([2.5, 3.5, -2.5, -3.5, 0.5, -0.5]) * 0.1
    got = quant.quantize(r, 0.1, 0, rounding=mode)
    assert got.tolist() == [ref_quantize(v, 0.1, 0, -128, 127, mode) for v in r]
    assert quant.quantize(np.array([2.5, 3.5, -2.5, -3.5, 0.5, -0.5]), 1.0, 0, rounding=mode).tolist() == want


def test_quantize_near_ties_decided_exactly():
    """r = fl((k + 1/2) S): the float64 quotient r / S is often exactly k + 1/2 when the exact one is not."""
    rng = np.random.default_rng([seed(), 6])
    print(f"seed {seed()}")
    s = rng.uniform(0.001, 1.0, 3000)
    k = rng.integers(-100, 100, 3000)
    r = (k + 0.5) * s
    for mode in ("rne", "rmm", "rtz"):
        got = quant.quantize(r, 1.0, 0, "int16", rounding=mode)  # scalar scale path
        assert got.tolist() == [ref_quantize(v, 1.0, 0, -32768, 32767, mode) for v in r]
    got = [int(quant.quantize(r[i], s[i], 0, "int16")) for i in range(300)]
    assert got == [ref_quantize(r[i], s[i], 0, -32768, 32767) for i in range(300)]
    fl_ties = sum((r[i] / s[i]) % 1 == 0.5 and Fraction(float(r[i])) / Fraction(float(s[i])) % 1 != HALF
                  for i in range(300))
    print(f"{fl_ties} of 300 float64 quotients were false ties")


def test_quantize_random_against_fractions():
    rng = np.random.default_rng([seed(), 7])
    print(f"seed {seed()}")
    for dtype in ("int8", "uint8", "int4", "uint4", "int16"):
        fmt = quant.int_format(dtype)
        r = rng.standard_normal(1500) * rng.choice([0.01, 1.0, 100.0], 1500)
        s = float(rng.uniform(0.001, 0.1))
        z = int(rng.integers(fmt.min_int, fmt.max_int, endpoint=True))
        got = quant.quantize(r, s, z, dtype)
        assert got.dtype == np.dtype({"int8": "int8", "uint8": "uint8", "int4": "int8", "uint4": "uint8",
                                      "int16": "int16"}[dtype])
        assert got.tolist() == [ref_quantize(v, s, z, fmt.min_int, fmt.max_int) for v in r]


def test_quantize_saturation_specials_and_zero_point_ends():
    r = np.array([1e30, -1e30, np.inf, -np.inf, np.nan, 0.0, -0.0])
    assert quant.quantize(r, 1.0, 0, "int8").tolist() == [127, -128, 127, -128, 0, 0, 0]
    assert quant.quantize(r, 1.0, 0, "int8", narrow_range=True).tolist() == [127, -127, 127, -127, 0, 0, 0]
    assert quant.quantize(r, 1.0, 255, "uint8").tolist() == [255, 0, 255, 0, 255, 255, 255]
    assert quant.quantize(r, 1.0, 0, "uint8").tolist() == [255, 0, 255, 0, 0, 0, 0]
    assert quant.quantize([-1.0, 1.0], 1.0, -128, "int8").tolist() == [-128, -127]
    assert quant.quantize([-1.0, 1.0], 1.0, 127, "int8").tolist() == [126, 127]


def test_per_channel_quantize_dequantize():
    rng = np.random.default_rng([seed(), 8])
    print(f"seed {seed()}")
    r = rng.standard_normal((3, 4, 5))
    for axis in (0, 1, 2, -1, -3):
        n = r.shape[axis]
        s = rng.uniform(0.01, 0.1, n)
        z = rng.integers(-10, 10, n)
        q = quant.quantize(r, s, z, axis=axis)
        idx = np.indices(r.shape)[axis]
        want = [ref_quantize(v, s[c], int(z[c]), -128, 127) for v, c in zip(r.ravel(), idx.ravel())]
        assert q.ravel().tolist() == want
        back = quant.dequantize(q, s, z, axis=axis)
        assert np.array_equal(back, (q.astype(np.int64) - z[idx]) * s[idx])
        assert np.array_equal(quant.fake_quantize(r, s, z, axis=axis), back)
    assert quant.dequantize(np.array([-128, 0, 127], dtype=np.int8), 0.5, -1).tolist() == [-63.5, 0.5, 64.0]


@pytest.mark.parametrize("call, msg", [
    (lambda: quant.quantize([1.0], 0.0, 0), "scale must be positive and finite"),
    (lambda: quant.quantize([1.0], float("nan"), 0), "scale must be positive and finite"),
    (lambda: quant.quantize([1.0], 1.0, 128), "zero_point must be an integer in -128..127, not 128"),
    (lambda: quant.quantize([1.0], 1.0, -1, "uint8"), "zero_point must be an integer in 0..255, not -1"),
    (lambda: quant.quantize([1.0], 1.0, 0.5), "zero_point must be an integer in -128..127, not 0.5"),
    (lambda: quant.quantize([1.0], [1.0, 2.0], 0), "scale must be a scalar when axis is None"),
    (lambda: quant.quantize(np.ones((2, 3)), [1.0, 2.0], 0, axis=1),
     "scale must be a scalar or a 1-d array of length 3"),
    (lambda: quant.quantize(np.ones((2, 3)), 1.0, 0, axis=2), "axis must be an integer in -2..1, not 2"),
    (lambda: quant.quantize([1.0], 1.0, 0, "int9"), "dtype must name an integer format"),
    (lambda: quant.quantize([1.0], 1.0, 0, "fp8_e4m3"), "dtype must name an integer format"),
    (lambda: quant.quantize([1.0], 1.0, 0, rounding="stochastic"), "rounding must be one of rne, rmm"),
    (lambda: quant.choose_qparams(1.0, -1.0), "rmin and rmax must be finite with rmin <= rmax"),
    (lambda: quant.choose_qparams(-1.0, 1.0, symmetric=1), "symmetric must be True or False"),
])
def test_affine_rejects(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


# -- qmatmul ------------------------------------------------------------------------------------------------------
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


def test_qmatmul_worked_example():
    # r1 = [1.0, -0.5] (S1 = 0.5, Z1 = 0); r2 = [2.0, 1.0]^T (S2 = 0.25, Z2 = 10); r3 = 1.5 (S3 = 0.125, Z3 = -3)
    q1 = quant.quantize([[1.0, -0.5]], 0.5, 0)
    q2 = quant.quantize([[2.0], [1.0]], 0.25, 10)
    assert q1.tolist() == [[2, -1]] and q2.tolist() == [[18], [14]]
    assert quant.quantize_multiplier(0.5 * 0.25 / 0.125) == (1 << 30, 1)
    for mode in MODES:
        q3 = quant.qmatmul(q1, 0, q2, 10, scale=1.0, z3=-3, qmin=-128, qmax=127, mode=mode)
        assert q3.tolist() == [[9]] and quant.dequantize(q3, 0.125, -3).tolist() == [[1.5]]


@pytest.mark.parametrize("mode", MODES)
def test_qmatmul_random_against_python_ints(mode):
    rng = np.random.default_rng([seed(), 9, MODES.index(mode)])
    print(f"seed {seed()}")
    for trial in range(6):
        m, n, k = rng.integers(1, 6), rng.integers(1, 40), rng.integers(1, 6)
        q1 = rng.integers(0, 255, (m, n), endpoint=True)
        q2 = rng.integers(-128, 127, (n, k), endpoint=True)
        z1 = int(rng.integers(0, 255, endpoint=True))
        per_channel = trial % 2 == 1
        z2 = rng.integers(-5, 5, k) if per_channel else int(rng.integers(-128, 127))
        m0 = rng.integers(1 << 30, 1 << 31, k) if per_channel else int(rng.integers(1 << 30, 1 << 31))
        shift = rng.integers(-20, 2, k) if per_channel else int(rng.integers(-20, 2))
        bias = rng.integers(-(1 << 20), 1 << 20, k)
        acc_bits = (32, 16, 20)[trial % 3]
        got = quant.qmatmul(q1, z1, q2, z2, M0=m0, shift=shift, z3=3, qmin=-128, qmax=127, bias=bias, mode=mode,
                            acc_bits=acc_bits)
        vec = lambda v: [int(x) for x in np.broadcast_to(v, (k,))]  # noqa: E731
        want = ref_qmatmul(q1.tolist(), z1, q2.tolist(), vec(z2), vec(m0), vec(shift), 3, -128, 127, vec(bias),
                           mode, acc_bits)
        assert got.tolist() == want, (trial, acc_bits)


def test_qmatmul_accumulator_wraps():
    # 2**20 * 2**12 = 2**32: an int32 accumulator wraps to 0; two terms 2**31 each wrap to 0 as well
    assert quant.qmatmul_acc([[1 << 20]], 0, [[1 << 12]], 0).tolist() == [[0]]
    assert quant.qmatmul_acc([[1 << 16, 1 << 16]], 0, [[1 << 15], [1 << 15]], 0).tolist() == [[0]]
    assert quant.qmatmul_acc([[1 << 16]], 0, [[1 << 15]], 0).tolist() == [[I32_MIN]]
    # a 16-bit accumulator: 200 * 200 = 40000 wraps to 40000 - 65536
    assert quant.qmatmul_acc([[200]], 0, [[200]], 0, acc_bits=16).tolist() == [[40000 - 65536]]
    q3 = quant.qmatmul([[200]], 0, [[200]], 0, M0=1 << 30, shift=-10, z3=0, qmin=-128, qmax=127, acc_bits=16)
    assert q3.tolist() == [[quant.requantize(40000 - 65536, 1 << 30, -10, 0, -128, 127)]] == [[-12]]
    # the bias wraps with the sum; zero points widen before subtracting: -128 - 127 is exact
    assert quant.qmatmul_acc([[-128]], 127, [[127]], -128, bias=[5]).tolist() == [[-255 * 255 + 5]]


def test_qmatmul_scale_equals_m0_shift():
    rng = np.random.default_rng([seed(), 10])
    print(f"seed {seed()}")
    q1, q2 = rng.integers(-128, 127, (4, 16)), rng.integers(-128, 127, (16, 3))
    scales = np.array([0.0031, 0.5, 1.7])
    m0, shift = quant.quantize_multiplier(scales)
    a = quant.qmatmul(q1, 1, q2, 0, scale=scales, z3=0, qmin=-128, qmax=127)
    b = quant.qmatmul(q1, 1, q2, 0, M0=m0, shift=shift, z3=0, qmin=-128, qmax=127)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(scale=0.5, M0=1 << 30, shift=0), "give either scale= or M0= and shift=, not both"),
    (dict(), "qmatmul needs M0= and shift="),
    (dict(M0=1 << 30, shift=[0, 0, 0]), "shift must be a scalar or a 1-d array of length 2"),
    (dict(M0=1 << 30, shift=31), "shift must be an integer in -31..30, not 31"),
    (dict(M0=1 << 30, shift=0, acc_bits=33), "acc_bits must be an integer in 8..32, not 33"),
    (dict(M0=1 << 30, shift=0, q2=np.ones((3, 2), dtype=int)), r"q1 and q2 must be matrices \(m, n\) and \(n, k\)"),
    (dict(M0=1 << 30, shift=0, z1=[1, 2]), "z1 must be a scalar"),
])
def test_qmatmul_rejects(kwargs, msg):
    args = dict(q1=np.ones((2, 2), dtype=int), z1=0, q2=np.ones((2, 2), dtype=int), z2=0, z3=0, qmin=-128, qmax=127)
    args.update(kwargs)
    q1, z1, q2, z2 = (args.pop(n) for n in ("q1", "z1", "q2", "z2"))
    with pytest.raises(ValueError, match=msg):
        quant.qmatmul(q1, z1, q2, z2, **args)


def test_docs_examples():
    """The examples of docs/quant.md are doctests: they run, and print what the page says."""
    page = pathlib.Path(__file__).resolve().parents[3] / "docs" / "quant.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted > 20 and result.failed == 0
