# amaranth: UnusedElaboratable=no
"""QMac with the multi-cycle requantizer (``requant_cycles`` N >= 2, fmtforge.rtl.units.requant_seq) against
golden.quant.qmatmul, bit for bit, on both simulators, with the timing its back-pressure rule promises:

1. dot products of exactly ``N * lanes`` (N beats), no gaps, output always ready: the requantizer keeps up,
   so every beat is accepted on consecutive cycles, every result comes docs/qmac.md's latency (DOC_LATENCY) cycles
   after its last beat, and one result every N cycles;
2. short dot products (K = 1 and 2) back to back, output always ready: the input is refused (``i.ready``
   low) while the requantizer is busy, the first result is on time, then one result exactly every N cycles,
   none lost or duplicated (the result count and order are checked, and nothing more comes out after);
3. requantization corners, zero points at the ends, accumulator wrap, ragged and random K with random
   valid gaps and random ``o.ready`` toggling (mostly ready, then mostly not).

One harness holds units of both roundings (their handshakes are the same), per-channel scale in the payload.
make test runs one configuration; FMTFORGE_FULL=1 adds others (odd N with padded digits, N = 2 and 32,
scale by ports, acc_bits 16, 4 lanes).
"""

import json
import os

import numpy as np
import pytest

from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.benches.qmac import QMacBench, config, config_id, make_dut
from fmtforge.verif.support.vectors.qmac import edge_jobs, long_job, random_job
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:
    cocotb = None

ENV = "FMTFORGE_QMAC"
MIXED = [("int8", "int8", "int8"), ("uint8", "int8", "uint8"), ("int8", "uint8", "int8"), ("uint8", "uint8", "uint8")]
CONFIGS = [
    # make test: the configuration `make synth` measures (N = 8: 4 bits of M0 per cycle, one padding bit)
    config(1, MIXED, per_channel=True, requant_cycles=8, roundings=("gemmlowp", "single", "gemmlowp", "single"),
           jobs=40),
    # the ECP5 configuration `make synth` measures: MULT18X18D lanes (simulated by their model), 1 bit of M0 per
    # cycle, a register after every tree level
    config(4, MIXED[:2], requant_cycles=32, roundings=("gemmlowp", "single"), jobs=30, dsp="ecp5"),
]
#: docs/qmac.md's latency, last beat to result, by (lanes, requant_cycles N, dsp): 2 + tree + 1 + (N + 6), the tree
#: ceil(ceil(log2 lanes) / 2) stages (ecp5: ceil(log2 lanes)); written from the page's table, not computed by the code
DOC_LATENCY = {(1, 8, "infer"): 17, (4, 32, "ecp5"): 43, (1, 5, "infer"): 14, (4, 32, "infer"): 42, (2, 2, "infer"): 12,
               (1, 3, "infer"): 12}
if FULL:
    CONFIGS += [
        config(1, MIXED, per_channel=True, requant_cycles=5, roundings=("single", "gemmlowp", "single", "gemmlowp"),
               jobs=300),  # 7 bits per cycle, 4 padding bits
        config(4, MIXED[:2], acc_bits=16, requant_cycles=32, roundings=("gemmlowp", "single"), jobs=300,
               long_k=1024),  # 1 bit per cycle
        config(2, MIXED[2:], requant_cycles=2, roundings=("single", "gemmlowp"), jobs=300),  # 16 bits per cycle
        config(1, MIXED[1:2], per_channel=True, requant_cycles=3, jobs=300),  # the plain unit, 11 bits per cycle
    ]


