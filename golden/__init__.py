"""fmtforge golden models: exact, vectorised numpy models of number formats (numpy only)."""

from .base import Format
from .catalog import CATALOG, lookup, names
from .convert import convert, convert_flags
from .minifloat import POLICIES, Minifloat
from .raw import FINITE, INF, NAN, Raw
from .rounding import FLAG_NAMES, MODES, NV, NX, OF, UF

__all__ = ["CATALOG", "FINITE", "FLAG_NAMES", "Format", "INF", "MODES", "Minifloat", "NAN", "NV", "NX", "OF",
           "POLICIES", "Raw", "UF", "convert", "convert_flags", "lookup", "minifloat", "names"]


def minifloat(**kwargs):
    """A parametric IEEE-style float; see :class:`golden.minifloat.Minifloat`."""
    return Minifloat(**kwargs)
