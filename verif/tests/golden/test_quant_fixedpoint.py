"""golden.quant's integer-only requantization (quantize_multiplier, SRDHM, RoundingDivideByPOT,
requantize) against the Python-int references of verif/support/refs/quant.py."""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from fmtforge.golden import quant
from fmtforge.verif.support.refs.quant import ref_quantize_multiplier, ref_rdbpot, ref_requantize, ref_srdhm
from fmtforge.verif.support.refs.quant import I32_MAX, I32_MIN
from fmtforge.verif.support.vectors.patterns import seed

MODES = ["gemmlowp", "single", "float-rne"]


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
