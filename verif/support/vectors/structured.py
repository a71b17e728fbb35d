"""Structured vector sets for wide float sources, and strided sweeps of a whole pattern space.

Random vectors rarely hit what breaks wide zero, NaN and sticky detectors: a mutation study of fp32 converters
found every surviving mutant exposed only by sparse patterns (exponents 4, 8, 16, ... with a zero mantissa;
mantissas with one or two bits set near a field's end). :func:`structured` crosses every sign and exponent
field value with a mantissa set built for that: sparse and dense patterns, runs from either end, and the ties of
the destination's rounding with their neighbours.
"""

from itertools import combinations

import numpy as np

from fmtforge import golden
from fmtforge.golden import Minifloat

__all__ = ["exponent_corners", "exponent_window", "mantissas", "rounding_drops", "strided", "structured", "ties"]


def rounding_drops(frac_bits, dst=None):
    """How many fraction bits a conversion into ``dst`` can discard (the tie sits at bit ``drop - 1``).

    A float destination drops ``frac_bits - dst.frac_bits`` bits from normal results and more from subnormal
    ones; an integer destination drops more the smaller the value; a posit keeps fewer fraction bits the longer
    its regime. Without a destination (or an unknown kind), every position.
    """
    f = frac_bits
    dst = golden.lookup(dst) if dst is not None else None
    if isinstance(dst, Minifloat):
        kept = dst.frac_bits
    elif dst is not None and dst.kind == "int":
        kept = dst.bits  # a value below 2**bits keeps at most that many bits above the binary point
    elif dst is not None and dst.kind == "posit":
        kept = max(dst.n - 3 - dst.es, 0)  # the most fraction bits a posit holds (regime of two bits)
    else:
        kept = 0
    return range(max(f - kept, 1), f + 1)


def ties(frac_bits, drops):
    """Mantissas at the rounding tie of each ``drop`` in ``drops``, one below and one above it, with the kept
    part even and odd (0, 1, 2, 3) and all ones or all ones less one (where rounding up carries out)."""
    f = frac_bits
    out = set()
    for drop in drops:
        if not 1 <= drop <= f:
            continue
        half = 1 << (drop - 1)
        kmax = ((1 << f) - 1) >> drop
        for kept in {0, 1, 2, 3, kmax, kmax - 1}:
            if not 0 <= kept <= kmax:
                continue
            base = kept << drop
            out.update({base | half, base | (half - 1)})
            if drop > 1:  # with drop == 1, tie + 1 would change the kept part
                out.add(base | half | 1)
    return out


def mantissas(frac_bits, dst=None):
    """The structured set of ``frac_bits``-bit mantissas: every pattern with at most two bits set, runs of ones
    from either end, the complements of all these, and the ties of ``dst``'s rounding (:func:`ties` at
    :func:`rounding_drops`). A Python set of ints."""
    f = frac_bits
    full = (1 << f) - 1
    bits = [1 << k for k in range(f)]
    sparse = {0, *bits, *(a | b for a, b in combinations(bits, 2))}
    runs = {(1 << k) - 1 for k in range(1, f + 1)} | {full ^ ((1 << k) - 1) for k in range(f)}
    base = sparse | runs
    return base | {full ^ m for m in base} | ties(f, rounding_drops(f, dst))


def _dst_range(src, dst):
    """(lowest, highest) unbiased exponent of ``src`` values that ``dst`` rounds rather than flushes/overflows."""
    if isinstance(dst, Minifloat):
        return dst.emin - dst.frac_bits, dst.emax
    if dst.kind == "int":
        return -1, dst.bits
    if dst.kind == "posit":
        return -((dst.n - 2) << dst.es), (dst.n - 2) << dst.es
    return -src.bias, (1 << src.exp_bits) - 1 - src.bias


def exponent_corners(src, dst):
    """A few dozen exponent field values of float ``src``: 0..3, the all-ones field and its neighbours, around 1,
    every power of two and its complement (sparse and dense fields), and ``dst``'s limits +-1."""
    src, dst = golden.lookup(src), golden.lookup(dst)
    all_e = (1 << src.exp_bits) - 1
    lo, hi = _dst_range(src, dst)
    fixed = {0, 1, 2, 3, all_e - 2, all_e - 1, all_e, src.bias - 1, src.bias, src.bias + 1}
    fixed |= {1 << k for k in range(src.exp_bits)} | {all_e ^ (1 << k) for k in range(src.exp_bits)}
    fixed |= {src.bias + e + d for e in (lo, hi) for d in (-2, -1, 0, 1, 2)}
    return sorted(x for x in fixed if 0 <= x <= all_e)


