"""The unit registry: every unit fmtforge generates declares its options here, once.

A :class:`Unit` names its builder, its options (:class:`Option`: name, kind, default, range or choices, help)
and the configurations ``make verilog`` and ``make synth`` write. The command line (``generate``, ``synth``,
``verilog-all``, ``synth-all``), the README's units table and :func:`build_unit` are all made from it: adding
a unit is one :func:`register` call (``docs/architecture.md`` shows one).
"""

from dataclasses import dataclass, field

from fmtforge import golden
from fmtforge.golden.validate import check_bool, check_choice, check_int

__all__ = ["DEFAULT_UNITS", "Option", "REQUIRED", "UNITS", "Unit", "build_unit", "register", "unit_kinds",
           "units_table"]

REQUIRED = object()  # the default of an option that has none


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
    """A generator: ``build(**options)`` returns a component with a ``name`` (its default module name)."""

    name: str
    summary: str
    description: str
    build: object
    options: tuple
    examples: tuple = ()  # option dicts that `make verilog` and `make synth` write
    docs: str = ""  # where the unit is documented at length
    extra: dict = field(default_factory=dict)
    # options -> the synthesis targets a configuration is written for (a tuple of target names), or None: any
    targets: object = None

    def targets_for(self, options):
        """The synthesis targets the configuration ``options`` can be placed on (None: every target)."""
        return self.targets(options) if self.targets is not None else None

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


UNITS = {}


def register(unit):
    """Add ``unit`` to the registry (the CLI and the docs pick it up); returns it."""
    if unit.name in UNITS:
        raise ValueError(f"a unit named {unit.name!r} is registered already")
    UNITS[unit.name] = unit
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
    component = UNITS[kind].build(**UNITS[kind].resolve(options))
    return component, component.name


#: (kind, options) of every configuration ``make verilog`` and ``make synth`` write, in registry order
#: (each registered unit's ``examples``).
DEFAULT_UNITS = []


def units_table():
    """The README's units table (markdown), made from the registry."""
    rows = ["| unit | command | what it is |", "|------|---------|------------|"]
    for u in UNITS.values():
        usage = " ".join(o.usage() for o in u.options).replace("|", "\\|")
        more = f": [{u.docs}]({u.docs})" if u.docs else ""
        rows.append(f"| `{u.name}` | `fmtforge generate {u.name} {usage}` | {u.summary}{more} |")
    return "\n".join(rows) + "\n"


# The units. Each file of fmtforge.rtl.units registers its own; importing them here fills the registry.
from . import catalog  # noqa: E402,F401
