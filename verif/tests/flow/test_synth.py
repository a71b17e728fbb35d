"""The FPGA flow (fmtforge.rtl.flow): Yosys' ``check -assert`` on every default unit; a CI-sized synthesis of
fp32 -> bf16 on each target; the scan wrapper is real (it shifts the right answers out in simulation, keeps
a unit with more port bits than the package has pins placeable, and counts a known unit's LUTs exactly)."""

import subprocess
import sys

import numpy as np
import pytest
from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.rtl.cli.synth import synth_jobs
from fmtforge.rtl.flow import TARGETS, LintError, lint, synth_one, synthesize, unit_ports, wrapper_verilog
from fmtforge.rtl.units.registry import DEFAULT_UNITS, build_unit
from fmtforge.verif.tests.flow.test_lint import VARIANTS
from fmtforge.rtl.flow.verilog import to_verilog
from fmtforge.verif.support.sim.runner import ROOT, SIM_BUILD, require

OUT = SIM_BUILD / "synth"
KEYS = {"unit", "options", "target", "luts", "ffs", "carries", "dsps", "fmax_mhz", "wrapper_luts",
        "wrapper_ffs", "total_luts"}


def unit_id(u):
    kind, options = u
    return kind + "-" + "-".join(f"{v}" for v in options.values())


# ------------------------------------------------------------------------------------------------ lint


@pytest.mark.parametrize("unit", DEFAULT_UNITS + VARIANTS, ids=unit_id)
def test_yosys_check_assert(unit):
    component, name = build_unit(unit[0], **unit[1])
    lint(to_verilog(component, name), name)


@pytest.mark.parametrize("verilog, message", [
    ("module t(input en, input d, output reg q); always @* if (en) q = d; endmodule", "Latch inferred"),
    ("module t(input a, output y); wire w; assign w = a & y; assign y = ~w; endmodule", "logic loop"),
    ("module t(input a, input b, output y); assign y = a; assign y = b; endmodule", "conflicting drivers"),
    ("module t(input a, output y); wire w; assign y = a & w; endmodule", "no driver"),
], ids=["latch", "loop", "multiply-driven", "undriven"])
def test_lint_catches(verilog, message):
    with pytest.raises(LintError, match=message):
        lint(verilog, "t")


# ------------------------------------------------------------------------------------------------ flow


@pytest.mark.parametrize("target", TARGETS)
def test_fp32_to_bf16_flow(target):
    row = synth_one(*synth_jobs([("convert", dict(src="fp32", dst="bf16"))])[0][:3], target, seeds=(1,), out_dir=OUT)
    assert KEYS <= row.keys()
    assert row["unit"] == "convert" and row["options"] == {"src": "fp32", "dst": "bf16"}
    assert row["luts"] > 0 and row["fmax_mhz"] > 0 and row["flat_fmax_mhz"] > 0
    assert row["ffs"] == 0 and row["dsps"] == 0  # combinational, no multiplier
    assert row["total_luts"] == row["luts"] + row["wrapper_luts"]
    assert row["wrapper_ffs"] == 2 * (32 + 16)  # every port bit: its shift register and its holding register
    assert row["pins"] == 4


