# amaranth: UnusedElaboratable=no
"""The lanes of w4-dequantize and bfp-encode (W4Lane, BfpLane: combinational) in bulk through the batch lane,
against golden.block.weights.dequantize_bits and golden.block.bfp.msfp_encode_bits.

FMTFORGE_FULL=1 only (make test checks the same lanes through the stream benches of test_blocks.py). On
Verilator every lane configuration exhaustively where it fits in 2**24 vectors: every code x zero point x
16-bit scale, every bf16 element at every shared exponent it can meet (the block's maximum exponent field is
at least the element's); 2**24 seeded random vectors for fp32 scales and elements. On Icarus a seeded
slice of 2**14 of the same vectors.

A BfpLane's golden value is read off a two-element block: the element beside a companion ``2**(scale-127)``
(exponent field ``scale``, fraction 0; +0 for scale 0), whose shared exponent is then exactly ``scale``.
"""


import numpy as np
import pytest

from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
from fmtforge.golden.block.weights import dequantize_bits
from fmtforge.rtl.units.bfp_encode import BfpLane
from fmtforge.rtl.units.w4_dequant import W4Lane
from fmtforge.verif.support.batch.lane import assert_equal, simulate, simulate_icarus
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

# make test checks the same datapaths through the stream benches (test_blocks.py); the bulk runs here cost a
# batch-lane build per lane configuration, beyond its budget
pytestmark = pytest.mark.skipif(not FULL, reason="FMTFORGE_FULL=1 only (the lanes in bulk)")

W4_LANES = [dict(codes="uint4", zero="group", scale="fp16", out="fp16"),
            dict(codes="int4", zero="none", scale="bf16", out="fp16", saturate=True),
            dict(codes="nf4", zero="none", scale="fp32", out="bf16")]
W4_FULL = [dict(codes="uint4", zero="group", scale="bf16", out="bf16"),
           dict(codes="uint4", zero="group", scale="fp16", out="bf16", saturate=True),
           dict(codes="uint3", zero="mlc", scale="fp16", out="fp16", saturate=True),
           dict(codes="nf4", zero="none", scale="fp16", out="fp16"), dict(codes="nf4", zero="none", scale="bf16",
                                                                           out="bf16"),
           dict(codes="int4", zero="none", scale="fp32", out="fp16")]
BFP_LANES = [dict(src="bf16", man_bits=3, rounding="rtz"), dict(src="fp32", man_bits=7, rounding="rne")]
BFP_FULL = [dict(src="bf16", man_bits=7, rounding="rne"), dict(src="bf16", man_bits=9, rounding="rne"),
            dict(src="fp32", man_bits=3, rounding="rtz"), dict(src="bf16", man_bits=1, rounding="rne")]


def _lane_id(kw):
    return "_".join(str(v) for v in kw.values())


def w4_vectors(lane, n, rng):
    """Inputs: every pattern of the lane's input when there are at most ``n``, else ``n`` random ones."""
    total = lane.in_layout.size
    if n >= 1 << total:
        return np.arange(1 << total, dtype=np.uint64)
    return rng.integers(0, 1 << total, n, dtype=np.uint64)


def w4_golden(lane, x):
    off = {k: f.offset for k, f in lane.in_layout}
    field = lambda name, w: (x >> np.uint64(off[name])) & np.uint64((1 << w) - 1)  # noqa: E731
    zero = field("zero", lane.bits) if "zero" in off else None
    return dequantize_bits(field("code", lane.bits), field("scale", lane.scale_fmt.width), group_size=1,
                           codes_type=lane.codes, zero=lane.zero, zero_points=zero, scale_format=lane.scale_fmt.name,
                           out_format=lane.out_fmt.name, saturate=lane.saturate)


@pytest.mark.parametrize("sim", ["verilator", "icarus"])
@pytest.mark.parametrize("kw", W4_LANES + (W4_FULL if FULL else []), ids=_lane_id)
def test_w4_lane(kw, sim):
    lane = W4Lane(**{"saturate": False, **kw})
    rng = np.random.default_rng([seed(), 4, len(lane.name)])
    print(f"seed {seed()}")
    n = (1 << 24 if FULL else 1 << 16) if sim == "verilator" else (1 << 14 if FULL else 1 << 11)
    x = w4_vectors(lane, n, rng)
    got = (simulate if sim == "verilator" else simulate_icarus)(lane, x)
    assert_equal(got, (w4_golden(lane, x), None), inputs=x, unit=lane.name)


def bfp_vectors(lane, n, rng):
    """(inputs, golden codes): elements with every shared exponent from their own field up (bf16 FULL:
    all of them), half of them in a special block."""
    fmt = lane.src
    w, f = fmt.width, fmt.man_bits
    if FULL and w == 16:
        x = np.repeat(np.arange(1 << 16, dtype=np.uint64), 256)
        s = np.tile(np.arange(256, dtype=np.uint64), 1 << 16)
    else:
        x = rng.integers(0, 1 << w, n, dtype=np.uint64)
        s = rng.integers(0, 256, n, dtype=np.uint64)
    e = (x >> np.uint64(f)) & np.uint64(0xFF)
    special = (e == 0xFF) | (s == 0xFF)
    keep = (s >= e) | special
    x, s, e, special = x[keep], s[keep], e[keep], special[keep]
    comp = np.where(special, np.uint64(0xFF << f), s << np.uint64(f))  # +inf: the block is non-finite
    codes, scales = msfp_encode_bits(MSFP(man_bits=lane.man_bits, block_size=2, rounding=lane.rounding),
                                     np.stack([x, comp], axis=-1).reshape(-1), fmt.name)
    assert np.array_equal(scales, np.where(special, 0xFF, s))
    off = {k: fl.offset for k, fl in lane.in_layout}
    inputs = (x << np.uint64(off["x"]) | s << np.uint64(off["scale"])
              | special.astype(np.uint64) << np.uint64(off["special"]))
    return inputs, codes.reshape(-1, 2)[:, 0]


@pytest.mark.parametrize("sim", ["verilator", "icarus"])
@pytest.mark.parametrize("kw", BFP_LANES + (BFP_FULL if FULL else []), ids=_lane_id)
def test_bfp_lane(kw, sim):
    lane = BfpLane(**kw)
    rng = np.random.default_rng([seed(), 5, lane.man_bits, len(lane.rounding)])
    print(f"seed {seed()}")
    n = (1 << 24 if FULL else 1 << 16) if sim == "verilator" else (1 << 14 if FULL else 1 << 11)
    inputs, want = bfp_vectors(lane, n, rng)
    if sim == "icarus" and len(inputs) > n:
        pick = rng.permutation(len(inputs))[:n]
        inputs, want = inputs[pick], want[pick]
    got = (simulate if sim == "verilator" else simulate_icarus)(lane, inputs)
    assert_equal(got, (want, None), inputs=inputs, unit=lane.name)
