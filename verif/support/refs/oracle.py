"""Independent reference models the golden models are checked against.

Written from the format definitions, not from golden's code: values from the bit fields in exact rational
arithmetic, and rounding by search among the sorted representable values (no shifting, no sticky bits).
"""

import math
from fractions import Fraction

import numpy as np

NAN = "nan"

#: QLoRA's NormalFloat levels as the paper's code publishes them (bitsandbytes' NF4 table, float32 values),
#: codes 0..15: written here, never read from golden.
NF4_PUBLISHED = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                 -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                 0.7229568362236023, 1.0]


def minifloat_value(fmt, bits):
    """Exact value of one pattern of a Minifloat: a Fraction, +-inf as float, or NAN."""
    e, m, bias = fmt.exp_bits, fmt.man_bits, fmt.bias
    bits = int(bits)
    sign = -1 if bits >> (e + m) & 1 else 1
    expf = bits >> m & ((1 << e) - 1)
    man = bits & ((1 << m) - 1)
    if fmt.explicit_integer:
        integer, frac, fb = man >> (m - 1), man & ((1 << (m - 1)) - 1), m - 1
        if integer != (expf != 0):
            return NAN  # unnormal, pseudo-denormal, pseudo-infinity or pseudo-NaN
    else:
        integer, frac, fb = int(expf != 0), man, m
    top = expf == (1 << e) - 1
    if fmt.specials == "ieee" and top:
        return NAN if frac else sign * math.inf
    if fmt.specials == "fn" and top and frac == (1 << fb) - 1:
        return NAN
    if fmt.specials == "fnuz" and sign < 0 and expf == 0 and man == 0:
        return NAN
    if expf == 0 and not fmt.subnormals:
        return Fraction(0) * sign
    scale = max(expf, 1) - bias
    return sign * (integer + Fraction(frac, 1 << fb)) * Fraction(2) ** scale


class TableRounder:
    """Rounds float64 values into a format of at most 16 bits by searching its sorted finite values.

    Every finite value of such a format is a float64, and so is the midpoint of two neighbours (one more
    bit), so every comparison here is exact.
    """

    def __init__(self, fmt, value_of, mids=None):
        pats = np.arange(1 << fmt.width)
        vals = [value_of(fmt, p) for p in pats]
        finite = [(float(v), int(p)) for p, v in zip(pats, vals)
                  if v is not NAN and not (isinstance(v, float) and math.isinf(v))]
        # one pattern per value: +0 over -0
        by_value = {}
        for v, p in sorted(finite, key=lambda t: (t[0], t[1])):
            by_value.setdefault(v, p)
        self.values = np.array(sorted(by_value))
        self.patterns = np.array([by_value[v] for v in self.values], dtype=np.int64)
        self.fmt = fmt
        self.mids = mids  # explicit rounding boundaries between neighbours (posits: bit-string midpoints)
        self.neg_zero = next((p for v, p in finite if v == 0 and p >> (fmt.width - 1)), None)

    def round(self, x, mode):
        """(pattern index lo, pattern index hi, choose_hi) for finite x within [min, max]."""
        v = self.values
        hi = np.clip(np.searchsorted(v, x, side="left"), 0, len(v) - 1)
        lo = np.where(v[hi] == x, hi, np.clip(hi - 1, 0, len(v) - 1))
        exact = v[lo] == x
        mid = (v[lo] + v[hi]) / 2 if self.mids is None else self.mids[lo]
        pick_hi = {
            "rtz": np.where(x > 0, False, True),
            "rdn": np.zeros(x.shape, bool),
            "rup": np.ones(x.shape, bool),
            "rne": np.where(x == mid, self.patterns[hi] % 2 == 0, x > mid),
            "rmm": np.where(x == mid, x > 0, x > mid),
        }[mode]
        pick_hi = np.where(exact, False, pick_hi)
        return np.where(pick_hi, hi, lo)

    def value_pattern(self, idx, x):
        """Patterns of chosen values; a zero keeps the sign of x when the format has -0."""
        p = self.patterns[idx].copy()
        if self.neg_zero is not None:
            p = np.where((self.values[idx] == 0) & np.signbit(x), self.neg_zero, p)
        return p


_ROUNDERS = {}


def rounder(fmt):
    if fmt not in _ROUNDERS:
        _ROUNDERS[fmt] = TableRounder(fmt, minifloat_value)
    return _ROUNDERS[fmt]