if cocotb is not None:
    async def _drain(dut, cycles):
        """Output ready for ``cycles`` more cycles with no input: nothing may come out (no duplicate)."""
        dut.o__ready.value = 1
        for _ in range(cycles):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.o__valid.value, "a result came out after every dot product's result (duplicate?)"

    @cocotb.test()
    async def check_qmac_seq(dut):
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        tb = QMacBench(dut, c, used_seed)
        rng = np.random.default_rng([used_seed, c["lanes"], c["requant_cycles"]])
        types, L, N = tb.types, c["lanes"], c["requant_cycles"]
        want = DOC_LATENCY[L, N, c.get("dsp", "infer")]
        assert tb.latency == want, f"the contract's latency {tb.latency}, docs/qmac.md's {want}"
        await tb.reset()
        dut._log.info("%s: seed %d, latency %d, one result per %d cycles", config_id(c), used_seed, tb.latency, N)
        stats = []

        # 1: K = N * lanes, the requantizer's pace: no refusal, exact latency, a result every N cycles
        jobs = [random_job(c, types, rng, N * L, "K = N * lanes") for _ in range(20)]
        got, t_beat, t_last, t_out = await tb.run(jobs, 0.0, 0.0, rng)
        assert t_beat == list(range(t_beat[0], t_beat[0] + len(t_beat))), "a beat was refused at K = N * lanes"
        lat = sorted(set(b - a for a, b in zip(t_last, t_out)))
        assert lat == [want], \
            f"latency {lat}, expected [{want}] (docs/qmac.md: lanes {L}, N {N}, {c.get('dsp', 'infer')})"
        assert set(np.diff(t_out)) == {N}, f"K = N * lanes: results {sorted(set(np.diff(t_out)))} cycles apart"
        stats.append(tb.check(jobs, got, "K = N * lanes"))
        await _drain(dut, 2 * tb.latency)

        # 2: K = 1 and 2 back to back: back-pressure, one result per N cycles, none lost or duplicated
        jobs = [random_job(c, types, rng, int(rng.integers(1, 3)), "K = 1, 2 back to back") for _ in range(40)]
        got, t_beat, t_last, t_out = await tb.run(jobs, 0.0, 0.0, rng)
        beats = len(t_beat)
        span = t_beat[-1] - t_beat[0] + 1
        assert span > beats, "the input was never refused although the requantizer is slower than the beats"
        assert t_out[0] - t_last[0] == want, f"first result after {t_out[0] - t_last[0]} cycles"
        assert set(np.diff(t_out)) == {N}, f"short K: results {sorted(set(np.diff(t_out)))} cycles apart, not {N}"
        stats.append(tb.check(jobs, got, "K = 1, 2 back to back"))
        await _drain(dut, 2 * tb.latency + N)
        dut._log.info("K = 1, 2: %d beats accepted over %d cycles (input refused %d cycles)", beats, span,
                      span - beats)

        # 3: corners, ragged, long and random K, with valid gaps and o.ready toggling
        jobs = edge_jobs(c, types, rng)
        jobs += [random_job(c, types, rng, int(rng.integers(1, 4 * L + 1)), "ragged / short") for _ in range(40)]
        jobs.append(random_job(c, types, rng, 0, "K = 0 (padding only)"))
        if c["long_k"]:
            jobs.append(long_job(c, types, rng, c["long_k"]))
        jobs += [random_job(c, types, rng, L * int(rng.integers(1, 2 * N + 1))) for _ in range(c["jobs"])]
        jobs = [jobs[k] for k in rng.permutation(len(jobs))]
        half = len(jobs) // 2
        got_a, *_ = await tb.run(jobs[:half], 0.3, 0.3, rng)
        got_b, *_ = await tb.run(jobs[half:], 0.1, 0.7, rng)
        stats.append(tb.check(jobs, got_a + got_b, "gaps and back-pressure"))
        await _drain(dut, 2 * tb.latency + N)
        total = {k: sum(s[k] for s in stats) for k in stats[0]}
        dut._log.info("%s: %d results checked, %d at qmin, %d at qmax, %d accumulators wrapped", config_id(c),
                      total["results"], total["at_qmin"], total["at_qmax"], total["acc_wrapped"])
        assert total["at_qmin"] and total["at_qmax"] and total["acc_wrapped"], f"corners not reached: {total}"


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("c", CONFIGS, ids=config_id)
def test_qmac_seq(c, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    dut, name = make_dut(c)
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, name), name, "fmtforge.verif.tests.rtl.test_qmac_seq", name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())}, testcase=["check_qmac_seq"])


@pytest.mark.parametrize("value", [0, 33, True])
def test_requant_cycles_range(value):
    with pytest.raises(ValueError) as info:
        UNITS["qmac"].create(lanes=1, requant_cycles=value)
    assert str(info.value) == f"requant_cycles must be an integer in 1..32, not {value}"


def test_seq_names_and_latency():
    assert UNITS["qmac"].create(lanes=1, requant_cycles=8).name == "qmac_l1_int8_int8_int8_acc32_gemmlowp_rq8"
    assert UNITS["qmac"].create(lanes=4, requant_cycles=1).name == "qmac_l4_int8_int8_int8_acc32_gemmlowp"
    # subtract 1, multiply 1, tree, accumulate 1, then the requantizer takes it (1), N - 1 more multiply steps,
    # the last into P1 (1), shift/round (1), saturate (1), + round bit (1), compare (1), clamp (1)
    def latency(lanes, n, dsp="infer"):
        return UNITS["qmac"].configure(lanes=lanes, requant_cycles=n, dsp=dsp).latency

    assert [latency(1, n) for n in (2, 8, 32)] == [11, 17, 41]
    assert [latency(n, 8) for n in (1, 4, 16, 64)] == [17, 18, 19, 20]
    # ECP5 DSP lanes: a register after every tree level instead of every second one
    assert [latency(n, 8, "ecp5") for n in (1, 4, 16, 64)] == [17, 19, 21, 23]
    assert all(latency(L, n, dsp) == want for (L, n, dsp), want in DOC_LATENCY.items())
    assert (UNITS["qmac"].create(lanes=4, requant_cycles=32, dsp="ecp5").name
            == "qmac_l4_int8_int8_int8_acc32_gemmlowp_rq32_ecp5dsp")


@pytest.mark.parametrize("kwargs", [
    dict(lanes=1, requant_cycles=8),
    dict(lanes=4, out_type="uint8", per_channel=True, rounding="single", requant_cycles=5),
    dict(lanes=2, acc_bits=16, requant_cycles=32),
], ids=lambda kw: UNITS["qmac"].create(**kw).name)
def test_qmac_seq_verilog_lint(kwargs):
    """`verilator --lint-only -Wall` with the project's waivers reports nothing; the Verilog is deterministic."""
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.lint import verilator_lint

    text = verilator_lint(UNITS["qmac"].create(**kwargs))
    assert text == to_verilog(UNITS["qmac"].create(**kwargs), UNITS["qmac"].create(**kwargs).name, cache=False)