def exponent_window(src, dst, margin=3):
    """:func:`exponent_corners` and every exponent field value of float ``src`` where a conversion into ``dst``
    rounds: from below ``dst``'s smallest subnormal to above its largest finite, ``margin`` either side."""
    src, dst = golden.lookup(src), golden.lookup(dst)
    all_e = (1 << src.exp_bits) - 1
    lo, hi = _dst_range(src, dst)
    window = range(max(lo - margin + src.bias, 0), min(hi + margin + src.bias, all_e) + 1)
    return sorted(set(window) | set(exponent_corners(src, dst)))


def structured(src, dst=None, exponents=None, signs=(0, 1), mantissa_set=None):
    """Every sign x every exponent field value (or ``exponents``) x :func:`mantissas` of float ``src`` (or the
    fraction patterns ``mantissa_set``: the union over many destinations when one set serves them all).

    For a format with an explicit integer bit (x87) the integer bit is set for nonzero exponents (canonical
    patterns); for every exponent, the mantissas zero, one and all ones also come with the integer bit flipped
    (unnormals, pseudo-denormals, pseudo-infinities and pseudo-NaNs).

    Returns sorted unique patterns: uint64, or an object array of Python ints beyond 64 bits.
    """
    src = golden.lookup(src)
    if not isinstance(src, Minifloat):
        raise TypeError(f"structured needs a float source, not {src.name} ({src.kind})")
    f = src.frac_bits
    exps = range(1 << src.exp_bits) if exponents is None else sorted(set(exponents))
    if any(not 0 <= e < 1 << src.exp_bits for e in exps):
        raise ValueError(f"exponent field values of {src.name} lie in 0..{(1 << src.exp_bits) - 1}")
    mans = sorted(mantissas(f, dst) if mantissa_set is None else mantissa_set)
    top = src.width - 1
    if src.width <= 64:
        m = np.array(mans, dtype=np.uint64)
        e = np.array(list(exps), dtype=np.uint64)
        s = np.array(sorted(set(signs)), dtype=np.uint64)
        pats = (s[:, None, None] << np.uint64(top)) | (e[None, :, None] << np.uint64(src.man_bits)) | m[None, None, :]
        if src.explicit_integer:
            pats |= (e[None, :, None] != 0).astype(np.uint64) << np.uint64(f)
        # sign, exponent and mantissa fill disjoint fields and each list is sorted and unique, so the
        # patterns in (sign, exponent, mantissa) order already are: no np.unique over millions of values
        return pats.ravel()
    # beyond 64 bits: build (sign | exponent, mantissa) as two uint64 words, then join them into Python ints
    if src.man_bits > 64 or src.width - src.man_bits > 64:
        raise ValueError(f"{src.name}: structured sets need the mantissa field and the rest within 64 bits each")
    heads = np.array([(s << src.exp_bits) | e for s in sorted(set(signs)) for e in exps], dtype=np.uint64)
    m = np.array(mans, dtype=np.uint64)
    lo = np.broadcast_to(m, (len(heads), len(m)))
    if src.explicit_integer:
        integer = np.uint64(1 << f)
        canon = (heads & np.uint64((1 << src.exp_bits) - 1)) != 0
        lo = lo | np.where(canon, integer, np.uint64(0))[:, None]
        odd = np.array([0, 1, (1 << f) - 1], dtype=np.uint64)
        flipped = odd[None, :] | np.where(canon, np.uint64(0), integer)[:, None]
        # in each row the patterns without the integer bit sort first: flipped ones for a nonzero exponent,
        # canonical ones for a zero exponent; no two coincide (they differ in the integer bit)
        lo = np.where(canon[:, None], np.concatenate([flipped, lo], axis=1), np.concatenate([lo, flipped], axis=1))
    hi = np.broadcast_to(heads[:, None], lo.shape)
    return (hi.ravel().astype(object) << src.man_bits) | lo.ravel().astype(object)


def strided(width, count, offset=0):
    """``count`` patterns spread over all of ``0 .. 2**width - 1``: slice ``offset`` of the sequence
    ``j * stride mod 2**width`` with an odd ``stride`` near ``2**width / count``.

    An odd stride makes the sequence a permutation of every pattern, so the slices ``offset = 0, 1, ...,
    2**width / count - 1`` are disjoint and together cover the space once; each slice steps through the whole
    range and, the stride being odd, through every low bit too (a rotating CI slice: pass a different offset).
    """
    if not 1 <= count <= 1 << width:
        raise ValueError(f"count must lie in 1..2**{width}, not {count}")
    space = 1 << width
    stride = (space // count) | 1
    start = (offset * count) % space
    if width <= 64:
        j = np.arange(count, dtype=np.uint64) + np.uint64(start)  # wraps mod 2**64: fine, reduced below
        pats = j * np.uint64(stride)
        return pats & np.uint64(space - 1) if width < 64 else pats
    return np.array([((start + k) * stride) % space for k in range(count)], dtype=object)
