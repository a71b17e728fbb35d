# amaranth: UnusedElaboratable=no
"""The mx-dot unit (fmtforge.rtl.units.mx_dot) against golden.arith.mx_dot, bit for bit (bits and flags), on
both simulators.

Per configuration (CONFIGS; EXHAUSTIVE adds every element pair):

- ``exhaustive``: every (a, b) element code pair of the two formats through a 1-lane unit, each as a dot
  product of one partial block (``last`` on the block's first beat), with random scales (mostly near 127, the
  extremes now and then) and addends (+-0 or random patterns);
- ``structured``: cancellation to exactly zero (in a block, across blocks; each zero sign of c), scale
  extremes 0 / 254 and the NaN scale 0xFF (also in a later block), every special element against finite,
  zero and special partners, infinities in two blocks, special addends, huge + tiny - huge across blocks;
  with valid gaps and back-pressure;
- ``random``: seeded random dot products of 1..3 blocks (FMTFORGE_SEED; printed), some with a partial last
  block: first with no gap and no back-pressure (one beat per cycle, every result ``mx_dot_latency`` edges
  after its last beat), then with random valid gaps (garbage payload while invalid) and back-pressure.

FMTFORGE_FULL=1 adds ``regress`` (FMTFORGE_MX_DOT_N, default 10**5, random dot products per configuration)
and the E4M3 x E4M3 element pairs.

A partial block's expected value is golden's for the block filled up with zero pairs whose product has the
sign of the block's first product (``verif/support/benches/mx_dot.padded``): the same exact sum and zero-sign rule.

Run: ``.venv/bin/pytest -p no:xdist -q verif/tests/rtl/test_mx_dot.py`` (FMTFORGE_SEED=N for another seed).
"""

import json
import os
import sys

import numpy as np
import pytest

from fmtforge.rtl.units.mx_dot import mx_dot_geometry, mx_dot_latency
from fmtforge.verif.support.benches.mx_dot import (Bench, Job, config_id, expected, mx_dot_unit, padded, random_jobs,
                                                   structured_jobs)
from fmtforge.verif.support.sim.runner import simulator
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

try:
    import cocotb
    from cocotb.clock import Clock
except ImportError:  # collected by pytest without cocotb
    cocotb = None

ENV = "FMTFORGE_MX_DOT"

CONFIGS = [
    dict(a_elem="fp8_e4m3", b_elem="fp8_e4m3", block_size=16, lanes=1, flags=True, max_blocks=8),
    dict(a_elem="fp4_e2m1", b_elem="fp8_e5m2", block_size=32, lanes=1, flags=True, rounding="rdn", max_blocks=4),
    dict(a_elem="fp8_e4m3", b_elem="fp8_e4m3", block_size=32, lanes=8, flags=True, stages=3),
    dict(a_elem="int8", b_elem="fp6_e3m2", block_size=16, lanes=4, flags=True, accumulate="block", rounding="rup",
         stages=1),
    dict(a_elem="fp8_e4m3", b_elem="fp4_e2m1", block_size=32, lanes=8, flags=True, accumulate="block",
         rounding="rtz"),
]
#: configurations whose element pairs all run (1 lane, two formats of <= 8 bits): FP4 x E5M2 (4096 pairs) in the
#: CI slice, E4M3 x E4M3 (65536 pairs, minutes on Icarus) too with FMTFORGE_FULL=1
EXHAUSTIVE = {0, 1} if FULL else {1}
#: the random case's dot products (stall-free, then under gaps and back-pressure) per simulator. Icarus evaluates
#: the wide units about 20 times slower than Verilator: make test gives it a third (the structured case in full),
#: and the stream batch lane runs the bulk on Verilator
RANDOM_JOBS = {"icarus": (120, 200), "verilator": (120, 200)} if FULL else {"icarus": (40, 64),
                                                                            "verilator": (120, 200)}


