"""The other golden families (integers, NF4, E8M0, CFloat8, x87), conversions between any two formats,
stochastic rounding, flags and round trips, each against an independent computation."""

import functools
import math
from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.refs import p3109_fixed as oracle_small
from fmtforge.verif.support.vectors.patterns import seed

MODES = ["rne", "rtz", "rdn", "rup", "rmm"]


def round_to_int(q, mode):
    """Fraction -> int by the mode, from floor and the remainder (no shifting)."""
    fl = math.floor(q)
    r = q - fl
    if r == 0:
        return fl
    up = {"rne": r > Fraction(1, 2) or (r == Fraction(1, 2) and fl % 2 == 1), "rmm": r > Fraction(1, 2) or (
        r == Fraction(1, 2) and q > 0), "rtz": q < 0, "rdn": False, "rup": True}[mode]
    return fl + up


# -- integers ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["int4", "uint4", "int8", "uint8", "int16"])
def test_integer_decode_every_pattern(name):
    f = golden.lookup(name)
    b = f.all_bits().astype(np.int64)
    want = np.where(b >= (1 << (f.bits - 1)), b - (1 << f.bits), b) if f.signed else b
    assert np.array_equal(f.decode(b), want.astype(float))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["int4", "uint4", "int8", "uint8", "int16", "int32"])
def test_integer_encode_rounds_then_saturates(name, mode):
    f = golden.lookup(name)
    rng = np.random.default_rng([seed(), f.bits])
    lo, hi = f.min_int, f.max_int
    edges = [lo - 1, lo - 0.5, lo, lo + 0.5, hi - 0.5, hi, hi + 0.5, hi + 1, 0.5, -0.5, 1.5, -1.5, 2.5, 0.0, -0.0,
             1e30, -1e30, 5e-324]
    x = np.concatenate([edges, rng.uniform(lo - 4, hi + 4, 20000), np.round(rng.uniform(lo, hi, 2000)) + 0.5])
    got = f.encode(x, mode).astype(np.int64)
    got = np.where(got >= (1 << (f.bits - 1)), got - (1 << f.bits), got) if f.signed else got
    for k, v in enumerate(x):
        want = min(max(round_to_int(Fraction(float(v)), mode), lo), hi)
        assert got[k] == want, f"{name} {mode} {v!r}: expected {want}, got {got[k]}"
    assert list(f.encode([np.nan, np.inf, -np.inf])) == [0, f.encode([hi])[0], f.encode([lo])[0]]
    # a million more, against numpy's own rounding functions
    x = rng.uniform(lo - 8, hi + 8, 1_000_000)
    x[::3] = np.round(x[::3]) + 0.5  # ties
    ref = {"rne": np.rint, "rtz": np.trunc, "rdn": np.floor, "rup": np.ceil,
           "rmm": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5)}[mode](x)
    want = np.clip(ref, lo, hi).astype(np.int64)
    got = f.encode(x, mode).astype(np.int64)
    got = np.where(got >= (1 << (f.bits - 1)), got - (1 << f.bits), got) if f.signed else got
    assert np.array_equal(got, want)
    _, flags = f.encode_flags([np.nan, hi + 1.0, 0.5])
    assert flags[0] & golden.NV and flags[1] & golden.NV and flags[2] == golden.NX


# -- NF4 -----------------------------------------------------------------------------------------------------
NF4_LEVELS = oracle.NF4_PUBLISHED


def test_nf4_levels_are_qlora_s():
    assert golden.lookup("nf4").decode(np.arange(16)).tolist() == NF4_LEVELS


