"""Test vectors: every pattern of small formats, directed corners from the formats' fields, seeded random."""

import os

import numpy as np

from fmtforge import golden
from fmtforge.golden import Minifloat

DEFAULT_SEED = 20261125


def seed():
    """The random seed: FMTFORGE_SEED from the environment, else a fixed default (printed by every test)."""
    return int(os.environ.get("FMTFORGE_SEED", DEFAULT_SEED))


def exhaustive(fmt):
    return np.arange(1 << fmt.width, dtype=np.uint64)


def random_width(width, n, rng):
    """``n`` uniformly random ``width``-bit integers (uint64, or Python ints beyond 64 bits)."""
    if width <= 64:
        hi = np.uint64((1 << width) - 1)
        return rng.integers(0, 1 << 64, n, dtype=np.uint64, endpoint=False) & hi
    words = [rng.integers(0, 1 << 64, n, dtype=np.uint64) for _ in range((width + 63) // 64)]
    out = np.zeros(n, dtype=object)
    for k, w in enumerate(words):
        out = out + (w.astype(object) << (64 * k))
    return out & ((1 << width) - 1)


def random_bits(fmt, n, rng):
    """``n`` uniformly random patterns of ``fmt``."""
    return random_width(fmt.width, n, rng)


def float_corners(src, dst=None):
    """Directed patterns of float ``src``, built from its fields: every exponent class (zero/subnormal,
    smallest normals, around 1, around ``dst``'s range limits, largest finite, all ones) crossed with
    mantissas around ``dst``'s rounding point (ties with an even and an odd kept part, one below and one
    above a tie, all ones: carries into the exponent), with both signs."""
    if not isinstance(src, Minifloat):
        raise TypeError("float_corners needs a Minifloat source")
    e, f = src.exp_bits, src.frac_bits
    all_e = (1 << e) - 1
    exps = {0, 1, 2, src.bias - 1, src.bias, src.bias + 1, all_e - 2, all_e - 1, all_e}
    d = dst if isinstance(dst, Minifloat) else None
    if d is not None:
        for scale in (d.emax, d.emax + 1, d.emin, d.emin - 1, d.emin - d.frac_bits - 1, d.emin - d.frac_bits,
                      d.emin - d.frac_bits - 2):
            exps.add(scale + src.bias)
    exps = sorted(x for x in exps if 0 <= x <= all_e)
    mans = {0, 1, 2, 3, (1 << f) - 1, (1 << f) - 2, 1 << (f - 1) if f else 0}
    if d is not None:
        for drop in range(max(f - d.frac_bits - 8, 0), f + 1):
            # the tie at `drop` discarded bits, below and above it, with both parities of the kept part
            if drop == 0:
                continue
            half = 1 << (drop - 1)
            for kept in (0, 1, 2, 3, ((1 << f) - 1) >> drop, (((1 << f) - 1) >> drop) - 1):
                if kept < 0:
                    continue
                base = (kept << drop) & ((1 << f) - 1)
                mans.update({base | half, base | (half - 1), base | (half + 1) if drop > 1 else base,
                             base | ((1 << drop) - 1), base})
    mans = sorted(m & ((1 << f) - 1) for m in mans)
    pats = []
    top = f + e
    for s in (0, 1):
        for x in exps:
            for m in mans:
                if src.explicit_integer:
                    m |= (x != 0) << f
                pats.append((s << (top + src.explicit_integer)) | (x << src.man_bits) | m)
    pats = sorted(set(pats))
    if src.width > 64:
        return np.array(pats, dtype=object)
    return np.array(pats, dtype=np.uint64)


def describe(fmt, bits):
    """A pattern in hex with the value it stands for: '0x7f80 (+inf)'."""
    fmt = golden.lookup(fmt)
    digits = (fmt.width + 3) // 4
    v = fmt.decode(np.array([bits], dtype=fmt.dtype))[0]
    return f"0x{int(bits):0{digits}x} ({float(v)!r})"


def random_float_bits(src, dsts, n, rng):
    """Half uniformly random patterns, half with exponents where the destinations round: from below their
    smallest subnormal to above their largest finite (so overflow, underflow and subnormal rounding are
    hit often, not only NaN-or-huge)."""
    uni = random_bits(src, n - n // 2, rng)
    lo, hi = [], []
    for d in dsts:
        if isinstance(d, Minifloat):
            lo.append(d.emin - d.frac_bits - 3)
            hi.append(d.emax + 2)
        elif d.kind == "int":
            lo.append(-3)
            hi.append(d.bits + 1)
        else:
            lo.append(-10)
            hi.append(10)
    all_e = (1 << src.exp_bits) - 1
    e_lo = min(max(min(lo) + src.bias, 0), all_e)
    e_hi = min(max(max(hi) + src.bias, 0), all_e)
    k = n // 2
    exps = rng.integers(e_lo, e_hi + 1, k)
    f = src.frac_bits
    mans = random_width(max(f, 1), k, rng)
    sgn = rng.integers(0, 2, k)
    pats = []
    for s, e, m in zip(sgn, exps, mans):
        m = int(m) & ((1 << f) - 1)
        if src.explicit_integer:
            m |= (int(e) != 0) << f
        pats.append((int(s) << (src.width - 1)) | (int(e) << src.man_bits) | m)
    focus = np.array(pats, dtype=object if src.width > 64 else np.uint64)
    return np.concatenate([uni.astype(focus.dtype), focus])


def int_corners(fmt):
    """Integers around every power of two (+-1), zero, and the range's ends."""
    vals = {0, 1, 2, 3, fmt.min_int, fmt.max_int, fmt.min_int + 1, fmt.max_int - 1}
    for k in range(fmt.bits):
        for d in (-1, 0, 1):
            vals.update({(1 << k) + d, -(1 << k) + d, (3 << k) + d, -(3 << k) + d, (5 << k) + d, -(5 << k) + d})
    vals = sorted(v for v in vals if fmt.min_int <= v <= fmt.max_int)
    return np.array([v & ((1 << fmt.bits) - 1) for v in vals], dtype=np.uint64)


def posit_corners(fmt):
    """Posit patterns around every regime length: the ends of each run, with exponent and fraction all
    zeros, all ones and one bit from either end; +-minpos, +-maxpos, zero and NaR; both signs."""
    n = fmt.n
    pats = {0, 1 << (n - 1), 1, (1 << (n - 1)) - 1}
    for run in range(1, n):
        for bit in (0, 1):
            regime = ((1 << run) - 1) if bit else 0
            head = (regime << 1) | (1 - bit) if run < n - 1 else regime
            used = min(run + 1, n - 1)
            left = n - 1 - used
            for tail in {0, 1, (1 << left) - 1, 1 << max(left - 1, 0), (1 << left) - 2} if left else {0}:
                body = (head << left) | (tail & ((1 << left) - 1) if left else 0)
                body &= (1 << (n - 1)) - 1
                pats.update({body, (-body) & ((1 << n) - 1)})
    return np.array(sorted(pats), dtype=np.uint64)
