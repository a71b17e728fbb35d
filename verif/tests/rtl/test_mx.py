# amaranth: UnusedElaboratable=no
"""mx-quantize and mx-dequantize (fmtforge.rtl.units.mx_quant / mx_dequant) against golden.block, bit for bit,
on Icarus and Verilator, through their streams.

One harness per configuration set (verif/support/benches/mx.py) holds several units side by side, each driven
by its own coroutines. Per unit:

- quantizers: structured blocks (all zero, +-0, NaN-holding, +-inf-holding, subnormal-only, the source's
  max magnitude, ties, single outliers, blocks whose scale clamps at 2**-127) then seeded random blocks over
  the source's whole exponent range; NVFP4 with several tensor scales (NVIDIA's default amax / 2688, 1, an
  fp32 subnormal, random), each held for a run of blocks;
- dequantizers: every element code with every 8-bit scale (E8M0 0x00..0xFF with 0xFF the NaN scale; for
  NVFP4 every E4M3 pattern), then random beats;
- first a run with no idle cycle and no back-pressure: one beat accepted every cycle, and every block's
  first output beat exactly 5 + stages cycles after its last input beat (NVFP4 10 + stages; dequantize: each
  beat 1 + stages cycles after it; the latencies docs/mx.md states, doc_latency); then random valid gaps (junk
  on the payload while not valid) and random back-pressure.

CONFIGS is what make test runs on both simulators (one small harness: its simulation build is most of the
cost): the default quantizer, NVFP4 from bf16 with the rup block-scale rounding, a few dozen blocks each,
and the NVFP4 dequantizer on every 8-bit scale with a sample of the codes; PYSIM_CONFIGS (the ceil, even and
rceil rules, every element, block sizes 16 to 64, a block per beat) run in Amaranth's simulator in make test,
with idle cycles and back-pressure. FMTFORGE_FULL=1 runs FULL_CONFIGS: every element x
every scale rule, > 100,000 random MX blocks and 24,000 NVFP4 blocks (both roundings), every code x every
scale through every dequantizer (MX: each element to fp32 and bf16; NVFP4: with six tensor scales).
Run: ``.venv/bin/pytest verif/tests/rtl/test_mx.py`` (FMTFORGE_SEED=N for another seed).
"""

import json
import os

import numpy as np
import pytest

from fmtforge.golden.block import SCALE_MODES
from fmtforge.golden.block.mx import ELEMENTS
from fmtforge.rtl.units.registry import build_unit
from fmtforge.verif.support.benches.mx import (MXHarness, every_code_and_scale, golden_dequantize, golden_quantize,
                                             pack_lanes, quantize_blocks, split_lanes, tensor_scales)
from fmtforge.verif.support.benches.stream import Ports, run_beats
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL



def doc_latency(kind, options):
    """docs/mx.md's latencies, written from the page: quantize 5 + stages (MX, default stages 3) or 10 + stages
    (NVFP4, default 5) cycles from a block's last beat to its first output beat; dequantize 1 + stages
    (default 3) per beat."""
    stages = options.get("stages")
    if kind == Q:
        nvfp4 = options.get("scheme") == "nvfp4"
        return (10 if nvfp4 else 5) + ((5 if nvfp4 else 3) if stages is None else stages)
    return 1 + (3 if stages is None else stages)

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge
except ImportError:
    cocotb = None

ENV = "FMTFORGE_MX"
Q, D = "mx-quantize", "mx-dequantize"

