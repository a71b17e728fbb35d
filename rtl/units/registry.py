"""The unit registry: each unit's registration is its contract, written once.

A :class:`Unit` is what Amaranth's ``lib/crc`` calls a parameter object: it knows both the hardware
(``build``: a component from the resolved options) and the mathematics (``model``: the golden function the
component equals bit for bit), and everything generic reads it: the command line (``generate``, ``synth``,
``verilog-all``, ``synth-all``), the README's units table, :func:`build_unit`, and the tests that run over the
registry (lint, fuzz, protocol, defaults). Each file of :mod:`fmtforge.rtl.units` registers its own unit at its
end; the package's ``__init__`` imports them. This module imports no unit (no import cycle).

The contract's fields (``docs/architecture.md``, "Adding a unit", walks through one):

``options``
    :class:`Option` s with their defaults: the only place a default is written. ``build`` receives every option,
    resolved (validated, defaults filled in), as keywords; the classes it calls declare no default of their own.
``model(options, *inputs)``
    The golden function, ``options`` the resolved options; each unit documents its inputs and outputs in the
    model's docstring.
``latency(options)``
    Cycles from the reference point ``latency_from`` names to the result (nothing stalling), or None for a
    combinational unit. The one definition of a unit's latency: the docs state it independently, and the tests
    compare against those statements, not against this function.
``streams(options)``
    ``{port: payload field names}`` of the ``amaranth.lib.stream`` ports (``()`` for a plain payload), ``{}``
    for a unit without streams.
``fuzz``
    ``{option name: values}`` valid for fuzzing the command line (a few per option: each valid list costs a
    Yosys run); combinations of them may still be refused, in one line.
``targets(options)``
    The synthesis targets a configuration can be placed on, or None (every target).

Units registered with the first fields only (``name`` .. ``docs``) keep working: a generic test that needs a
contract field the unit does not declare fails on :meth:`Unit.need`'s one line naming the unit and the field.
"""

import sys
from dataclasses import dataclass, field

from fmtforge import golden
from fmtforge.golden.validate import check_bool, check_choice, check_int

__all__ = ["CONTRACT", "DEFAULT_UNITS", "Configuration", "MissingContract", "Option", "REQUIRED", "UNITS", "Unit",
           "build_unit", "register", "unit_kinds", "units_table"]

REQUIRED = object()  # the default of an option that has none

#: The contract fields a unit may leave out (registered with the first API); :meth:`Unit.need` names them.
CONTRACT = ("model", "latency", "streams", "fuzz")


class MissingContract(LookupError):
    """A generic test or tool needs a contract field that a unit does not declare."""


@dataclass(frozen=True)
class Option:
    """One option of a unit.

    ``kind`` is ``"int"`` (with ``range = (lo, hi)``), ``"bool"`` (a flag, default False), ``"choice"`` (one
    of ``choices``) or ``"format"`` (a format name, read by ``golden.lookup``). ``metavar`` is what the usage
    line shows for its value.
    """

    name: str
    kind: str
    help: str
    default: object = REQUIRED
    range: tuple = None
    choices: tuple = None
    metavar: str = None

    @property
    def flag(self):
        return "--" + self.name.replace("_", "-")

    @property
    def required(self):
        return self.default is REQUIRED

    def check(self, value):
        """``value`` validated (a format name becomes the format object). An option whose default is None
        (the unit picks it from its other options) takes None too."""
        if value is None and self.default is None:
            return None
        if self.kind == "int":
            return check_int(self.name, value, *self.range)
        if self.kind == "bool":
            return check_bool(self.name, value)
        if self.kind == "choice":
            return check_choice(self.name, value, self.choices)
        try:
            return golden.lookup(value)
        except ValueError as e:  # lookup's message names its own parameter (format): say which option
            raise ValueError(f"{self.name}: {e}") from None

    def usage(self):
        """The option as the usage line shows it: ``--src S`` or ``[--rounding M]``."""
        text = self.flag if self.kind == "bool" else f"{self.flag} {self.metavar or self.name.upper()}"
        return text if self.required else f"[{text}]"


