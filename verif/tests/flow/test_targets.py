"""The FPGA targets and vendor primitives: each declared once, complete, and read the way the flow needs; the
Fmax is the wrapper clock's, never the first clock whose name merely holds "clk"."""

import dataclasses
import subprocess
import sys

import pytest

from fmtforge.rtl.flow.synth import _fmax
from fmtforge.rtl.flow.targets import PRIMITIVES, TARGETS, WRAPPER_PINS, primitives_in, register
from fmtforge.rtl.flow.tools import SynthError


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_is_complete(name):
    t = TARGETS[name]
    assert t.name == name and t.device and t.help and t.synth.startswith("synth_") and t.pnr.startswith("yowasp-")
    assert t.lut and t.ff_prefix and t.io and t.packages and t.pnr in t.packages
    if t.pins:  # a part whose tool needs every IO located gives one pin per wrapper port
        assert len(t.pins) == len(WRAPPER_PINS) and len(set(t.pins)) == len(t.pins) and t.constraints


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_has_its_model_and_library(name):
    p = PRIMITIVES[name]
    assert p.target in TARGETS and p.blackbox.startswith("+/")
    model = p.model.read_text()
    assert f"module {name}" in model  # the simulation model declares the module it stands for


def test_primitive_detection_reads_cell_lines_only():
    mult = PRIMITIVES["MULT18X18D"]
    assert primitives_in("  MULT18X18D lane0_mult (\n") == [mult]
    assert primitives_in("  // a MULT18X18D would be faster\n  wire MULT18X18D_out;\n") == []


def test_gowin_constraints_locate_every_wrapper_pin():
    t = TARGETS["gowin-gw1n9"]
    name, text = t.constraints_file(["clk", "si", "so", "load"])
    assert name.endswith(".cst") and text.splitlines() == ['IO_LOC "clk" 52;', 'IO_LOC "si" 4;',
                                                           'IO_LOC "so" 10;', 'IO_LOC "load" 3;']
    assert TARGETS["ice40"].constraints_file(["clk"]) is None


def _report(**clocks):
    return {"fmax": {k: {"achieved": v, "constraint": 200.0} for k, v in clocks.items()}}


def test_fmax_is_the_wrapper_clock_s_with_two_clocks_in_the_report():
    # a second clock (a derived net) that is faster and whose name also holds "clk" must not be taken
    r = _report(**{"load_clk$glb": 224.8, "clk$SB_IO_IN_$glb_clk": 45.1})
    assert _fmax(r)[0] == 45.1
    assert _fmax(_report(**{"other": 300.0, "clk": 80.0}))[0] == 80.0
    # the names the three vendors' tools give the wrapper's clock net
    # (and, in a flattened design, the name of the unit's clock port the net drives: Gowin's flat report of
    # a 1-lane qmac named it unit.clk)
    for name in ("clk$SB_IO_IN_$glb_clk", "$glbnet$clk$TRELLIS_IO_IN", "$iopadmap$clk", "unit.clk"):
        assert _fmax(_report(**{name: 99.0, "$glbnet$load_clk": 500.0}))[0] == 99.0


def test_fmax_refuses_a_report_without_the_wrapper_clock():
    with pytest.raises(SynthError, match="no single clock .*'clk'.*its clocks are load_clk"):
        _fmax(_report(load_clk=100.0))
    with pytest.raises(SynthError, match="no single clock"):  # another instance's clock is not the wrapper's
        _fmax(_report(**{"other.clk": 100.0}))
    with pytest.raises(SynthError, match="no clock"):
        _fmax({"fmax": {}})


def test_register_adds_a_target_once(monkeypatch):
    monkeypatch.setattr("fmtforge.rtl.flow.targets.TARGETS", dict(TARGETS))
    from fmtforge.rtl.flow import targets
    register(dataclasses.replace(TARGETS["ice40"], name="toy-part", help="a toy part"))
    assert "toy-part" in targets.TARGETS
    with pytest.raises(ValueError, match="registered already"):
        register(TARGETS["ice40"])


def test_synth_refuses_an_unknown_target_in_one_line():
    p = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "synth", "convert", "--src", "fp32", "--dst",
                        "bf16", "--target", "xc7a35t"], capture_output=True, text=True)
    assert p.returncode == 2 and "--target" in p.stderr and "gowin-gw1n9" in p.stderr and "Traceback" not in p.stderr
