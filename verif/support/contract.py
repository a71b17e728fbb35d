"""The registry-driven parametrization of the generic tests: lint, fuzz, protocol, defaults.

Each function reads a registry (default: ``fmtforge.rtl.units.UNITS``) and returns what a test is parametrized
over, so a unit registered in a new file is covered without a test file being edited
(``verif/tests/rtl/test_registry.py`` proves it with a toy unit in a registry of its own). A unit that does not
declare a contract field a test needs still gets its cases: the test then fails on ``Unit.need``'s one line
naming the unit and the field, rather than skipping the unit silently.
"""

from fmtforge.rtl.units import UNITS
from fmtforge.rtl.units.registry import MissingContract

__all__ = ["case_id", "example_cases", "stream_cases", "unit_names"]


def _units(units):
    return UNITS if units is None else units


def unit_names(units=None):
    """Every registered unit's name (fuzz, defaults)."""
    return list(_units(units))


def example_cases(units=None):
    """``(unit name, options)`` of every registered configuration (each unit's ``examples``; lint)."""
    return [(u.name, dict(options)) for u in _units(units).values() for options in u.examples]


def stream_cases(units=None):
    """``(unit name, options)`` of every example configuration with streams (the protocol test). A unit that
    declares no ``streams`` is kept (its test fails naming the missing field); one whose ``streams`` are
    empty for a configuration (combinational, no handshake) is left out for it."""
    out = []
    for name, options in example_cases(units):
        unit = _units(units)[name]
        try:
            if not unit.need("streams")(unit.resolve(options)):
                continue
        except MissingContract:
            pass
        out.append((name, options))
    return out


def case_id(case):
    """A test id for ``(unit name, options)``: ``qmac-lanes=4-requant_cycles=8``."""
    name, options = case
    return "-".join([name] + [f"{k}={v}" for k, v in options.items()])
