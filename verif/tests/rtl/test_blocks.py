# amaranth: UnusedElaboratable=no
"""w4-dequantize and bfp-encode (fmtforge.rtl.units.w4_dequant, bfp_encode) on their streams, against
golden.block.weights.dequantize_bits and golden.block.bfp.msfp_encode_bits, bit for bit, on both simulators.

A build holds several units side by side (verif/support/benches/blocks.py), each on its own stream, driven
concurrently: in make test five on Icarus and two of them (one per unit kind) on Verilator, whose build is
most of the cost; FMTFORGE_FULL=1 runs every configuration on both. Per unit:

1. no idle cycle and no back-pressure: a beat accepted every cycle, each result exactly 2 cycles (the latency
   docs/weights.md and docs/bfp.md state) after its beat (w4) or its block's last beat (bfp);
2. random valid gaps (idle cycles carry random payloads) and random back-pressure (4/5 of the vectors), then
   mostly back-pressure (the last 1/5).
   The scale and zero fields of every beat but a group's first carry random garbage (the unit must read them
   on first beats only).

Vectors: w4: every code in every group times a sweep of scales over every exponent field (both signs, the
mantissas 0, 1, all ones, 0x155 and a random one; +-0, +-inf, quiet and signaling NaNs), zero points 0 and
15 among random ones, then random groups; bfp: named corner blocks (all zero, +-0, subnormal-only, maximum
magnitude, NaN/inf-holding, RNE ties d binades down, one outlier) and random blocks (make test: 1,000 per
unit; FMTFORGE_FULL=1: 100,000 per unit, and every 16-bit scale pattern for w4 units whose groups are at
most two beats). The per-lane datapath is also
checked in bulk, combinationally, through the batch lane with FMTFORGE_FULL=1 (test_blocks_lanes.py).

Run: ``.venv/bin/pytest verif/tests/rtl/test_blocks.py`` (FMTFORGE_SEED=N for another seed).
"""

import json
import os
import random

import numpy as np
import pytest

from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.benches.blocks import (BlocksHarness, bfp_beats, bfp_blocks, bfp_expected, bfp_split,
                                                 make_unit, unit_id, w4_beats, w4_expected, w4_groups,
                                                 w4_split)
from fmtforge.verif.support.benches.stream import Ports, run_beats
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

#: the latencies the docs state, written here from the pages (not read from the code under test): docs/weights.md
#: "Latency is 2 + S cycles from a beat's acceptance to its results" (S = --stages, default 5), docs/bfp.md "B/N + 3
#: + S cycles from the acceptance of a block's last beat to the block on o, one more with more than 4 lanes"
#: (S = --stages, default 2)
W4_DEFAULT_STAGES = 5
BFP_DEFAULT_STAGES = 2


def w4_latency(stages):
    return 2 + stages


def bfp_latency(lanes, block, stages):
    return block // lanes + 3 + stages + (1 if lanes > 4 else 0)

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge
except ImportError:
    cocotb = None

ENV = "FMTFORGE_BLOCKS"


def w4(lanes, group, codes, zero="none", scale="fp16", out="fp16", saturate=False, stages=W4_DEFAULT_STAGES):
    return dict(kind="w4", lanes=lanes, group=group, codes=codes, zero=zero, scale=scale, out=out, saturate=saturate,
                stages=stages)


def bfp(lanes, src, man_bits, rounding, block=16, stages=BFP_DEFAULT_STAGES):
    return dict(kind="bfp", lanes=lanes, block=block, src=src, man_bits=man_bits, rounding=rounding, stages=stages)


# make test: one build per simulator, kept small: its cost is mostly the Verilator build, which grows with
# the lanes (cocotb makes every signal visible), then the cycles. GPTQ/AWQ asymmetric (fp16, four beats per
# group), int4 with a bf16 scale into fp16 (overflow and underflow across formats, saturating), NF4 with
# bitsandbytes' fp32 absmax to bf16; MSFP16 from fp32 (RNE, two beats per block of 16) and MSFP12 from bf16
# (truncation, blocks of 8 in one beat). The w4 lanes' register stages: the default (5) and 0, 1, 4 (2 and 3
# with FMTFORGE_FULL=1): every cut point of the lane holds a register in one of them.
CI_UNITS = [w4(4, 16, "uint4", "group"), w4(8, 16, "int4", scale="bf16", saturate=True, stages=1),
            w4(8, 16, "nf4", scale="fp32", out="bf16", stages=4), bfp(8, "fp32", 7, "rne"),
            bfp(8, "bf16", 3, "rtz", block=8, stages=3),
            w4(2, 16, "uint4", "gptq", stages=0), bfp(2, "fp32", 7, "rtz", block=4, stages=1),
            bfp(4, "bf16", 3, "rne", block=4, stages=0)]
