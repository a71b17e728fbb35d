"""golden.quant against ONNX's reference implementation (onnx.reference): quantize's float32 arithmetic bit for
bit, where the exact arithmetic differs, and the qmac parameters derived from a model's scales.

onnx.reference's QuantizeLinear computes ``rint(x / y_scale)`` on float32 tensors and casts to int32 with numpy:
undefined (INT32_MIN on x86) for NaN and for quotients beyond int32, where golden saturates instead; those inputs
are compared by name below, not bit for bit.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import quant as gq
from fmtforge.golden.quant.onnx_params import qmac_params
from fmtforge.verif.support.vectors.patterns import float_corners, seed

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

_ZP_TYPE = {"int8": (TensorProto.INT8, np.int8), "uint8": (TensorProto.UINT8, np.uint8)}


def reference_quantize(x, scale, zero, dtype, axis=1):
    """ONNX QuantizeLinear (opset 21) on float32 ``x`` under onnx.reference."""
    t, np_t = _ZP_TYPE[dtype]
    scale, zero = np.asarray(scale, np.float32), np.asarray(zero, np_t)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
              helper.make_tensor_value_info("s", TensorProto.FLOAT, list(scale.shape)),
              helper.make_tensor_value_info("z", t, list(zero.shape))]
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], axis=axis)
    graph = helper.make_graph([node], "q", inputs, [helper.make_tensor_value_info("y", t, list(x.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    with np.errstate(all="ignore"), warnings.catch_warnings():  # its casts of NaN and overflows warn
        warnings.simplefilter("ignore", RuntimeWarning)
        return ReferenceEvaluator(model).run(None, {"x": x, "s": scale, "z": zero})[0]


def _defined(x, scale):
    """Where the reference is defined: x finite and the float32 quotient within int32."""
    with np.errstate(all="ignore"):
        q = x / np.asarray(scale, np.float32)
    return np.isfinite(x) & np.isfinite(q) & (np.abs(q) < 2.0 ** 31)


def _near_ties(rng, scale, n):
    """float32 values x near (k + 1/2) * scale: the float32 quotient x / scale often rounds onto the tie that
    the exact quotient misses (and onto integers, and across them)."""
    k = rng.integers(-300, 300, n)
    x = ((k + 0.5) * np.float64(scale)).astype(np.float32)
    up, down = np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf))
    exact_k = (k * np.float64(scale)).astype(np.float32)
    return np.concatenate([x, up, down, exact_k, np.nextafter(exact_k, np.float32(0))])


SCALES = [np.float32(v) for v in (0.0123, 1 / 3, 0.1, 2.0 ** -7, 1.0, 3.0, 1e-3, 7.7e-5)]


@pytest.mark.parametrize("dtype, zero", [("int8", 3), ("uint8", 128), ("int8", -128), ("uint8", 0)])
def test_float32_mode_is_the_onnx_reference(dtype, zero):
    """Near-ties for several scales, fp32 corner patterns (subnormals, the ends, +-0), random float32 values
    on several scales of magnitude: float32 arithmetic equals onnx.reference everywhere it is defined, and
    the exact arithmetic differs from it on near-ties (else this test would not reach the difference)."""
    s0 = seed()
    print(f"seed {s0}")
    rng = np.random.default_rng([s0, 17, zero & 0xff])
    corners = float_corners(golden.lookup("fp32")).astype(np.uint32).view(np.float32)
    differ = 0
    for scale in SCALES:
        x = np.concatenate([_near_ties(rng, scale, 3000), corners,
                            (rng.standard_normal(4000) * 10.0 ** rng.integers(-3, 3, 4000)).astype(np.float32)])
        want = reference_quantize(x, scale, zero, dtype)
        got = gq.quantize(x, scale, zero, dtype, arithmetic="float32")
        exact = gq.quantize(x, scale, zero, dtype)
        ok = _defined(x, scale)
        bad = np.flatnonzero(ok & (got != want))
        assert not bad.size, "; ".join(
            f"x=0x{x[i].view(np.uint32):08x} ({x[i]!r}) scale={scale!r}: expected {want[i]}, got {got[i]}"
            for i in bad[:6])
        differ += int(np.sum(ok & (exact != want)))
    assert differ > 100, f"only {differ} inputs where exact and float32 arithmetic differ: the ties were missed"


def test_float32_tie_by_hand():
    """Near-ties worked out with Fractions, the expectations from the exact values of the float32 operands:
    x = float32(3.5 * 0.1) over float32(0.1) is not 7/2 exactly, but its float32 quotient is (then to even 4)."""
    s = np.float32(0.1)
    for k, exact_q in ((2.5, 2), (3.5, None)):
        x = np.float32(k * float(s))
        q_exact = Fraction(float(x)) / Fraction(float(s))
        q32 = Fraction(float(np.float32(x) / s))
        want_exact = round(q_exact)  # Python's round is half to even on Fractions
        want32 = round(q32)
        assert gq.quantize(np.array([x]), s, 0, "int8")[0] == want_exact
        assert gq.quantize(np.array([x]), s, 0, "int8", arithmetic="float32")[0] == want32
        if exact_q is not None:
            assert want_exact == exact_q
    # x = float32(3.5 * 0.1): the float32 quotient is exactly 3.5 (a tie, to even 4); the exact one is not
    x = np.float32(3.5 * float(s))
    assert Fraction(float(np.float32(x) / s)) == Fraction(7, 2) and Fraction(float(x)) / Fraction(float(s)) != Fraction(7, 2)


def test_float32_mode_per_channel():
    rng = np.random.default_rng([seed(), 5])
    scale = np.array([0.01, 0.37, 1 / 3, 2.0 ** -9], np.float32)
    zero = np.array([0, 5, -7, 100], np.int8)
    x = np.stack([_near_ties(rng, s, 200) for s in scale], axis=1)
    want = reference_quantize(x, scale, zero, "int8", axis=1)
    got = gq.quantize(x, scale, zero, "int8", axis=1, arithmetic="float32")
    ok = _defined(x, scale[None, :])
    assert np.array_equal(got[ok], want[ok])


def test_float32_mode_specials():
    """Where the reference is undefined golden saturates, in both arithmetics: NaN gives the zero point, +-inf
    and quotients that overflow float32 (1e38 / 1e-3) the range's ends; a scale that is no float32 is refused."""
    x = np.array([np.nan, np.inf, -np.inf, 1e38, -1e38, 3e9], np.float32)
    for arithmetic in ("exact", "float32"):
        assert gq.quantize(x, 1e-3, 4, "int8", arithmetic=arithmetic).tolist() == [4, 127, -128, 127, -128, 127]
    with pytest.raises(ValueError, match="scale must be a positive, finite float32 with arithmetic='float32'"):
        gq.quantize(x, 1e-60, 0, "int8", arithmetic="float32")
    with pytest.raises(ValueError, match="arithmetic must be one of exact, float32, not 'float16'"):
        gq.quantize(x, 1.0, 0, "int8", arithmetic="float16")


