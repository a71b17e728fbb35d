"""What ``fmtforge plot`` draws, as data: a format's values, dynamic range, relative precision and bit layout.

Pure numpy over golden's exact forms (no matplotlib): the figures of ``fmtforge plot`` (:mod:`fmtforge.rtl.cli.plot`) are drawn from :func:`atlas_data`, and
the tests check these arrays against golden, not pixels. Formats of at most 16 bits are enumerated pattern by
pattern; wider ones (fp32, posit32, fp64, x87 ...) through a sample of their positive patterns, each with
its successor, read in golden's exact raw form (``sig * 2**exp``), so that the spacing at every sampled point is
exact and values beyond float64's range (x87's 2**16383) are placed too. Magnitudes are kept as log2 |x|:
the figures' axes are binades, which also spares matplotlib's log axes fp64's 1e308.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from fmtforge.golden.formats.raw import FINITE

__all__ = ["AtlasData", "EXHAUSTIVE_BITS", "SAMPLES", "atlas_data", "bit_layout", "sample_patterns"]

EXHAUSTIVE_BITS = 16  #: formats up to this width: every pattern
SAMPLES = 1 << 14  #: positive patterns sampled in a wider format


@dataclass(frozen=True)
class AtlasData:
    name: str
    kind: str
    width: int
    log2_pos: np.ndarray  #: log2 x of every positive finite value x (a sample beyond EXHAUSTIVE_BITS), sorted
    log2_neg: np.ndarray  #: log2 |x| of every negative finite value x (likewise), sorted
    log2_magnitude: np.ndarray  #: log2 x of the positive values x at which ...
    rel_precision: np.ndarray  #: ... (next value above x - x) / x, computed exactly, then rounded to float64
    log2_min: float  #: log2 of the smallest positive value
    log2_max: float  #: log2 of the largest finite value
    dynamic_range_binades: float  #: log2(max / min positive)
    exhaustive: bool  #: log2_pos and log2_neg hold every finite value
    layout: tuple  #: ((field name, its bits as a string), ...) of a sample pattern, MSB first
    values: np.ndarray = None  #: every finite value as float64 (exhaustive formats only, else None)

    @property
    def has_negative(self):
        return len(self.log2_neg) > 0

    @property
    def count(self):
        """Finite values drawn (all of them when exhaustive; 0 counted as one)."""
        return len(self.values) if self.values is not None else len(self.log2_pos) + len(self.log2_neg) + 1


def _log2(v):
    v = Fraction(v)
    return math.log2(v.numerator) - math.log2(v.denominator)


def sample_patterns(fmt, count=SAMPLES):
    """About ``count`` positive patterns of ``fmt`` (Python ints from 1 to the largest positive pattern less one,
    increasing): half evenly spaced, half drawn at random (a fixed seed: the same every run), so that no field
    stays constant across the sample (an even stride through x87's patterns keeps the explicit integer bit clear
    for thousands of samples in a row). Floats and posits order their positive patterns as their values."""
    import random
    top = (1 << (fmt.width - 1)) - 1  # the largest positive pattern (sign bit clear)
    even = {int(x) for x in np.linspace(1.0, float(top - 1), count // 2, dtype=np.float64)}
    rng = random.Random(fmt.width)
    drawn = {rng.randrange(1, top) for _ in range(count - count // 2)}
    return sorted((even | drawn) - {0})


def _exact(raw):
    """(finite mask, sig as Python ints, exp as Python ints) of a golden Raw."""
    return raw.cls == FINITE, [int(s) for s in raw.sig], [int(e) for e in raw.exp]


def _sampled(fmt):
    p = sample_patterns(fmt)
    bits = lambda ps: fmt.as_bits(np.array(ps, dtype=fmt.dtype if fmt.dtype != object else object))  # noqa: E731
    fa, sa, ea = _exact(fmt.decode_raw(bits(p)))
    fb, sb, eb = _exact(fmt.decode_raw(bits([x + 1 for x in p])))
    mag, rel, pos = [], [], []
    for k in range(len(p)):
        if not fa[k] or sa[k] == 0:
            continue
        pos.append(math.log2(sa[k]) + ea[k])
        if fb[k] and sb[k]:
            e = min(ea[k], eb[k])
            a, b = sa[k] << (ea[k] - e), sb[k] << (eb[k] - e)
            if b > a:  # the successor pattern is the next value up
                mag.append(pos[-1])
                rel.append((b - a) / a)  # int / int: correctly rounded
    lo = fmt.min_subnormal or fmt.min_normal
    log2_min, log2_max = _log2(lo), _log2(fmt.max)
    pos = np.unique(np.array(pos + [log2_min, log2_max]))
    return pos, np.array(mag), np.array(rel), log2_min, log2_max


def atlas_data(fmt):
    """The atlas of ``fmt`` (any golden format): see :class:`AtlasData`."""
    signed = getattr(fmt, "signed", True)
    if fmt.width <= EXHAUSTIVE_BITS:
        v = fmt.decode(fmt.all_bits())
        values = np.unique(v[np.isfinite(v)])
        pos = values[values > 0]
        # the difference of two neighbouring values of a <= 16-bit format is exact in float64: one rounding
        rel = np.diff(pos) / pos[:-1]
        log2_pos, log2_neg = np.log2(pos), np.log2(-values[values < 0])[::-1]
        return AtlasData(name=fmt.name, kind=fmt.kind, width=fmt.width, log2_pos=log2_pos, log2_neg=log2_neg,
                         log2_magnitude=log2_pos[:-1], rel_precision=rel, log2_min=float(log2_pos[0]),
                         log2_max=float(log2_pos[-1]), dynamic_range_binades=float(log2_pos[-1] - log2_pos[0]),
                         exhaustive=True, layout=bit_layout(fmt), values=values)
    pos, mag, rel, lo, hi = _sampled(fmt)
    return AtlasData(name=fmt.name, kind=fmt.kind, width=fmt.width, log2_pos=pos,
                     log2_neg=pos if signed else np.array([]), log2_magnitude=mag, rel_precision=rel,
                     log2_min=lo, log2_max=hi, dynamic_range_binades=hi - lo, exhaustive=False,
                     layout=bit_layout(fmt))


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
