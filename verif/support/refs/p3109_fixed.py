"""Independent references for issue 16's formats: IEEE P3109 and fixed-point integers (MXINT8, int1 ...).

Written from the definitions (the P3109 interim report's code tables, rounding with unbounded exponent then
saturation; two's complement times 2**-frac_bits), not from golden's code: values in exact rational arithmetic
from the bit fields, and rounding by search among the sorted representable values, bits and flags.
"""

import math
from fractions import Fraction

import numpy as np

from fmtforge.golden import NV, NX, OF, UF

NAN = "nan"


def p3109_value(k, p, signed, extended, code):
    """Exact value of a P3109 code: Fraction, +-inf as float, or NAN (report section 3: one NaN, no -0)."""
    code = int(code)
    if signed:
        sign, mag, mag_bits = code >> (k - 1), code & ((1 << (k - 1)) - 1), k - 1
        if code == 1 << (k - 1):
            return NAN
        if extended and mag == (1 << mag_bits) - 1:
            return -math.inf if sign else math.inf
    else:
        sign, mag, mag_bits = 0, code, k
        if code == (1 << k) - 1:
            return NAN
        if extended and code == (1 << k) - 2:
            return math.inf
    t = p - 1  # trailing significand bits
    w = mag_bits - t  # exponent bits
    bias = 2 ** (k - p - 1) if signed else 2 ** (k - p)  # the report's formulas, floor() unneeded for p < k
    e, frac = mag >> t, mag & ((1 << t) - 1)
    v = (Fraction(frac, 1 << t) + (e != 0)) * Fraction(2) ** (max(e, 1) - bias)
    assert w >= 1
    return -v if sign else v


def fixed_value(bits, signed, frac_bits, code):
    """Two's complement (or unsigned) ``code`` of ``bits`` bits, times 2**-frac_bits."""
    q = int(code)
    if signed and q >> (bits - 1):
        q -= 1 << bits
    return Fraction(q, 1 << frac_bits)


class Table:
    """The sorted finite values of a format of <= 16 bits (float64: exact here) and their codes."""

    def __init__(self, width, value_of):
        vals = [(value_of(c), c) for c in range(1 << width)]
        finite = sorted((float(v), c) for v, c in vals if v is not NAN and not (isinstance(v, float) and math.isinf(v)))
        self.values = np.array([v for v, _ in finite])
        self.codes = np.array([c for _, c in finite], dtype=np.int64)
        assert len(set(self.values.tolist())) == len(self.values), "one code per value (no -0)"
        self.nan = next((c for v, c in vals if v is NAN), None)
        self.pinf = next((c for v, c in vals if v == math.inf), None)
        self.ninf = next((c for v, c in vals if v == -math.inf), None)


def _round_in(values, x, mode):
    """Index into sorted ``values`` of x (within [values[0], values[-1]]) rounded by ``mode``; ties to even
    read from the neighbours' positions in the format (even: the value whose index parity is the tie's)."""
    hi = np.clip(np.searchsorted(values, x, side="left"), 0, len(values) - 1)
    lo = np.where(values[hi] == x, hi, np.maximum(hi - 1, 0))
    exact = values[lo] == x
    mid = (values[lo] + values[hi]) / 2
    return lo, hi, exact, mid


