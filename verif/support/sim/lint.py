"""Verilator lint of a generated unit: the one call every lint test makes.

``verilator --lint-only -Wall`` with the project's waivers (``lint.vlt`` beside this file) and the simulation
models of any FPGA primitive the Verilog instantiates (their ports must be known to the lint).
"""

import subprocess
from pathlib import Path

from fmtforge.rtl.flow.verilog import to_verilog
from fmtforge.verif.support.sim.models import models_for
from fmtforge.verif.support.sim.runner import SIM_BUILD, require

__all__ = ["WAIVERS", "verilator_lint"]

WAIVERS = Path(__file__).resolve().parent / "lint.vlt"


def verilator_lint(component, name=None):
    """Write ``component``'s Verilog (module ``name``, default ``component.name``) to ``sim_build/lint/`` and
    lint it; AssertionError with Verilator's messages if it reports anything. Returns the Verilog text."""
    require("verilator")
    name = name or component.name
    text = to_verilog(component, name)
    out = SIM_BUILD / "lint" / f"{name}.v"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    models = [str(p) for p in models_for(text)]
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(WAIVERS), str(out), *models, "--top-module", name],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"verilator lint of {name} ({out}):\n{proc.stderr}"
    return text
