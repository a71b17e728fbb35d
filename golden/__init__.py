"""fmtforge golden models: exact, vectorised numpy models of number formats (numpy only)."""

from .base import Format
from .codebook import Codebook
from .integer import Integer
from .posit import Posit
from .scale import PowerOfTwo
from .catalog import CATALOG, lookup, names
from .convert import convert, convert_flags
from .minifloat import POLICIES, Minifloat
from .raw import FINITE, INF, NAN, Raw
from .rounding import FLAG_NAMES, MODES, NV, NX, OF, UF
from . import block, quant  # noqa: E402  (quantization schemes, built on the formats above)

__all__ = ["block", "quant", "Codebook", "Integer", "Posit", "PowerOfTwo", "cfloat8", "posit", "CATALOG", "FINITE", "FLAG_NAMES", "Format", "INF", "MODES", "Minifloat", "NAN", "NV", "NX", "OF",
           "POLICIES", "Raw", "UF", "convert", "convert_flags", "lookup", "minifloat", "names"]


def minifloat(**kwargs):
    """A parametric IEEE-style float; see :class:`golden.minifloat.Minifloat`."""
    return Minifloat(**kwargs)


def posit(n, es=2):
    """posit(n, es), 3 <= n <= 64, 0 <= es <= 4 (the 2022 standard: es = 2)."""
    return Posit(n=n, es=es)


def cfloat8(exp_bits=4, man_bits=None, bias=None):
    """Tesla CFloat8_1_4_3 (exp_bits=4, man_bits=3) or CFloat8_1_5_2 (exp_bits=5, man_bits=2) with a
    configurable 6-bit exponent bias (0..63; default 2**(exp_bits-1)-1): no inf, no NaN, subnormals."""
    if exp_bits not in (4, 5):
        raise ValueError(f"exp_bits must be 4 or 5 (CFloat8_1_4_3 or CFloat8_1_5_2), not {exp_bits!r}")
    if man_bits is None:
        man_bits = 7 - exp_bits
    if man_bits != 7 - exp_bits:
        raise ValueError(f"man_bits must be {7 - exp_bits} with exp_bits={exp_bits} (8 bits in all), not {man_bits!r}")
    if bias is None:
        bias = (1 << (exp_bits - 1)) - 1
    from .base import check_int
    bias = check_int("bias", bias, 0, 63)
    return Minifloat(name=f"cfloat8_1_{exp_bits}_{man_bits}_b{bias}", exp_bits=exp_bits, man_bits=man_bits,
                     bias=bias, specials="none")
