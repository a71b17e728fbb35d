"""golden.quant.qmatmul against Python ints, and docs/quant.md's doctested examples."""

import pathlib

import doctest

import numpy as np
import pytest

from fmtforge.golden import quant
from fmtforge.verif.support.refs.quant import ref_qmatmul
from fmtforge.verif.support.refs.quant import I32_MIN
from fmtforge.verif.support.vectors.patterns import seed

MODES = ["gemmlowp", "single", "float-rne"]


# -- qmatmul ------------------------------------------------------------------------------------------------------
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