@dataclass(frozen=True)
class Unit:
    """A unit's contract (see the module docstring for each field).

    ``build(**resolved options)`` returns a component with a ``name`` (its default module name); ``examples``
    are the option dicts ``make verilog`` and ``make synth`` write; ``docs`` the page that documents the unit.
    """

    name: str
    summary: str
    description: str
    build: object
    options: tuple
    examples: tuple = ()
    docs: str = ""
    extra: dict = field(default_factory=dict)
    targets: object = None
    model: object = None
    latency: object = None
    latency_from: str = ""
    streams: object = None
    fuzz: dict = None

    def need(self, name):
        """Contract field ``name``, or :class:`MissingContract` naming the unit and the field."""
        value = getattr(self, name)
        if value is None:
            raise MissingContract(f"unit {self.name!r} declares no {name}: add {name}=... to its register(Unit(...)) "
                                  "(docs/architecture.md, Adding a unit)")
        return value

    def targets_for(self, options):
        """The synthesis targets the configuration ``options`` can be placed on (None: every target)."""
        return self.targets(self.resolve(options)) if self.targets is not None else None

    def option(self, name):
        return next(o for o in self.options if o.name == name)

    def resolve(self, options):
        """Every option's value: ``options`` validated, the rest at their defaults. Unknown or missing options
        raise ValueError naming them."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"{self.name} has no option {unknown[0]!r}; its options: {', '.join(known)}")
        out = {}
        for o in self.options:
            if o.name in options:
                out[o.name] = o.check(options[o.name])
            elif o.required:
                raise ValueError(f"{self.name} needs {o.name} ({o.flag}): {o.help}")
            else:
                out[o.name] = o.default
        return out

    def create(self, *, src_loc_at=0, **options):
        """The component for ``options`` (validated, the others at their defaults)."""
        resolved = self.resolve(options)
        return _made_by_caller(_keyed(self.build(**resolved), self.name, resolved), 1 + src_loc_at)

    def configure(self, **options):
        """A :class:`Configuration`: this unit with ``options`` resolved."""
        return Configuration(self, self.resolve(options))


@dataclass(frozen=True)
class Configuration:
    """One configuration of a unit, as ``lib/crc``'s ``Parameters``: :meth:`create` the hardware,
    :meth:`compute` the golden result, :attr:`latency` and :attr:`streams` what the contract says of it."""

    unit: Unit
    options: dict

    def create(self, *, src_loc_at=0):
        return _made_by_caller(_keyed(self.unit.build(**self.options), self.unit.name, self.options), 1 + src_loc_at)

    def compute(self, *inputs, **kw):
        return self.unit.need("model")(self.options, *inputs, **kw)

    @property
    def latency(self):
        return self.unit.need("latency")(self.options)

    @property
    def streams(self):
        return self.unit.need("streams")(self.options)

    @property
    def targets(self):
        return self.unit.targets(self.options) if self.unit.targets is not None else None


def _keyed(component, kind, options):
    """``component`` with its ``verilog_key``: what it is (unit and resolved options), for the opt-in Verilog
    cache of the test suite (:mod:`fmtforge.rtl.flow.verilog_cache`)."""
    component.verilog_key = f"{kind}:{sorted(options.items())!r}"
    return component


def _made_by_caller(component, depth):
    """``component``, which Amaranth will report (if it is never elaborated) at the line that asked the registry
    for it, ``depth`` frames up, rather than at the registry's own line: as Amaranth's ``src_loc_at``, so that
    the caller's ``# amaranth: UnusedElaboratable=no`` applies."""
    if hasattr(component, "_MustUse__context"):
        frame = sys._getframe(1 + depth)
        component._MustUse__context = dict(filename=frame.f_code.co_filename, lineno=frame.f_lineno,
                                           source=component)
    return component


UNITS = {}

#: (kind, options) of every configuration ``make verilog`` and ``make synth`` write, in registry order
#: (each registered unit's ``examples``).
DEFAULT_UNITS = []


def register(unit, units=None):
    """Add ``unit`` to the registry ``units`` (default :data:`UNITS`: the CLI and the docs pick it up); returns
    it."""
    target = UNITS if units is None else units
    if unit.name in target:
        raise ValueError(f"a unit named {unit.name!r} is registered already")
    unknown = sorted(set(unit.fuzz or ()) - {o.name for o in unit.options})
    if unknown:
        raise ValueError(f"{unit.name}: fuzz names {unknown[0]!r}, which is not one of its options")
    target[unit.name] = unit
    if target is UNITS:
        DEFAULT_UNITS.extend((unit.name, dict(example)) for example in unit.examples)
    return unit


def unit_kinds():
    """{unit name: one-line summary}."""
    return {name: u.summary for name, u in UNITS.items()}


def build_unit(kind, **options):
    """Build unit ``kind`` from ``options`` (validated; the others at their defaults); returns
    ``(component, default module name)``."""
    if kind not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {kind!r}")
    component = UNITS[kind].create(src_loc_at=1, **options)
    return component, component.name


def units_table(units=None):
    """The README's units table (markdown), made from the registry ``units`` (default :data:`UNITS`)."""
    rows = ["| unit | command | what it is |", "|------|---------|------------|"]
    for u in (UNITS if units is None else units).values():
        usage = " ".join(o.usage() for o in u.options).replace("|", "\\|")
        more = f": [{u.docs}]({u.docs})" if u.docs else ""
        rows.append(f"| `{u.name}` | `fmtforge generate {u.name} {usage}` | {u.summary}{more} |")
    return "\n".join(rows) + "\n"
