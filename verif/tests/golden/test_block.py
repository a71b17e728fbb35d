"""golden.block against exact arithmetic: MX, MSFP, Flexpoint/Autoflex, W4A16, q4f16/q3f16, NF4/FP4 blocks.

The references round Fractions with formats described by their published parameters (SPECS.md), written
independently of golden's format objects; ml_dtypes is a second, independent check of the MX elements.
"""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import block as block
from fmtforge.verif.support.vectors import seed

HALF = Fraction(1, 2)


# -- references -------------------------------------------------------------------------------------------------
def floor_log2(a):
    a = Fraction(a)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def ref_float(x, frac_bits, emin, top):
    """The binary float nearest to Fraction ``x`` (ties to even), ``frac_bits`` fraction bits, subnormals below
    ``2**emin``, saturating at ``top``."""
    x = Fraction(x)
    if x == 0:
        return Fraction(0)
    ulp = Fraction(2) ** (max(floor_log2(abs(x)), emin) - frac_bits)
    v = min(round(abs(x) / ulp) * ulp, Fraction(top))
    return v if x > 0 else -v


FP16 = dict(frac_bits=10, emin=-14, top=65504)
FP32 = dict(frac_bits=23, emin=-126, top=(2 - Fraction(2) ** -23) * Fraction(2) ** 127)
# element formats of MX v1.0: (fraction bits, emin, max, emax_elem)
MX_ELEMS = {"fp8_e4m3": (3, -6, 448, 8), "fp8_e5m2": (2, -14, 57344, 15), "fp6_e2m3": (3, 0, Fraction(15, 2), 2),
            "fp6_e3m2": (2, -2, 28, 4), "fp4_e2m1": (1, 0, 6, 2), "int8": (None, None, None, 0)}
MX_SCHEMES = {"fp8_e4m3": block.MXFP8_E4M3, "fp8_e5m2": block.MXFP8_E5M2, "fp6_e2m3": block.MXFP6_E2M3,
              "fp6_e3m2": block.MXFP6_E3M2, "fp4_e2m1": block.MXFP4, "int8": block.MXINT8}
ML_DTYPES = {"fp8_e4m3": ml_dtypes.float8_e4m3fn, "fp8_e5m2": ml_dtypes.float8_e5m2,
             "fp6_e2m3": ml_dtypes.float6_e2m3fn, "fp6_e3m2": ml_dtypes.float6_e3m2fn,
             "fp4_e2m1": ml_dtypes.float4_e2m1fn}


def ref_mx_block(vals, element):
    """(shared exponent or None for a NaN block, exact element values times X)."""
    if not all(math.isfinite(v) for v in vals):
        return None, None
    frac, emin, top, emax_elem = MX_ELEMS[element]
    amax = max(abs(Fraction(v)) for v in vals)
    shared = -127 if amax == 0 else max(floor_log2(amax) - emax_elem, -127)
    if shared > 127:
        return None, None
    x = Fraction(2) ** shared
    if element == "int8":
        out = [min(max(round(Fraction(v) / x * 64), -127), 127) * x / 64 for v in vals]
    else:
        out = [ref_float(Fraction(v) / x, frac, emin, top) * x for v in vals]
    return shared, out


def mx_data(rng, nblocks, k=32):
    x = rng.standard_normal((nblocks, k)) * np.exp2(rng.integers(-30, 30, (nblocks, 1)))
    x *= np.exp2(-rng.integers(0, 14, (nblocks, k)) * (rng.random((nblocks, k)) < 0.3))  # small elements too
    x[0] = 0.0
    x[1, :] = 0.0
    x[1, 3] = -2.0 ** -130  # a tiny block: the shared exponent clamps at -127
    x[2, 5] = 1e300  # beyond E8M0: NaN scale
    x[3, 7] = np.nan
    x[4, 9] = -np.inf
    x[5] = 1e-3
    x[5, 0] = 1000.0  # a single outlier
    x[6] = np.arange(32) * 0.25 - 4  # many ties for E2M1 once scaled
    return x