CI_BLOCKS = 1000  # random blocks per bfp unit in make test (besides the named ones)
# FMTFORGE_FULL=1 adds a second build: the other scale/out pairings, gptq zero, fp16 -> bf16 saturating,
# groups of 128, MLC q3f16 (3-bit codes, groups of 40), NF4 from an fp16 absmax; MSFP16 from bf16 with RNE,
# MSFP12 from fp32 by truncation, blocks of 32 and a 9-bit mantissa wider than bf16's significand.
FULL_UNITS = [w4(8, 128, "uint4", "gptq", scale="fp16", out="bf16", saturate=True, stages=2),
              w4(8, 40, "uint3", "mlc", out="bf16", stages=3), w4(2, 64, "nf4", scale="fp16", out="fp16"), w4(32, 32, "uint4", "group", scale="bf16", out="bf16"),
              bfp(16, "bf16", 7, "rne", stages=0), bfp(16, "fp32", 3, "rtz", stages=1), bfp(16, "bf16", 9, "rne", block=32),
              bfp(4, "fp32", 7, "rtz"), bfp(1, "bf16", 3, "rne", block=2, stages=0)]
# On Verilator, whose build is most of the cost (it grows with the lanes: cocotb makes every signal visible),
# make test builds two of them, one per unit kind (scale and zero point held across beats; a block over two
# beats); FMTFORGE_FULL=1 runs every configuration on both simulators.
CI_VERILATOR = [CI_UNITS[0], CI_UNITS[3], CI_UNITS[5], CI_UNITS[6]]
RUNS = ([("blocks_ci", CI_UNITS, "icarus"), ("blocks_ci", CI_UNITS, "verilator")]
        + [("blocks_full", FULL_UNITS, sim) for sim in ("icarus", "verilator")] if FULL else
        [("blocks_ci", CI_UNITS, "icarus"), ("blocks_ci_vl", CI_VERILATOR, "verilator")])


def _bad_report(label, rows, reproduce):
    return "\n".join([label] + rows[:8] + [reproduce])