def encode_minifloat(fmt, x, mode="rne", saturate=False):
    """Patterns of float64 ``x`` in a Minifloat of <= 16 bits, from the rules as the docs state them:
    round among the representable values; beyond max, overflow if the unbounded rounding passes max
    (then +-max when saturating or rounding toward zero, else inf / NaN / 0x80 / +-max by policy)."""
    r = rounder(fmt)
    x = np.asarray(x, dtype=np.float64)
    w = fmt.width
    sign_bit = 1 << (w - 1)
    f = fmt.frac_bits
    all_e = (1 << fmt.exp_bits) - 1
    vmax = r.values[-1]
    max_pat = int(r.patterns[-1])
    ulp_max = 2.0 ** (math.floor(math.log2(vmax)) - f)
    nxt = vmax + ulp_max  # the value after max, were the exponent unbounded
    mid = (vmax + nxt) / 2
    neg = np.signbit(x)
    ax = np.abs(x)
    finite = np.isfinite(x)
    inside = finite & (ax <= vmax)
    idx = r.round(np.where(inside, x, 0.0), mode)
    out = r.value_pattern(idx, np.where(inside, x, 0.0)).astype(np.int64)
    out = np.where(inside & (r.values[idx] == 0) & neg & (r.neg_zero is not None), r.neg_zero or 0, out)
    # beyond max: does the rounding pass max?
    away = {"rne": (ax > mid) | ((ax == mid) & (max_pat % 2 == 1)), "rmm": ax >= mid,
            "rtz": np.zeros(x.shape, bool), "rup": ~neg, "rdn": neg}[mode]
    beyond = finite & (ax > vmax)
    over = beyond & away
    out = np.where(beyond & ~over, np.where(neg, max_pat | sign_bit, max_pat), out)
    if fmt.specials == "ieee":
        inf_pat = all_e << fmt.man_bits
        special = np.where(neg, inf_pat | sign_bit, inf_pat)
    elif fmt.specials == "fn":
        special = np.where(neg, (1 << w) - 1, (1 << (w - 1)) - 1)
    elif fmt.specials == "fnuz":
        special = np.full(x.shape, sign_bit)
    else:
        special = np.where(neg, max_pat | sign_bit, max_pat)
    maxed = np.where(neg, max_pat | sign_bit, max_pat)
    out = np.where(over, maxed if saturate else special, out)
    isinf = np.isinf(x)
    out = np.where(isinf, maxed if saturate else special, out)
    isnan = np.isnan(x)
    if fmt.specials == "ieee":
        frac64 = x.view(np.uint64) & np.uint64((1 << 52) - 1)
        payload = (frac64 >> np.uint64(52 - f)).astype(np.int64) | (1 << (f - 1))
        nan = np.where(neg, sign_bit, 0) | (all_e << fmt.man_bits) | payload
    elif fmt.specials == "fn":
        nan = np.where(neg, (1 << w) - 1, (1 << (w - 1)) - 1)
    elif fmt.specials == "fnuz":
        nan = np.full(x.shape, sign_bit)
    else:
        nan = np.zeros(x.shape, np.int64)
    return np.where(isnan, nan, out)


# -- posits: straight from the standard's definition, one value at a time in Python integers -----------------
def posit_value(n, es, bits):
    """Exact value of an n-bit posit pattern: Fraction, or NAN for NaR."""
    bits = int(bits) & ((1 << n) - 1)
    if bits == 0:
        return Fraction(0)
    if bits == 1 << (n - 1):
        return NAN
    neg = bits >> (n - 1)
    if neg:
        bits = (1 << n) - bits
    s = format(bits, f"0{n}b")[1:]  # the n-1 bits after the sign, as text
    r0 = s[0]
    run = len(s) - len(s.lstrip(r0))
    k = run - 1 if r0 == "1" else -run
    rest = s[run + 1:]
    e_bits = (rest[:es] + "0" * es)[:es]
    e = int(e_bits, 2) if es else 0
    f_bits = rest[es:]
    frac = Fraction(int(f_bits, 2), 1 << len(f_bits)) if f_bits else Fraction(0)
    v = Fraction(2) ** (k * (1 << es) + e) * (1 + frac)
    return -v if neg else v


def posit_encode(n, es, x, mode="rne"):
    """Pattern of Fraction x in posit(n, es): the infinite bit string rounded to n bits (ties to the even
    pattern), never to 0 or NaR."""
    if x == 0:
        return 0
    neg = x < 0
    a = -x if neg else x
    scale = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** scale > a:
        scale -= 1
    maxscale = (n - 2) << es
    if scale >= maxscale:
        body = (1 << (n - 1)) - 1
    elif scale < -maxscale:
        body = 1
    else:
        k, e = scale >> es, scale & ((1 << es) - 1)
        regime = "1" * (k + 1) + "0" if k >= 0 else "0" * (-k) + "1"
        frac = a / Fraction(2) ** scale - 1  # in [0, 1)
        extra = n + 80
        fnum = frac * (1 << extra)
        fint = fnum.numerator // fnum.denominator
        sticky_tail = fnum != fint
        string = regime + (format(e, f"0{es}b") if es else "") + format(fint, f"0{extra}b")
        keep, rest = string[:n - 1], string[n - 1:]
        body = int(keep, 2)
        rbit = rest[0] == "1"
        sticky = "1" in rest[1:] or sticky_tail
        inexact = rbit or sticky
        up = {"rne": rbit and (sticky or body & 1), "rtz": False, "rmm": rbit,
              "rup": inexact and not neg, "rdn": inexact and neg}[mode]
        body += up
    return ((1 << n) - body) if neg else body


def posit_rounder(n, es):
    """Rounding into posit(n, es) by search: neighbours among the sorted values; the rounding boundary between
    neighbours p and p+1 (in signed-integer order) is the value of posit(n+1) pattern 2p+1."""
    class _P:
        width = n
    fmt = _P()
    r = TableRounder(fmt, lambda f, b: posit_value(n, es, b))
    wide = [posit_value(n + 1, es, (2 * int(p) + 1) & ((1 << (n + 1)) - 1)) for p in r.patterns[:-1]]
    r.mids = np.array([float(w) for w in wide] + [np.inf])
    return r


def posit_encode_many(r, n, x, mode):
    """Vectorised posit rounding of float64 x with the standard's clamps (never 0, never NaR)."""
    x = np.asarray(x, dtype=np.float64)
    v = r.values
    minpos = v[v > 0].min()
    maxpos = v.max()
    y = np.clip(x, -maxpos, maxpos)
    y = np.where((y > 0) & (y < minpos), minpos, np.where((y < 0) & (y > -minpos), -minpos, y))
    idx = r.round(y, mode)
    out = r.patterns[idx]
    out = np.where(np.isnan(x) | np.isinf(x), 1 << (n - 1), out)
    return out
