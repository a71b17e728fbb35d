"""Simulation models of the FPGA primitives a generated unit may instantiate (``qmac --dsp ecp5``: the ECP5
``MULT18X18D``). Synthesis uses the vendor's primitive; the simulators and the lint read these files."""

import re
from pathlib import Path

__all__ = ["MODELS", "models_for"]

_HERE = Path(__file__).resolve().parent

#: primitive module name -> its model
MODELS = {"MULT18X18D": _HERE / "MULT18X18D.v"}


def models_for(verilog):
    """The model files the Verilog text ``verilog`` needs: one per primitive it instantiates."""
    return [path for name, path in MODELS.items() if re.search(rf"^\s*{name}\s", verilog, re.MULTILINE)]
