"""Stochastic rounding (verif/prove/specs/stochastic.py, used by the float, integer and posit specs) on concrete
inputs: the README's rule by hand, then against golden: 8-bit sources with *every* rand value, 16-bit and fp32
sources with seeded random rand (seed printed in the failure message)."""

import os
import struct

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.prove.options import ProveOptions
from fmtforge.verif.prove.specs.selfcheck import composed
from fmtforge.verif.prove.specs import ocp
from fmtforge.verif.prove.specs.selfcheck import compare, fp32_near_grid

from fmtforge.verif.tests.conftest import FULL
SEED = int(os.environ.get("FMTFORGE_SEED", "20261125"))


def GEN(s, d, o, x, r):
    return composed(s, d, o, x, r)


def f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


@pytest.mark.parametrize("value, rand, want", [
    (1.0 + 2.0 ** -8, 0x7F, 0x3F80),   # discarded 0.5 ulp -> top 8 discarded bits 0x80; 0x80 + 0x7F no carry
    (1.0 + 2.0 ** -8, 0x80, 0x3F81),   # 0x80 + 0x80 carries
    (1.0 + 2.0 ** -20, 0xFF, 0x3F80),  # below the top 8 discarded bits: never rounds up
    (-(1.0 + 3 * 2.0 ** -9), 0xA0, 0xBF81),  # t = 0x60, 0x60 + 0xA0 = 0x100: magnitude up
])
def test_readme_rule_fp32_to_bf16(value, rand, want):
    """README: round up when (top rand_bits discarded bits) + rand carries out (here 8 bits)."""
    opts = ProveOptions(rounding="stochastic", rand_bits=8)
    got = ocp.evaluate(GEN, golden.lookup("fp32"), golden.lookup("bf16"), opts, [f32(value)], [rand])[0][0]
    assert got == want, f"fp32 {value!r} rand {rand:#x}: want {want:#x}, spec gives {got:#x}"


def _check(src, dst, opts, xs, rands):
    bad = [m for kind, m in compare(GEN, src, dst, opts, xs, rands) if kind != "uf-band"]
    assert not bad, f"seed {SEED}: {len(bad)} mismatches, first: " + "\n".join(bad[:5])


EVERY = [("fp8_e4m3", "fp4_e2m1", 2), ("fp8_e4m3", "fp6_e3m2", 3), ("fp8_e5m2", "fp8_e4m3", 2),
         ("fp8_e4m3", "p3109_k8p1", 3), ("fp8_e5m2", "int4", 3), ("fp8_e4m3", "posit8_es0", 2),
         ("fp8_e5m2", "e8m0", 2), ("fp8_e4m3", "fp8_e5m2fnuz", 4), ("int8", "fp4_e2m1", 3)]


@pytest.mark.parametrize("src, dst, rand_bits, sat", [(s, d, r, sat) for s, d, r in EVERY for sat in (False, True)]
                         if FULL else [(s, d, r, i % 2 == 1) for i, (s, d, r) in enumerate(EVERY)])
def test_every_rand_8bit_sources(src, dst, rand_bits, sat):
    xs = [x for x in range(256) for _ in range(1 << rand_bits)]
    rands = [r for _ in range(256) for r in range(1 << rand_bits)]
    _check(src, dst, ProveOptions(rounding="stochastic", rand_bits=rand_bits, saturate=sat), xs, rands)


@pytest.mark.parametrize("src, dst, rand_bits", [("fp16", "bf16", 4), ("fp16", "fp8_e4m3", 8),
                                                 ("bf16", "fp8_e5m2", 5), ("fp16", "posit8", 6),
                                                 ("bf16", "int8", 7), ("fp16", "p3109_k8p3", 3)])
def test_16bit_sources_random_rand(src, dst, rand_bits):
    xs = np.arange(0, 1 << 16, 1 if FULL else 73)
    rands = np.random.default_rng(SEED).integers(0, 1 << rand_bits, len(xs))
    _check(src, dst, ProveOptions(rounding="stochastic", rand_bits=rand_bits), xs, rands)


@pytest.mark.parametrize("dst, rand_bits", [("bf16", 16), ("fp8_e4m3", 16), ("posit16", 12), ("int16", 9)])
def test_fp32_grid_random_rand(dst, rand_bits):
    xs = fp32_near_grid("fp16", step=1 if FULL else 151)
    rands = np.random.default_rng(SEED + 1).integers(0, 1 << rand_bits, len(xs))
    _check("fp32", dst, ProveOptions(rounding="stochastic", rand_bits=rand_bits), xs, rands)
