"""golden.Minifloat against independent references: exact rational values from the bit fields, rounding
by search among the representable values, numpy's float32/float16 casts and ml_dtypes."""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.vectors.patterns import seed

SMALL = [f for f in golden.CATALOG.values() if isinstance(f, golden.Minifloat) and f.width <= 16]
MODES = ["rne", "rtz", "rdn", "rup", "rmm"]


def fraction_of(fmt, raw, k):
    """Exact value of element k of a golden Raw, in oracle's terms."""
    c = raw.cls[k]
    if c == golden.NAN:
        return oracle.NAN
    if c == golden.INF:
        return -math.inf if raw.sign[k] else math.inf
    v = Fraction(int(raw.sig[k])) * Fraction(2) ** int(raw.exp[k])
    return -v if raw.sign[k] else v


@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_decode_every_pattern_exactly(fmt):
    bits = fmt.all_bits()
    raw = fmt.decode_raw(bits)
    f64 = fmt.decode(bits)
    for k, b in enumerate(bits):
        want = oracle.minifloat_value(fmt, b)
        got = fraction_of(fmt, raw, k)
        assert got == want or (got is oracle.NAN and want is oracle.NAN), (
            f"{fmt.name} 0x{int(b):x}: expected {want}, got {got}")
        if want is oracle.NAN:
            assert math.isnan(f64[k])
        else:
            assert f64[k] == float(want) and (want != 0 or bool(np.signbit(f64[k])) == bool(int(b) >> (fmt.width - 1)))


ML_DTYPES = {
    "fp16": np.float16, "bf16": ml_dtypes.bfloat16, "fp8_e4m3": ml_dtypes.float8_e4m3fn,
    "fp8_e5m2": ml_dtypes.float8_e5m2, "fp8_e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "fp8_e5m2fnuz": ml_dtypes.float8_e5m2fnuz, "fp6_e2m3": ml_dtypes.float6_e2m3fn,
    "fp6_e3m2": ml_dtypes.float6_e3m2fn, "fp4_e2m1": ml_dtypes.float4_e2m1fn,
    "float8_e3m4": ml_dtypes.float8_e3m4, "float8_e4m3": ml_dtypes.float8_e4m3,
    "float8_e4m3b11fnuz": ml_dtypes.float8_e4m3b11fnuz,
}


@pytest.mark.parametrize("name", ML_DTYPES)
def test_decode_matches_ml_dtypes(name):
    fmt = golden.lookup(name)
    bits = fmt.all_bits()
    ref = bits.view(ML_DTYPES[name]) if fmt.width in (8, 16) else \
        bits.astype(np.uint8).view(ML_DTYPES[name])
    with np.errstate(invalid="ignore"):  # ml_dtypes warns when it converts a signalling NaN
        ref = ref.astype(np.float64)
    got = fmt.decode(bits)
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    assert same.all(), [hex(int(b)) for b in bits[~same][:8]]


def edge_values(fmt):
    """Every representable value, every midpoint between neighbours, the float64s beside each of them, the
    overflow boundary and its neighbours, and the specials."""
    r = oracle.rounder(fmt)
    v = r.values
    mids = (v[1:] + v[:-1]) / 2
    vmax = v[-1]
    nxt = vmax + 2.0 ** (math.floor(math.log2(vmax)) - fmt.frac_bits)
    pts = np.concatenate([v, mids, [nxt, (vmax + nxt) / 2, 2 * nxt, 1e300, 5e-324, 0.0, -0.0]])
    pts = np.concatenate([pts, -pts])
    pts = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
    return np.concatenate([pts, [np.inf, -np.inf, np.nan, -np.nan]])


def random_values(fmt, n, rng):
    """Values spread over the format's whole range and beyond it, log-uniformly in magnitude."""
    r = oracle.rounder(fmt)
    pos = r.values[r.values > 0]
    lo, hi = math.log2(pos[0]) - 4, math.log2(pos[-1]) + 2
    mag = np.exp2(rng.uniform(lo, hi, n))
    return np.where(rng.random(n) < 0.5, -mag, mag)


def check_encode(fmt, x, mode, saturate):
    want = oracle.encode_minifloat(fmt, x, mode, saturate)
    got = fmt.encode(x, mode, saturate).astype(np.int64)
    bad = np.nonzero(want != got)[0]
    assert bad.size == 0, (f"{fmt.name} {mode} saturate={saturate}: {bad.size} of {len(x)} differ, e.g. " + ", ".join(
        f"{x[k]!r}: expected 0x{want[k]:x} got 0x{got[k]:x}" for k in bad[:6]))