# -- MX -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("element", list(MX_ELEMS))
def test_mx_against_fractions_and_ml_dtypes(element):
    rng = np.random.default_rng([seed(), 11, list(MX_ELEMS).index(element)])
    print(f"seed {seed()}")
    scheme = MX_SCHEMES[element]
    x = mx_data(rng, 48)
    t = scheme.quantize(x)
    assert t.codes.dtype == np.uint8 and t.codes.shape == (48, 32)
    assert t.scales.dtype == np.uint8 and t.scales.shape == (48, 1)
    y = scheme.dequantize(t)
    for b in range(48):
        shared, want = ref_mx_block(x[b].tolist(), element)
        if shared is None:
            assert t.scales[b, 0] == 0xFF and np.all(np.isnan(y[b])) and np.all(t.codes[b] == 0), b
            continue
        assert t.scales[b, 0] == shared + 127, b
        assert [Fraction(float(v)) for v in y[b]] == want, b
        if element in ML_DTYPES:
            _, _, top, _ = MX_ELEMS[element]
            v = np.clip(np.ldexp(x[b], -shared), -float(top), float(top))
            ml = np.ldexp(v.astype(ML_DTYPES[element]).astype(np.float64), shared)
            assert np.array_equal(ml, y[b]), b


def test_mx_known_values():
    x = np.zeros(32)
    x[:4] = [1.0, -0.3, 1.9, 2.0 ** -12]
    t = block.MXFP8_E4M3.quantize(x)
    assert t.scales.tolist() == [119]  # X = 2**(0 - 8)
    assert t.codes[:4].tolist() == [0x78, 0xEA, 0x7E, 0x18]  # 256, -76.8 -> -80, 486.4 -> 448 (clamped), 2**-4
    assert block.MXFP8_E4M3.dequantize(t)[:4].tolist() == [1.0, -0.3125, 1.75, 2.0 ** -12]
    # E2M1, amax 6 -> X = 1: 5 is a tie between 4 and 6 -> 4 (even); 0.25 a tie between 0 and 0.5 -> 0
    e = block.MXFP4.quantize(np.concatenate([[6.0, 5.0, -5.0, 0.25, 0.75, 2.5], np.zeros(26)]))
    assert e.scales.tolist() == [127] and e.codes[:6].tolist() == [0x7, 0x6, 0xE, 0x0, 0x2, 0x4]
    # MXINT8: -127.6 * 2**-6 would round to -128: clamped to -127 (0x81); 0x80 still decodes as -2
    m = block.MXINT8.quantize(np.concatenate([[-1.99375, 1.0, 0.5 / 64, 1.5 / 64], np.zeros(28)]))
    assert m.scales.tolist() == [127] and m.codes[:4].tolist() == [0x81, 64, 0, 2]
    raw = block.BlockTensor(block.MXINT8, np.full(32, 0x80, dtype=np.uint8), np.array([128], dtype=np.uint8))
    assert np.all(block.MXINT8.dequantize(raw) == -4.0)


def test_mx_zero_outlier_and_special_blocks():
    x = np.zeros((4, 32))
    x[1] = 1e-3
    x[1, 0] = 1000.0
    x[2, 4] = np.nan
    x[3, 0] = np.inf
    for scheme in MX_SCHEMES.values():
        t = scheme.quantize(x)
        assert t.scales[:, 0].tolist() == [0, t.scales[1, 0], 0xFF, 0xFF]
        y = scheme.dequantize(t)
        assert np.all(y[0] == 0) and np.all(np.isnan(y[2:]))
        # 1e-3 next to 1000 flushes to zero, except in E5M2, whose subnormals reach 2**-31 below its top
        assert np.all(y[1, 1:] == 0) == (scheme.element != "fp8_e5m2")
    e4 = block.MXFP8_E4M3.dequantize(block.MXFP8_E4M3.quantize(x[1]))
    assert e4[0] == 896.0  # 1000 / 2 = 500 clamps to 448: MX clamps the largest element of a block


def test_mx_other_block_sizes_and_rounding():
    s = block.MX(element="fp8_e4m3", block_size=8)
    assert s.name == "mxfp8_e4m3_k8" and s.quantize(np.ones(16)).scales.shape == (2,)
    x = np.full(32, 1.0)
    x[1] = 1.0 + 2.0 ** -4 + 2.0 ** -10  # just above a tie: rne up, rtz down
    assert block.MXFP8_E4M3.fake_quantize(x)[1] == 1.125
    assert block.MXFP8_E4M3.fake_quantize(x, rounding="rtz")[1] == 1.0


# -- MSFP ---------------------------------------------------------------------------------------------------------
def ref_msfp_block(vals, man_bits, rounding):
    amax = max(abs(Fraction(v)) for v in vals)
    e = -127 if amax == 0 else min(max(floor_log2(amax), -127), 128)
    ulp = Fraction(2) ** (e - man_bits + 1)
    out = []
    for v in vals:
        m = abs(Fraction(v)) / ulp
        m = min(math.floor(m) if rounding == "rtz" else round(m), 2 ** man_bits - 1)
        out.append(-m * ulp if v < 0 or (v == 0 and math.copysign(1, v) < 0) else m * ulp)
    return e, out