if cocotb is not None:
    def _setup(dut):
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        return c, used_seed, Bench(dut, c, used_seed)

    @cocotb.test()
    async def exhaustive(dut):
        c, used_seed, tb = _setup(dut)
        await tb.reset()
        na, nb = 1 << tb.wa, 1 << tb.wb
        a, b = np.repeat(np.arange(na), nb), np.tile(np.arange(nb), na)
        rng = np.random.default_rng([used_seed, 3])
        n = na * nb
        xa = np.where(rng.random(n) < 0.02, rng.choice([0, 254, 0xFF], n), rng.integers(117, 138, n))
        xb = np.where(rng.random(n) < 0.02, rng.choice([0, 254, 0xFF], n), rng.integers(117, 138, n))
        cs = np.where(rng.random(n) < 0.5, rng.integers(0, 2, n) << 31, rng.integers(0, 1 << 32, n))
        jobs = [Job([x], [y], [p], [q], z, "every element pair") for x, y, p, q, z in zip(a, b, xa, xb, cs)]
        got, *_ = await tb.run(jobs, 0.0, 0.0)
        tb.check(jobs, got, "every element pair")
        dut._log.info("%s: %d element pairs (seed %d)", config_id(c), n, used_seed)

    @cocotb.test()
    async def structured(dut):
        c, used_seed, tb = _setup(dut)
        await tb.reset()
        jobs = structured_jobs(c, np.random.default_rng(used_seed))
        got, *_ = await tb.run(jobs, 0.3, 0.3)
        tb.check(jobs, got, "structured")
        dut._log.info("%s: %d structured dot products", config_id(c), len(jobs))

    @cocotb.test()
    async def random(dut):
        c, used_seed, tb = _setup(dut)
        rng = np.random.default_rng([used_seed, 1])
        await tb.reset()
        dut._log.info("%s: seed %d, latency %d", config_id(c), used_seed, tb.latency)
        n_fast, n_gapped = RANDOM_JOBS[simulator()]
        jobs = random_jobs(c, rng, n_fast)
        got, t_beat, t_last, t_out = await tb.run(jobs, 0.0, 0.0)
        assert t_beat == list(range(t_beat[0], t_beat[0] + len(t_beat))), "a beat was refused without back-pressure"
        lat = sorted(set(q - p for p, q in zip(t_last, t_out)))
        assert lat == [tb.latency], f"latency {lat}, expected [{tb.latency}]"
        tb.check(jobs, got, "no gaps")
        jobs = random_jobs(c, rng, n_gapped)
        got_a, *_ = await tb.run(jobs[:n_gapped // 2], 0.3, 0.3)
        got_b, *_ = await tb.run(jobs[n_gapped // 2:], 0.1, 0.7)  # mostly back-pressured
        tb.check(jobs, got_a + got_b, "gaps and back-pressure")

    @cocotb.test()
    async def regress(dut):
        import time
        c, used_seed, tb = _setup(dut)
        rng = np.random.default_rng([used_seed, 2])
        await tb.reset()
        n = int(os.environ.get("FMTFORGE_MX_DOT_N", 10 ** 5))
        done, t0 = 0, time.time()
        while done < n:
            jobs = random_jobs(c, rng, min(5000, n - done))
            got, *_ = await tb.run(jobs, 0.05, 0.05)
            done += tb.check(jobs, got, f"regress chunk at {done}")
        dut._log.info("%s: %d random dot products in %.0f s (seed %d)", config_id(c), done, time.time() - t0,
                      used_seed)


# ------------------------------------------------------------------------------------------------ pytest

SIMS = ["icarus", "verilator"]
#: make test's budget: the 1-lane exact configurations (thousands of beats through a ~560-bit accumulator: about
#: 200 s each on Icarus) run on Verilator only there; the exact 8-lane and both block configurations keep both
#: simulators, so exact and block mode each run on both; FMTFORGE_FULL=1 runs every pair
ICARUS_SKIP = set() if FULL else {0, 1}
PAIRS = [(n, sim) for n in range(len(CONFIGS)) for sim in SIMS if not (sim == "icarus" and n in ICARUS_SKIP)]


@pytest.mark.parametrize("n, sim", PAIRS, ids=lambda v: config_id(CONFIGS[v]) if isinstance(v, int) else v)
def test_mx_dot(n, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    c = CONFIGS[n]
    dut = mx_dot_unit(**c)
    print(f"seed {seed()}")
    cases = (["exhaustive"] if n in EXHAUSTIVE else []) + ["structured", "random"] + (["regress"] if FULL else [])
    run(sim, to_verilog(dut, dut.name), dut.name, "fmtforge.verif.tests.rtl.test_mx_dot", dut.name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed()),
                   "FMTFORGE_MX_DOT_N": os.environ.get("FMTFORGE_MX_DOT_N", str(10 ** 5))}, testcase=cases)


# ------------------------------------------------------------------------------------------------ no simulator

#: one in block mode with 32 lanes (the target configuration, exact with its ~560-bit word, is the registry's
#: example: verif/tests/flow/test_lint.py lints it)
LINT = [dict(a_elem="fp6_e2m3", b_elem="fp8_e5m2", block_size=64, lanes=32, accumulate="block",
                         rounding="rmm")]


@pytest.mark.parametrize("c", LINT, ids=config_id)
def test_mx_dot_lint(c):
    """`verilator --lint-only -Wall` with the project's waivers (the one lint helper) and Yosys' check
    (rtl.flow.lint) report nothing; the Verilog is deterministic."""
    from fmtforge.rtl.flow import lint
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.lint import verilator_lint

    dut = mx_dot_unit(**c)
    text = verilator_lint(dut)
    lint(text, dut.name)
    assert to_verilog(mx_dot_unit(**c), dut.name, cache=False) == text  # deterministic


@pytest.mark.parametrize("kwargs, message", [
    (dict(a_elem="fp16"), "a_elem must be one of fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1, int8, not 'fp16'"),
    (dict(b_elem="int4"), "b_elem must be one of fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1, int8, not 'int4'"),
    (dict(block_size=48), "block_size must be one of 16, 32, 64, not 48"),
    (dict(lanes=33), "lanes must be an integer in 1..32, not 33"),
    (dict(lanes=3), "lanes must divide block_size (32): one of 1, 2, 4, 8, 16, 32, not 3"),
    (dict(accumulate="fast"), "accumulate must be one of exact, block, not 'fast'"),
    (dict(rounding="stochastic"), "rounding must be one of rne, rtz, rup, rdn, rmm, not 'stochastic'"),
    (dict(accumulate="block", max_blocks=4), "max_blocks applies to accumulate exact only"),
    (dict(max_blocks=0), "max_blocks must be an integer in 1..65536, not 0"),
    (dict(accumulate="block", stages=2), "stages with accumulate block must be an integer in 0..1, not 2"),
    (dict(stages=4), "stages must be an integer in 0..3, not 4"),
    (dict(scheme="nvfp4"), "scheme must be one of mx, not 'nvfp4'"),
])
def test_mx_dot_parameters(kwargs, message):
    with pytest.raises(ValueError) as info:
        mx_dot_unit(**kwargs)
    assert str(info.value).startswith(message), str(info.value)


def test_mx_dot_cli_exit_2(tmp_path):
    """The CLI turns a bad option into one line and exit status 2, writing nothing."""
    import subprocess

    out = tmp_path / "x.v"
    proc = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "generate", "mx-dot", "--lanes", "3",
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2 and "lanes must divide block_size (32)" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_mx_dot_geometry_and_layout():
    """The block accumulator is golden's exact width for block_size products; exact mode's cross-block word
    spans 2**(lsb(a) + lsb(b) - 254) (E4M3: 2**-272) up to max_blocks blocks at 2**254; block mode has none,
    its adder's window is the block word's magnitude bits + 24 + 2 (the docs' numbers)."""
    from fmtforge.golden.arith import exact_acc_bits
    from fmtforge.rtl.units.mx_dot_block import block_window
    tree, blk, cross = mx_dot_geometry("fp8_e4m3", "fp8_e4m3", 32, 8, "exact", 1024)
    assert blk.width == exact_acc_bits("fp8_e4m3", "fp8_e4m3", None, max_terms=32) == 42
    assert (tree.lsb, tree.width, blk.lsb, cross.lsb, cross.width) == (-18, 40, -18, -272, 563)
    assert mx_dot_geometry("fp4_e2m1", "fp4_e2m1", 32, 1, "block", None)[2] is None
    assert block_window(blk) == (-272, 41, 67)
    assert [mx_dot_latency(a, s) for a, s in (("exact", 0), ("exact", 3), ("block", 1))] == [4, 7, 5]
    dut = mx_dot_unit(a_elem="fp8_e4m3", b_elem="fp4_e2m1", lanes=2)
    assert [(name, f.offset, f.width) for name, f in dut.in_layout] == [
        ("a", 0, 16), ("b", 16, 8), ("xa", 24, 8), ("xb", 32, 8), ("c", 40, 32), ("last", 72, 1)]


def test_contract_latency_is_the_documented_one():
    """The contract's latency equals the one docs/mx_dot.md states (benches/mx_dot.documented_latency)."""
    from fmtforge.rtl.units import UNITS
    from fmtforge.verif.support.benches.mx_dot import documented_latency
    for opts in (dict(), dict(stages=3), dict(accumulate="block"), dict(accumulate="block", stages=1)):
        cfg = UNITS["mx-dot"].configure(**opts)
        assert cfg.latency == documented_latency(cfg.options), opts


def test_model_known_answers():
    """The contract's model on values worked out by hand: a block of 32 E4M3 1.0 (0x38) times 1.5 (0x3C) at
    scales 2**1 and 2**-3 is 32 * 1.5 * 2**-2 = 12.0 (0x41400000), + c = 0.5 -> 12.5 (0x41480000); a NaN scale
    gives the quiet NaN 0x7FC00000 with no flag; in block mode 2**24 + 1 (c) + 1.0 rounds to even once per
    block (exact mode: 2**24 + 2; block mode: 2**24 + 1 ties to even, 2**24, twice)."""
    from fmtforge.rtl.units import UNITS
    cfg = UNITS["mx-dot"].configure()
    a, b = np.full((1, 32), 0x38), np.full((1, 32), 0x3C)
    bits, flags = cfg.compute(a, b, np.array([[128]]), np.array([[124]]), np.array([0x3F000000]))
    assert (int(bits[0]), int(flags[0])) == (0x41480000, 0)
    bits, flags = cfg.compute(a, b, np.array([[0xFF]]), np.array([[124]]), np.array([0]))
    assert (int(bits[0]), int(flags[0])) == (0x7FC00000, 0)
    # c = 2**24 (0x4B800000); two blocks, each one product 1.0 x 1.0 at scales 2**0: each block
    # dot is 1.0. exact: 2**24 + 2 = 0x4B800001; block: 2**24 + 1 is a tie, to even 2**24 (NX), twice: 0x4B800000
    one = np.zeros((1, 64), np.int64)
    one[0, 0] = one[0, 32] = 0x38
    x = np.array([[127, 127]])
    assert [int(v[0]) for v in cfg.compute(one, one, x, x, np.array([0x4B800000]))] == [0x4B800001, 0]
    blk = UNITS["mx-dot"].configure(accumulate="block")
    assert [int(v[0]) for v in blk.compute(one, one, x, x, np.array([0x4B800000]))] == [0x4B800000, 1]


def test_padding_keeps_the_partial_sum():
    """The bench's expected value of a partial block (zero pairs appended, signed like the first product)
    equals golden.arith.dot's exact sum of the partial block itself at scale 1, on every e4m3 x e5m2 pair."""
    from fmtforge.golden.arith import dot
    a, b = np.repeat(np.arange(256), 256), np.tile(np.arange(256), 256)
    c = dict(a_elem="fp8_e4m3", b_elem="fp8_e5m2", block_size=16)
    jobs = [Job([x], [y], [127], [127], 0x80000000 * (x & 1)) for x, y in zip(a, b)]
    assert len(padded(c, jobs[5])[0]) == 16
    got = expected(c, jobs)
    want = dot(a[:, None].astype(np.uint8), b[:, None].astype(np.uint8), (a & 1).astype(np.uint32) << 31,
               a_fmt="fp8_e4m3", b_fmt="fp8_e5m2", c_fmt="fp32", out_fmt="fp32", mode="exact")
    assert np.array_equal(got[0], np.asarray(want[0]).astype(np.int64))
    assert np.array_equal(got[1], np.asarray(want[1]).astype(np.int64))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-p", "no:xdist"] + sys.argv[1:]))
