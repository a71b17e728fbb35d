"""The units: converters, the posit decoder, the INT8 MAC and its requantizer, and the registry that lists
them with their options (:mod:`fmtforge.rtl.units.registry`)."""

from .registry import DEFAULT_UNITS, UNITS, Option, Unit, build_unit, register, unit_kinds

__all__ = ["DEFAULT_UNITS", "UNITS", "Option", "Unit", "build_unit", "register", "unit_kinds"]
