"""golden.block's shared-exponent schemes against exact arithmetic: OCP MX, MSFP, Flexpoint/Autoflex.

The references (verif/support/refs/block.py) are written from the published parameters; ml_dtypes is a
second, independent check of the MX elements."""

import math
from fractions import Fraction

import numpy as np
import pytest

from fmtforge.golden import block
from fmtforge.verif.support.refs.block import (ML_DTYPES, MX_ELEMS, MX_SCHEMES, floor_log2, mx_data, ref_mx_block)
from fmtforge.verif.support.vectors.patterns import seed

HALF = Fraction(1, 2)



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
