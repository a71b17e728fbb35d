"""Format converters against golden.convert, bit for bit, under Icarus and Verilator.

The pytest launcher builds each configuration once per simulator; the cocotb test drives the vectors
(exhaustive for sources of <= 16 bits, else directed corners plus seeded random patterns) and compares
outputs (and flags) with the golden model.
"""

import json
import os

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.vectors.patterns import describe, exhaustive, float_corners, random_bits, seed

ENV = "FMTFORGE_CONVERT"


# -- the configuration matrix ------------------------------------------------------------------------------
def config(src, dst, rounding="rne", saturate=False, flags=False, rand_bits=16, random=100_000):
    return dict(src=src, dst=dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits,
                random=random)


CONFIGS = [
    config("fp32", "bf16"),
    config("bf16", "fp32"),
    config("fp32", "bf16", "rup", saturate=True, flags=True),
    config("fp32", "bf16", "stochastic", flags=True, rand_bits=8),
    config("fp32", "tf32", "rmm", random=20_000),
    config("pxr24", "fp32", random=20_000),
]


def config_id(c):
    return "_".join([c["src"], c["dst"], c["rounding"]] + (["sat"] if c["saturate"] else [])
                    + (["flags"] if c["flags"] else []))


# -- the model ---------------------------------------------------------------------------------------------
def vectors(c, rng):
    src = golden.lookup(c["src"])
    if src.width <= 16:
        return exhaustive(src)
    return np.concatenate([float_corners(src, golden.lookup(c["dst"])), random_bits(src, c["random"], rng)])


def model(c, xs, rand):
    kwargs = dict(rand=rand, rand_bits=c["rand_bits"]) if c["rounding"] == "stochastic" else {}
    return golden.convert_flags(xs, c["src"], c["dst"], c["rounding"], c["saturate"], **kwargs)


def mismatch_report(c, xs, rand, want, want_flags, got, got_flags, used_seed, sim):
    bad = np.nonzero((want != got) | ((want_flags != got_flags) if c["flags"] else False))[0]
    lines = [f"{len(bad)} of {len(xs)} vectors differ ({c['src']} -> {c['dst']}, {c['rounding']}"
             f"{', saturate' if c['saturate'] else ''}, seed {used_seed}):"]
    for k in bad[:12]:
        line = (f"  in {describe(c['src'], xs[k])}: expected {describe(c['dst'], want[k])}, "
                f"got {describe(c['dst'], got[k])}")
        if c["flags"]:
            line += f"; flags expected {want_flags[k]:05b} got {got_flags[k]:05b} (NV DZ OF UF NX)"
        if rand is not None:
            line += f"; rand 0x{int(rand[k]):x}"
        lines.append(line)
    lines.append(f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_convert.py "
                 f"-k '{config_id(c)} and {sim}'")
    return "\n".join(lines)


# -- the cocotb testbench ----------------------------------------------------------------------------------
try:
    import cocotb
    from cocotb.triggers import Timer
except ImportError:  # collected by pytest without cocotb: the launcher below still imports
    cocotb = None

if cocotb is not None:
    @cocotb.test()
    async def check_convert(dut):
        """Drive every vector through the combinational converter and compare with golden.convert."""
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        rng = np.random.default_rng(used_seed)
        xs = vectors(c, rng)
        rand = None
        if c["rounding"] == "stochastic":
            rand = rng.integers(0, 1 << c["rand_bits"], len(xs), dtype=np.uint64)
        want, want_flags = model(c, xs, rand)
        dut._log.info("%s: %d vectors, seed %d", config_id(c), len(xs), used_seed)
        got = np.zeros(len(xs), dtype=object)
        got_flags = np.zeros(len(xs), dtype=np.uint8)
        has_flags = c["flags"]
        for k, x in enumerate(xs):
            dut.i.value = int(x)
            if rand is not None:
                dut.rand.value = int(rand[k])
            await Timer(1, "ns")
            got[k] = dut.o.value.to_unsigned()
            if has_flags:
                got_flags[k] = dut.flags.value.to_unsigned()
        want_o = want.astype(object) if want.dtype != object else want
        ok = np.array([int(a) == int(b) for a, b in zip(want_o, got)])
        if has_flags:
            ok &= want_flags == got_flags
        sim = os.environ.get("FMTFORGE_SIM", "?")
        if not ok.all():
            raise AssertionError(mismatch_report(c, xs, rand, want_o, want_flags, got, got_flags, used_seed, sim))


# -- the pytest launcher -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("c", CONFIGS, ids=config_id)
def test_convert(c, sim):
    from fmtforge.rtl.units.convert import Converter
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    dut = Converter(c["src"], c["dst"], rounding=c["rounding"], saturate=c["saturate"], flags=c["flags"],
                    rand_bits=c["rand_bits"], ftz=False, daz=False, tininess="after")
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, dut.name), dut.name, "fmtforge.verif.tests.rtl.test_convert", config_id(c),
        extra_env={ENV: json.dumps(c), "FMTFORGE_SIM": sim, "FMTFORGE_SEED": str(seed())})


if __name__ == "__main__":
    import sys
    sys.exit(pytest.main([__file__, "-v"]))