def test_qmac_params_from_scales():
    """M0 * 2**(shift - 31) is a_scale * b_scale / y_scale (exact product of the float32 scales) to 31 bits;
    zero points and the range pass through; per channel when a column differs; bias = -acc_zero."""
    sa, sb, sy = np.float32(0.02), np.float32(0.013), np.float32(0.05)
    p = qmac_params(a_zero=np.uint8(120), b_zero=0, acc_scale=np.float64(sa) * np.float64(sb), y_scale=sy,
                    y_zero=np.int8(-3), a_type="uint8", b_type="int8", y_type="int8", columns=3)
    assert {k: p[k] for k in ("per_channel", "za", "zw", "z3", "qmin", "qmax", "bias")} == dict(
        per_channel=False, za=120, zw=0, z3=-3, qmin=-128, qmax=127, bias=0)
    M = Fraction(float(sa)) * Fraction(float(sb)) / Fraction(float(sy))
    got = gq.real_multiplier(p["m0"], p["shift"])
    assert 2 ** 30 <= p["m0"] < 2 ** 31 and abs(got - M) <= M * Fraction(1, 2 ** 31)
    sb = np.array([0.01, 0.02, 0.03], np.float32)
    p = qmac_params(a_zero=0, b_zero=np.array([0, 1, 2]), acc_scale=np.float64(sa) * sb, y_scale=sy, y_zero=0,
                    a_type="int8", b_type="int8", y_type="uint8", columns=3, acc_zero=np.array([5, 0, -7]))
    assert p["per_channel"] and p["zw"] == [0, 1, 2] and p["bias"] == [-5, 0, 7] and len(p["m0"]) == 3
    assert (p["qmin"], p["qmax"]) == (0, 255)
    with pytest.raises(ValueError, match=r"b_zero_point must be int8 values, in -128..127, not \[300\]"):
        qmac_params(a_zero=0, b_zero=300, acc_scale=1e-3, y_scale=1.0, y_zero=0, a_type="int8", b_type="int8",
                    y_type="int8", columns=1)
    with pytest.raises(ValueError, match="acc_scale / y_scale must be below 2\\*\\*30"):
        qmac_params(a_zero=0, b_zero=0, acc_scale=1e6, y_scale=1e-6, y_zero=0, a_type="int8", b_type="int8",
                    y_type="int8", columns=1)
