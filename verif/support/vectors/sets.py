"""The regression's vector sets, one definition used by the batch-lane tests of ``make test`` and by the
mutation score (``fmtforge mutate``): a mutant is scored on exactly what the regression checks.

- a source of <= 16 bits: every pattern;
- a float source: every sign x every exponent (wider than 32 bits: every exponent where the destination
  rounds, and the field's corners) x the structured mantissas (verif.support.structured: <= 2 bits set, runs
  of ones from either end, the destination's ties and their neighbours), plus a strided sweep of 2**24
  patterns over the whole space for a 32-bit source (or 2**20 seeded random for wider ones);
- a posit or integer source: its corners plus the same strided or random patterns;
- the requantizer: a grid of edges (accumulators at the int32 ends and around powers of two, every shift,
  multipliers at their ends, zero points at the output range's ends) plus seeded random payloads.
"""

import numpy as np

from fmtforge import golden
from fmtforge.golden import quant

from fmtforge.verif.support.vectors.structured import exponent_window, strided, structured
from fmtforge.verif.support.vectors.families import corners_for
from fmtforge.verif.support.vectors.patterns import random_width, seed

__all__ = ["STRIDED", "requant_golden", "requant_pack", "requant_vectors", "vectors_for"]

STRIDED = 1 << 24
WIDE_RANDOM = 1 << 20


def vectors_for(src, dst, offset=0):
    """The inputs the regression converts from ``src`` to ``dst`` (``offset`` rotates the strided slice)."""
    src, dst = golden.lookup(src), golden.lookup(dst)
    if src.width <= 16:
        return np.arange(1 << src.width, dtype=np.uint64)
    if src.kind == "float":
        # every exponent of a 32-bit source; for wider ones the exponents where the destination rounds
        # (from below its smallest subnormal to above its largest finite) and the fields' corners
        fixed = structured(src, dst) if src.width <= 32 else structured(src, dst, exponents=exponent_window(src, dst))
    else:  # the family's own corners (an error for a family without a descriptor)
        fixed = corners_for(src)
    if src.width == 32:
        more = strided(32, STRIDED, offset)
    else:
        more = random_width(src.width, WIDE_RANDOM, np.random.default_rng([seed(), src.width]))
    if fixed.dtype == object or more.dtype == object:
        return np.array(list(fixed) + list(more), dtype=object)
    return np.concatenate([fixed, more.astype(np.uint64)])


# -- the requantizer ------------------------------------------------------------------------------------------
def _fields():
    """RequantCore's input fields (int8 output, 32-bit accumulator), from bit 0 up, as the rtl lays them out."""
    from amaranth.hdl import Shape
    from fmtforge.rtl.units.requant import requant_layout
    return tuple((name, Shape.cast(f.shape).width, Shape.cast(f.shape).signed) for name, f in requant_layout())


FIELDS = _fields()


def requant_pack(**cols):
    """RequantCore input patterns (Python ints, object array) from int64 columns."""
    n = len(cols["acc"])
    out = np.zeros(n, dtype=object)
    shift = 0
    for name, width, _ in FIELDS:
        col = np.asarray(cols[name], dtype=np.int64).astype(object)
        out = out + ((col % (1 << width)) << shift)
        shift += width
    return out


def _unpack(x):
    cols, shift = {}, 0
    x = np.asarray(x, dtype=object)
    for name, width, signed in FIELDS:
        v = np.array([(int(p) >> shift) & ((1 << width) - 1) for p in x], dtype=np.int64)
        if signed:
            v = np.where(v >= 1 << (width - 1), v - (1 << width), v)
        cols[name] = v
        shift += width
    return cols


def requant_vectors(n_random=1 << 16):
    """Edges and seeded random payloads of the int8 requantizer (``qmin <= zero_point <= qmax``)."""
    rng = np.random.default_rng([seed(), 93])
    I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
    accs = {0, 1, -1, I32_MIN, I32_MAX, I32_MIN + 1, I32_MAX - 1}
    for k in range(31):
        accs.update({(1 << k) - 1, 1 << k, (1 << k) + 1, -(1 << k) - 1, -(1 << k), -(1 << k) + 1})
    m0s = [0, 1, 1 << 30, (1 << 30) + 1, (1 << 31) - 1, 0x5555_5555, 0x4000_0001]
    ranges = [(0, -128, 127), (-128, -128, 127), (127, -128, 127), (5, -3, 9), (0, 0, 0)]
    grid = [(a, m, s, *r) for a in sorted(accs) for m in m0s for s in range(-31, 31, 3) for r in ranges[:2]]
    grid += [(a, m, s, *r) for a in (I32_MIN, -77, 0, 12345, I32_MAX) for m in m0s for s in range(-31, 31)
             for r in ranges]
    cols = {name: np.array([g[k] for g in grid], dtype=np.int64) for k, (name, _, _) in enumerate(FIELDS)}
    lo = rng.integers(-128, 128, n_random)
    hi = rng.integers(-128, 128, n_random)
    qmin, qmax = np.minimum(lo, hi), np.maximum(lo, hi)
    rnd = {"acc": rng.integers(I32_MIN, I32_MAX, n_random, endpoint=True),
           "m0": rng.integers(0, 1 << 31, n_random), "shift": rng.integers(-31, 31, n_random),
           "qmin": qmin, "qmax": qmax, "zero_point": rng.integers(qmin, qmax, endpoint=True)}
    cols = {k: np.concatenate([cols[k], rnd[k]]) for k in cols}
    return requant_pack(**cols)


def requant_golden(x, mode="gemmlowp"):
    """golden.quant.requantize of RequantCore input patterns, as the output port's unsigned int8 bits."""
    c = _unpack(x)
    out = np.empty(len(x), dtype=np.int64)
    for zp_lo in np.unique(np.stack([c["qmin"], c["qmax"]], axis=1), axis=0):
        sel = (c["qmin"] == zp_lo[0]) & (c["qmax"] == zp_lo[1])
        out[sel] = quant.requantize(c["acc"][sel], c["m0"][sel], c["shift"][sel], c["zero_point"][sel],
                                    int(zp_lo[0]), int(zp_lo[1]), mode)
    return (out & ((1 << golden.lookup("int8").bits) - 1)).astype(np.uint64)  # the output port's bits
