"""Operand and addend codes for dot-product streams at batch-lane scale (10**6 dot products), vectorised.

A dot product is drawn in one *style* (its products share it), so a stream mixes dot products that each stress
one thing: uniform patterns (specials at their natural rate), finite values, a narrow band of scales (sums that
interact: carries, ties, partial cancellation), specials-heavy (NaN / inf / NaR, zeros, the extremes in every
lane), exact cancellation (x*y terms and their negations, shuffled, with a zero addend: an exact zero sum),
huge with tiny (max*max, min*min and -max*max mixed: overflow, and tiny terms beside huge ones), and
all-huge sums (overflow of a narrow result). The values come from each format's own decode of every pattern
(``golden``'s format objects, <= 16 bits), never from the unit under test.
"""

import functools

import numpy as np

from fmtforge import golden
from fmtforge.golden.formats.raw import FINITE, bit_length

__all__ = ["STYLES", "Codes", "addends", "beats_per_dot", "codes", "operands", "posit_addends"]

#: Styles of a dot product and their probabilities in a random stream.
STYLES = ("uniform", "finite", "band", "specials", "cancel", "huge-tiny", "all-huge")
STYLE_P = (0.15, 0.2, 0.25, 0.1, 0.12, 0.1, 0.08)


class Codes:
    """Every pattern of a format of <= 16 bits sorted into what the generators draw from.

    Members: ``fmt``; ``finite`` (every finite code); ``nonzero`` (finite nonzero codes sorted by ``msb``, the
    leading-bit position of the value) and ``msb``; ``negatable`` (finite codes whose negation is a code);
    ``neg`` (code -> code of the negated value, -1 where there is none); ``specials`` (NaN, inf, NaR, the zeros
    and the extremes +-max, +-min); ``zeros``; ``max``, ``min`` (codes of the largest / smallest positive
    values); ``values`` (float64 of every code: every format here decodes exactly into float64)."""

    def __init__(self, fmt):
        self.fmt = fmt
        all_codes = np.arange(1 << fmt.width, dtype=np.uint64)
        raw = fmt.decode_raw(all_codes)
        self.values = np.asarray(fmt.decode(all_codes), dtype=np.float64)
        fin = raw.cls == FINITE
        nz = fin & (raw.sig != 0)
        msb = (raw.exp + bit_length(raw.sig) - 1).astype(np.int64)
        order = np.argsort(msb[nz], kind="stable")
        self.finite = all_codes[fin]
        self.nonzero, self.msb = all_codes[nz][order], msb[nz][order]
        self.zeros = all_codes[fin & (raw.sig == 0)]
        pos = nz & (self.values > 0)
        self.max = int(all_codes[pos][np.argmax(self.values[pos])])
        self.min = int(all_codes[pos][np.argmin(self.values[pos])])
        # the negation of each finite value, by value (zeros: the other zero if there is one)
        neg = np.full(1 << fmt.width, -1, dtype=np.int64)
        fv = self.values[nz]
        by_value = np.argsort(fv)
        want = -fv
        at = np.clip(np.searchsorted(fv[by_value], want), 0, len(fv) - 1)
        hit = fv[by_value][at] == want
        neg[all_codes[nz][hit]] = all_codes[nz][by_value[at[hit]]].astype(np.int64)
        zs = [int(z) for z in self.zeros]
        for z in zs:
            neg[z] = next((y for y in zs if y != z), z)
        self.neg = neg
        self.negatable = all_codes[fin & (neg >= 0)]
        extremes = [self.max, self.min] + [int(x) for x in (neg[self.max], neg[self.min]) if x >= 0]
        self.specials = np.unique(np.concatenate([all_codes[~fin], self.zeros,
                                                  np.array(extremes, dtype=np.uint64)]))
        self.msb_range = (int(self.msb[0]), int(self.msb[-1]))

    def band(self, rng, lo_msb, n, width=3):
        """``n`` nonzero codes with leading bit in ``lo_msb .. lo_msb + width - 1`` (per element), random sign."""
        m0 = self.msb_range[0]
        edges = np.searchsorted(self.msb, np.arange(m0, self.msb_range[1] + width + 2), side="left")
        lo = edges[np.clip(lo_msb - m0, 0, len(edges) - 1)]
        hi = edges[np.clip(lo_msb + width - m0, 0, len(edges) - 1)]
        empty = hi <= lo
        lo, hi = np.where(empty, 0, lo), np.where(empty, len(self.msb), hi)
        pick = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
        return self.nonzero[np.minimum(pick, len(self.nonzero) - 1)]