class Wide(wiring.Component):
    """384 port bits, more than either package has pins, and a known cost: one 3-input LUT per output bit."""

    def __init__(self):
        super().__init__({"i": In(3 * 96), "o": Out(96)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.eq(self.i[:96] ^ (self.i[96:192] & self.i[192:]))
        return m


@pytest.mark.parametrize("target", TARGETS)
def test_wrapper_places_wide_unit_and_counts_it_exactly(target):
    row = synthesize(Wide(), "wide", target, build_dir=OUT / target / "wide")
    assert row["io_bits"] == 384 and row["pins"] == 4
    assert row["luts"] == 96 and row["ffs"] == 0
    assert row["wrapper_ffs"] == 2 * 384
    if TARGETS[target].times_hierarchy:
        assert row["fmax_mhz"] > 0
    else:  # nextpnr-himbaechel (Gowin) may time no routed path at all: then no figure, and the row says so
        assert row["fmax_mhz"] is None or row["fmax_mhz"] > 0
        assert row["fmax_mhz"] is not None or "no routed timing path" in row["critical_path"]


class Pipelined(wiring.Component):
    """One register stage between stream ports, as the pipelined units will have: clk, rst, i__*, o__*."""

    def __init__(self):
        super().__init__({"i": In(stream.Signature(32)), "o": Out(stream.Signature(16))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.ready):
            m.d.sync += [self.o.valid.eq(self.i.valid),
                         self.o.payload.eq(self.i.payload[:16] ^ self.i.payload[16:])]
        return m


def test_wrapper_of_pipelined_unit():
    verilog = to_verilog(Pipelined(), "piped")
    lint(verilog, "piped")
    ports = {p.name: (p.direction, p.width) for p in unit_ports(verilog, "piped")}
    assert ports == {"clk": ("input", 1), "rst": ("input", 1), "i__valid": ("input", 1),
                     "i__ready": ("output", 1), "i__payload": ("input", 32), "o__valid": ("output", 1),
                     "o__ready": ("input", 1), "o__payload": ("output", 16)}
    row = synthesize(Pipelined(), "piped", "ice40", build_dir=OUT / "ice40" / "piped")
    assert row["pins"] == 5  # clk, si, load, so, rst
    assert row["ffs"] == 17 and row["luts"] > 0  # the unit's own stage: payload and valid
    assert row["wrapper_ffs"] == 2 * (34 + 18) + 1  # + the registered reset


# ------------------------------------------------------------------------------------------------ simulation


def scan_testbench(ni, no, count):
    """Shift each of ``count`` vectors (vectors.hex) in, load, wait a cycle, load, shift the result out."""
    return f"""\
`timescale 1ns/1ps
module tb;
  reg clk = 0, si = 0, load = 0;
  wire so;
  reg [{ni - 1}:0] vectors [0:{count - 1}];
  reg [{ni - 1}:0] vin;
  reg [{no - 1}:0] vout;
  integer k, n;
  fmtforge_wrapper dut (.clk(clk), .si(si), .load(load), .so(so));
  always #5 clk = ~clk;
  initial begin
    $readmemh("vectors.hex", vectors);
    for (n = 0; n < {count}; n = n + 1) begin
      vin = vectors[n];
      for (k = {ni - 1}; k >= 0; k = k - 1) begin si = vin[k]; @(posedge clk); #1; end
      load = 1; @(posedge clk); #1; load = 0;
      @(posedge clk); #1;
      load = 1; @(posedge clk); #1; load = 0;
      for (k = {no - 1}; k >= 0; k = k - 1) begin vout[k] = so; @(posedge clk); #1; end
      $display("%h", vout);
    end
    $finish;
  end
endmodule
"""


def test_scan_wrapper_simulates_fp32_to_bf16():
    """Through the wrapper, the unit gives golden's answers: the scan chain is wired bit for bit."""
    require("icarus")
    component, name = build_unit("convert", src="fp32", dst="bf16")
    verilog = to_verilog(component, name)
    rng = np.random.default_rng(1)
    edge = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x7F7FFFFF, 0x3F808000, 0x3F818000, 0x00000001]
    bits = np.array(edge + list(rng.integers(0, 1 << 32, 64)), dtype=np.uint32)
    d = OUT / "scan_sim"
    d.mkdir(parents=True, exist_ok=True)
    (d / "unit.v").write_text(verilog)
    (d / "wrapper.v").write_text(wrapper_verilog(unit_ports(verilog, name), name))
    (d / "tb.v").write_text(scan_testbench(32, 16, len(bits)))
    (d / "vectors.hex").write_text("".join(f"{int(b):08x}\n" for b in bits))
    subprocess.run(["iverilog", "-o", "tb.vvp", "tb.v", "wrapper.v", "unit.v"], cwd=d, check=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=d, check=True, capture_output=True, text=True).stdout
    got = [int(line, 16) for line in out.split() if len(line) == 4]
    assert got == [int(v) for v in golden.convert(bits, "fp32", "bf16")]


# ------------------------------------------------------------------------------------------------ command line


def synth_cli(argv):
    """The ``fmtforge`` command line, in this process."""
    from fmtforge.rtl.cli.main import main
    return main(argv)


def test_cli_synth_prints_the_row(capsys):
    synth_cli(["synth", "convert", "--src", "fp32", "--dst", "bf16", "--target", "ecp5", "--seed", "1",
               "--output-dir", str(OUT / "cli")])
    assert "| convert_fp32_to_bf16_rne | ecp5 |" in capsys.readouterr().out


# The command line's handling of a user error, in a fresh interpreter (a failed build leaves an unelaborated
# component, whose warning must not leak into the other tests).


@pytest.mark.parametrize("args, message", [
    (["--src", "fp99", "--dst", "bf16"], "argument --src: unknown format 'fp99'; known formats:"),
    (["--src", "fp32", "--dst", "bf16", "--target", "xc7"], "argument --target: invalid choice: 'xc7'"),
    (["--src", "fp32", "--dst", "bf16", "--rand-bits", "0", "--rounding", "stochastic"],
     "rand_bits must be an integer in 1..32, not 0"),
])
def test_cli_synth_bad_input_is_one_clear_line(args, message):
    p = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "synth", "convert", *args], capture_output=True,
                       text=True, cwd=ROOT)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_cli_synth_all_writes_reports(capsys, monkeypatch):
    import json
    units = [("convert", dict(src="bf16", dst="fp32"))]  # the flow's cost grows with DEFAULT_UNITS: one here
    monkeypatch.setattr("fmtforge.rtl.cli.synth.DEFAULT_UNITS", units)
    out = OUT / "all"
    for f in ("report.json", "report.md"):
        (out / f).unlink(missing_ok=True)
    synth_cli(["synth-all", "--target", "ecp5", "--seed", "1", "--output-dir", str(out)])
    report = json.loads((out / "report.json").read_text())
    assert [(r["unit"], r["options"], r["target"]) for r in report["results"]] == [(*units[0], "ecp5")]
    assert KEYS <= report["results"][0].keys() and report["tools"]["yosys"].startswith("Yosys ")
    assert "| convert_bf16_to_fp32_rne | ecp5 |" in (out / "report.md").read_text()
    assert "| convert_bf16_to_fp32_rne | ecp5 |" in capsys.readouterr().out