def test_nf4_encode_nearest_ties_to_lower():
    f = golden.lookup("nf4")
    lv = [Fraction(v) for v in NF4_LEVELS]
    mids = [(a + b) / 2 for a, b in zip(lv, lv[1:])]
    rng = np.random.default_rng(seed())
    x = np.concatenate([NF4_LEVELS, [float(m) for m in mids], rng.uniform(-1.5, 1.5, 20000), [-5.0, 5.0, -0.0]])
    x = np.concatenate([x, np.nextafter(x, 2), np.nextafter(x, -2)])
    got = f.encode(x)
    for k, v in enumerate(x):
        q = Fraction(float(v))
        dist = [abs(q - l) for l in lv]
        best = min(dist)
        want = dist.index(best)  # first (lowest) code at the smallest distance: ties go down
        assert got[k] == want, f"nf4 {v!r}: expected {want}, got {got[k]}"
    assert f.encode([np.nan])[0] == 7


def test_nf4_rejects_other_modes():
    with pytest.raises(ValueError, match="nf4 encodes to the nearest level only"):
        golden.lookup("nf4").encode([0.5], "rtz")


# -- E8M0 ----------------------------------------------------------------------------------------------------
def test_e8m0_decode_every_pattern():
    f = golden.lookup("e8m0")
    v = f.decode(np.arange(256))
    assert np.isnan(v[255]) and all(v[p] == 2.0 ** (p - 127) for p in range(255))


@pytest.mark.parametrize("mode", MODES)
def test_e8m0_encode(mode):
    f = golden.lookup("e8m0")
    rng = np.random.default_rng(seed())
    x = np.concatenate([np.exp2(rng.uniform(-130, 130, 5000)), 1.5 * np.exp2(np.arange(-127, 127.0)),
                        np.exp2(np.arange(-127, 128.0))])
    got = f.encode(x, mode, saturate=True)
    for k, v in enumerate(x):
        q = Fraction(float(v))
        e = math.floor(math.log2(v))
        e += (Fraction(2) ** (e + 1) <= q) - (Fraction(2) ** e > q)
        lo, hi = Fraction(2) ** e, Fraction(2) ** (e + 1)
        if q == lo:
            want = e
        else:
            mid = (lo + hi) / 2
            up = {"rne": q > mid or (q == mid and (e + 127) % 2 == 1), "rmm": q >= mid, "rtz": False,
                  "rdn": False, "rup": True}[mode]
            want = e + up
        want = min(max(want + 127, 0), 254)
        assert got[k] == want, f"e8m0 {mode} {v!r}: expected {want}, got {got[k]}"
    assert list(f.encode([0.0, -1.0, np.nan, np.inf, 2.0 ** 200])) == [0, 255, 255, 255, 255]


# -- CFloat8 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("e, bias", [(4, 0), (4, 7), (4, 63), (5, 15), (5, 0), (5, 40)])
def test_cfloat8_every_pattern_and_rounding(e, bias):
    f = golden.cfloat8(exp_bits=e, bias=bias)
    assert f.width == 8 and f.specials == "none"
    for b in range(256):
        want = oracle.minifloat_value(f, b)
        got = f.decode_raw(np.array([b], np.uint8))
        v = Fraction(int(got.sig[0])) * Fraction(2) ** int(got.exp[0]) * (-1 if got.sign[0] else 1)
        assert v == want
    r = oracle.rounder(f)
    x = np.concatenate([r.values, (r.values[1:] + r.values[:-1]) / 2])
    for mode in MODES:
        assert np.array_equal(f.encode(x, mode).astype(np.int64), oracle.encode_minifloat(f, x, mode))


@pytest.mark.parametrize("kwargs, message", [
    (dict(exp_bits=3), "exp_bits must be 4 or 5"), (dict(exp_bits=4, bias=64), "bias must be an integer in 0..63, not 64"),
    (dict(exp_bits=4, man_bits=2), "man_bits must be 3 with exp_bits=4"),
])
def test_cfloat8_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        golden.cfloat8(**kwargs)


# -- x87 -----------------------------------------------------------------------------------------------------
def x87(sign, exp, man):
    return (sign << 79) | (exp << 64) | man


