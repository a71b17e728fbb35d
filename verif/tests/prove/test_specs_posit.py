"""The posit specifications (verif/prove/specs/posit.py) on concrete inputs: the 2022 standard's edges by name,
then against golden: posit8 and posit16 sources (exhaustive / stride, all under FMTFORGE_FULL=1), posit
destinations from 8- and 16-bit floats in every mode, posit32/64 on structured samples."""

import struct

import pytest

from fmtforge import golden
from fmtforge.verif.prove.options import ProveOptions
from fmtforge.verif.prove.specs.selfcheck import composed
from fmtforge.verif.prove.specs import ocp
from fmtforge.verif.prove.specs.selfcheck import compare, fp32_near_grid

from fmtforge.verif.tests.conftest import FULL
MODES = ["rne", "rtz", "rdn", "rup", "rmm"]


def GEN(s, d, o, x, r):
    return composed(s, d, o, x, r)


def f64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


@pytest.mark.parametrize("dst, value, want", [
    ("posit16", 1.0, 0x4000), ("posit16", -1.0, 0xC000), ("posit16", 2.0 ** 56, 0x7FFF), ("posit16", 2.0 ** 60, 0x7FFF),
    ("posit16", 2.0 ** -56, 0x0001), ("posit16", 2.0 ** -70, 0x0001), ("posit16", -2.0 ** -70, 0xFFFF),
    ("posit16", float("nan"), 0x8000), ("posit16", float("inf"), 0x8000), ("posit16", 0.0, 0x0000),
    ("posit8", 2.0 ** 24, 0x7F), ("posit8", 2.0 ** -24, 0x01), ("posit8", 1.0 + 2.0 ** -4, 0x40),  # tie -> even
    ("posit8", 1.0 + 3 * 2.0 ** -4, 0x42), ("posit32", 2.0 ** 120, 0x7FFFFFFF), ("posit32", 3.0, 0x4C000000),
])
def test_standard_edges(dst, value, want):
    """maxpos = 2**(4(n-2)), minpos its inverse, clamps never to 0 or NaR, NaN/inf -> NaR, ties to even pattern."""
    got = ocp.evaluate(composed, golden.lookup("fp64"), golden.lookup(dst), ProveOptions(), [f64(value)])[0][0]
    assert got == want, f"fp64 {value!r} -> {dst}: want {want:#x}, spec gives {got:#x}"


def test_saturate_infinity():
    got = ocp.evaluate(composed, golden.lookup("fp32"), golden.lookup("posit16"), ProveOptions(saturate=True),
                       [f32(float("inf")), f32(float("-inf"))])
    assert [b for b, _ in got] == [0x7FFF, 0x8001]


def _check(src, dst, opts, xs, rands=None):
    bad = compare(GEN, src, dst, opts, xs, rands)
    assert not bad, f"{len(bad)} mismatches, first: " + "\n".join(m for _, m in bad[:5])


P8 = [("posit8", "fp32"), ("posit8", "fp8_e4m3"), ("posit8_es0", "bf16"), ("posit8_es3", "fp16"), ("posit8", "int8"),
      ("posit8", "posit16")]


@pytest.mark.parametrize("src, dst, mode", [(s, d, m) for s, d in P8 for m in MODES] if FULL else
                         [(s, d, MODES[(i + k) % 5]) for i, (s, d) in enumerate(P8) for k in (0, 2)])
def test_posit8_sources(src, dst, mode):
    _check(src, dst, ProveOptions(rounding=mode), range(256))


@pytest.mark.parametrize("src, dst", [("posit16", "fp32"), ("posit16_es1", "bf16"), ("posit16", "posit8")])
def test_posit16_sources(src, dst):
    for mode in (MODES if FULL else ["rne"]):
        _check(src, dst, ProveOptions(rounding=mode), range(0, 1 << 16, 1 if FULL else 83))


TO_P = [("fp8_e4m3", "posit8"), ("fp8_e5m2", "posit8_es0"), ("fp8_e5m2", "posit16"), ("int8", "posit8"),
        ("fp8_e4m3", "posit8_es4"), ("p3109_k8p1", "posit8")]


@pytest.mark.parametrize("src, dst, mode, sat", [(s, d, m, sat) for s, d in TO_P for m in MODES for sat in (False, True)] if FULL else \
    [(s, d, MODES[(i + k) % len(MODES)], (i + k) % 2 == 1) for i, (s, d) in enumerate(TO_P) for k in (0, 2)])
def test_posit_destinations_8bit_sources(src, dst, mode, sat):
    _check(src, dst, ProveOptions(rounding=mode, saturate=sat), range(256))


@pytest.mark.parametrize("src, dst", [("fp16", "posit8"), ("fp16", "posit16"), ("bf16", "posit16_es1"),
                                      ("bf16", "posit32"), ("fp16", "posit64")])
def test_posit_destinations_16bit_sources(src, dst):
    for mode in (MODES if FULL else ["rne", "rup"]):
        _check(src, dst, ProveOptions(rounding=mode), range(0, 1 << 16, 1 if FULL else 127))


@pytest.mark.parametrize("dst", ["posit16", "posit32", "posit8_es1"])
def test_fp32_grid_ties_neighbours(dst):
    _check("fp32", dst, ProveOptions(), fp32_near_grid("fp16", step=1 if FULL else 89))


def test_posit64_and_posit32_sources_structured():
    """Wide posits: every regime length with fraction patterns 0, 1, the top bit, all ones, both signs."""
    for name, dst in (("posit32", "fp64"), ("posit64", "fp64"), ("posit32", "posit16")):
        n = golden.lookup(name).n
        xs = {0, 1 << (n - 1)}
        for run in range(1, n):
            for head in (0, 1):
                body = ((1 << run) - 1) << (n - 1 - run) if head else 1 << max(n - 2 - run, 0)
                for tail in (0, 1, (1 << max(n - 3 - run, 0)) - 1, 1 << max(n - 4 - run, 0)):
                    pat = (body | (tail & ((1 << max(n - 2 - run, 0)) - 1))) & ((1 << (n - 1)) - 1)
                    xs |= {pat, (-pat) % (1 << n)}
        _check(name, dst, ProveOptions(), sorted(xs))
