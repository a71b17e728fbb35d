"""The MX units' testbench: a harness of several mx-quantize / mx-dequantize units side by side (one build per
simulator checks them all), their vectors and golden models (the driver and monitor are the one stream bench's:
verif/support/benches/stream.py).

Each unit k of the harness has its own ports ``u<k>_i`` and ``u<k>_o`` (streams) and, for NVFP4, ``u<k>_ts``
(the tensor scale); all run at once, each with its own random idle cycles and back-pressure.
"""

import numpy as np

from fmtforge import golden
from fmtforge.golden import block
from fmtforge.rtl.units.registry import build_unit
from fmtforge.verif.support.benches.stream_harness import StreamHarness

FP32 = golden.lookup("fp32")


class MXHarness(StreamHarness):
    """Units (``(kind, options)`` of the registry) side by side (see StreamHarness)."""

    def __init__(self, units):
        super().__init__([build_unit(kind, **opts)[0] for kind, opts in units])


# ------------------------------------------------------------------------------------------------ vectors

def quantize_blocks(rng, n, bs, src):
    """``n`` blocks of ``bs`` values exactly representable in ``src`` (float64), structured ones first: all
    zero, NaN-holding, +-inf-holding, subnormal-only, the format's max magnitude, ties for every element
    format, single outliers, then seeded random blocks over the whole exponent range."""
    fmt = golden.lookup(src)
    x = rng.standard_normal((n, bs)) * np.exp2(rng.integers(-140, 128, (n, 1)))
    x *= np.exp2(-rng.integers(0, 20, (n, bs)) * (rng.random((n, bs)) < 0.3))
    x[rng.random((n, bs)) < 0.05] = 0.0
    big = float(fmt.max)
    tiny = float(fmt.min_subnormal)
    structured = [
        np.zeros(bs), -np.zeros(bs),
        np.where(np.arange(bs) == 3, np.nan, 1.0), np.where(np.arange(bs) == 0, -np.inf, 0.5),
        np.where(np.arange(bs) == bs - 1, np.inf, 0.0),
        tiny * rng.integers(1, 1 << min(fmt.man_bits, 20), bs) * rng.choice([-1, 1], bs),  # subnormal-only
        np.full(bs, tiny), np.full(bs, -big), big * rng.choice([-1, 1], bs),
        np.arange(bs) * 0.25 - bs / 8, (np.arange(bs) - bs // 2) * 2.0 ** -3 * 1.5,
        np.where(np.arange(bs) == 0, 1000.0, 1e-3), np.where(np.arange(bs) == 5, 2.0 ** -126, 2.0 ** -140),
    ]
    for k, row in enumerate(structured[:n]):
        x[k] = row
    bits = fmt.encode(x, "rne", saturate=True)
    bits[2, 3] = 0x7FC00000 if fmt.width == 32 else 0x7FC0  # encode(saturate) turned the NaN/inf away
    bits[3, 0] = 0xFF800000 if fmt.width == 32 else 0xFF80
    bits[4, bs - 1] = 0x7F800000 if fmt.width == 32 else 0x7F80
    return bits


def tensor_scales(rng, values):
    """NVFP4 tensor scales to try: NVIDIA's default for these values, 1, a subnormal, random ones."""
    s = [block.NVFP4.default_tensor_scale(values), 1.0, 2.0 ** -140, 3.0 * 2.0 ** 90]
    s += list(np.exp2(rng.uniform(-100, 100, 2)))
    return [float(FP32.decode(FP32.encode(np.array([v])))[0]) for v in s]


def golden_quantize(unit, values, tensor_scale=None):
    """(codes, scales) of blocks ``values`` as the unit's golden model computes them."""
    if unit.nvfp4:
        t = block.NVFP4().quantize(values, tensor_scale=tensor_scale, scale_rounding=unit.scale_mode)
        return t.codes, t.scales.reshape(-1)
    t = unit.scheme.quantize(values, scale_mode=unit.scale_mode)
    return t.codes, t.scales.reshape(-1)


def golden_dequantize(unit, codes, scales, tensor_scale=None):
    """Destination bits of beats (``codes`` shape (beats, lanes), one scale per beat)."""
    n, L = codes.shape
    if unit.scheme == "nvfp4":
        reps = -(-L // 16)
        c = np.zeros((n, 16 * reps), np.uint8)
        c[:, :L] = codes
        t = block.NVFP4Tensor(block.NVFP4(), c.reshape(-1), np.repeat(scales, reps).astype(np.uint8),
                              tensor_scale=tensor_scale)
        return block.dequantize_to(t, unit.dst).reshape(n, 16 * reps)[:, :L]
    t = block.BlockTensor(block.MX(element=unit.element, block_size=L), codes.reshape(-1), scales.astype(np.uint8))
    return block.dequantize_to(t, unit.dst).reshape(n, L)


def every_code_and_scale(unit):
    """(codes (beats, lanes), one scale per beat): every element code with every 8-bit scale (E8M0 0x00..0xFF,
    0xFF the NaN scale; for NVFP4 every E4M3 pattern, signs and NaNs included), ``lanes`` codes per beat (the
    codes of one scale fill whole beats, wrapping around)."""
    w, L = unit.elem.width, unit.lanes
    per = -(-(1 << w) // L) * L
    one = np.resize(np.arange(1 << w, dtype=np.uint8), per)
    codes = np.tile(one, 256).reshape(-1, L)
    return codes, np.repeat(np.arange(256, dtype=np.uint8), per // L)


# ------------------------------------------------------------------------------------------------ lanes

def pack_lanes(values, width):
    """Integers of beats: ``values`` (beats, lanes) of ``width`` bits each, lane 0 lowest."""
    out = []
    for row in values:
        word = 0
        for k, v in enumerate(row):
            word |= int(v) << (width * k)
        out.append(word)
    return out


def split_lanes(word, width, lanes):
    mask = (1 << width) - 1
    return [(word >> (width * k)) & mask for k in range(lanes)]