if cocotb is not None:
    async def check_w4(dut, k, c, rng, used_seed):
        unit = make_unit(c)
        junk = random.Random(used_seed + k)
        # FULL: every 16-bit scale pattern where a group is at most two beats (else the sweep of exponents)
        per = c["group"] // c["lanes"]
        codes, scales, zeros = w4_groups(c, rng, n_random=200 if FULL else 20, full=FULL and per <= 2)
        want = w4_expected(c, codes, scales, zeros)
        beats = w4_beats(unit, codes, scales, zeros, junk)
        n0 = min(len(beats), 8 * per)
        got0, t_in, t_out = await run_beats(Ports(dut, f"u{k}_"), beats[:n0], n0, 0.0, 0.0, rng)
        assert t_in == list(range(t_in[0], t_in[0] + n0)), f"{unit.name}: a beat was refused without back-pressure"
        lat = sorted({b - a for a, b in zip(t_in, t_out)})
        want_lat = w4_latency(c["stages"])
        assert lat == [want_lat], f"{unit.name}: latency {lat}, expected [{want_lat}]"
        half = n0 + (len(beats) - n0) * 4 // 5 // per * per  # 4/5 with gaps and some back-pressure, 1/5 mostly held
        got1, *_ = await run_beats(Ports(dut, f"u{k}_"), beats[n0:half], half - n0, 0.3, 0.3, rng)
        got2, *_ = await run_beats(Ports(dut, f"u{k}_"), beats[half:], len(beats) - half, 0.1, 0.7, rng)
        vals, last = w4_split(unit, got0 + got1 + got2)
        assert np.array_equal(last, (np.arange(len(beats)) % per) == per - 1), f"{unit.name}: last flags wrong"
        got = vals.reshape(want.shape)
        bad = np.argwhere(got != want)
        if len(bad):
            rows = [f"  group {g} code {int(codes[g, j]):#x}" + (f" zero {int(zeros[g]):#x}" if zeros is not None
                    else "") + f" scale {int(scales[g]):#06x}: expected {int(want[g, j]):#06x}, got "
                    f"{int(got[g, j]):#06x}" for g, j in bad]
            raise AssertionError(_bad_report(f"{unit.name}: {len(bad)} of {want.size} results differ (seed "
                                              f"{used_seed})", rows, _reproduce(used_seed, unit.name)))
        return f"{unit.name}: {want.size} results in {len(scales)} groups"

    async def check_bfp(dut, k, c, rng, used_seed):
        unit = make_unit(c)
        blocks, names = bfp_blocks(c, rng, 100_000 if FULL else CI_BLOCKS)  # FULL: >= 100,000 blocks per unit
        want_codes, want_scales = bfp_expected(c, blocks)
        beats = bfp_beats(unit, blocks)
        per = c["block"] // c["lanes"]
        n0 = 40
        got0, t_in, t_out = await run_beats(Ports(dut, f"u{k}_"), beats[:n0 * per], n0, 0.0, 0.0, rng)
        assert t_in == list(range(t_in[0], t_in[0] + n0 * per)), f"{unit.name}: a beat was refused"
        lat = sorted({b - a for a, b in zip(t_in[per - 1::per], t_out)})
        want_lat = bfp_latency(c["lanes"], c["block"], c["stages"])
        assert lat == [want_lat], f"{unit.name}: latency {lat}, expected [{want_lat}]"
        half = n0 + (len(blocks) - n0) * 4 // 5
        got1, *_ = await run_beats(Ports(dut, f"u{k}_"), beats[n0 * per:half * per], half - n0, 0.3, 0.3, rng)
        got2, *_ = await run_beats(Ports(dut, f"u{k}_"), beats[half * per:], len(blocks) - half, 0.1, 0.7, rng)
        codes, scales = bfp_split(unit, got0 + got1 + got2)
        bad = np.nonzero((scales != want_scales) | np.any(codes != want_codes, axis=1))[0]
        if len(bad):
            hexw = unit.src.width // 4
            rows = [f"  block {b} ({names[b]}): in [{' '.join(f'{int(v):0{hexw}x}' for v in blocks[b])}]: expected "
                    f"scale {int(want_scales[b]):#04x} codes [{' '.join(f'{int(v):x}' for v in want_codes[b])}], got "
                    f"scale {int(scales[b]):#04x} codes [{' '.join(f'{int(v):x}' for v in codes[b])}]" for b in bad]
            raise AssertionError(_bad_report(f"{unit.name}: {len(bad)} of {len(blocks)} blocks differ (seed "
                                              f"{used_seed})", rows, _reproduce(used_seed, unit.name)))
        marked = int(np.sum(want_scales == 0xFF))
        return f"{unit.name}: {len(blocks)} blocks ({marked} non-finite, {int(np.sum(want_scales == 0))} at scale 0)"

    def _reproduce(used_seed, name):
        return f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_blocks.py  # {name}"

    @cocotb.test()
    async def check_units(dut):
        units = json.loads(os.environ[ENV])
        used_seed = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        dut.rst.value = 1
        for k in range(len(units)):
            getattr(dut, f"u{k}_i__valid").value = 0
            getattr(dut, f"u{k}_o__ready").value = 0
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
        tasks = []
        for k, c in enumerate(units):
            rng = np.random.default_rng([used_seed, k, 15])
            check = check_w4 if c["kind"] == "w4" else check_bfp
            tasks.append(cocotb.start_soon(check(dut, k, c, rng, used_seed)))
        for t in tasks:
            dut._log.info("%s", await t)


