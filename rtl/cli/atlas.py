"""What ``fmtforge plot`` draws, as data: a format's values, dynamic range, relative precision and bit layout.

Pure numpy (no matplotlib): the figures of :mod:`fmtforge.rtl.cli.plot` are drawn from :func:`atlas_data`, and
the tests check these arrays against golden, not pixels. Formats of at most 16 bits are enumerated pattern by
pattern; wider ones (fp32, posit32, fp64 ...) through an even sample of their positive patterns, each with its
successor, so that the spacing at every sampled point is exact.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["AtlasData", "EXHAUSTIVE_BITS", "MAX_BITS", "atlas_data", "bit_layout"]

EXHAUSTIVE_BITS = 16  #: formats up to this width: every pattern
MAX_BITS = 32  #: formats up to this width can be drawn (fp64 and posit64 break matplotlib's log-axis ticks)
_SAMPLES = 1 << 14  # positive patterns sampled in a wider format


@dataclass(frozen=True)
class AtlasData:
    name: str
    kind: str
    width: int
    values: np.ndarray  #: every finite value (a sample beyond EXHAUSTIVE_BITS), sorted, unique, float64
    magnitude: np.ndarray  #: positive finite values x at which ...
    rel_precision: np.ndarray  #: ... (next value above x - x) / x
    min_positive: float  #: the smallest positive value
    max: float  #: the largest finite value
    dynamic_range_binades: float  #: log2(max / min_positive)
    exhaustive: bool  #: values holds every finite value
    layout: tuple  #: ((field name, its bits as a string), ...) of a sample pattern, MSB first

    @property
    def has_negative(self):
        return bool(np.any(self.values < 0))


def _positive_patterns(fmt):
    """A sample of ``fmt``'s positive patterns in increasing value order, and their successors (both as uint64):
    floats and posits order their positive patterns as their values."""
    top = (1 << (fmt.width - 1)) - 1  # the largest positive pattern (sign bit clear)
    p = np.unique(np.linspace(1, top - 1, _SAMPLES, dtype=np.float64).astype(np.uint64))
    return p, p + np.uint64(1)


def atlas_data(fmt):
    """The atlas of ``fmt`` (a golden format of at most :data:`MAX_BITS` bits): see :class:`AtlasData`."""
    if fmt.width > MAX_BITS:
        raise ValueError(f"format {fmt.name} has {fmt.width} bits; plot draws formats of up to {MAX_BITS} bits")
    if fmt.width <= EXHAUSTIVE_BITS:
        v = fmt.decode(fmt.all_bits())
        values = np.unique(v[np.isfinite(v)])
        pos = values[values > 0]
        magnitude, rel = pos[:-1], np.diff(pos) / pos[:-1]
        exhaustive = True
    else:
        lo, hi = _positive_patterns(fmt)
        with np.errstate(over="ignore"):  # fp64's decode passes through ldexp's overflowing intermediate
            a, b = fmt.decode(lo.astype(fmt.dtype)), fmt.decode(hi.astype(fmt.dtype))
            smallest = float(fmt.decode(np.array([1], dtype=fmt.dtype))[0])  # pattern 1: the smallest positive
        keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > a)
        magnitude, rel = a[keep], (b[keep] - a[keep]) / a[keep]
        largest = float(fmt.max)
        pos = np.unique(np.concatenate([[smallest], a[np.isfinite(a) & (a > 0)], [largest]]))
        signed = getattr(fmt, "signed", True)
        values = np.concatenate([-pos[::-1], [0.0], pos]) if signed else np.concatenate([[0.0], pos])
        exhaustive = False
    pos = values[values > 0]
    lo, hi = float(pos[0]), float(pos[-1])
    return AtlasData(name=fmt.name, kind=fmt.kind, width=fmt.width, values=values, magnitude=magnitude,
                     rel_precision=rel, min_positive=lo, max=hi, dynamic_range_binades=float(np.log2(hi) - np.log2(lo)),
                     exhaustive=exhaustive, layout=bit_layout(fmt))


def _bits(pattern, width):
    return format(int(pattern), f"0{width}b")


def _posit_fields(n, es, pattern):
    """(sign, regime, exponent, fraction) bit strings of a posit pattern (positive: the layout itself)."""
    s = _bits(pattern, n)
    body = s[1:]
    run = len(body) - len(body.lstrip(body[0]))
    regime = body[:run + 1]  # the run and its terminating bit (none when the run fills the word)
    rest = body[run + 1:]
    return (("sign", s[0]), ("regime", regime), ("exponent", rest[:es]), ("fraction", rest[es:]))


def bit_layout(fmt):
    """The fields of a sample pattern of ``fmt``, MSB first: ((name, bits), ...). Floats: sign / exponent /
    mantissa of 1.5 (x87: its explicit integer bit is the mantissa's top bit); posits: sign / regime / exponent /
    fraction of the pattern of 3.25 (the regime's length varies with the value); integers, codebooks and scales:
    their one code field."""
    if fmt.kind == "float":
        p = int(fmt.encode(np.array([1.5]))[0])
        s = _bits(p, fmt.width)
        return (("sign", s[0]), ("exponent", s[1:1 + fmt.exp_bits]), ("mantissa", s[1 + fmt.exp_bits:]))
    if fmt.kind == "posit":
        p = int(fmt.encode(np.array([3.25]))[0])
        return tuple(f for f in _posit_fields(fmt.n, fmt.es, p) if f[1])
    if fmt.kind == "int":
        name = "two's complement integer" if getattr(fmt, "signed", False) else "unsigned integer"
        return ((name, _bits(int(fmt.encode(np.array([3.0]))[0]), fmt.width)),)
    if fmt.kind == "scale":
        return (("exponent (2**(e - bias))", _bits(int(fmt.encode(np.array([2.0]))[0]), fmt.width)),)
    return (("code (index into the levels)", _bits(int(fmt.encode(np.array([0.5]))[0]), fmt.width)),)
