"""The NF4 specification (verif/prove/specs/nf4.py) on concrete inputs: the table against the published
decimals and golden's levels, NF4 -> floats exhaustively, floats -> NF4 (nearest, ties to the lower level)."""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.prove.options import ProveOptions
from fmtforge.verif.prove.specs.selfcheck import composed
from fmtforge.verif.prove.specs import nf4, ocp
from fmtforge.verif.prove.specs.selfcheck import compare, fp32_near_grid

from fmtforge.verif.tests.conftest import FULL


def test_table_is_float32_and_golden_levels():
    """Each published decimal is already a float32 value (so "the float32 nearest" changes nothing), the
    levels increase, 0.0 is code 7, and golden's levels are the same numbers."""
    lv = nf4.levels()
    for text, val in zip(nf4.LEVELS, lv):
        assert Fraction(text) == val or float(np.float32(float(text))) == float(val)
        assert float(np.float32(float(text))) == float(text), f"{text} is not a float32 value"
    assert all(a < b for a, b in zip(lv, lv[1:])) and lv[nf4.ZERO_CODE] == 0
    assert [Fraction(float(x)) for x in golden.lookup("nf4").levels] == lv


@pytest.mark.parametrize("dst", ["fp32", "bf16", "fp16", "fp8_e4m3", "fp4_e2m1", "posit8", "int8"])
@pytest.mark.parametrize("mode", ["rne", "rtz", "rup"])
def test_nf4_source(dst, mode):
    bad = [m for kind, m in compare(composed, "nf4", dst, ProveOptions(rounding=mode), range(16)) if kind != "uf-band"]
    assert not bad, "\n".join(bad[:5])


def test_nearest_ties_to_lower():
    """A value exactly halfway between two levels takes the lower code (README)."""
    lv = nf4.levels()
    for i in range(15):
        mid = float((lv[i] + lv[i + 1]) / 2)
        bits = np.array([mid, np.nextafter(mid, 2.0)]).view(np.uint64)
        got = ocp.evaluate(composed, golden.lookup("fp64"), golden.lookup("nf4"), ProveOptions(), bits)
        assert [b for b, _ in got] == [i, i + 1], f"midpoint of codes {i}, {i + 1}: {got}"


@pytest.mark.parametrize("src", ["fp8_e4m3", "fp8_e5m2", "fp16", "bf16"])
def test_to_nf4(src):
    width = golden.lookup(src).width
    xs = [x for x in range(0, 1 << width, 1 if width <= 8 or FULL else 23)]
    bad = compare(composed, src, "nf4", ProveOptions(), xs)
    assert not bad, "\n".join(m for _, m in bad[:5])


def test_to_nf4_fp32_grid():
    bad = compare(composed, "fp32", "nf4", ProveOptions(), fp32_near_grid("bf16", step=1 if FULL else 113))
    assert not bad, "\n".join(m for _, m in bad)[:2000]


def test_infinity_nv():
    bad = compare(composed, "fp16", "nf4", ProveOptions(), [0x7C00, 0xFC00])
    assert not bad, "\n".join(m for _, m in bad)
