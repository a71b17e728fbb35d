"""The unit registry: options declared once, the CLI made from them, errors that name the parameter."""

import inspect

import pytest

from fmtforge.rtl.units.convert import make_converter
from fmtforge.rtl.units.qmac import QMac
from fmtforge.rtl.units.registry import UNITS, build_unit, units_table


@pytest.mark.parametrize("unit, api", [("convert", make_converter), ("qmac", QMac)])
def test_registry_defaults_are_the_python_api_s(unit, api):
    """The Python classes keep keyword defaults for library users; they must be the registry's."""
    params = inspect.signature(api).parameters
    for o in UNITS[unit].options:
        if not o.required:
            assert params[o.name].default == o.default, (unit, o.name)


def test_build_unit_validates_every_option():
    with pytest.raises(ValueError, match="rand_bits must be an integer in 1..32, not 40"):
        build_unit("convert", src="fp32", dst="bf16", rand_bits=40)
    with pytest.raises(ValueError, match="convert has no option 'lanes'"):
        build_unit("convert", src="fp32", dst="bf16", lanes=2)
    with pytest.raises(ValueError, match=r"convert needs src \(--src\)"):
        build_unit("convert", dst="bf16")
    with pytest.raises(ValueError, match="unit must be one of convert, posit-decode, qmac"):
        build_unit("nope")
    with pytest.raises(ValueError, match="es must be an integer in 0..4, not 5"):
        build_unit("posit-decode", n=16, es=5)


def test_every_unit_example_builds_and_names_itself():
    import gc
    import warnings

    from amaranth.hdl import UnusedElaboratable
    with warnings.catch_warnings():
        # built to check their names, never elaborated: collect them here, where that is expected
        warnings.simplefilter("ignore", UnusedElaboratable)
        for unit in UNITS.values():
            for example in unit.examples:
                component, name = build_unit(unit.name, **example)
                assert name == component.name and name.replace("_", "").isalnum()
        del component
        gc.collect()
    assert all(f"| `{u}` |" in units_table() for u in UNITS)
