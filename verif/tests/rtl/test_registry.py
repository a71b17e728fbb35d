"""The unit registry as the contract: options and defaults written once (the classes declare none), the CLI
made from it, errors that name the parameter, each contract field present and true to the hardware and the
docs, and a new unit covered by the generic tests without a test file being edited."""

import ast
import gc
import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import UnusedElaboratable
from amaranth.lib import data, stream

from fmtforge.rtl.units import registry
from fmtforge.rtl.units.registry import UNITS, MissingContract, Option, Unit, build_unit, register, units_table
from fmtforge.verif.support.contract import case_id, example_cases, stream_cases, unit_names

CASES = example_cases()


@pytest.fixture(autouse=True)
def _quiet_unused():
    """Components built here to be inspected are never elaborated: collect them here, where that is expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        yield
        gc.collect()


# -- defaults: written once -------------------------------------------------------------------------------

def declared_defaults(fn, names):
    """The parameters among ``names`` to which ``fn`` (a function or a class) gives a default of its own."""
    params = inspect.signature(fn).parameters
    return sorted(n for n in names if n in params and params[n].default is not inspect.Parameter.empty)


def test_declared_defaults_finds_a_default():
    """The check below can fail: a class with a default of its own is caught."""
    class Toy:
        def __init__(self, *, lanes, group=128):
            pass
    assert declared_defaults(Toy, ["lanes", "group"]) == ["group"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_classes_declare_no_defaults(case):
    """The registry is the one place a default is written: the unit's build function and the component class it
    returns take every option without a default (disagreement with the registry is impossible), and the build
    takes exactly the resolved options."""
    name, options = case
    unit = UNITS[name]
    resolved = unit.resolve(options)
    inspect.signature(unit.build).bind(**resolved)  # every option, nothing else
    assert declared_defaults(unit.build, resolved) == [], f"{name}: the build function declares defaults"
    component = unit.create(**options)
    assert declared_defaults(type(component), resolved) == [], f"{name}: {type(component).__name__} declares defaults"


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


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_unit_example_builds_and_names_itself(case):
    component, name = build_unit(*case[:1], **case[1])
    assert name == component.name and name.replace("_", "").isalnum()


# -- the README's table -----------------------------------------------------------------------------------

def test_units_table_rows():
    """Rows as the README shows them, written out here: usage from the options (required bare, the others in
    brackets, flags without a value), the summary, the docs link."""
    rows = units_table().splitlines()
    assert rows[:2] == ["| unit | command | what it is |", "|------|---------|------------|"]
    assert ("| `posit-decode` | `fmtforge generate posit-decode --n N [--es ES] [--stages N]` | posit(n, es) decoder: "
            "sign, NaR, zero, scale, significand |") in rows
    assert any(r.startswith("| `qmac` | `fmtforge generate qmac --lanes N [--a-type T] [--w-type T] [--out-type T] "
                            "[--acc-bits B] [--per-channel] [--rounding R] [--requant-cycles N] [--dsp D]` | ")
               and r.endswith(": [docs/qmac.md](docs/qmac.md) |") for r in rows)
    assert len(rows) == 2 + len(UNITS)
    toy = {"toy": Unit(name="toy", summary="a | b", description="", build=None,
                       options=(Option("x", "int", "x", range=(1, 2)), Option("on", "bool", "on", False)))}
    assert units_table(toy) == ("| unit | command | what it is |\n|------|---------|------------|\n"
                                "| `toy` | `fmtforge generate toy --x X [--on]` | a | b |\n")


# -- the contract's fields ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", unit_names())
def test_every_unit_declares_its_contract(name):
    unit = UNITS[name]
    for field in registry.CONTRACT:
        assert callable(unit.need(field)) or field == "fuzz"
    assert unit.latency_from, f"{name}: latency_from (the latency's reference point) is not stated"
    doc = unit.model.__doc__ or ""
    assert len(doc.split()) >= 8, f"{name}: the model's docstring must document its inputs and outputs"


def _stream_ports(component):
    """{port: payload field names (() for a plain payload)} of ``component``'s stream ports."""
    out = {}
    for port, member in component.signature.members.items():
        if member.is_signature and isinstance(member.signature, stream.Signature):
            shape = member.signature.members["payload"].shape
            out[port] = tuple(n for n, _ in shape) if isinstance(shape, data.StructLayout) else ()
    return out


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_streams_are_the_component_s(case):
    """What the contract says of the streams is what the component's signature holds."""
    name, options = case
    unit = UNITS[name]
    assert unit.need("streams")(unit.resolve(options)) == _stream_ports(unit.create(**options))


