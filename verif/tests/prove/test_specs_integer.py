"""The integer specifications (verif/prove/specs/integer.py) on concrete inputs: the README's range and NaN
rules by name, then against golden (exhaustive for 8-bit sources, a stride of 16-bit ones, all under
FMTFORGE_FULL=1; fp32 on a grid with its neighbours)."""

import struct

import pytest

from fmtforge import golden
from fmtforge.verif.prove.options import ProveOptions
from fmtforge.verif.prove.specs.selfcheck import composed
from fmtforge.verif.prove.specs import ocp
from fmtforge.verif.prove.specs.selfcheck import compare, fp32_near_grid

from fmtforge.verif.tests.conftest import FULL
MODES = ["rne", "rtz", "rdn", "rup", "rmm"]
NX, NV = golden.NX, golden.NV


def f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def one(src, dst, opts, x):
    return ocp.evaluate(composed,
                        golden.lookup(src), golden.lookup(dst), opts, [x])[0]


@pytest.mark.parametrize("dst, value, mode, want", [
    ("int8", 127.4, "rne", (0x7F, NX)), ("int8", 127.5, "rne", (0x7F, NV)), ("int8", -128.5, "rne", (0x80, NX)),
    ("int8", -128.5, "rmm", (0x80, NV)), ("int8", 2.5, "rne", (2, NX)), ("int8", 2.5, "rmm", (3, NX)),
    ("int8", -2.5, "rdn", (0xFD, NX)), ("int8", float("nan"), "rne", (0, NV)), ("int8", float("inf"), "rtz", (0x7F, NV)),
    ("int8", float("-inf"), "rne", (0x80, NV)), ("uint8", -0.4, "rne", (0, NX)), ("uint8", -0.6, "rne", (0, NV)),
    ("uint8", 255.0, "rne", (255, 0)), ("int32", 2.0 ** 31, "rne", (0x7FFFFFFF, NV)),
    ("int32", -2.0 ** 31, "rne", (0x80000000, 0)), ("mxint8", 1.0, "rne", (64, 0)),
    ("mxint8", -2.0, "rne", (0x81, NV)),  # symmetric: -2 decodes but is never produced
    ("int4", 7.5, "rtz", (7, NX)),
])
def test_range_and_nan_rules(dst, value, mode, want):
    """README: round by the mode, then saturate with NV; NaN gives 0 with NV; IEEE 754 5.8: NX in range."""
    got = one("fp32", dst, ProveOptions(rounding=mode), f32(value))
    assert got == want, f"fp32 {value!r} -> {dst} {mode}: want {want}, spec gives {got}"


def _check(spec_fn, src, dst, opts, xs, rands=None):
    bad = compare(spec_fn, src, dst, opts, xs, rands)
    assert not bad, f"{len(bad)} mismatches, first: " + "\n".join(m for _, m in bad[:5])


F2I = [("fp8_e4m3", "int8"), ("fp8_e5m2", "uint8"), ("fp8_e5m2", "int4"), ("fp8_e4m3", "mxint8"),
       ("p3109_k8p3", "int16"), ("e8m0", "int32")]


@pytest.mark.parametrize("src, dst, mode", [(s, d, m) for s, d in F2I for m in MODES] if FULL else
                         [(s, d, MODES[(i + k) % 5]) for i, (s, d) in enumerate(F2I) for k in (0, 2)])
def test_float_to_int_exhaustive_8bit(src, dst, mode):
    _check(composed, src, dst, ProveOptions(rounding=mode), range(256))


@pytest.mark.parametrize("src, dst", [("fp16", "int8"), ("bf16", "int16"), ("fp16", "uint4"), ("bf16", "int32")])
def test_float_to_int_16bit(src, dst):
    for mode in (MODES if FULL else ["rne", "rdn"]):
        _check(composed, src, dst, ProveOptions(rounding=mode), range(0, 1 << 16, 1 if FULL else 53))


@pytest.mark.parametrize("dst", ["int32", "int8", "uint8"])
def test_fp32_to_int_grid(dst):
    xs = fp32_near_grid("bf16", step=1 if FULL else 101)
    _check(composed, "fp32", dst, ProveOptions(rounding="rne"), xs)


GEN = lambda s, d, o, x, r: composed(s, d, o, x, r)


I2X = [("int8", "fp8_e4m3"), ("uint8", "fp4_e2m1"), ("int8", "e8m0"), ("mxint8", "fp8_e5m2"), ("int4", "fp6_e2m3"),
       ("int16", "bf16"), ("int16", "p3109_k8p3"), ("int8", "uint4")]


@pytest.mark.parametrize("src, dst, mode", [(s, d, m) for s, d in I2X for m in MODES] if FULL else
                         [(s, d, MODES[i % 5]) for i, (s, d) in enumerate(I2X)])
def test_int_sources(src, dst, mode):
    width = golden.lookup(src).width
    _check(GEN, src, dst, ProveOptions(rounding=mode), range(0, 1 << width, 1 if width <= 8 or FULL else 7))
