"""golden.block's MX scale rules, NVFP4 and dequantize_to against exact arithmetic (verif/support/refs/mx.py),
ml_dtypes for the element rounding, and torchao's own formulas for the scale rules named after it."""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import block
from fmtforge.verif.support.refs.block import ML_DTYPES, MX_ELEMS, mx_data
from fmtforge.verif.support.refs.mx import (BF16, FP32, FRAC_BITS, MAX, ref_ieee, ref_mx, ref_nvfp4_block,
                                           torchao_shared)
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

MODES = block.SCALE_MODES


def edge_blocks(rng, element, n):
    """Random blocks plus blocks whose amax sits at each rule's boundaries: powers of two, the element's max
    times powers of two, and the "even" carry point, each exactly and one fp32 ulp either side."""
    x = mx_data(rng, n)
    m = float(MAX[element])
    mb = FRAC_BITS[element]
    for k, base in enumerate([1.0, m, 2 - 2.0 ** -(mb + 1)]):
        for j, ulp in enumerate((-1, 0, 1)):
            row = 8 + 3 * k + j
            if row < n:
                v = np.float32(base * 2.0 ** int(rng.integers(-100, 100)))
                x[row, :] = float(v) / 3
                x[row, 1] = float(np.nextafter(v, np.float32(np.inf if ulp > 0 else -np.inf))) if ulp else float(v)
    return x


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("element", list(MX_ELEMS))
def test_mx_scale_modes_against_fractions(element, mode):
    rng = np.random.default_rng([seed(), 21, list(MX_ELEMS).index(element), MODES.index(mode)])
    print(f"seed {seed()}")
    scheme = block.MX(element=element)
    x = edge_blocks(rng, element, 120 if FULL else 24)
    t = scheme.quantize(x, scale_mode=mode)
    y = scheme.dequantize(t)
    for b in range(len(x)):
        scale, want = ref_mx(x[b].tolist(), element, mode)
        assert t.scales[b, 0] == scale, (b, x[b])
        if want is None:
            assert np.all(np.isnan(y[b])) and np.all(t.codes[b] == 0)
            continue
        assert [Fraction(float(v)) for v in y[b]] == want, b
        if element in ML_DTYPES:  # ml_dtypes' cast of the scaled, clamped values: the same elements
            shared = int(scale) - 127
            top = float(MX_ELEMS[element][2])
            v = np.clip(np.ldexp(x[b], -shared), -top, top)
            assert np.array_equal(np.ldexp(v.astype(ML_DTYPES[element]).astype(np.float64), shared), y[b]), b
    if mode in ("ceil", "rceil"):  # these rules exist so that nothing clamps
        finite = t.scales[:, 0] != 0xFF
        xs = np.ldexp(np.abs(x[finite]), -(t.scales[finite].astype(int) - 127))
        assert np.all(xs <= float(MAX[element]) * (1 + (mode == "ceil" and element == "int8")))


@pytest.mark.parametrize("mode", MODES)
def test_mx_scale_modes_match_torchao(mode):
    """torchao's bit formulas on fp32 amax give golden's shared exponents for every float element, across
    every binade, at the boundaries and on random mantissas (torchao has no INT8 element). The one known
    difference: torchao's RCEIL computes amax * (1 / max) in fp32, which rounds away the excess over a power
    of two once that quotient is an fp32 subnormal (amax < max * 2**-126); golden's rule is exact there."""
    rng = np.random.default_rng([seed(), 22, MODES.index(mode)])
    e = rng.integers(1, 255, 60000)
    man = rng.integers(0, 1 << 23, 60000)
    man[:20000] = rng.choice([0, 1, 0x7FFFFF, 0x7FFFFE, 0x400000, 0x600000, 0x700000, 0x780000, 0x77FFFF,
                              0x780001, 0x6FFFFF, 0x700001, 0x5FFFFF, 0x600001], 20000)
    amax = ((e << 23) | man).astype(np.uint32).view(np.float32)
    for element in ML_DTYPES:
        scheme = block.MX(element=element)
        want = scheme.shared_exponent(amax.astype(np.float64), mode)
        got = torchao_shared(amax, FRAC_BITS[element], scheme.emax_elem, float(MAX[element]), mode)
        ok = np.clip(got, -127, 128) == np.clip(want, -127, 128)
        if mode == "rceil":
            sub = amax.astype(np.float64) < float(MAX[element]) * 2.0 ** -126
            assert np.all(got[~ok & sub] == want[~ok & sub] - 1)  # torchao one lower: its quotient rounded
            ok |= sub
        assert np.all(ok), (element, [hex(v) for v in amax[~ok][:5].view(np.uint32)], want[~ok][:5], got[~ok][:5])


def test_mx_scale_modes_known_values():
    x = np.zeros(32)
    x[0] = 448.0 * 3  # e4m3: floor 2**(10 - 8) = 4 (1344 / 4 = 336); ceil 2**3; rceil: 1344 / 448 = 3 -> 4
    s = {m: int(block.MXFP8_E4M3.quantize(x, scale_mode=m).scales[0]) - 127 for m in MODES}
    assert s == {"floor": 2, "ceil": 3, "even": 2, "rceil": 2}
    x[0] = 1.96875 * 2 ** 8  # carries when rounded to 3 fraction bits: even -> 2**(9 - 8)
    s = {m: int(block.MXFP8_E4M3.quantize(x, scale_mode=m).scales[0]) - 127 for m in MODES}
    assert s == {"floor": 0, "ceil": 1, "even": 1, "rceil": 1}
    x[0] = 448.0 * 2 ** 5  # exactly the max times a power of two: rceil does not round up
    assert int(block.MXFP8_E4M3.quantize(x, scale_mode="rceil").scales[0]) - 127 == 5
    with pytest.raises(ValueError, match="scale_mode must be one of floor, ceil, even, rceil, not 'up'"):
        block.MXFP4.quantize(x, scale_mode="up")