@pytest.mark.parametrize("saturate", [False, True], ids=["ovf", "sat"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_encode_edges_and_random(fmt, mode, saturate):
    check_encode(fmt, edge_values(fmt), mode, saturate)
    rng = np.random.default_rng([seed(), fmt.width, MODES.index(mode)])
    print(f"seed {seed()}")
    check_encode(fmt, random_values(fmt, 1_000_000, rng), mode, saturate)


def test_fp32_encode_matches_float32_cast():
    rng = np.random.default_rng(seed())
    print(f"seed {seed()}")
    x = rng.standard_normal(1_000_000) * np.exp2(rng.integers(-160, 140, 1_000_000))
    x = np.concatenate([x, [np.inf, -np.inf, 0.0, -0.0, 3.4028235677973366e38, 3.402823669209385e38,
                            1.401298464324817e-45, 7.006492321624085e-46, 7.006492321624087e-46]])
    with np.errstate(over="ignore"):
        ref = x.astype(np.float32).view(np.uint32)
    assert np.array_equal(golden.lookup("fp32").encode(x), ref)


def test_fp32_to_bf16_every_class():
    """fp32 -> bf16 through golden.convert against decode-then-table-rounding, on random fp32 patterns."""
    fp32, bf16 = golden.lookup("fp32"), golden.lookup("bf16")
    rng = np.random.default_rng(seed())
    bits = rng.integers(0, 1 << 32, 1_000_000, dtype=np.uint64).astype(np.uint32)
    want = oracle.encode_minifloat(bf16, fp32.decode(bits), "rne")
    got = golden.convert(bits, fp32, bf16).astype(np.int64)
    # NaN payloads: decode() yields float64 NaNs without the fp32 payload; compare those separately.
    nan = np.isnan(fp32.decode(bits))
    assert np.array_equal(want[~nan], got[~nan])
    payload = (bits[nan].astype(np.int64) >> 16) | 0x40
    assert np.array_equal(got[nan], payload)


def test_bf16_to_fp32_is_exact_and_keeps_payloads():
    bits = golden.lookup("bf16").all_bits()
    got = golden.convert(bits, "bf16", "fp32")
    b = bits.astype(np.uint32) << 16
    nan = ((b >> 23) & 0xFF == 0xFF) & (b & 0x7FFFFF != 0)
    assert np.array_equal(got[~nan], b[~nan])
    assert np.array_equal(got[nan], b[nan] | 0x400000)  # quiet bit set, payload kept


@pytest.mark.parametrize("value, expected", [
    (464.0, 0x7E), (465.0, 0x7F), (448.0, 0x7E), (-464.0, 0xFE), (np.inf, 0x7F), (2.0 ** -9, 0x01),
    (2.0 ** -10, 0x00), (1.5 * 2.0 ** -10, 0x01),
])
def test_ocp_e4m3_published_edges(value, expected):
    """OCP OFP8 v1.0: E4M3 max 448, 464 rounds to 448 (tie to even), 465 overflows to NaN (non-saturating)."""
    assert int(golden.lookup("fp8_e4m3").encode([value])[0]) == expected


@pytest.mark.parametrize("value, expected", [(57344.0, 0x7B), (61440.0, 0x7C), (61439.0, 0x7B),
                                             (-np.inf, 0xFC), (2.0 ** -16, 0x01)])
def test_ocp_e5m2_published_edges(value, expected):
    """OCP OFP8 v1.0: E5M2 max 57344; 61440 is the tie to 2**16 and overflows to inf."""
    assert int(golden.lookup("fp8_e5m2").encode([value])[0]) == expected


def test_saturating_maps_inf_to_max():
    e4m3, e5m2 = golden.lookup("fp8_e4m3"), golden.lookup("fp8_e5m2")
    assert list(e4m3.encode([np.inf, -np.inf, 1e9], saturate=True)) == [0x7E, 0xFE, 0x7E]
    assert list(e5m2.encode([np.inf, -np.inf, 1e9], saturate=True)) == [0x7B, 0xFB, 0x7B]
    assert list(e4m3.encode([np.nan], saturate=True)) == [0x7F]


def test_double_rounding_is_avoided():
    """1 + 2**-8 + 2**-30 rounds up in bf16; through fp32 first it would tie and round to even (down)."""
    x = 1 + 2.0 ** -8 + 2.0 ** -30
    assert int(golden.lookup("bf16").encode([x])[0]) == 0x3F81
    via_fp32 = golden.convert(golden.lookup("fp32").encode([x]), "fp32", "bf16")
    assert int(via_fp32[0]) == 0x3F80


@pytest.mark.parametrize("kwargs, message", [
    (dict(exp_bits=0, man_bits=3), "exp_bits must be an integer in 1..15, not 0"),
    (dict(exp_bits=16, man_bits=3), "exp_bits must be an integer in 1..15, not 16"),
    (dict(exp_bits=4, man_bits=64), "man_bits must be an integer in 0..63, not 64"),
    (dict(exp_bits=4, man_bits=3, specials="ocp"), "specials must be one of ieee, fn, fnuz, none, not 'ocp'"),
    (dict(exp_bits=1, man_bits=3), "specials='ieee' needs exp_bits >= 2"),
    (dict(exp_bits=4, man_bits=0, specials="fn"), "specials='fn' needs man_bits >= 1"),
    (dict(exp_bits=4, man_bits=3, bias=1.5), "bias must be an integer"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        golden.minifloat(**kwargs)


def test_unknown_format_lists_known_ones():
    with pytest.raises(ValueError, match="unknown format 'fp9'; known formats: fp64, fp32"):
        golden.lookup("fp9")


def test_formats_are_immutable():
    with pytest.raises(AttributeError):
        golden.lookup("fp32").bias = 3


# -- signaling NaNs (IEEE 754-2019 7.2: converting one signals invalid and gives a quiet NaN) -------------------
SNAN_CASES = [  # (src, pattern, dst, expected bits, NV raised), from the formats' own definitions
    ("fp32", 0x7F800004, "bf16", 0x7FC0, True),       # payload's top bits are 0: quiet bit alone
    ("fp32", 0x7FC00000, "bf16", 0x7FC0, False),      # quiet NaN: nothing to signal
    ("fp32", 0xFF800001, "fp16", 0xFE00, True),       # sign kept
    ("fp32", 0x7FA00000, "fp64", 0x7FFC000000000000, True),  # payload kept below the quiet bit
    ("fp32", 0x7F800001, "fp8_e4m3", 0x7F, True),     # OCP E4M3 has one NaN (S.1111.111)
    ("fp32", 0x7F800001, "fp8_e4m3fnuz", 0x80, True),
    ("fp32", 0x7F800001, "posit16", 0x8000, True),    # NaR
    ("fp32", 0x7FC00001, "posit16", 0x8000, False),
    ("fp32", 0x7F800001, "int8", 0x00, True),         # NaN -> integer is invalid whether quiet or not
    ("fp32", 0x7FC00000, "int8", 0x00, True),
    ("fp32", 0x7F800001, "fp4_e2m1", 0x0, True),      # no NaN at all: +0 and NV
    ("fp8_e5m2", 0x7D, "fp16", 0x7F00, True),         # E5M2 follows IEEE's quiet bit: S.11111.01 signals
    ("fp8_e5m2", 0x7E, "fp16", 0x7E00, False),
    ("fp8_e4m3", 0x7F, "fp32", 0x7FC00000, False),    # formats without sNaN give quiet NaNs
    ("posit16", 0x8000, "fp32", 0x7FC00000, False),
    ("x87", 0x0000_8000_0000_0000_0001, "fp32", 0x7FC00000, True),   # pseudo-denormal: invalid encoding
    ("x87", 0x7FFF_0000_0000_0000_0000, "fp32", 0x7FC00000, True),   # pseudo-infinity (integer bit clear)
    ("x87", 0x7FFF_C000_0000_0000_0000, "fp32", 0x7FC00000, False),  # the x87 default quiet NaN
    ("x87", 0x7FFF_8000_0000_0000_0001, "fp32", 0x7FC00000, True),   # signaling: bit 62 clear
]


@pytest.mark.parametrize("src, bits, dst, want, nv", SNAN_CASES, ids=lambda v: f"{v:x}" if isinstance(v, int) else str(v))
def test_signaling_nan_raises_nv(src, bits, dst, want, nv):
    src_fmt = golden.lookup(src)
    arr = np.array([bits], dtype=object if src_fmt.width > 64 else src_fmt.dtype)
    got, flags = golden.convert_flags(arr, src, dst)
    assert int(got[0]) == want, hex(int(got[0]))
    assert bool(flags[0] & golden.NV) == nv and not flags[0] & (golden.OF | golden.UF | golden.DZ)


def test_flag_bits_are_riscv_fflags():
    assert (golden.NX, golden.UF, golden.OF, golden.DZ, golden.NV) == (1, 2, 4, 8, 16)
