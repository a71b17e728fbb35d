"""Pipelined converters (--stages N): stream handshakes with random valid gaps and random back-pressure,
results in order and equal to golden.convert_flags, and a latency of exactly N cycles when nothing stalls."""

import json
import os

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.vectors.patterns import (describe, float_corners, int_corners, posit_corners, random_bits, random_float_bits,
                           seed)

ENV = "FMTFORGE_STREAM"


def config(src, dst, stages, rounding="rne", saturate=False, flags=True, rand_bits=8, n=20_000, ftz=False):
    return dict(src=src, dst=dst, stages=stages, rounding=rounding, saturate=saturate, flags=flags,
                rand_bits=rand_bits, n=n, ftz=ftz)


CONFIGS = [
    config("fp32", "bf16", 1, flags=False, n=8000),
    config("fp32", "fp8_e4m3", 2, saturate=True, n=8000),
    config("fp16", "int8", 3, rounding="stochastic", n=8000),
    config("int16", "fp8_e5m2", 2, rounding="rmm", n=8000),
    config("posit16", "fp32", 2, n=8000),
    # registers inside the posit pack (its cut points), with rand carried beside them
    config("fp32", "posit16", 3, saturate=True, n=3000),
    config("fp16", "posit8", 2, rounding="stochastic", n=3000),
    # registers inside the narrowing float pack (its cut points classify and round): rand carried across
    # both, fnuz's spare carry bit; one register at the classify point
    config("fp32", "fp8_e5m2fnuz", 3, rounding="stochastic", n=6000),
    config("fp16", "fp8_e4m3", 1, rounding="rtz", n=6000),
    config("fp32", "fp8_e4m3", 2, saturate=True, ftz=True, n=6000),
]


def config_id(c):
    return (f"{c['src']}_{c['dst']}_{c['rounding']}_s{c['stages']}" + ("_sat" if c["saturate"] else "")
            + ("_ftz" if c["ftz"] else ""))


def vectors(src, dst, n, rng):
    if src.kind == "int":
        base = int_corners(src)
    elif src.kind == "posit":
        base = posit_corners(src)
    else:
        base = float_corners(src, dst)
    rnd = random_float_bits(src, [dst], n, rng) if src.kind == "float" else random_bits(src, n, rng)
    return np.concatenate([base, rnd.astype(np.uint64)])


try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge

    from fmtforge.verif.support.benches.stream import Ports, run_beats
except ImportError:
    cocotb = None

if cocotb is not None:
    async def run_stream(dut, xs, rands, c, rng, idle_p, stall_p):
        """Feed xs (with rand above them for stochastic rounding) through the pipeline with the one stream
        bench's driver and monitor; returns (outputs, accept cycles, output cycles)."""
        src_w = golden.lookup(c["src"]).width
        stochastic = c["rounding"] == "stochastic"
        beats = [int(x) | (int(r) << src_w if stochastic else 0) for x, r in zip(xs, rands)]
        return await run_beats(Ports(dut), beats, len(xs), idle_p, stall_p, rng, limit=20 * len(xs) + 100)

    @cocotb.test()
    async def check_stream(dut):
        c = json.loads(os.environ[ENV])
        src, dst = golden.lookup(c["src"]), golden.lookup(c["dst"])
        used_seed = seed()
        rng = np.random.default_rng([used_seed, src.width, dst.width])
        xs = vectors(src, dst, c["n"], rng)
        rands = rng.integers(0, 1 << c["rand_bits"], len(xs), dtype=np.uint64)
        kw = dict(rand=rands, rand_bits=c["rand_bits"]) if c["rounding"] == "stochastic" else {}
        if c["ftz"]:
            kw["ftz"] = True
        want, want_flags = golden.convert_flags(xs, src, dst, c["rounding"], c["saturate"], **kw)
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        dut.rst.value = 1
        dut.i__valid.value = 0
        dut.o__ready.value = 0
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
        dut._log.info("%s: %d vectors, seed %d", config_id(c), len(xs), used_seed)
        # 1: nothing stalls -> one result per cycle, latency exactly `stages`
        n0 = min(200, len(xs))
        got0, t_in, t_out = await run_stream(dut, xs[:n0], rands[:n0], c, rng, 0.0, 0.0)
        lat = sorted(set(b - a for a, b in zip(t_in, t_out)))
        assert lat == [c["stages"]], f"latency {lat}, expected [{c['stages']}]"
        assert t_in == list(range(t_in[0], t_in[0] + n0)), "inputs were not accepted every cycle"
        # 2: random idle cycles and back-pressure
        got1, _, _ = await run_stream(dut, xs[n0:], rands[n0:], c, rng, 0.3, 0.4)
        got = got0 + got1
        mask = (1 << dst.width) - 1
        bad = [k for k, g in enumerate(got)
               if (g & mask) != int(want[k]) or (c["flags"] and (g >> dst.width) != int(want_flags[k]))]
        if bad:
            lines = [f"{config_id(c)}: {len(bad)} of {len(xs)} results differ (seed {used_seed})"]
            for k in bad[:8]:
                lines.append(f"  in {describe(src, xs[k])}: expected {describe(dst, want[k])} flags "
                             f"{int(want_flags[k]):05b}, got {describe(dst, got[k] & mask)} flags "
                             f"{got[k] >> dst.width:05b}")
            lines.append(f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_convert_stream.py "
                         f"-k '{config_id(c)}'")
            raise AssertionError("\n".join(lines))


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("c", CONFIGS, ids=config_id)
def test_stream(c, sim):
    from fmtforge.rtl.units import UNITS
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    dut = UNITS["convert"].create(src=c["src"], dst=c["dst"], rounding=c["rounding"], saturate=c["saturate"], flags=c["flags"],
                         rand_bits=c["rand_bits"], stages=c["stages"], ftz=c["ftz"])
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, dut.name), dut.name, "fmtforge.verif.tests.rtl.test_convert_stream", dut.name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())})