CONFIGS = [dict(name="mx_ci", blocks=32, exhaustive=False, units=[
    (Q, dict()),  # the default: fp32 -> fp8_e4m3, 32 per block, 4 lanes, the spec's floor rule
    (Q, dict(scheme="nvfp4", src="bf16", lanes=2, scale_rounding="rup")),
    (D, dict(scheme="nvfp4", lanes=2)),
])]
#: The other scale rules, block sizes and a block per beat, in Amaranth's simulator (no build: cheap) in make
#: test; on Icarus and Verilator in FULL_CONFIGS.
PYSIM_CONFIGS = [
    dict(element="int8", src="bf16", block_size=16, lanes=2, scale_mode="ceil"),
    dict(element="fp6_e3m2", block_size=64, lanes=8, scale_mode="even"),
    dict(element="fp4_e2m1", src="bf16", block_size=16, lanes=16, scale_mode="rceil"),
    dict(element="fp8_e5m2", src="bf16", block_size=32, lanes=32, scale_mode="ceil"),
    dict(element="int8", block_size=16, lanes=4, scale_mode="rceil"),
    dict(element="fp6_e2m3", block_size=32, lanes=8, scale_mode="even"),
    # each stages value (docs/mx.md: the registers from the block RAM to the output)
    dict(stages=0), dict(stages=1), dict(stages=3, element="fp4_e2m1", lanes=32),
    dict(scheme="nvfp4", lanes=4, stages=0), dict(scheme="nvfp4", lanes=8, stages=1),
    dict(scheme="nvfp4", src="bf16", lanes=2, stages=2), dict(scheme="nvfp4", src="bf16", lanes=16, stages=3),
    dict(scheme="nvfp4", lanes=1, stages=4, scale_rounding="rup"), dict(scheme="nvfp4", lanes=4),
]
FULL_CONFIGS = [dict(name=f"mx_full_{e}", blocks=4200, exhaustive=True, units=[
    (Q, dict(element=e, src=src, block_size=bs, lanes=lanes, scale_mode=mode))
    for mode, src, bs, lanes in zip(SCALE_MODES, ("fp32", "bf16", "fp32", "bf16"), (32, 16, 64, 32), (4, 16, 8, 2))
] + [(D, dict(element=e, dst=dst, lanes=8)) for dst in ("fp32", "bf16")]) for e in ELEMENTS] + [
    dict(name="mx_full_nvfp4", blocks=6000, exhaustive=True, units=[
        (Q, dict(scheme="nvfp4", src=src, lanes=lanes, scale_rounding=r))
        for src, lanes, r in (("fp32", 4, "rne"), ("bf16", 16, "rup"), ("fp32", 2, "rup"), ("bf16", 8, "rne"))
    ] + [(D, dict(scheme="nvfp4", dst=dst, lanes=8)) for dst in ("fp32", "bf16")])]


def hexs(values, width):
    return "[" + " ".join(f"{int(v):0{(width + 3) // 4}x}" for v in values) + "]"