def test_x87_decode_classes():
    f = golden.lookup("x87")
    pats = [x87(0, 16383, 1 << 63), x87(1, 16383, 3 << 62), x87(0, 0, 1), x87(0, 0, 0), x87(0, 0x7FFF, 1 << 63),
            x87(0, 0x7FFF, 3 << 62), x87(0, 16383, 0), x87(0, 0, 1 << 63), x87(0, 0x7FFF, 0), x87(0, 0x7FFF, 1),
            x87(0, 32766, (1 << 64) - 1)]
    raw = f.decode_raw(np.array(pats, dtype=object))
    vals = raw.to_fractions()
    for p, v in zip(pats, vals):
        want = oracle.minifloat_value(f, p)
        assert (v is None and want is oracle.NAN) or v == want, (hex(p), v, want)
    assert vals[0] == 1 and vals[1] == -Fraction(3, 2) and vals[2] == Fraction(2) ** (-16382 - 63)
    assert vals[4] == math.inf and vals[5] is None            # inf, quiet NaN
    assert vals[6] is None and vals[7] is None and vals[8] is None and vals[9] is None  # invalid encodings
    assert vals[10] == (2 - Fraction(1, 1 << 63)) * Fraction(2) ** 16383


def test_x87_holds_every_fp64_and_rounds_back_exactly():
    rng = np.random.default_rng(seed())
    b = rng.integers(0, 1 << 64, 20000, dtype=np.uint64)
    x = b.view(np.float64)
    x = x[~np.isnan(x)]
    bits = golden.lookup("x87").encode(x)
    assert np.array_equal(golden.convert(bits, "x87", "fp64").view(np.float64), x)


def test_x87_to_fp64_rounds_like_python_fractions():
    """CPython's float(Fraction) is correctly rounded (nearest, ties to even): an independent fp64 rounding."""
    f = golden.lookup("x87")
    rng = np.random.default_rng(seed())
    pats = []
    for _ in range(3000):
        e = int(rng.integers(16383 - 1100, 16383 + 1100))
        man = (1 << 63) | int(rng.integers(0, 1 << 63))
        if rng.random() < 0.3:
            man = (man >> 11 << 11) | (1 << 10)  # an exact tie at fp64's precision
        pats.append(x87(int(rng.integers(0, 2)), e, man))
    got = golden.convert(np.array(pats, dtype=object), "x87", "fp64").view(np.float64)
    for p, g, v in zip(pats, got, f.decode_raw(np.array(pats, dtype=object)).to_fractions()):
        try:
            want = float(v)
        except OverflowError:
            want = math.inf if v > 0 else -math.inf
        assert g == want, (hex(p), g, want)


# -- every pair of small formats -----------------------------------------------------------------------------
SMALL = [f for f in golden.CATALOG.values() if f.width <= 16 and f.kind in ("float", "posit", "int", "scale")]


@functools.lru_cache(maxsize=None)
def _posit_rounder(n, es):
    return oracle.posit_rounder(n, es)  # a table of every value: built once per format


def reference_encode(dst, x):
    """RNE patterns of float64 values ``x`` in ``dst`` from the independent references (verif/support/oracle*.py,
    written from the format definitions: rounding by search among the representable values), not from
    golden's encode. None for a format without one here (E8M0: checked in test_small_formats.py)."""
    name = dst.name
    if name.startswith("p3109_"):  # p3109_k{k}p{p}[_unsigned][_finite]
        k, p = (int(v) for v in name.split("_")[1][1:].split("p"))
        return oracle_small.encode_p3109(k, p, "_unsigned" not in name, "_finite" not in name, x, "rne", False)[0]
    if dst.kind == "float":
        return oracle.encode_minifloat(dst, x, "rne")
    if dst.kind == "posit":
        return oracle.posit_encode_many(_posit_rounder(dst.n, dst.es), dst.n, x, "rne")
    if dst.kind == "int":
        frac = 6 if name == "mxint8" else 0  # MXINT8: two's complement times 2**-6, symmetric (no -128)
        codes = oracle_small.encode_fixed(dst.bits, dst.signed, frac, name == "mxint8", x, "rne")[0]
        return codes & ((1 << dst.width) - 1)
    return None


