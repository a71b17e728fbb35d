"""docs/architecture.md's worked examples run, and do what the page says: a toy format family converts
exactly (every pattern, Amaranth's simulator against golden), a toy unit is generated from the registry, a
toy FPGA target synthesises."""

import re
from pathlib import Path

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.rtl import formats
from fmtforge.rtl.flow import TARGETS
from fmtforge.rtl.units.registry import UNITS

PAGE = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


@pytest.fixture
def page(monkeypatch, tmp_path):
    """The page's examples run in order in one namespace; what they register is removed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(formats, "FAMILIES", dict(formats.FAMILIES))
    before_units, before_targets = dict(UNITS), dict(TARGETS)
    ns = {}
    try:
        for k, block in enumerate(BLOCKS):
            exec(compile(block, f"docs/architecture.md example {k}", "exec"), ns)
        yield ns
    finally:
        UNITS.clear(), UNITS.update(before_units)
        TARGETS.clear(), TARGETS.update(before_targets)


def simulate(dut, patterns):
    """``(o, flags)`` of a combinational converter for each pattern, in Amaranth's simulator."""
    from amaranth.sim import Simulator
    out = []

    async def bench(ctx):
        for x in patterns:
            ctx.set(dut.i, int(x))
            out.append((ctx.get(dut.o), ctx.get(dut.flags)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return np.array(out, dtype=np.int64).T


def test_worked_examples(page):
    # the toy family: every pattern through the converter equals golden.convert (bits and flags)
    sm8, dut = page["sm8"], page["dut"]
    bits = np.arange(256)
    want, want_flags = golden.convert_flags(bits, sm8, "bf16")
    assert golden.lookup("bf16").decode(want)[0x85] == -5.0  # the golden model reads the format as the page says
    got, got_flags = simulate(dut, bits)
    assert np.array_equal(got, want) and np.array_equal(got_flags, want_flags)

    # the toy unit: generated through the CLI from its registration
    assert "module negate_bf16(" in Path("build/docs/negate_bf16.v").read_text()

    # the toy target: the flow synthesises the toy unit on it
    from fmtforge.rtl.flow import synth_one
    from fmtforge.rtl.units.registry import build_unit
    row = synth_one("toy-negate", {"fmt": "bf16"}, lambda: build_unit("toy-negate", fmt="bf16"), "ice40-hx1k",
                    seeds=(1,), out_dir="build/synth")
    assert row["device"] == "iCE40 HX1K vq100" and row["module"] == "negate_bf16"
    assert row["luts"] <= 1 and row["fmax_mhz"] > 0  # a sign flip is one inverter at most
