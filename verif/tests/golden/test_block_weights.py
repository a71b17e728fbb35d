"""golden.block's weight schemes against exact arithmetic: W4A16, q4f16/q3f16, NF4/FP4 absmax blocks, and
what every scheme shares.

The references (verif/support/refs/block.py) are written from the published parameters; ml_dtypes is a
second, independent check of the MX elements."""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import block
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.refs.block import (FP16, FP32, ref_float)
from fmtforge.verif.support.vectors.patterns import seed

HALF = Fraction(1, 2)



# -- W4A16 and packing --------------------------------------------------------------------------------------------
def ref_group_int(w, bits, symmetric):
    top = 2 ** bits - 1
    vals = [Fraction(float(v)) for v in w]
    if symmetric:
        s, z = ref_float(2 * max(abs(v) for v in vals) / top, **FP16), 2 ** (bits - 1)
    else:
        lo, hi = min(min(vals), 0), max(max(vals), 0)
        s = ref_float((hi - lo) / top, **FP16)
        s = s or Fraction(1)
        z = min(max(round(-lo / s), 0), top)
    s = s or Fraction(1)
    return s, z, [min(max(round(v / s) + z, 0), top) for v in vals]


@pytest.mark.parametrize("scheme", [block.W4A16_G32, block.W4A16_G128, block.W4A16_G128_ASYM,
                                    block.GroupInt(bits=3, group_size=64, symmetric=False)], ids=str)
def test_group_int_against_fractions(scheme):
    rng = np.random.default_rng([seed(), 14, scheme.block_size])
    print(f"seed {seed()}")
    g = scheme.block_size
    w = rng.standard_normal((6, 2 * g)) * np.exp2(rng.integers(-12, 12, (6, 1)))
    w[0, :g] = 0.0
    w[1, :g] = 1e-3
    w[1, 0] = 5.0
    w[2, g:] = rng.uniform(0.1, 1.0, g)  # all positive: asymmetric Z = 0
    w[3, :g] = np.arange(g) * 0.5 - 3.75  # amax 3.75 = 7.5 * 0.5: ties at S = 0.5 for 4 bits
    w[4, :4] = [1e-9, 0, 0, 0]  # an fp16 scale that underflows
    w[4, 4:g] = 0
    t = scheme.quantize(w)
    assert t.codes.dtype == np.uint8 and t.scales.dtype == np.float16 and t.scales.shape == (6, 2)
    assert (t.zero_points is None) == scheme.symmetric
    y = scheme.dequantize(t)
    for r in range(6):
        for c in range(2):
            s, z, q = ref_group_int(w[r, c * g:(c + 1) * g], scheme.bits, scheme.symmetric)
            assert Fraction(float(t.scales[r, c])) == s
            assert scheme.symmetric or t.zero_points[r, c] == z
            assert t.codes[r, c * g:(c + 1) * g].tolist() == q
            assert [Fraction(float(v)) for v in y[r, c * g:(c + 1) * g]] == [s * (k - z) for k in q]


def test_group_int_ties_and_zero_groups():
    w = np.zeros((2, 32))
    w[0, :5] = [7.5, 2.5, 3.5, -2.5, -7.5]  # S = 2 * 7.5 / 15 = 1: ties to even
    t = block.W4A16_G32.quantize(w)
    assert t.scales.tolist() == [[1.0], [1.0]] and t.codes[0, :5].tolist() == [15, 10, 12, 6, 0]
    assert np.all(t.codes[1] == 8) and np.all(block.W4A16_G32.dequantize(t)[1] == 0)  # all-zero: S = 1, codes Z


def test_pack_int4_and_words():
    assert block.pack_int4([1, 2, 15, 0]).tolist() == [0x21, 0x0F]
    assert block.unpack_int4(np.array([0x21, 0x0F], dtype=np.uint8)).tolist() == [1, 2, 15, 0]
    assert block.pack_words(np.arange(8), 4).tolist() == [0x76543210]
    assert block.pack_words(np.ones(10, dtype=int), 3).tolist() == [sum(1 << (3 * j) for j in range(10))]
    rng = np.random.default_rng([seed(), 15])
    print(f"seed {seed()}")
    c = rng.integers(0, 16, (3, 64))
    assert np.array_equal(block.unpack_int4(block.pack_int4(c)), c)
    assert block.pack_words(c, 4).astype("<u4").tobytes() == block.pack_int4(c).tobytes()
    c3 = rng.integers(0, 8, (2, 40))
    assert np.array_equal(block.unpack_words(block.pack_words(c3, 3), 3), c3)
    for call, msg in ((lambda: block.pack_int4([1, 2, 3]), "even-length"),
                      (lambda: block.pack_int4([16, 0]), r"codes must be an array of integers in 0\.\.15"),
                      (lambda: block.pack_words(np.zeros(9, dtype=int), 3), "multiple of 10")):
        with pytest.raises(ValueError, match=msg):
            call()


