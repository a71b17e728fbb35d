# amaranth: UnusedElaboratable=no
"""Testbench of the block-format stream units (w4-dequantize, bfp-encode): a harness that puts several of them
side by side in one build and the vector makers with their golden models (the driver and monitor are the one
stream bench's: verif/support/benches/stream.py)."""


import numpy as np

from fmtforge import golden
from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
from fmtforge.golden.block.weights import CODE_TYPES, dequantize_bits
from fmtforge.rtl.units import UNITS
from fmtforge.rtl.units.bfp_encode import bfp_name
from fmtforge.rtl.units.w4_dequant import w4_name
from fmtforge.verif.support.benches.stream_harness import StreamHarness

__all__ = ["BlocksHarness", "bfp_blocks", "bfp_expected", "make_unit", "unit_id", "w4_expected",
           "w4_groups"]


def make_unit(c):
    """The component of one unit configuration ``c`` (a dict with ``kind`` and the unit's options)."""
    opts = {k: v for k, v in c.items() if k not in ("kind", "n")}
    return UNITS["w4-dequantize" if c["kind"] == "w4" else "bfp-encode"].create(**opts)


def unit_id(c):
    """The module name of configuration ``c`` (without building it)."""
    opts = {k: v for k, v in c.items() if k not in ("kind", "n")}
    return w4_name(**opts) if c["kind"] == "w4" else bfp_name(**opts)


class BlocksHarness(StreamHarness):
    """The units of ``configs`` side by side (see StreamHarness): one simulator build checks them all."""

    def __init__(self, configs):
        super().__init__([make_unit(c) for c in configs])


# -- w4-dequantize -----------------------------------------------------------------------------------------------
def _scale_sweep(fmt, rng, mantissas):
    """Scale patterns: every exponent field, both signs, the given mantissas (plus a random one), and the
    specials: +-0, +-inf, quiet and signaling NaNs."""
    f, e_all = fmt.man_bits, (1 << fmt.exp_bits) - 1
    out = []
    for e in range(e_all + 1):
        for man in list(mantissas(f)) + [int(rng.integers(1 << f))]:
            for sign in (0, 1):
                out.append(sign << (fmt.width - 1) | e << f | man)
    out += [0, 1 << (fmt.width - 1), e_all << f, (1 << (fmt.width - 1)) | e_all << f, e_all << f | 1 << (f - 1),
            e_all << f | 1, (1 << (fmt.width - 1)) | e_all << f | 3]
    return out


def w4_groups(c, rng, n_random=20, full=False):
    """(codes, scales, zero points or None) of a list of groups: every code in every group (repeated and
    shuffled) times a sweep of scales over every exponent (every pattern of a 16-bit scale with ``full``),
    then random groups with random scales."""
    sfmt = golden.lookup(c["scale"])
    bits = CODE_TYPES[c["codes"]][0]
    if full and sfmt.width == 16:
        scales = list(range(1 << 16))
    elif sfmt.exp_bits <= 5:  # fp16: every exponent field with five mantissas, both signs
        scales = _scale_sweep(sfmt, rng, lambda f: (0, 1, (1 << f) - 1, 0x155 & ((1 << f) - 1)))
    else:  # every exponent, one mantissa each (all ones or random), alternating signs
        f, e_all = sfmt.man_bits, (1 << sfmt.exp_bits) - 1
        scales = [(e & 1) << (sfmt.width - 1) | e << f | ((1 << f) - 1 if e % 4 < 2 else int(rng.integers(1 << f)))
                  for e in range(e_all + 1)] + _scale_sweep(sfmt, rng, lambda f: ())[-7:]
    ng = len(scales) + n_random
    scales = np.array(scales + list(rng.integers(0, 1 << sfmt.width, n_random)), dtype=np.uint64)
    G = c["group"]
    base = np.arange(G) % (1 << bits)
    codes = np.stack([rng.permutation(base) for _ in range(ng)]).astype(np.uint8)
    zeros = None
    if c["zero"] == "group":
        zeros = rng.integers(0, 1 << bits, ng).astype(np.uint8)
        zeros[:2] = [0, (1 << bits) - 1]
    return codes, scales, zeros


def w4_expected(c, codes, scales, zeros):
    """Golden output patterns, shape (groups, group)."""
    return dequantize_bits(codes, scales[:, None], group_size=c["group"], codes_type=c["codes"], zero=c["zero"],
                           zero_points=None if zeros is None else zeros[:, None], scale_format=c["scale"],
                           out_format=c["out"], saturate=c.get("saturate", False))