#: Latencies the docs state, written here from the pages (README's convert section, docs/qmac.md's table,
#: docs/mx.md, docs/weights.md, docs/bfp.md), by example configuration; None: combinational.
DOC_LATENCY = {
    "convert-src=fp32-dst=bf16": None, "convert-src=fp32-dst=bf16-rounding=stochastic-flags=True-stages=2": 2,
    "posit-decode-n=16-es=2": None,
    "qmac-lanes=1": 8, "qmac-lanes=4": 9, "qmac-lanes=16-a_type=uint8-per_channel=True": 10,
    "qmac-lanes=1-requant_cycles=8": 17, "qmac-lanes=4-requant_cycles=8": 18,
    "qmac-lanes=4-requant_cycles=32-dsp=ecp5": 43,
    "mx-quantize": 8, "mx-quantize-scheme=nvfp4-lanes=4": 15, "mx-dequantize": 4,
    "mx-dequantize-scheme=nvfp4-dst=bf16-lanes=8": 4,
    # docs/weights.md: 2 + S (default S = 5); docs/bfp.md: B/N + 3 + S (16 / 4 + 3 + 2), one more above 4 lanes
    "w4-dequantize-lanes=8-group=128-codes=uint4-zero=group": 7, "bfp-encode-lanes=4-src=fp32-man_bits=7": 9,
    "bfp-encode-lanes=16-src=bf16-man_bits=3-rounding=rne": 7,
}


@pytest.mark.parametrize("key, want", DOC_LATENCY.items())
def test_latency_is_the_documented_one(key, want):
    name, options = next(c for c in CASES if case_id(c) == key)
    assert UNITS[name].configure(**options).latency == want


def test_posit_decoder_latency_is_its_stages():
    assert [UNITS["posit-decode"].configure(n=16, stages=s).latency for s in (0, 1, 3)] == [None, 1, 3]


# Known answers, worked out by hand from the formats' definitions (not from the golden code).
def test_models_known_answers():
    cfg = UNITS["convert"].configure
    bits, flags = cfg(src="fp32", dst="bf16").compute(np.array([0x3F800000, 0x3F808000, 0x3F818000], np.uint32))
    # 1.0 exact; 1 + 2**-8, a tie between 1.0 and 1 + 2**-7: to even (1.0), inexact; 1 + 3 * 2**-8, a tie
    # between 0x3F81 and 0x3F82: to even, 0x3F82
    assert list(bits) == [0x3F80, 0x3F80, 0x3F82] and list(flags) == [0, 1, 1]
    # posit16 (es 2): 0x4000 = 1.0, 0xC000 = -1.0, 0x8000 NaR, 0 zero; 0x6000 = 16 (regime 110: k = 1,
    # useed**1 = 2**4)
    got = UNITS["posit-decode"].configure(n=16).compute(np.array([0x4000, 0xC000, 0x8000, 0, 0x6000]))
    assert list(got["is_nar"]) == [0, 0, 1, 0, 0] and list(got["is_zero"]) == [0, 0, 0, 1, 0]
    assert list(got["sign"][[0, 1, 4]]) == [0, 1, 0] and list(got["scale"][[0, 1, 4]]) == [0, 0, 4]
    assert list(got["sig"][[0, 1, 4]]) == [1 << 11] * 3  # S = 16 - 3 - 2 + 1 = 12 bits, hidden bit on top
    # qmac: (1*3 + 2*4) * 2**30 * 2**-31 = 5.5, rounded up (SRDHM's ties toward +inf) to 6; + z3 = 2 -> 8
    qmac = UNITS["qmac"].configure(lanes=2)
    assert qmac.compute([1, 2], [3, 4], za=0, zw=0, bias=0, m0=1 << 30, shift=0, z3=2, qmin=-128, qmax=127) == 8
    assert qmac.compute([1, 2], [3, 4], za=0, zw=0, bias=0, m0=1 << 30, shift=0, z3=2, qmin=-128, qmax=7) == 7
    # MX fp8_e4m3: a block of 1.0: scale 2**(floor(log2 1) - emax 8) = 2**-8 (E8M0 119), elements 256 = 0x78
    codes, scales = UNITS["mx-quantize"].configure().compute(np.full((1, 32), 0x3F800000, np.uint64))
    assert set(codes.reshape(-1)) == {0x78} and list(scales) == [119]
    # e4m3 1.0 (0x38) times E8M0 0x80 (2**1) = 2.0 in fp32
    out = UNITS["mx-dequantize"].configure().compute(np.full((1, 4), 0x38), np.array([0x80]))
    assert set(out.reshape(-1)) == {0x40000000}
    # uint4 codes 0..3 times an fp16 scale of 1.0: 0, 1, 2, 3 in fp16
    out = UNITS["w4-dequantize"].configure().compute(np.arange(128).reshape(1, 128) % 16, np.array([0x3C00]))
    assert list(out[0, :4]) == [0x0000, 0x3C00, 0x4000, 0x4200]
    # MSFP16 (7 magnitude bits): a block of 1.0 shares exponent 0 (127 biased); 1.0 = 64 * 2**-6
    codes, scales = UNITS["bfp-encode"].configure().compute(np.full((1, 16), 0x3F800000, np.uint64))
    assert set(codes.reshape(-1)) == {64} and list(scales) == [127]