# -- MLC-LLM q4f16 / q3f16 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", [block.Q4F16, block.Q3F16], ids=str)
def test_mlc_group_against_numpy_float16(scheme):
    """numpy's float16 arithmetic (float32 then rounded: innocuous double rounding) is an independent model of
    MLC-LLM computing in fp16."""
    rng = np.random.default_rng([seed(), 16, scheme.bits])
    print(f"seed {seed()}")
    g, k = scheme.block_size, np.float16(scheme.max_int)
    x = rng.standard_normal((5, 3 * g)) * np.exp2(rng.integers(-20, 8, (5, 1)))
    x[0, :g] = 0.0
    x[1, g:2 * g] = 1e-3
    x[1, g] = 60000.0
    t = scheme.quantize(x)
    assert t.scales.dtype == np.float16 and t.scales.shape == (5, 3)
    w = x.astype(np.float16).reshape(5, 3, g)
    s = np.max(np.abs(w), axis=-1) / k
    assert np.array_equal(t.scales, s)
    nz = s != 0
    safe = np.where(nz, s, np.float16(1))[..., None]
    q = np.clip(np.round(w / safe + k), 0, 2 * k)
    q = np.where(nz[..., None], q, k).astype(np.uint8)
    assert np.array_equal(t.codes, q.reshape(5, 3 * g))
    deq = ((q.astype(np.float16) - k) * t.scales[..., None]).reshape(5, 3 * g)
    assert np.array_equal(scheme.dequantize(t), deq.astype(np.float64))
    y = block.Q4F16.fake_quantize(np.concatenate([[7.0, 3.5, -1.0, 2.5], np.zeros(28)]))
    assert y[:4].tolist() == [7.0, 3.0, -1.0, 3.0]  # S = 1: 10.5 -> 10 and 9.5 -> 10 (even), then - 7
    with pytest.raises(ValueError, match="x must be finite in fp16"):
        scheme.quantize(np.full(g, 70000.0))


# -- NF4 and FP4 absmax blocks ----------------------------------------------------------------------------------------
NF4_LEVELS = [Fraction(v) for v in oracle.NF4_PUBLISHED]  # the published values, not golden's
E2M1 = [Fraction(v) for v in (0, 0.5, 1, 1.5, 2, 3, 4, 6)]


def ref_nf4(t):
    d = [abs(t - lv) for lv in NF4_LEVELS]
    return d.index(min(d))  # the first (lower) level on a tie


def ref_e2m1(t):
    a = min(abs(t), Fraction(6))
    d = [abs(a - lv) for lv in E2M1]
    best = min(d)
    cands = [k for k in range(8) if d[k] == best]
    code = next((k for k in cands if k % 2 == 0), cands[0])  # ties to the even code
    return code | (8 if t < 0 else 0)  # the sign is kept, even on a zero code


@pytest.mark.parametrize("scheme", [block.NF4_B64, block.FP4_B64], ids=str)
def test_absmax_against_fractions(scheme):
    rng = np.random.default_rng([seed(), 17, scheme.elem.width])
    print(f"seed {seed()}")
    x = rng.standard_normal((4, 128)) * np.exp2(rng.integers(-20, 20, (4, 1)))
    x[0, :64] = 0.0
    x[1, :64] = 1e-3
    x[1, 0] = -50.0
    mids = [(a + b) / 2 for a, b in zip(NF4_LEVELS[:-1], NF4_LEVELS[1:])]
    x[2, 64:] = [float(m) for m in mids * 5][:63] + [1.0]  # exact midpoints with S = 1
    t = scheme.quantize(x)
    assert t.scales.dtype == np.float32 and t.codes.dtype == np.uint8
    top = 1 if scheme.element == "nf4" else 6
    enc = ref_nf4 if scheme.element == "nf4" else ref_e2m1
    y = scheme.dequantize(t)
    for r in range(4):
        for c in range(2):
            blk = [Fraction(float(v)) for v in x[r, 64 * c:64 * (c + 1)]]
            s = ref_float(max(abs(v) for v in blk) / top, **FP32)
            assert Fraction(float(t.scales[r, c])) == s
            codes = [enc(v / s) if s else enc(Fraction(0)) for v in blk]
            assert t.codes[r, 64 * c:64 * (c + 1)].tolist() == codes
            levels = NF4_LEVELS if scheme.element == "nf4" else E2M1 + [-v for v in E2M1]
            assert [Fraction(float(v)) for v in y[r, 64 * c:64 * (c + 1)]] == [levels[k] * s for k in codes]