@pytest.mark.parametrize("scheme", [block.MSFP12, block.MSFP16, block.MSFP(man_bits=3, rounding="rne"),
                                    block.MSFP(man_bits=10, block_size=8)], ids=str)
def test_msfp_against_fractions(scheme):
    rng = np.random.default_rng([seed(), 12, scheme.man_bits])
    print(f"seed {seed()}")
    x = rng.standard_normal((40, scheme.block_size)) * np.exp2(rng.integers(-140, 140, (40, 1)))
    x[0] = 0.0
    x[1] = 1e-3
    x[1, 0] = 1000.0
    x[2, :4] = [1.96875, 1.0, -0.9, 0.1]
    t = scheme.quantize(x)
    assert t.scales.dtype == np.uint8 and t.scales.shape == (40, 1)
    y = scheme.dequantize(t)
    for b in range(40):
        e, want = ref_msfp_block(x[b].tolist(), scheme.man_bits, scheme.rounding)
        assert t.scales[b, 0] == e + 127
        assert [Fraction(float(v)) for v in y[b]] == want, b


def test_msfp_known_values():
    x = np.zeros(16)
    x[:5] = [1.0, 0.75, 0.1, -0.9, 1.96875]
    t = block.MSFP12.quantize(x)
    assert t.scales.tolist() == [127] and t.codes[:5].tolist() == [4, 3, 0, 0b1011, 7]
    assert block.MSFP12.dequantize(t)[:5].tolist() == [1.0, 0.75, 0.0, -0.75, 1.75]
    rne = block.MSFP(man_bits=3, rounding="rne")
    assert rne.fake_quantize(x)[:5].tolist() == [1.0, 0.75, 0.0, -1.0, 1.75]  # 7.875 -> 8 saturates at 7
    z = block.MSFP16.quantize(np.zeros((2, 16)))
    assert z.scales.tolist() == [[0], [0]] and np.all(z.codes == 0)


# -- Flexpoint and Autoflex ---------------------------------------------------------------------------------------
def test_flexpoint_quantize_and_best_exponent():
    f = block.FLEX16_5
    assert (f.emin, f.emax) == (-16, 15)
    assert [f.best_exponent(v) for v in (1.0, 32767 / 32768, 32767.5 / 32768, 0.0, 0.01, 2.0 ** 20)] == [
        1, 0, 1, -16, -6, 15]
    rng = np.random.default_rng([seed(), 13])
    print(f"seed {seed()}")
    x = rng.standard_normal(500) * 3
    for e in (-16, 0, 2, 15):
        t = f.quantize(x, exponent=e)
        assert t.codes.dtype == np.int16 and int(t.scales) == e
        want = [min(max(round(Fraction(float(v)) * Fraction(2) ** (15 - e)), -32768), 32767) for v in x]
        assert t.codes.tolist() == want
        assert np.array_equal(f.dequantize(t), np.array(want) * 2.0 ** (e - 15))
    t = f.quantize(x)
    assert int(t.scales) == f.best_exponent(np.max(np.abs(x))) and np.max(np.abs(t.codes)) >= 16384
    big = f.quantize([1e9, -1e9])
    assert big.codes.tolist() == [32767, -32768] and int(big.scales) == 15


def test_autoflex_rule():
    a = block.Autoflex(block.FLEX16_5, history=4, kappa=0.0, margin=1.0)
    assert a.predict() is None
    seq = []
    for m in (1.0, 1.0, 3.0, 3.0, 3.0, 0.1, 0.1, 0.1, 0.1, 0.1):
        seq.append(int(a.quantize(np.array([m, -m / 2])).scales))
    # init fits 1.0 (e=1); 3.0 overflows e=1 -> reset, one extra bit: best(3.0) + 1 = 3; then best(3.0) = 2
    # while 3.0 is in the last 4 maxima, then best(0.1) = -3
    assert seq == [1, 1, 1, 3, 2, 2, 2, 2, 2, -3]
    assert a.overflows == 1
    k = block.Autoflex(kappa=3.0)
    k.quantize(np.array([1.0]))
    k.quantize(np.array([1.5]))
    assert k.predict() == 2  # max 1.5 + 3 * std 0.25 = 2.25 > largest(1) = 1.99994
    k0 = block.Autoflex(kappa=0.0)
    k0.quantize(np.array([1.0]))
    k0.quantize(np.array([1.5]))
    assert k0.predict() == 1
    assert block.Autoflex(margin=4.0).quantize(np.array([1.0])).scales == 1  # initialization: its own best


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
NF4_LEVELS = [Fraction(float(v)) for v in golden.lookup("nf4").levels]
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