# -- the first API, and a new unit ------------------------------------------------------------------------------

def _old_api_unit(name="old"):
    """A unit registered with the first fields only (as catalog_dot.py and catalog_posit_dot.py do)."""
    return Unit(name=name, summary="s", description="d", build=lambda lanes: None,
                options=(Option("lanes", "int", "lanes", 4, range=(1, 8)),), examples=(dict(lanes=2),))


def test_old_api_units_register_and_name_what_is_missing():
    units = {}
    unit = register(_old_api_unit(), units)
    assert units == {"old": unit} and "old" not in UNITS
    with pytest.raises(MissingContract, match=r"^unit 'old' declares no model: add model=\.\.\. to its "
                                              r"register\(Unit\(\.\.\.\)\)"):
        unit.configure(lanes=2).compute([1])
    with pytest.raises(MissingContract, match="unit 'old' declares no latency"):
        unit.configure().latency
    with pytest.raises(MissingContract, match="unit 'old' declares no fuzz"):
        unit.need("fuzz")


def test_fuzz_must_name_options():
    with pytest.raises(ValueError, match="toy: fuzz names 'lane', which is not one of its options"):
        register(Unit(name="toy", summary="", description="", build=None,
                      options=(Option("lanes", "int", "l", 1, range=(1, 2)),), fuzz={"lane": (1,)}), {})


def test_a_new_unit_is_covered_without_editing_a_test():
    """A toy unit in a registry of its own: the generic tests' parametrization picks it up (lint and the
    contract checks over its examples, the protocol test over its stream configurations, fuzz over its name),
    and so does a unit of the first API (whose tests then fail naming the missing field)."""
    units = {}
    register(Unit(name="toy", summary="a toy", description="", build=lambda width, stages: None,
                  options=(Option("width", "int", "bits", 8, range=(1, 64)), Option("stages", "int", "s", 0,
                                                                                      range=(0, 4))),
                  examples=(dict(width=4), dict(stages=2)), latency=lambda o: o["stages"] or None,
                  streams=lambda o: {"i": (), "o": ()} if o["stages"] else {}, fuzz={"width": (1, 8)}), units)
    register(_old_api_unit(), units)
    assert example_cases(units) == [("toy", dict(width=4)), ("toy", dict(stages=2)), ("old", dict(lanes=2))]
    assert stream_cases(units) == [("toy", dict(stages=2)), ("old", dict(lanes=2))]
    assert unit_names(units) == ["toy", "old"]
    assert "| `toy` | `fmtforge generate toy [--width WIDTH] [--stages STAGES]` | a toy |" in units_table(units)


def test_the_registry_imports_no_unit():
    """No import cycle: registry.py imports golden, dataclasses and sys only; the unit files import it."""
    tree = ast.parse(Path(registry.__file__).read_text())
    imported = [f"{n.module}.{a.name}" if isinstance(n, ast.ImportFrom) and n.module else a.name
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and not getattr(n, "level", 0)
                for a in n.names]
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert not relative and all(m.startswith(("fmtforge.golden", "dataclasses.")) or m == "sys" for m in imported), \
        imported
