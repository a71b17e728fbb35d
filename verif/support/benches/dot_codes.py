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
        lo = np.searchsorted(self.msb, lo_msb, side="left")
        hi = np.searchsorted(self.msb, lo_msb + width, side="left")
        empty = hi <= lo
        lo, hi = np.where(empty, 0, lo), np.where(empty, len(self.msb), hi)
        pick = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
        return self.nonzero[np.minimum(pick, len(self.nonzero) - 1)]


@functools.lru_cache(maxsize=None)
def codes(fmt):
    """The :class:`Codes` of ``fmt`` (a golden format or name), made once."""
    return Codes(golden.lookup(fmt))


def beats_per_dot(rng, n, max_beats):
    """``n`` dot-product lengths in beats: mostly 1..4, some 5..16, a few 17..64 (at most ``max_beats``)."""
    u = rng.random(n)
    short = rng.integers(1, 5, n)
    mid = rng.integers(5, 17, n)
    long_ = rng.integers(17, 65, n)
    k = np.where(u < 0.7, short, np.where(u < 0.95, mid, long_))
    return np.minimum(k, max_beats).astype(np.int64)


def _pick(rng, pool, n):
    return np.asarray(pool, dtype=np.uint64)[rng.integers(0, len(pool), n)]


def operands(rng, ca, cb, row, pos, k, style):
    """Codes ``(a, b)`` of every product: ``row`` (the dot product of each product), ``pos`` (its position in
    the dot product), ``k`` (products of each dot product), ``style`` (index into :data:`STYLES` per dot)."""
    P = len(row)
    s = style[row]
    wa, wb = ca.fmt.width, cb.fmt.width
    lo_a = rng.integers(ca.msb_range[0], ca.msb_range[1] + 1, len(k))[row]
    lo_b = rng.integers(cb.msb_range[0], cb.msb_range[1] + 1, len(k))[row]
    a = rng.integers(0, 1 << wa, P, dtype=np.uint64)  # uniform (style 0)
    b = rng.integers(0, 1 << wb, P, dtype=np.uint64)
    fa, fb = _pick(rng, ca.finite, P), _pick(rng, cb.finite, P)
    a, b = np.where(s == 1, fa, a), np.where(s == 1, fb, b)
    ba, bb = ca.band(rng, lo_a, P), cb.band(rng, lo_b, P)
    a, b = np.where(s == 2, ba, a), np.where(s == 2, bb, b)
    sp = rng.random(P) < 0.35
    a = np.where((s == 3) & sp, _pick(rng, ca.specials, P), np.where(s == 3, fa, a))
    sp = rng.random(P) < 0.35
    b = np.where((s == 3) & sp, _pick(rng, cb.specials, P), np.where(s == 3, fb, b))
    # exact cancellation: the second half of a dot product repeats the first with a negated
    half = k[row] // 2
    second = (s == 4) & (pos >= half) & (pos < 2 * half)
    first_a = np.where(rng.random(P) < 0.5, _pick(rng, ca.negatable, P), ca.band(rng, lo_a, P))
    first_a = np.where(ca.neg[first_a.astype(np.int64)] >= 0, first_a, np.uint64(ca.zeros[0]))
    first_b = np.where(rng.random(P) < 0.5, fb, bb)
    src = np.where(second, np.arange(P) - half, np.arange(P))
    cancel_a = np.where(second, ca.neg[first_a[src].astype(np.int64)].astype(np.uint64), first_a)
    cancel_b = first_b[src]
    odd = (s == 4) & (pos == k[row] - 1) & (k[row] % 2 == 1)
    cancel_a = np.where(odd, np.uint64(ca.zeros[0]), cancel_a)
    a, b = np.where(s == 4, cancel_a, a), np.where(s == 4, cancel_b, b)
    # huge and tiny: max*max, min*min, -max*max, finite, in every mix
    pick = rng.integers(0, 4, P)
    u = np.uint64
    ht_a = np.select([pick == 0, pick == 1, pick == 2], [u(ca.max), u(ca.min), u(max(int(ca.neg[ca.max]), 0))], fa)
    ht_b = np.select([pick == 0, pick == 1, pick == 2], [u(cb.max), u(cb.min), u(cb.max)], fb)
    ht_a = np.where((pick == 2) & (ca.neg[ca.max] < 0), np.uint64(ca.max), ht_a)
    a, b = np.where(s == 5, ht_a, a), np.where(s == 5, ht_b, b)
    # all huge: the top band of each format, one sign per dot product mostly
    top_a, top_b = ca.band(rng, np.full(P, ca.msb_range[1] - 1), P), cb.band(rng, np.full(P, cb.msb_range[1] - 1), P)
    top_a = _sign_to(ca, top_a, (rng.random(len(k)) < 0.5)[row] ^ (rng.random(P) < 0.05))
    top_b = _sign_to(cb, top_b, np.zeros(P, bool))
    a, b = np.where(s == 6, top_a, a), np.where(s == 6, top_b, b)
    return a.astype(np.uint64), b.astype(np.uint64)


def _sign_to(c, x, negative):
    """Codes ``x`` (nonzero finite) made negative where ``negative``, positive elsewhere (where the format
    allows: an unsigned format stays positive)."""
    v = c.values[x.astype(np.int64)]
    flip = (v < 0) != negative
    n = c.neg[x.astype(np.int64)]
    return np.where(flip & (n >= 0), n.astype(np.uint64), x)


def _ieee(fmt, sign, biased, mant):
    return ((sign.astype(np.uint64) << np.uint64(fmt.width - 1)) | (biased.astype(np.uint64) << np.uint64(fmt.frac_bits))
            | mant.astype(np.uint64))


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