@functools.lru_cache(maxsize=None)
def codes(fmt):
    """The :class:`Codes` of ``fmt`` (a golden format or name), made once."""
    return Codes(golden.lookup(fmt))


#: Dot-product lengths in beats beyond 4, drawn from a few values: the golden model of the beat and window modes
#: loops over beats once per distinct length (about 300 loop steps a stream instead of about 2000 for 1..64).
MID_BEATS = (5, 6, 7, 8, 10, 12, 16)
LONG_BEATS = (20, 24, 32, 40, 48, 64)


def beats_per_dot(rng, n, max_beats):
    """``n`` dot-product lengths in beats: 70% 1..4, 25% 5..16, 5% 20..64 (at most ``max_beats``)."""
    u = rng.random(n)
    short = rng.integers(1, 5, n)
    mid = np.asarray(MID_BEATS)[rng.integers(0, len(MID_BEATS), n)]
    long_ = np.asarray(LONG_BEATS)[rng.integers(0, len(LONG_BEATS), n)]
    k = np.where(u < 0.7, short, np.where(u < 0.95, mid, long_))
    return np.minimum(k, max_beats).astype(np.int64)


def _pick(rng, pool, n):
    return np.asarray(pool, dtype=np.uint64)[rng.integers(0, len(pool), n)]


def operands(rng, ca, cb, row, pos, k, style):
    """Codes ``(a, b)`` of every product: ``row`` (the dot product of each product), ``pos`` (its position in
    the dot product), ``k`` (products of each dot product), ``style`` (index into :data:`STYLES` per dot)."""
    P = len(row)
    s = style[row]
    a, b = np.zeros(P, np.uint64), np.zeros(P, np.uint64)
    for st in range(len(STYLES)):
        at = np.flatnonzero(s == st)  # a dot product's products stay contiguous in ``at``
        if at.size:
            a[at], b[at] = _STYLE_FN[st](rng, ca, cb, row[at], pos[at], k)
    return a, b


def _uniform(rng, ca, cb, row, pos, k):
    n = len(row)
    return (rng.integers(0, 1 << ca.fmt.width, n, dtype=np.uint64),
            rng.integers(0, 1 << cb.fmt.width, n, dtype=np.uint64))


def _finite(rng, ca, cb, row, pos, k):
    return _pick(rng, ca.finite, len(row)), _pick(rng, cb.finite, len(row))


def _band_lo(rng, c, row, k):
    """A random leading-bit position per dot product, spread to its products."""
    return rng.integers(c.msb_range[0], c.msb_range[1] + 1, len(k))[row]


def _band(rng, ca, cb, row, pos, k):
    n = len(row)
    return ca.band(rng, _band_lo(rng, ca, row, k), n), cb.band(rng, _band_lo(rng, cb, row, k), n)


def _specials(rng, ca, cb, row, pos, k):
    n = len(row)
    fa, fb = _finite(rng, ca, cb, row, pos, k)
    a = np.where(rng.random(n) < 0.35, _pick(rng, ca.specials, n), fa)
    b = np.where(rng.random(n) < 0.35, _pick(rng, cb.specials, n), fb)
    return a, b


def _cancel(rng, ca, cb, row, pos, k):
    """The second half of a dot product repeats the first with a negated (an odd one out is +0 * b): the
    products sum to exactly zero."""
    n = len(row)
    kk = k[row]
    half = kk // 2
    second = (pos >= half) & (pos < 2 * half)
    first_a = np.where(rng.random(n) < 0.5, _pick(rng, ca.negatable, n), ca.band(rng, _band_lo(rng, ca, row, k), n))
    first_a = np.where(ca.neg[first_a.astype(np.int64)] >= 0, first_a, np.uint64(ca.zeros[0]))
    first_b = np.where(rng.random(n) < 0.5, _pick(rng, cb.finite, n), cb.band(rng, _band_lo(rng, cb, row, k), n))
    src = np.where(second, np.arange(n) - half, np.arange(n))
    a = np.where(second, ca.neg[first_a[src].astype(np.int64)].astype(np.uint64), first_a)
    b = first_b[src]
    odd = (pos == kk - 1) & (kk % 2 == 1)
    return np.where(odd, np.uint64(ca.zeros[0]), a), b