def encode_p3109(k, p, signed, extended, x, mode, saturate, even_code=None):
    """(codes, flags) of float64 ``x`` in the P3109 format, from the report's projection: round with unbounded
    exponent (ties to even on the significand), then SatFinite (``saturate``) or SatNone.

    Flags: NX when the result's value differs from x (finite results), UF when x is also tiny after rounding
    (IEEE 754 7.5: below the smallest normal even when rounded to p bits with an unbounded exponent), OF (with NX) on overflow, NV for a NaN made from a non-NaN (infinity into the finite
    domain) and for negative values below an unsigned format's range."""
    t = Table(k, lambda c: p3109_value(k, p, signed, extended, c))
    v = t.values
    pos = v[v >= 0]
    vmax = pos[-1]
    code_of = dict(zip(v.tolist(), t.codes.tolist()))
    f = p - 1
    nxt = vmax + 2.0 ** (math.floor(math.log2(vmax)) - f)  # the next value, were the exponent unbounded
    bias = 2 ** (k - p - 1) if signed else 2 ** (k - p)
    min_normal = 2.0 ** (1 - bias)
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    neg = np.signbit(x) & (x != 0)
    # magnitudes rounded among the non-negative values (the format is symmetric, or mirrored for unsigned)
    mags = np.concatenate([pos, [nxt]])
    inside = np.isfinite(x) & (ax <= nxt)
    lo, hi, exact, mid = _round_in(mags, np.where(inside, ax, 0.0), mode)
    lsb_even = (lo % 2 == 0) if even_code is None else even_code
    away = {"rne": np.where(ax == mid, ~lsb_even, ax > mid), "rmm": ax >= mid, "rtz": np.zeros(x.shape, bool),
            "rup": ~neg, "rdn": neg}[mode]
    idx = np.where(exact, lo, np.where(away, hi, lo))
    # beyond the next value every mode rounds past max (toward zero too: IEEE 754 overflow, then +-max)
    r = np.where(inside, mags[idx], np.where(np.isfinite(x), nxt, 0.0))
    inexact = np.isfinite(x) & (r != ax)
    over = np.isfinite(x) & (r > vmax)
    toward_zero = {"rtz": np.ones(x.shape, bool), "rdn": ~neg, "rup": neg}.get(mode, np.zeros(x.shape, bool))
    val = np.where(neg, -r, r)
    nan, inf = np.isnan(x), np.isinf(x)
    # finite results: the code of the rounded value (every value has one code: there is no -0)
    vals, cds = t.values, t.codes
    pos_in = np.clip(np.searchsorted(vals, np.where(over | nan | inf, 0.0, val)), 0, len(vals) - 1)
    codes = cds[pos_in]
    # tiny after rounding (IEEE 754 7.5): below min_normal, unless rounding to p bits with an unbounded exponent
    # reaches it (from the binade just below; p = 1 breaks a tie toward the even exponent field, there 0)
    n = ax / (min_normal * 2.0 ** -p)
    fl = np.floor(np.where(inside, n, 0.0))
    rem = np.where(inside, n, 0.0) - fl
    up = {"rne": (rem > 0.5) | ((rem == 0.5) & (fl % 2 == 1) & (p > 1)), "rmm": rem >= 0.5,
          "rtz": np.zeros(x.shape, bool), "rup": (rem > 0) & ~neg, "rdn": (rem > 0) & neg}[mode]
    tiny = (ax < min_normal) & ~((ax >= min_normal / 2) & (fl + up >= 2 ** p))
    flags = np.where(inexact, NX, 0) | np.where(inexact & tiny & ~over, UF, 0)
    maxed = np.where(neg, code_of[-vmax] if signed else 0, code_of[vmax])
    ovf = np.where(neg, t.ninf if signed and extended else t.nan, t.pinf if extended else t.nan)
    codes = np.where(over, np.where(saturate | toward_zero, maxed, ovf), codes)
    flags = np.where(over, OF | NX, flags)
    # infinite inputs: +-max (SatFinite), else themselves (extended) or NaN with NV (finite)
    codes = np.where(inf, maxed if saturate else ovf, codes)
    flags = np.where(inf, 0 if (saturate or extended) else NV, flags)
    if not signed:  # below an unsigned format's range: negative and not rounded to zero, or -inf
        below = neg & ~nan & (inf | (r != 0))
        clamp = saturate or mode in ("rtz", "rup")
        codes = np.where(below, np.where(inf, code_of[0.0] if saturate else t.nan, code_of[0.0] if clamp else t.nan),
                         codes)
        flags = np.where(below, NV, flags)
    codes = np.where(nan, t.nan, codes)
    flags = np.where(nan, 0, flags)
    return codes, flags


def encode_fixed(bits, signed, frac_bits, symmetric, x, mode):
    """(codes, flags) of float64 ``x`` as a (fixed-point) integer: q = x * 2**frac_bits rounded by numpy's own
    functions, then clamped to the range (NV when it had to; NaN -> 0 with NV), NX when inexact and in range."""
    x = np.asarray(x, dtype=np.float64)
    q = np.ldexp(x, frac_bits)
    with np.errstate(invalid="ignore"):
        ref = {"rne": np.rint, "rtz": np.trunc, "rdn": np.floor, "rup": np.ceil,
               "rmm": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5)}[mode](q)
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    lo = (-hi if symmetric else -(1 << (bits - 1))) if signed else 0
    nan = np.isnan(x)
    refc = np.where(nan, 0.0, ref)
    out_of_range = ~nan & ((refc < lo) | (refc > hi))
    val = np.clip(refc, lo, hi).astype(np.int64)
    flags = np.where(nan | out_of_range, NV, np.where(~nan & (ref != q), NX, 0))
    return np.where(val < 0, val + (1 << bits), val), flags