def test_nf4_known_values():
    x = np.zeros(64)
    x[:5] = [2.0, -2.0, 0.0, 0.16093020141124725 * 2, 1.0]
    t = block.NF4_B64.quantize(x)
    assert t.scales.tolist() == [2.0] and t.codes[:5].tolist() == [15, 0, 7, 9, 12]  # 0.5: nearer 0.4407
    z = block.NF4_B64.quantize(np.zeros(64))
    assert z.scales.tolist() == [0.0] and np.all(z.codes == 7) and np.all(block.NF4_B64.dequantize(z) == 0)


# -- exact ratio rounding ----------------------------------------------------------------------------------------------
def test_encode_ratio_decides_false_midpoints_exactly():
    rng = np.random.default_rng([seed(), 18])
    print(f"seed {seed()}")
    fp16 = golden.lookup("fp16")
    v = np.unique(fp16.decode(fp16.all_bits()))
    v = v[np.isfinite(v) & (v > 0)]
    mids = (v[1:] + v[:-1]) / 2
    den = rng.uniform(1.0, 7.0, 2000)
    num = rng.choice(mids, 2000) * den  # the float64 quotient is often the midpoint itself
    got = fp16.decode(block.encode_ratio(fp16, num, den))
    want = [ref_float(Fraction(float(a)) / Fraction(float(b)), **FP16) for a, b in zip(num, den)]
    assert [Fraction(float(g)) for g in got] == want


# -- shared behaviour -------------------------------------------------------------------------------------------
def test_catalog_and_generic_api():
    assert set(block.SCHEMES) >= {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8",
                                  "msfp12", "msfp16", "flex16+5", "w4a16_g128", "q4f16_1", "q3f16_1", "nf4_b64",
                                  "fp4_e2m1_b64"}
    x = np.linspace(-1, 1, 1280).reshape(2, 640)  # 640: a multiple of every block size
    for name, scheme in block.SCHEMES.items():
        t = block.quantize(x, name)
        assert t.shape == x.shape and t.scheme is scheme
        assert np.array_equal(block.dequantize(t), scheme.dequantize(t)) and np.array_equal(t.dequantize(),
                                                                                             scheme.fake_quantize(x))
        with pytest.raises(AttributeError):
            scheme.name = "x"
    assert block.lookup(block.MXFP4) is block.MXFP4 and block.MX(element="fp4_e2m1") == block.MXFP4


@pytest.mark.parametrize("call, msg", [
    (lambda: block.MXFP8_E4M3.quantize(np.ones(33)),
     r"last axis is a multiple of its block size 32, not shape \(33,\)"),
    (lambda: block.MSFP12.quantize(1.0), "multiple of its block size 16, not shape"),
    (lambda: block.NF4_B64.quantize(np.ones((2, 32))), "multiple of its block size 64"),
    (lambda: block.MSFP12.quantize(np.full(16, np.nan)), "msfp12 has no encoding for NaN or infinity"),
    (lambda: block.W4A16_G128.quantize(np.full(128, np.inf)), "no encoding for NaN or infinity"),
    (lambda: block.FLEX16_5.quantize([1.0], exponent=16), "exponent must be an integer in -16..15, not 16"),
    (lambda: block.MX(element="fp8"), "element must be one of fp8_e4m3"),
    (lambda: block.MX(element="int8", block_size=0), "block_size must be an integer in 1..65536, not 0"),
    (lambda: block.MSFP(man_bits=0), "man_bits must be an integer in 1..15, not 0"),
    (lambda: block.MSFP(rounding="rup"), "rounding must be one of rtz, rne, not 'rup'"),
    (lambda: block.GroupInt(bits=9), "bits must be an integer in 2..8, not 9"),
    (lambda: block.Absmax(element="fp16"), "element must name a float or codebook format of at most 8 bits"),
    (lambda: block.Autoflex(history=0), "history must be an integer in 1..1048576, not 0"),
    (lambda: block.Autoflex(margin=0.5), "margin must be a finite number >= 1.0, not 0.5"),
    (lambda: block.MXFP4.dequantize(block.MXINT8.quantize(np.ones(32))), "mxfp4 decodes BlockTensors it made"),
    (lambda: block.lookup("mxfp5"), "unknown block scheme 'mxfp5'"),
])
def test_block_rejects(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
