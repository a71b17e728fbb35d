"""golden.block.weights.dequantize_bits and golden.block.bfp.msfp_encode_bits (what the w4-dequantize and
bfp-encode units compute) against exact rational arithmetic, and against the schemes they serve.

The references decode patterns with ``minifloat_value`` of verif/support/refs/oracle.py (the formats' published fields),
take the NF4 levels from oracle.NF4_PUBLISHED (bitsandbytes' table), multiply as Fractions, and round with
block_ref.floor_log2 and Python's round (half to even) on Fractions; rounded values become patterns through
numpy's float16 and ml_dtypes' bfloat16 (exact: the values are representable)."""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import block
from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
from fmtforge.golden.block.weights import dequantize_bits
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.refs.block import floor_log2
from fmtforge.verif.support.vectors.patterns import seed

# published parameters: (fraction bits, emin, largest finite, quiet NaN pattern); NumPy dtype of the patterns
OUT = {"fp16": (10, -14, (2 - Fraction(1, 1 << 10)) * 2 ** 15, 0x7E00, np.float16),
       "bf16": (7, -126, (2 - Fraction(1, 1 << 7)) * Fraction(2) ** 127, 0x7FC0, ml_dtypes.bfloat16)}


def ref_round(x, out, saturate):
    """Pattern of Fraction ``x`` (nonzero, finite) in ``out``: one rounding to nearest even, IEEE overflow."""
    frac, emin, top, _, dt = OUT[out]
    ulp = Fraction(2) ** (max(floor_log2(abs(x)), emin) - frac)
    v = round(abs(x) / ulp) * ulp
    if v > top:
        v = top if saturate else math.inf
    value = float(v) if x > 0 else -float(v)
    return int(np.array(value, dtype=np.float64).astype(dt).view(np.uint16))


def ref_dequant(code, zero, scale_bits, codes_type, scale, out, saturate):
    fmt = golden.lookup(scale)
    width = fmt.width
    s = oracle.minifloat_value(fmt, scale_bits)
    s_neg = scale_bits >> (width - 1) & 1
    if codes_type == "nf4":
        d = Fraction(oracle.NF4_PUBLISHED[code])
    elif codes_type == "int4":
        d = Fraction(code - 16 if code >= 8 else code)
    else:
        d = Fraction(code - zero)
    qnan = OUT[out][3]
    if s == oracle.NAN:
        return qnan
    if isinstance(s, float):  # +-inf
        if d == 0:
            return qnan
        neg = (s < 0) != (d < 0)
        return ref_round(Fraction(-1 if neg else 1) * OUT[out][2] * 4, out, saturate)  # beyond max: +-inf or +-max
    p = s * d
    if p == 0:
        return (s_neg ^ int(d < 0)) << 15
    return ref_round(p, out, saturate)


def scale_patterns(fmt, rng):
    """Every exponent field of ``fmt``: fp16 with the mantissas 0, 1, all ones and a random one, 8-bit
    exponents with one random mantissa (all ones every fourth field); random signs; and +-0."""
    f, e_all, w = fmt.man_bits, (1 << fmt.exp_bits) - 1, fmt.width
    pats = []
    for e in range(e_all + 1):
        mans = (0, 1, (1 << f) - 1) if fmt.exp_bits <= 5 else (((1 << f) - 1,) if e % 4 == 0 else ())
        for man in mans + (int(rng.integers(1 << f)),):
            pats.append(int(rng.integers(2)) << (w - 1) | e << f | man)
    return pats + [0, 1 << (w - 1)]


CASES = [("uint4", "group", "fp16", "fp16", False), ("uint4", "gptq", "fp16", "bf16", True),
         ("int4", "none", "bf16", "fp16", False), ("int4", "none", "bf16", "fp16", True),
         ("uint3", "mlc", "fp16", "fp16", True), ("nf4", "none", "fp32", "bf16", False),
         ("nf4", "none", "fp16", "fp16", False), ("nf4", "none", "fp32", "fp16", True)]


