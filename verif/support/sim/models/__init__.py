"""The simulation models of the FPGA primitives a generated unit instantiates, as the vendor modules of
:mod:`fmtforge.rtl.flow.targets` declare them (each primitive names its model there, once)."""

from fmtforge.rtl.flow.targets import PRIMITIVES, primitives_in

__all__ = ["MODELS", "models_for"]

#: primitive module name -> its model file
MODELS = {p.name: p.model for p in PRIMITIVES.values()}


def models_for(verilog):
    """The model files the Verilog text ``verilog`` needs: one per primitive it instantiates."""
    return [p.model for p in primitives_in(verilog)]
