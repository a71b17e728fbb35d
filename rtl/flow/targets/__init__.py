"""The FPGAs the flow knows, one vendor module each: a :class:`Target` owns its device, tools, IO and help text;
a :class:`Primitive` (a vendor block a unit may instantiate) owns its builder, its Yosys black-box library and
its simulation model. Each is named once, in its vendor module (``ice40.py``, ``ecp5.py``, ``gowin.py``).

A new target is one :func:`register` call in its vendor module (a new vendor: one new module, imported at the
end of this file); docs/architecture.md walks through adding one.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FREQ_MHZ", "MODELS_DIR", "PRIMITIVES", "TARGETS", "WRAPPER_PINS", "Primitive", "Target", "primitives_in", "register",
           "register_primitive"]

#: The clock nextpnr is asked for (--freq): above every unit's Fmax, so that the report shows what was reached.
FREQ_MHZ = 200

#: The scan wrapper's pins (fmtforge.rtl.flow.wrapper), in the order of :attr:`Target.pins`.
WRAPPER_PINS = ("clk", "si", "so", "load", "rst")

#: Where the vendor modules keep their primitives' simulation models (shipped in the wheel).
MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class Target:
    """One FPGA part and how the flow synthesises, places and reads it.

    Parameters
    ----------
    name : str
        What ``--target`` takes.
    device : str
        The part and package, as the report prints them.
    help : str
        One line for ``--target``'s help.
    synth : str
        The Yosys command (``synth_ice40``, ``synth_ecp5``, ``synth_gowin``...); ``-top`` and ``-json`` are added.
    pnr : str
        The place-and-route console script (a ``yowasp-nextpnr-*`` wheel's).
    pnr_args : tuple
        Its device arguments (``--hx8k --package ct256``...).
    lut, ff_prefix, carry, dsp : tuple
        Cell types (flip-flops: prefixes) that the report counts as LUT4s, flip-flops, carry cells and DSPs.
    luts_per_carry : int
        LUT4s inside one carry cell that ``lut`` does not count (ECP5's CCU2C holds two).
    io : tuple
        Cell types of the IO pads (the report's ``pins``).
    pins : tuple
        Package pins for the scan wrapper's ports, in the order of :data:`WRAPPER_PINS`, for
        parts whose place-and-route needs every IO located (Gowin); empty: the tool places them.
    constraints : str
        The pnr option that takes the constraints file (with ``pins``): ``--vopt cst=`` for Gowin.
    packages : tuple
        The PyPI packages that provide ``pnr`` (named in the error when it is missing).
    times_hierarchy : bool
        False when the place-and-route tool finds no timing path through a kept hierarchy (nextpnr-himbaechel
        on Gowin: "no interior timing paths"): the report then gives the flattened design's Fmax, marked so.
    after_synth : str
        Yosys commands run after ``synth`` (``{top}``: the wrapper's name), before the netlist is written:
        Gowin maps IO buffers on the wrapper's ports only, as the unit is a module of its own.
    """

    name: str
    device: str
    help: str
    synth: str
    pnr: str
    pnr_args: tuple
    lut: tuple
    ff_prefix: tuple
    carry: tuple
    dsp: tuple
    luts_per_carry: int = 0
    io: tuple = ()
    pins: tuple = ()
    constraints: str = ""
    packages: tuple = ()
    after_synth: str = ""
    times_hierarchy: bool = True

    def constraints_file(self, ports):
        """``(file name, text)`` locating the wrapper's ``ports`` on ``pins``, or None when the tool places them."""
        if not self.pins:
            return None
        if len(ports) > len(self.pins):
            raise ValueError(f"target {self.name} has {len(self.pins)} pins for the wrapper, not {len(ports)}")
        return "pins.cst", "".join(f'IO_LOC "{p}" {self.pins[WRAPPER_PINS.index(p)]};\n' for p in ports)


@dataclass(frozen=True)
class Primitive:
    """A vendor block that a generated unit may instantiate (``qmac --dsp ecp5``: ``MULT18X18D``).

    ``blackbox`` is Yosys' library declaring it (read with ``read_verilog -lib`` by the lint), ``model`` the
    behavioural Verilog model the simulators compile beside a unit that instantiates it, ``target`` the only
    target whose Verilog may hold it."""

    name: str
    target: str
    blackbox: str
    model: Path
    notes: str = field(default="", compare=False)

    def instantiated_in(self, verilog_text):
        """True when ``verilog_text`` instantiates this primitive (a cell line ``  NAME name (``)."""
        return re.search(rf"^\s*{re.escape(self.name)}\s", verilog_text, re.MULTILINE) is not None


TARGETS = {}
PRIMITIVES = {}


def register(target):
    """Add ``target`` (a :class:`Target`) to :data:`TARGETS`; returns it."""
    if target.name in TARGETS:
        raise ValueError(f"a target named {target.name!r} is registered already")
    TARGETS[target.name] = target
    return target


def register_primitive(primitive):
    """Add ``primitive`` (a :class:`Primitive`) to :data:`PRIMITIVES`; returns it."""
    if primitive.name in PRIMITIVES:
        raise ValueError(f"a primitive named {primitive.name!r} is registered already")
    PRIMITIVES[primitive.name] = primitive
    return primitive


def primitives_in(verilog_text):
    """The :class:`Primitive` s ``verilog_text`` instantiates (the one place that detects them)."""
    return [p for p in PRIMITIVES.values() if p.instantiated_in(verilog_text)]


# The vendors: each module registers its targets and primitives.
from . import ice40, ecp5, gowin  # noqa: E402,F401