@pytest.mark.parametrize("codes_type, zero, scale, out, saturate", CASES)
def test_dequantize_bits_against_fractions(codes_type, zero, scale, out, saturate):
    """Every code x every exponent field of the scale (see scale_patterns: +-inf and NaNs are the all-ones
    field)."""
    rng = np.random.default_rng([seed(), 15, len(codes_type), len(scale) + len(out)])
    print(f"seed {seed()}")
    fmt = golden.lookup(scale)
    bits = {"uint3": 3}.get(codes_type, 4)
    pats = scale_patterns(fmt, rng)
    ncode = 1 << bits
    codes = np.tile(np.arange(ncode, dtype=np.uint8), len(pats))
    scales = np.repeat(np.array(pats, dtype=np.uint64), ncode)
    zeros = rng.integers(0, ncode, len(codes)).astype(np.uint8) if zero == "group" else None
    got = dequantize_bits(codes, scales, group_size=1, codes_type=codes_type, zero=zero, zero_points=zeros,
                          scale_format=scale, out_format=out, saturate=saturate)
    zc = {"group": None, "gptq": 1 << (bits - 1), "mlc": (1 << (bits - 1)) - 1, "none": 0}[zero]
    bad = []
    for k in range(len(codes)):
        z = int(zeros[k]) if zeros is not None else zc
        want = ref_dequant(int(codes[k]), z, int(scales[k]), codes_type, scale, out, saturate)
        if int(got[k]) != want:
            bad.append(f"code {int(codes[k]):#x} zero {z} scale {int(scales[k]):#x}: expected {want:#06x}, "
                       f"got {int(got[k]):#06x}")
    assert not bad, f"{len(bad)} of {len(codes)} differ:\n" + "\n".join(bad[:8])


def test_dequantize_bits_serves_the_schemes():
    """The unit's function is the schemes' dequantization rounded once to the destination: GPTQ/AWQ
    (symmetric: Z = 8 = gptq; asymmetric: per-group zero points), MLC q4f16/q3f16 (saturating, as
    MLCGroup.dequantize), NF4 with bitsandbytes' fp32 absmax."""
    rng = np.random.default_rng([seed(), 1515])
    fp16 = golden.lookup("fp16")
    w = rng.standard_normal((4, 256)) * np.exp2(rng.integers(-10, 10, (4, 1)))
    for scheme, zero in ((block.W4A16_G128, "gptq"), (block.W4A16_G32, "gptq"), (block.W4A16_G128_ASYM, "group")):
        t = scheme.quantize(w)
        s_bits = t.scales.view(np.uint16)
        for out in ("fp16", "bf16"):
            o = golden.lookup(out)
            want = o.encode(scheme.dequantize(t), "rne", False)
            got = dequantize_bits(t.codes, s_bits, group_size=scheme.block_size, zero=zero, zero_points=t.zero_points,
                                  out_format=out)
            assert np.array_equal(got, want), (scheme.name, out)
    for scheme, codes_type in ((block.Q4F16, "uint4"), (block.Q3F16, "uint3")):
        x = rng.standard_normal((3, 160)) * 1000
        x[0, :scheme.block_size] = 65504.0  # the largest group: (q - K) * S rounds past fp16's max
        t = scheme.quantize(x)
        got = dequantize_bits(t.codes, t.scales.view(np.uint16), group_size=scheme.block_size, codes_type=codes_type,
                              zero="mlc", saturate=True)
        assert np.array_equal(fp16.decode(got), scheme.dequantize(t)), scheme.name
    t = block.NF4_B64.quantize(w)
    for out in ("fp16", "bf16"):
        o = golden.lookup(out)
        got = dequantize_bits(t.codes, t.scales.view(np.uint32), group_size=64, codes_type="nf4", scale_format="fp32",
                              out_format=out)
        assert np.array_equal(got, o.encode(block.NF4_B64.dequantize(t), "rne", False))