@pytest.mark.parametrize("build, units, sim", RUNS, ids=[f"{b}-{s}" for b, _, s in RUNS])
def test_blocks(build, units, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    print(f"seed {seed()}; units: {', '.join(unit_id(c) for c in units)}")
    run(sim, to_verilog(BlocksHarness(units), build), build, "fmtforge.verif.tests.rtl.test_blocks", build,
        extra_env={ENV: json.dumps(units), "FMTFORGE_SEED": str(seed()), "FMTFORGE_FULL": "1" if FULL else "0"})


# ------------------------------------------------------------------------------------------------ no simulator

@pytest.mark.parametrize("kind, kwargs, message", [
    ("w4", dict(lanes=0), "lanes must be an integer in 1..64, not 0"),
    ("w4", dict(lanes=8, group=12), "group must be a multiple of lanes (8), not 12"),
    ("w4", dict(lanes=8, group=0), "group must be an integer in 1..4096, not 0"),
    ("w4", dict(lanes=8, codes="int8"), "codes must be one of uint4, int4, uint3, nf4, not 'int8'"),
    ("w4", dict(lanes=8, codes="nf4", zero="group"), "zero must be none for nf4 codes (they carry their own "
                                                      "sign), not 'group'"),
    ("w4", dict(lanes=8, zero="asym"), "zero must be one of none, group, gptq, mlc, not 'asym'"),
    ("w4", dict(lanes=8, scale="fp8_e4m3"), "scale must be one of fp16, bf16, fp32, not 'fp8_e4m3'"),
    ("w4", dict(lanes=8, out="fp32"), "out must be one of fp16, bf16, not 'fp32'"),
    ("w4", dict(lanes=8, saturate=1), "saturate must be True or False, not 1"),
    ("w4", dict(lanes=8, stages=6), "stages must be an integer in 0..5, not 6"),
    ("bfp", dict(lanes=65), "lanes must be an integer in 1..64, not 65"),
    ("bfp", dict(lanes=3), "block must be a multiple of lanes (3), not 16"),
    ("bfp", dict(lanes=4, src="fp16"), "src must be one of bf16, fp32, not 'fp16'"),
    ("bfp", dict(lanes=4, man_bits=16), "man_bits must be an integer in 1..15, not 16"),
    ("bfp", dict(lanes=4, rounding="rup"), "rounding must be one of rtz, rne, not 'rup'"),
    ("bfp", dict(lanes=4, stages=4), "stages must be an integer in 0..3, not 4"),
])
def test_block_unit_parameters(kind, kwargs, message):
    with pytest.raises(ValueError) as info:
        UNITS["w4-dequantize" if kind == "w4" else "bfp-encode"].create(**kwargs)
    assert str(info.value) == message


def test_block_unit_names_and_layouts():
    opts = dict(lanes=8, group=128, codes="uint4", zero="group")
    dut = UNITS["w4-dequantize"].create(**opts)
    assert dut.name == "w4_dequantize_uint4_zgroup_fp16_to_fp16_g128_l8_s5"
    assert UNITS["w4-dequantize"].configure(**opts).latency == w4_latency(W4_DEFAULT_STAGES)
    for stages in range(6):
        assert UNITS["w4-dequantize"].configure(**opts, stages=stages).latency == w4_latency(stages)
    assert UNITS["w4-dequantize"].create(**opts, stages=0).name == "w4_dequantize_uint4_zgroup_fp16_to_fp16_g128_l8"
    assert [(n, f.offset, f.width) for n, f in dut.in_layout] == [("codes", 0, 32), ("scale", 32, 16),
                                                                  ("zero", 48, 4)]
    assert [(n, f.offset, f.width) for n, f in dut.out_layout] == [("data", 0, 128), ("last", 128, 1)]
    dut = UNITS["w4-dequantize"].create(lanes=4, group=40, codes="uint3", zero="mlc", scale="fp32", out="bf16",
                                        saturate=True)
    assert dut.name == "w4_dequantize_uint3_zmlc_fp32_to_bf16_g40_l4_sat_s5"
    assert [(n, f.offset, f.width) for n, f in dut.in_layout] == [("codes", 0, 12), ("scale", 12, 32)]
    dut = UNITS["bfp-encode"].create(lanes=4, src="fp32", man_bits=7)
    assert dut.name == "bfp_encode_fp32_m7_b16_l4_rtz_s2"
    for lanes, block in ((4, 16), (16, 16), (1, 2), (8, 32)):
        for stages in range(4):
            got = UNITS["bfp-encode"].configure(lanes=lanes, block=block, src="fp32", man_bits=7, stages=stages).latency
            assert got == bfp_latency(lanes, block, stages), (lanes, block, stages)
    assert dut.in_layout.size == 128
    assert [(n, f.offset, f.width) for n, f in dut.out_layout] == [("codes", 0, 128), ("scale", 128, 8)]


LINT_VARIANTS = [bfp(8, "bf16", 9, "rne", block=32)]  # a mantissa wider than the significand: zeros appended
LINT_FULL = [w4(4, 40, "uint3", "mlc", scale="fp32", out="bf16", saturate=True), w4(1, 64, "nf4", scale="bf16", out="fp16"),
             bfp(1, "fp32", 3, "rtz")]


@pytest.mark.parametrize("c", LINT_VARIANTS + (LINT_FULL if FULL else []), ids=unit_id)
def test_block_unit_verilog_lint(c):
    """Variants beyond the registry examples (which test_lint.py covers): `verilator --lint-only -Wall` with
    the project's waivers reports nothing."""
    from fmtforge.verif.support.sim.lint import verilator_lint
    verilator_lint(make_unit(c))