# -- NVFP4 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rounding", block.nvfp4.NVFP4_SCALE_ROUNDING)
def test_nvfp4_against_fractions(rounding):
    rng = np.random.default_rng([seed(), 23, rounding == "rup"])
    print(f"seed {seed()}")
    n = 400 if FULL else 60
    x = rng.standard_normal((n, 16)) * np.exp2(rng.integers(-12, 12, (n, 1)))
    x[0] = 0.0
    x[1, 2] = np.nan
    x[2, 7] = -np.inf
    x[3] = 1e-12  # tiny against the tensor: the block scale rounds to 0, elements +-0
    x[3, ::2] *= -1
    x[4] = np.arange(16) * 0.5 - 4  # ties once scaled
    scheme = block.NVFP4_SCHEME
    fp32 = golden.lookup("fp32")
    for s in [None, 1.0, 2.0 ** -140, 0.37]:
        s = s if s is None else float(fp32.decode(fp32.encode(np.array([s])))[0])
        t = scheme.quantize(x, tensor_scale=s, scale_rounding=rounding)
        ts = t.tensor_scale
        if s is None:  # NVIDIA's per-tensor scale: amax / (6 * 448), rounded to fp32
            amax = max(abs(Fraction(v)) for v in x[np.isfinite(x)])
            from fmtforge.verif.support.refs.block import ref_float
            assert Fraction(ts) == ref_float(amax / 2688, FP32["frac_bits"], FP32["emin"], FP32["top"])
        y = scheme.dequantize(t)
        e4m3 = golden.lookup("fp8_e4m3")
        scales = t.scales.reshape(-1)
        for b in range(n):
            S, want = ref_nvfp4_block(x[b].tolist(), ts, rounding)
            if S is None:
                assert scales[b] == 0x7F and np.all(t.codes[b] == 0) and np.all(np.isnan(y[b]))
                continue
            assert Fraction(float(e4m3.decode(scales[b:b + 1])[0])) == S and scales[b] < 0x80, b
            assert [Fraction(float(v)) for v in y[b]] == want, b
        assert np.all(np.signbit(y[3]) == np.signbit(x[3]))


def test_nvfp4_known_values_and_errors():
    s = block.NVFP4_SCHEME
    x = np.zeros(16)
    x[:4] = [6.0, -3.0, 1.25, 0.25]
    t = s.quantize(x, tensor_scale=1.0)
    assert t.scales.tolist() == [0x38] and t.codes[:4].tolist() == [0x7, 0xD, 0x2, 0x0]  # S = 1; 1.25 -> 1
    x[0] = 6.3  # 6.3 / 6 = 1.05: rne -> 1.0 (6.3 then clamps to 6), rup -> 1.125
    assert s.quantize(x, tensor_scale=1.0).scales.tolist() == [0x38]
    assert s.quantize(x, tensor_scale=1.0, scale_rounding="rup").scales.tolist() == [0x39]
    assert s.quantize(np.full(16, 448.0 * 6)).tensor_scale == 1.0
    assert s.name == "nvfp4" and block.lookup("nvfp4") is s
    for bad in (0.0, -1.0, np.inf, 0.1, "x"):
        with pytest.raises(ValueError, match="tensor_scale must be a positive finite fp32 value"):
            s.quantize(x, tensor_scale=bad)
    with pytest.raises(ValueError, match="scale_rounding must be one of rne, rup, not 'rtz'"):
        s.quantize(x, scale_rounding="rtz")


# -- dequantize_to --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dst", ["fp32", "bf16"])
@pytest.mark.parametrize("element", list(MX_ELEMS))
def test_dequantize_to_against_fractions(element, dst):
    """Every element code x every E8M0 scale (0xFF: NaN): the exact product rounded once into dst. make test
    checks every pair for fp4_e2m1 and a seeded sample of 600 pairs (every scale among them) for the
    others; FMTFORGE_FULL=1 every pair of every element."""
    scheme = block.MX(element=element, block_size=1)
    elem = scheme.elem
    codes = np.tile(np.arange(1 << elem.width, dtype=np.uint8), 256)
    scales = np.repeat(np.arange(256, dtype=np.uint8), 1 << elem.width)
    if not FULL and elem.width > 4:
        rng = np.random.default_rng([seed(), 24, elem.width])
        print(f"seed {seed()}")
        pick = np.concatenate([np.arange(256) << elem.width, rng.integers(0, len(codes), 344)])
        pick[:256] += rng.integers(0, 1 << elem.width, 256)
        codes, scales = codes[pick], scales[pick]
    got = block.dequantize_to(block.BlockTensor(scheme, codes, scales), dst)
    fmt = golden.lookup(dst)
    p = FP32 if dst == "fp32" else BF16
    values = fmt.decode(got)
    qnan = 0x7FC00000 if dst == "fp32" else 0x7FC0
    ev = elem.decode(codes) * (2.0 ** -6 if element == "int8" else 1.0)
    for k in range(len(codes)):
        if scales[k] == 0xFF or np.isnan(ev[k]):
            assert got[k] == qnan, k
        elif np.isinf(ev[k]):
            assert values[k] == ev[k]
        else:
            want = ref_ieee(Fraction(float(ev[k])) * Fraction(2) ** (int(scales[k]) - 127), p)
            v = values[k]
            assert (v == want) if isinstance(want, float) else (Fraction(float(v)) == want), (k, hex(got[k]))
            assert np.signbit(v) == np.signbit(ev[k]), k