@pytest.mark.parametrize("kwargs, message", [
    (dict(codes_type="int4", zero="group"), "int4 codes are signed already: zero must be 'none', not 'group'"),
    (dict(codes_type="nf4", zero="gptq"), "nf4 codes take no zero point: zero must be 'none', not 'gptq'"),
    (dict(codes_type="int8"), "codes_type must be one of uint4, int4, uint3, nf4, not 'int8'"),
    (dict(zero="group"), "zero='group' needs zero_points (one per group)"),
])
def test_dequantize_bits_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        dequantize_bits(np.zeros(4, np.uint8), np.zeros(1, np.uint16), group_size=4, **kwargs)
    assert str(info.value) == message


# -- MSFP from bit patterns ----------------------------------------------------------------------------------
def ref_msfp(block_bits, src, man_bits, rounding):
    fmt = golden.lookup(src)
    vals = [oracle.minifloat_value(fmt, b) for b in block_bits]
    signs = [int(b) >> (fmt.width - 1) for b in block_bits]
    top = (1 << man_bits) - 1
    if any(v == oracle.NAN or isinstance(v, float) for v in vals):  # NaN or infinity: the marker block
        return [s << man_bits | (top if isinstance(v, float) else 0)
                for s, v in zip(signs, vals)], 0xFF
    amax = max(abs(v) for v in vals)
    E = -127 if amax == 0 else min(max(floor_log2(amax), -127), 128)
    unit = Fraction(2) ** (E - man_bits + 1)
    mags = [abs(v) / unit for v in vals]
    mags = [min(math.floor(q) if rounding == "rtz" else round(q), top) for q in mags]
    return [s << man_bits | mg for s, mg in zip(signs, mags)], E + 127


@pytest.mark.parametrize("src, man_bits, rounding", [("bf16", 3, "rtz"), ("bf16", 7, "rne"), ("fp32", 7, "rtz"),
                                                     ("fp32", 3, "rne"), ("bf16", 9, "rne")])
def test_msfp_encode_bits_against_fractions(src, man_bits, rounding):
    from fmtforge.verif.support.benches.blocks import bfp_blocks
    rng = np.random.default_rng([seed(), 16, man_bits, len(rounding)])
    print(f"seed {seed()}")
    c = dict(src=src, block=16, man_bits=man_bits, rounding=rounding)
    blocks, names = bfp_blocks(c, rng, 300)
    codes, scales = msfp_encode_bits(MSFP(man_bits=man_bits, rounding=rounding), blocks.reshape(-1), src)
    codes = codes.reshape(blocks.shape)
    seen = set()
    for k in range(len(blocks)):
        want_c, want_s = ref_msfp(blocks[k], src, man_bits, rounding)
        assert (int(scales[k]), codes[k].tolist()) == (want_s, want_c), (names[k], [hex(int(b)) for b in blocks[k]])
        seen.add("marker" if want_s == 0xFF else "zero scale" if want_s == 0 else "finite")
    assert seen == {"marker", "zero scale", "finite"}


def test_msfp_encode_bits_is_the_scheme_on_finite_blocks():
    rng = np.random.default_rng([seed(), 17])
    x = rng.standard_normal((50, 32)) * np.exp2(rng.integers(-140, 120, (50, 1)))
    bits = golden.lookup("fp32").encode(x, "rne", True)
    t = block.MSFP16.quantize(golden.lookup("fp32").decode(bits))
    codes, scales = msfp_encode_bits(block.MSFP16, bits, "fp32")
    assert np.array_equal(codes, t.codes) and np.array_equal(scales, t.scales)
    with pytest.raises(ValueError, match="src must be bf16 or fp32, not 'fp16'"):
        msfp_encode_bits(block.MSFP16, np.zeros(16, np.uint16), "fp16")