def _huge_tiny(rng, ca, cb, row, pos, k):
    """max*max, min*min, -max*max (max*max where the format has no -max) and finite products, mixed."""
    n = len(row)
    fa, fb = _finite(rng, ca, cb, row, pos, k)
    pick = rng.integers(0, 4, n)
    u = np.uint64
    nmax = u(ca.neg[ca.max]) if ca.neg[ca.max] >= 0 else u(ca.max)
    a = np.select([pick == 0, pick == 1, pick == 2], [u(ca.max), u(ca.min), nmax], fa)
    b = np.select([pick == 0, pick == 1, pick == 2], [u(cb.max), u(cb.min), u(cb.max)], fb)
    return a, b


def _all_huge(rng, ca, cb, row, pos, k):
    """The top band of each format; one sign per dot product but for 5% of the products."""
    n = len(row)
    a = ca.band(rng, np.full(n, ca.msb_range[1] - 1), n)
    b = cb.band(rng, np.full(n, cb.msb_range[1] - 1), n)
    a = _sign_to(ca, a, (rng.random(len(k)) < 0.5)[row] ^ (rng.random(n) < 0.05))
    return a, _sign_to(cb, b, np.zeros(n, bool))


_STYLE_FN = (_uniform, _finite, _band, _specials, _cancel, _huge_tiny, _all_huge)


def _sign_to(c, x, negative):
    """Codes ``x`` (nonzero finite) made negative where ``negative``, positive elsewhere (where the format
    allows: an unsigned format stays positive)."""
    v = c.values[x.astype(np.int64)]
    flip = (v < 0) != negative
    n = c.neg[x.astype(np.int64)]
    return np.where(flip & (n >= 0), n.astype(np.uint64), x)


def _ieee(fmt, sign, biased, mant):
    u = np.uint64
    return ((sign.astype(u) << u(fmt.width - 1)) | (biased.astype(u) << u(fmt.frac_bits)) | mant.astype(u))


def addends(rng, fc, style, center):
    """Addend codes of the IEEE-style ``fc`` (fp32, fp16, bf16), one per dot product: +0, -0, uniform
    patterns, values near ``2**center`` (the products' scale), specials (+-inf, quiet and signalling NaN,
    +-max, +-min) and one; a zero for every cancellation dot product (its sum is then exactly zero)."""
    n = len(style)
    E, F = fc.exp_bits, fc.frac_bits
    sign = rng.integers(0, 2, n).astype(np.uint64)
    top = (1 << E) - 1
    near_e = np.clip(fc.bias + center + rng.integers(-12, 13, n), 1, top - 1)
    near = _ieee(fc, sign, near_e, rng.integers(0, 1 << F, n, dtype=np.uint64))
    all_e = np.uint64(top << F)
    s_bit = np.uint64(1 << (fc.width - 1))
    spec = np.array([all_e, all_e | s_bit, all_e | np.uint64(1 << (F - 1)), all_e | np.uint64(1),
                     (np.uint64(top - 1) << np.uint64(F)) | np.uint64((1 << F) - 1), np.uint64(1), s_bit | np.uint64(1),
                     ((np.uint64(top - 1) << np.uint64(F)) | np.uint64((1 << F) - 1)) | s_bit], dtype=np.uint64)
    kind = rng.choice(6, n, p=(0.1, 0.1, 0.15, 0.5, 0.1, 0.05))
    rand = rng.integers(0, 1 << fc.width, n, dtype=np.uint64)
    one = np.uint64(fc.bias << F)
    c = np.select([kind == 0, kind == 1, kind == 2, kind == 3, kind == 4],
                  [np.uint64(0), s_bit, rand, near, _pick(rng, spec, n)], one)
    cancel = style == STYLES.index("cancel")
    return np.where(cancel, sign * s_bit, c).astype(np.uint64)


def posit_addends(rng, fmt, style, center):
    """Addend codes of posit ``fmt``: 0, NaR, uniform patterns, values near ``2**center``, +-maxpos, +-minpos;
    0 for every cancellation dot product."""
    n = len(style)
    near = np.ldexp(rng.uniform(1, 2, n) * np.where(rng.random(n) < 0.5, -1, 1), center + rng.integers(-12, 13, n))
    near = np.asarray(fmt.encode(near), dtype=np.uint64)
    mask = (1 << fmt.width) - 1
    nar, maxp, minp = 1 << (fmt.width - 1), (1 << (fmt.width - 1)) - 1, 1
    spec = np.array([nar, maxp, minp, (-maxp) & mask, (-minp) & mask], dtype=np.uint64)
    kind = rng.choice(4, n, p=(0.15, 0.2, 0.5, 0.15))
    rand = rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)
    c = np.select([kind == 0, kind == 1, kind == 2], [np.uint64(0), rand, near], _pick(rng, spec, n))
    return np.where(style == STYLES.index("cancel"), np.uint64(0), c).astype(np.uint64)