@pytest.mark.parametrize("dst", SMALL, ids=str)
def test_convert_is_the_reference_rounding(dst):
    """Every pattern of every small source: convert() rounds the exact source value as the independent
    reference does (ties to even, each format's overflow); NaN sources give a NaN where the format has one."""
    for src in SMALL:
        bits = src.all_bits()
        v = src.decode(bits)  # exact: every value of these formats is a float64 (decode is checked elsewhere)
        num = ~np.isnan(v)  # NaN payloads are checked where the formats are (decode gives a bare NaN)
        want = reference_encode(dst, v[num])
        if want is not None:
            got = golden.convert(bits[num], src, dst).astype(np.int64)
            bad = np.nonzero(got != np.asarray(want, dtype=np.int64))[0]
            assert not len(bad), (f"{src.name} -> {dst.name}: {len(bad)} differ, first "
                                  f"0x{int(bits[num][bad[0]]):x} ({v[num][bad[0]]!r}): expected "
                                  f"0x{int(want[bad[0]]):x}, got 0x{int(got[bad[0]]):x}")
        nan_out = dst.decode(golden.convert(bits[~num], src, dst))
        assert dst.kind not in ("float", "posit", "scale") or getattr(dst, "specials", "") == "none" or \
            np.isnan(nan_out).all(), (src.name, dst.name)


# -- stochastic rounding -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, R", [("bf16", 8), ("fp8_e4m3", 12), ("fp8_e5m2", 4), ("posit16", 10), ("int8", 6),
                                     ("fp4_e2m1", 3)])
def test_stochastic_follows_its_definition(name, R):
    """Round up exactly when floor(discarded fraction * 2**R) + rand >= 2**R."""
    f = golden.lookup(name)
    rng = np.random.default_rng(seed())
    x = rng.standard_normal(3000) * 4
    rand = rng.integers(0, 1 << R, 3000)
    down = f.encode(x, "rtz")
    got = f.encode(x, "stochastic", rand=rand, rand_bits=R)
    for k in range(len(x)):
        q = Fraction(float(x[k]))
        lo, hi = sorted([f.decode(np.array([down[k]]))[0], f.decode(np.array([f.encode([abs(x[k])], "rup")[0]]))[0]
                         * np.sign(x[k])], key=abs)
        if lo == hi or f.kind == "posit" and abs(q) > f.max:
            continue
        frac = (abs(q) - abs(Fraction(lo))) / (abs(Fraction(hi)) - abs(Fraction(lo)))
        t = math.floor(frac * (1 << R))
        want_up = t + int(rand[k]) >= 1 << R
        want = f.encode([hi if want_up else lo])[0]
        assert got[k] == want, (name, x[k], lo, hi, t, rand[k])


def test_stochastic_is_unbiased_on_average():
    f = golden.lookup("bf16")
    rng = np.random.default_rng(seed())
    x = np.full(200_000, 1 + 2.0 ** -9 + 2.0 ** -11)  # 5/8 of the way from 1 to 1 + 2**-7... in units of 2**-7
    r = rng.integers(0, 1 << 16, x.size)
    mean = f.decode(f.encode(x, "stochastic", rand=r, rand_bits=16)).mean()
    assert abs(mean - x[0]) < 2.0 ** -7 * 0.01


def test_stochastic_needs_its_bits():
    with pytest.raises(ValueError, match="rounding='stochastic' needs rand="):
        golden.lookup("bf16").encode([1.0], "stochastic")
    with pytest.raises(ValueError, match="rand values must lie in 0..255 for rand_bits=8"):
        golden.lookup("bf16").encode([1.0], "stochastic", rand=[256], rand_bits=8)
    with pytest.raises(ValueError, match="rounding must be one of rne, rtz, rdn, rup, rmm, stochastic, not 'near'"):
        golden.lookup("bf16").encode([1.0], "near")