def w4_beats(unit, codes, scales, zeros, junk):
    """Input payloads: ``group // lanes`` beats per group; scale and zero fields random but on first beats."""
    L, bits = unit.lanes, unit.bits
    off = {name: f.offset for name, f in unit.in_layout}
    sw = unit.scale_fmt.width
    out = []
    for g in range(len(scales)):
        for b in range(unit.group // L):
            lanes = codes[g, b * L:(b + 1) * L]
            p = sum(int(q) << (bits * k) for k, q in enumerate(lanes)) << off["codes"]
            first = b == 0
            p |= (int(scales[g]) if first else junk.getrandbits(sw)) << off["scale"]
            if "zero" in off:
                p |= (int(zeros[g]) if first else junk.getrandbits(bits)) << off["zero"]
            out.append(p)
    return out


def w4_split(unit, words):
    """Output payloads -> (values (beats, lanes), last flags)."""
    ow, L = unit.out_fmt.width, unit.lanes
    vals = np.array([[(w >> (ow * k)) & ((1 << ow) - 1) for k in range(L)] for w in words], dtype=np.uint64)
    last = np.array([(w >> (ow * L)) & 1 for w in words], dtype=bool)
    return vals, last


# -- bfp-encode --------------------------------------------------------------------------------------------------
def bfp_blocks(c, rng, n_random):
    """Element patterns (blocks, block) of ``c["src"]``: named corner blocks, then random ones."""
    fmt = golden.lookup(c["src"])
    w, f, B = fmt.width, fmt.man_bits, c["block"]
    sign = 1 << (w - 1)

    def pat(s, e, man):
        return (s << (w - 1)) | (e << f) | man

    rows = {
        "all +0": [0] * B,
        "+-0 mixed": [sign * (k % 2) for k in range(B)],
        "subnormal only": [pat(k % 2, 0, int(rng.integers(1, 1 << f))) for k in range(B)],
        "smallest subnormal": [pat(0, 0, 1)] + [0] * (B - 1),
        "smallest normal beside subnormals": [pat(1, 1, 0)] + [pat(0, 0, (1 << f) - 1)] * (B - 1),
        "maximum magnitude": [pat(k % 2, 0xFE, (1 << f) - 1) for k in range(B)],
        "max beside tiny": [pat(0, 0xFE, (1 << f) - 1)] + [pat(1, 1, 5)] * (B - 1),
        "holds NaN": [pat(0, 0x7F, 0)] * (B - 1) + [pat(0, 0xFF, 1 << (f - 1))],
        "holds -NaN and +inf": [pat(1, 0xFF, 1)] + [pat(0, 0xFF, 0)] + [pat(0, 0x80, 3)] * (B - 2),
        "holds -inf": [pat(1, 0xFF, 0)] + [0] * (B - 1),
        "all NaN": [pat(k % 2, 0xFF, (1 << f) - 1) for k in range(B)],
        "powers of two": [pat(0, 0x7F - k, 0) for k in range(B)],
        "one outlier": [pat(0, 0x90, 0)] + [pat(1, 0x80, int(rng.integers(1 << f))) for _ in range(B - 1)],
    }
    # ties for RNE: an element whose dropped bits are exactly one half of the last kept magnitude bit
    m = c["man_bits"]
    tie_rows = []
    for d in range(4):  # elements d binades below the block's maximum drop f + 1 - m + d bits
        drop = f + 1 - m + d
        if drop < 1:
            continue  # every bit is kept: no rounding at all
        row = [pat(0, 0x85, 0)]
        for k in range(B - 1):
            frac = int(rng.integers(1 << f)) & ~((1 << drop) - 1) & ((1 << f) - 1)
            row.append(pat(k % 2, 0x85 - d, frac | (1 << (drop - 1) if drop - 1 < f else 0)))
        tie_rows.append(row)
    names = list(rows) + [f"ties {d}" for d in range(len(tie_rows))]
    blocks = [rows[n] for n in rows] + tie_rows
    # random: a block exponent, element exponents up to 40 below it, random signs and fractions; some of
    # the blocks are raw random patterns (NaN/inf included), some tiny
    top = rng.integers(1, 255, n_random)
    e = np.clip(top[:, None] - rng.integers(0, 40, (n_random, B)) * (rng.random((n_random, B)) < 0.8), 0, 254)
    x = (rng.integers(0, 2, (n_random, B)) << (w - 1)) | (e << f) | rng.integers(0, 1 << f, (n_random, B))
    raw = rng.random(n_random) < 0.1
    x[raw] = rng.integers(0, 1 << w, (int(raw.sum()), B))
    x[rng.random((n_random, B)) < 0.05] = 0
    names += ["random"] * n_random
    return np.concatenate([np.array(blocks, dtype=np.uint64), x.astype(np.uint64)]), names


def bfp_expected(c, blocks):
    scheme = MSFP(man_bits=c["man_bits"], block_size=c["block"], rounding=c["rounding"])
    codes, scales = msfp_encode_bits(scheme, blocks.reshape(-1), c["src"])
    return codes.reshape(blocks.shape), scales


def bfp_beats(unit, blocks):
    w, L = unit.src.width, unit.lanes
    return [sum(int(v) << (w * k) for k, v in enumerate(blk[b * L:(b + 1) * L]))
            for blk in blocks for b in range(unit.block // L)]


def bfp_split(unit, words):
    cw, B = unit.man_bits + 1, unit.block
    codes = np.array([[(wd >> (cw * k)) & ((1 << cw) - 1) for k in range(B)] for wd in words], dtype=np.int64)
    scales = np.array([(wd >> (cw * B)) & 0xFF for wd in words], dtype=np.int64)
    return codes, scales