class QuantJob:
    """One quantizer's vectors, golden results and checker."""

    def __init__(self, unit, rng, blocks, exhaustive=None):
        self.unit, self.L, self.nb = unit, unit.lanes, unit.beats
        bits = quantize_blocks(rng, blocks, unit.block_size, unit.src.name)
        self.bits = bits
        values = unit.src.decode(bits.reshape(-1)).reshape(bits.shape)
        self.ts = np.ones(blocks)
        if unit.nvfp4:
            scales = tensor_scales(rng, values)
            self.ts = np.array(scales)[np.arange(blocks) * len(scales) // blocks]
            codes, sc = zip(*(golden_quantize(unit, values[self.ts == s], s) for s in scales))
            order = np.concatenate([np.nonzero(self.ts == s)[0] for s in scales])
            self.codes, self.scales = np.empty((blocks, 16), np.uint8), np.empty(blocks, np.uint8)
            self.codes[order], self.scales[order] = np.concatenate(codes), np.concatenate(sc)
        else:
            self.codes, self.scales = golden_quantize(unit, values)
        self.beats = pack_lanes(bits.reshape(-1, self.L), unit.src.width)
        self.ts_bits = [int(v) for v in np.asarray(self.ts_fp32(), np.uint32)]

    def ts_fp32(self):
        from fmtforge.verif.support.benches.mx import FP32
        return FP32.encode(self.ts)

    def ts_of(self, beat):
        return self.ts_bits[beat // self.nb]

    def check(self, words, lo):
        """Problems of output beats ``words``, the first being beat ``lo`` of the run."""
        ew, L = self.unit.elem.width, self.L
        bad = []
        for j, word in enumerate(words, lo):
            b, part = divmod(j, self.nb)
            codes = split_lanes(word, ew, L)
            scale, last = (word >> (L * ew)) & 0xFF, word >> (L * ew + 8) & 1
            want = self.codes[b, part * L:(part + 1) * L].tolist()
            if codes != want or scale != self.scales[b] or last != (part == self.nb - 1):
                bad.append(f"  block {b} beat {part}: input {hexs(self.bits[b], self.unit.src.width)}"
                           + (f" tensor_scale {self.ts[b]!r}" if self.unit.nvfp4 else "")
                           + f"\n    expected scale {self.scales[b]:02x} codes {hexs(want, ew)} last "
                           f"{int(part == self.nb - 1)}, got scale {scale:02x} codes {hexs(codes, ew)} last {last}")
        return bad


class DequantJob:
    """One dequantizer's vectors (every code x every scale, then random beats), golden results, checker."""

    def __init__(self, unit, rng, blocks, exhaustive):
        self.unit, self.L, self.nb = unit, unit.lanes, 1
        codes, scales = every_code_and_scale(unit)
        if not exhaustive and len(codes) > 600:  # make test: every scale, a sample of the codes with each
            pick = np.sort(np.concatenate([np.arange(256) * (len(codes) // 256),
                                           rng.integers(0, len(codes), 600 - 256)]))
            codes, scales = codes[pick], scales[pick]
        n = max(blocks // 4, 1)
        codes = np.concatenate([codes, rng.integers(0, 1 << unit.elem.width, (n, self.L)).astype(np.uint8)])
        scales = np.concatenate([scales, rng.integers(0, 256, n).astype(np.uint8)])
        self.codes, self.scales = codes, scales
        self.last = rng.integers(0, 2, len(scales))
        self.ts = np.ones(len(scales))
        if unit.scheme == "nvfp4":
            choices = tensor_scales(rng, np.array([1.0]))
            self.ts = np.array(choices)[rng.integers(0, len(choices), len(scales))]
            self.want = np.empty((len(scales), self.L), np.int64)
            for s in set(self.ts.tolist()):
                sel = self.ts == s
                self.want[sel] = golden_dequantize(unit, codes[sel], scales[sel], s)
        else:
            self.want = golden_dequantize(unit, codes, scales)
        ew = unit.elem.width
        self.beats = [c | int(s) << (self.L * ew) | int(la) << (self.L * ew + 8)
                      for c, s, la in zip(pack_lanes(codes, ew), scales, self.last)]
        from fmtforge.verif.support.benches.mx import FP32
        self.ts_bits = [int(v) for v in FP32.encode(self.ts)]

    def ts_of(self, beat):
        return self.ts_bits[beat]

    def check(self, words, lo):
        dw, L = self.unit.dst.width, self.L
        bad = []
        for j, word in enumerate(words, lo):
            got, last = split_lanes(word, dw, L), word >> (L * dw) & 1
            want = [int(v) for v in self.want[j]]
            if got != want or last != self.last[j]:
                bad.append(f"  beat {j}: codes {hexs(self.codes[j], self.unit.elem.width)} scale "
                           f"{self.scales[j]:02x}" + (f" tensor_scale {self.ts[j]!r}" if self.unit.scheme == "nvfp4"
                                                       else "")
                           + f"\n    expected {hexs(want, dw)} last {self.last[j]}, got {hexs(got, dw)} last {last}")
        return bad


if cocotb is not None:
    async def _one(ports, beats, idle, stall, rng, side, log):
        """One unit's beats through the one stream bench's driver and monitor; (out, t_in, t_out) into ``log``."""
        log.extend(await run_beats(ports, beats, len(beats), idle, stall, rng, side=side, limit=20 * len(beats) + 200))

    @cocotb.test()
    async def check_units(dut):
        c = json.loads(os.environ[ENV])
        used = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        dut.rst.value = 1
        units = [build_unit(kind, **opts)[0] for kind, opts in c["units"]]
        ports = [Ports(dut, f"u{k}_", side=("ts",) if hasattr(u, "tensor_scale") else ()) for k, u in enumerate(units)]
        for p in ports:
            p.iv.value = 0
            p.orr.value = 0
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
        jobs = []
        for k, u in enumerate(units):
            rng = np.random.default_rng([used, k])
            jobs.append((QuantJob if c["units"][k][0] == Q else DequantJob)(u, rng, c["blocks"], c["exhaustive"]))
        failures = []
        for phase, (idle, stall) in enumerate([(0.0, 0.0), (0.25, 0.25)]):
            tasks, logs = [], []
            for k, (u, p, job) in enumerate(zip(units, ports, jobs)):
                rng = np.random.default_rng([used, k, phase])
                half = len(job.beats) // 3 // job.nb * job.nb  # phase 0: the first third of the blocks
                lo, hi = (0, half) if phase == 0 else (half, len(job.beats))
                beats = job.beats[lo:hi]
                side = {"ts": [job.ts_of(lo + j) for j in range(len(beats))]} if p.side else None
                log = []
                tasks.append(cocotb.start_soon(_one(p, beats, idle, stall, rng, side, log)))
                logs.append((lo, log))
            for t in tasks:
                await t
            for k, (u, job, (lo, (out, t_in, t_out))) in enumerate(zip(units, jobs, logs)):
                bad = job.check(out, lo)
                if phase == 0:
                    if t_in != list(range(t_in[0], t_in[0] + len(t_in))):
                        bad.append(f"  input not accepted every cycle: {t_in[:12]}...")
                    firsts = t_out[::job.nb]
                    lasts = t_in[job.nb - 1::job.nb]
                    lat = {b - a for a, b in zip(lasts, firsts)}
                    want = doc_latency(*c["units"][k])
                    if lat != {want}:
                        bad.append(f"  latency {sorted(lat)} cycles, expected {want} (docs/mx.md)")
                if bad:
                    failures.append(f"{u.name} (unit {k}) phase {phase}: {len(bad)} problems (seed {used})\n"
                                    + "\n".join(bad[:6]))
        assert not failures, "\n".join(failures) + f"\nreproduce: FMTFORGE_SEED={used} .venv/bin/pytest " \
                                                   f"verif/tests/rtl/test_mx.py -k {c['name']}"


# ------------------------------------------------------------------------------------------------ pytest

@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("c", FULL_CONFIGS if FULL else CONFIGS, ids=lambda c: c["name"])
def test_mx_units(c, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    print(f"seed {seed()}")
    dut = MXHarness(c["units"])
    # The harness's C++ is large and runs few cycles: Verilator's -Os costs more compile time than the run
    # gains. The make variables go through MAKEFLAGS (as runner.require's own override does), for this build only.
    saved = os.environ.get("MAKEFLAGS")
    if sim == "verilator" and not FULL:
        os.environ["MAKEFLAGS"] = (saved or "") + " OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"
    try:
        run(sim, to_verilog(dut, c["name"]), c["name"], "fmtforge.verif.tests.rtl.test_mx", c["name"],
            extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())})
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved


@pytest.mark.parametrize("options", PYSIM_CONFIGS, ids=lambda o: "-".join(map(str, o.values())))
def test_mx_quantize_pysim(options):
    """The same vectors and checker in Amaranth's simulator, with random gaps and back-pressure."""
    from amaranth.sim import Simulator

    unit, _ = build_unit(Q, **options)
    rng = np.random.default_rng([seed(), 31, PYSIM_CONFIGS.index(options)])
    print(f"seed {seed()}")
    job = QuantJob(unit, rng, 14)
    out = []

    async def bench(ctx):
        k = 0
        while len(out) < len(job.beats):
            offer = k < len(job.beats) and rng.random() < 0.75
            ctx.set(unit.i.valid, int(offer))
            if offer:
                ctx.set(unit.i.payload.as_value(), job.beats[k])
                if unit.nvfp4:
                    ctx.set(unit.tensor_scale, job.ts_of(k))
            ctx.set(unit.o.ready, int(rng.random() < 0.75))
            await ctx.delay(1e-9)
            took = ctx.get(unit.i.valid) and ctx.get(unit.i.ready)
            if ctx.get(unit.o.valid) and ctx.get(unit.o.ready):
                out.append(ctx.get(unit.o.payload).as_value().value)
            await ctx.tick()
            k += bool(took)

    sim = Simulator(unit)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    bad = job.check(out, 0)
    assert not bad, f"{unit.name}: {len(bad)} problems (seed {seed()})\n" + "\n".join(bad[:6])


#: mx-dequantize at each stages value (docs/mx.md: latency 1 + stages), in Amaranth's simulator
DEQUANT_PYSIM = [dict(stages=0), dict(stages=1, element="fp6_e3m2", dst="bf16"), dict(stages=2, element="int8"),
                 dict(scheme="nvfp4", lanes=2, stages=3), dict(scheme="nvfp4", dst="bf16", lanes=3, stages=1)]


@pytest.mark.parametrize("options", DEQUANT_PYSIM, ids=lambda o: "-".join(map(str, o.values())))
def test_mx_dequantize_pysim(options):
    """Every code x every scale (a sample of the codes) and random beats, with random gaps and back-pressure;
    then, nothing stalling, every result exactly 1 + stages cycles after its beat."""
    from amaranth.sim import Simulator

    unit, _ = build_unit(D, **options)
    rng = np.random.default_rng([seed(), 37, DEQUANT_PYSIM.index(options)])
    print(f"seed {seed()}")
    job = DequantJob(unit, rng, 40, False)
    n = len(job.beats)
    out, t_in, t_out = [], [], []

    async def bench(ctx):
        k, cycle = 0, 0
        while len(out) < n:
            free = len(out) >= n // 2  # the second half: no gap, no back-pressure
            offer = k < n and (free or rng.random() < 0.75)
            ctx.set(unit.i.valid, int(offer))
            if offer:
                ctx.set(unit.i.payload.as_value(), job.beats[k])
                if unit.scheme == "nvfp4":
                    ctx.set(unit.tensor_scale, job.ts_of(k))
            ctx.set(unit.o.ready, int(free or rng.random() < 0.75))
            await ctx.delay(1e-9)
            if ctx.get(unit.i.valid) and ctx.get(unit.i.ready):
                t_in.append(cycle)
                k += 1
            if ctx.get(unit.o.valid) and ctx.get(unit.o.ready):
                out.append(ctx.get(unit.o.payload).as_value().value)
                t_out.append(cycle)
            await ctx.tick()
            cycle += 1

    sim = Simulator(unit)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    bad = job.check(out, 0)
    want = 1 + options["stages"]  # docs/mx.md, mx-dequantize: latency 1 + stages
    lat = {b - a for a, b in zip(t_in[3 * n // 4:], t_out[3 * n // 4:])}
    if lat != {want}:
        bad.append(f"  latency {sorted(lat)} cycles with nothing stalling, expected {want} (docs/mx.md)")
    assert not bad, f"{unit.name}: {len(bad)} problems (seed {seed()})\n" + "\n".join(bad[:6])
