"""The units: converters, the posit decoder, the INT8 MAC and its requantizer, the block-format units, and
the registry that holds their contracts (:mod:`fmtforge.rtl.units.registry`).

Each unit file registers its own unit at its end; importing it here fills the registry, in this order (the
order of the README's table and of ``make verilog``). The registry itself imports no unit. A new unit file is
one more line here.
"""

from .registry import DEFAULT_UNITS, UNITS, Configuration, MissingContract, Option, Unit, build_unit, register, \
    unit_kinds

from . import convert, posit_decode, qmac, mx_quant, mx_dequant, w4_dequant, bfp_encode, posit_dot, dot, mx_dot  # noqa: E402,F401,I001

__all__ = ["DEFAULT_UNITS", "UNITS", "Configuration", "MissingContract", "Option", "Unit", "build_unit", "register",
           "unit_kinds"]