# -- flags and round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fp8_e4m3", "fp8_e5m2", "bf16", "fp16", "fp4_e2m1", "fp8_e4m3fnuz"])
def test_inexact_flag_means_the_value_changed(name):
    f = golden.lookup(name)
    rng = np.random.default_rng(seed())
    x = np.concatenate([rng.standard_normal(50000) * np.exp2(rng.integers(-20, 20, 50000)), oracle.rounder(f).values])
    bits, flags = f.encode_flags(x)
    back = f.decode(bits)
    changed = ~((back == x) | (np.isnan(back) & np.isnan(x)))
    assert np.array_equal((flags & golden.NX) != 0, changed)
    # tiny after rounding (IEEE 754 7.5; rne): below 2**emin (1 - 2**-(p+1)), the values that do not round up to
    # 2**emin at the format's precision p (the rule before issue 25 compared the delivered result with 2**emin)
    p = f.frac_bits + 1
    tiny = (np.abs(x) < float(f.min_normal) * (1 - 2.0 ** -(p + 1))) & changed
    assert np.array_equal((flags & golden.UF) != 0, tiny)


@pytest.mark.parametrize("fmt", [f for f in golden.CATALOG.values() if f.width <= 16], ids=str)
def test_round_trip_every_pattern(fmt):
    bits = fmt.all_bits()
    if getattr(fmt, "symmetric", False):  # MXINT8: -2**(bits-1) decodes but is never produced (-max, NV)
        lowest = bits[1 << (fmt.bits - 1)]
        assert fmt.decode_raw([lowest]).sig[0] == 1 << (fmt.bits - 1)
        b, fl = fmt.encode_flags(fmt.decode([lowest]))
        assert b[0] == lowest + 1 and fl[0] == golden.NV
        bits = bits[bits != lowest]
    v = fmt.decode(bits)
    again = fmt.encode(v[~np.isnan(v)])
    keep = bits[~np.isnan(v)]
    # a value has one canonical pattern; only zero may have two (+0 and -0 both decode to 0 but keep the sign)
    assert np.array_equal(fmt.decode(again), v[~np.isnan(v)])
    assert np.array_equal(again, keep) or fmt.kind == "codebook"


def test_facts():
    e4m3, e5m2, bf16 = golden.lookup("fp8_e4m3"), golden.lookup("fp8_e5m2"), golden.lookup("bf16")
    assert e4m3.max == 448 and e4m3.min_subnormal == Fraction(1, 512) and e4m3.min_normal == Fraction(1, 64)
    assert e5m2.max == 57344 and e5m2.min_subnormal == Fraction(1, 1 << 16)
    assert golden.lookup("fp8_e4m3fnuz").max == 240 and golden.lookup("fp6_e2m3").max == Fraction(15, 2)
    assert golden.lookup("fp6_e3m2").max == 28 and golden.lookup("fp4_e2m1").max == 6
    assert bf16.epsilon == Fraction(1, 128) and round(e4m3.dynamic_range, 6) == round(math.log2(448 * 512), 6)
    assert golden.lookup("e8m0").max == Fraction(2) ** 127


@pytest.mark.parametrize("name, ref", [("int2", "int2"), ("uint2", "uint2"), ("int4", "int4"), ("uint4", "uint4")])
def test_low_bit_integers_match_ml_dtypes(name, ref):
    import ml_dtypes
    fmt = golden.lookup(name)
    bits = fmt.all_bits()
    # ml_dtypes stores these one per byte, in the low bits, sign-extended for the signed ones
    stored = bits.astype(np.int16)
    if fmt.signed:
        stored = np.where(stored >= 1 << (fmt.bits - 1), stored - (1 << fmt.bits), stored)
    want = stored.astype(np.int8).view(getattr(ml_dtypes, ref)) if fmt.signed else \
        stored.astype(np.uint8).view(getattr(ml_dtypes, ref))
    assert np.array_equal(fmt.decode(bits), want.astype(np.float64))
