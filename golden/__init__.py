"""fmtforge golden models: exact, vectorised numpy models of number formats (numpy only).

The package face. Its rooms:

- :mod:`fmtforge.golden.formats`: the format families (minifloat, posit, integer, codebook, scale), the exact
  raw form, rounding, the catalog of named formats and ``convert``;
- :mod:`fmtforge.golden.quant`: affine quantization, fixed-point requantization, quantized matrix products;
- :mod:`fmtforge.golden.block`: block-scaled schemes (MX, MSFP, Flexpoint, 4-bit weight groups);
- :mod:`fmtforge.golden.arith`: arithmetic in the formats (exact and hardware-style dot products);
- :mod:`fmtforge.golden.validate`: the parameter checks every floor uses.
"""

from .formats.base import Format
from .formats.catalog import ALIASES, CATALOG, cfloat8, lookup, minifloat, names, p3109, posit
from .formats.codebook import Codebook
from .formats.convert import convert, convert_flags, convert_words
from .formats.integer import Integer
from .formats.minifloat import POLICIES, Minifloat
from .formats.p3109 import P3109
from .formats.posit import Posit
from .formats.raw import FINITE, INF, NAN, QUIET, Raw, signaling
from .formats.rounding import DZ, FLAG_NAMES, MODES, NV, NX, OF, UF
from .formats.scale import PowerOfTwo
from . import block, quant  # quantization schemes, built on the formats above
from . import arith  # dot products, built on the formats above
from .arith import dot

__all__ = ["ALIASES", "CATALOG", "DZ", "FINITE", "FLAG_NAMES", "INF", "MODES", "NAN", "NV", "QUIET", "NX", "OF", "POLICIES",
           "UF", "arith", "Codebook", "Format", "Integer", "Minifloat", "P3109", "Posit", "PowerOfTwo", "Raw", "block",
           "cfloat8", "convert", "dot", "convert_flags", "convert_words", "lookup", "minifloat", "names", "p3109", "posit",
           "quant", "signaling"]
