"""Issue 16's formats in golden -- IEEE P3109, MXINT8, int1 / uint1 (and the earlier float8_e3m4 / float8_e4m3 /
float8_e4m3b11fnuz, int2 / uint2) -- against independent references: every pattern's exact value from the
definitions (verif/support/refs/p3109_fixed.py, oracle.py), ml_dtypes where it has the type, the P3109 report's
published codes, and conversions from fp16 / bf16 (every pattern) and fp32 (structured set) against rounding by
search among the representable values, bits and flags. `make test` runs a rotation over formats, sources and
modes; FMTFORGE_FULL=1 every combination.
"""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import NV, NX, OF, UF
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.convert import convert_flags_exact
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.refs import p3109_fixed as oracle_small
from fmtforge.verif.support.vectors.structured import structured
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

MODES = ["rne", "rtz", "rdn", "rup", "rmm"]

#: (name, k, p, signed, extended): catalog and parametric P3109 formats, signed finite ones included (fnuz)
P3109 = [("p3109_k8p3", 8, 3, True, True), ("p3109_k8p4", 8, 4, True, True), ("p3109_k8p1", 8, 1, True, True),
         ("p3109_k8p7", 8, 7, True, True), ("p3109_k8p3_unsigned", 8, 3, False, True),
         ("p3109_k8p4_unsigned", 8, 4, False, True), ("p3109_k8p8_unsigned", 8, 8, False, True),
         ("p3109_k8p1_unsigned", 8, 1, False, True), ("p3109_k8p4_unsigned_finite", 8, 4, False, False),
         ("p3109_k8p3_finite", 8, 3, True, False), ("p3109_k8p4_finite", 8, 4, True, False),
         ("p3109_k6p3", 6, 3, True, True), ("p3109_k5p2_unsigned", 5, 2, False, True),
         ("p3109_k4p2_unsigned_finite", 4, 2, False, False), ("p3109_k3p1", 3, 1, True, True),
         ("p3109_k3p2_finite", 3, 2, True, False), ("p3109_k2p1_unsigned", 2, 1, False, True),
         ("p3109_k2p1_finite", 2, 1, True, False), ("p3109_k12p5", 12, 5, True, True),
         ("p3109_k16p11", 16, 11, True, True), ("p3109_k16p16_unsigned_finite", 16, 16, False, False)]
FIXED = [("mxint8", 8, True, 6, True), ("int1", 1, True, 0, False), ("uint1", 1, False, 0, False),
         ("int2", 2, True, 0, False), ("uint2", 2, False, 0, False)]
MINIFLOATS = ["float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz"]


def value_of(name):
    """The oracle's value function (code -> Fraction / +-inf / NAN) for a format of this file."""
    for n, k, p, s, e in P3109:
        if n == name:
            return lambda c: oracle_small.p3109_value(k, p, s, e, c)
    for n, b, s, fb, _ in FIXED:
        if n == name:
            return lambda c: oracle_small.fixed_value(b, s, fb, c)
    fmt = golden.lookup(name)
    return lambda c: oracle.minifloat_value(fmt, c)


def exact_values(fmt, bits):
    raw = fmt.decode_raw(bits)
    out = []
    for c, s, e, m in zip(raw.cls, raw.sign, raw.exp, raw.sig):
        if c == golden.NAN:
            out.append(oracle_small.NAN)
        elif c == golden.INF:
            out.append(-math.inf if s else math.inf)
        else:
            v = Fraction(int(m)) * Fraction(2) ** int(e)
            out.append(-v if s else v)
    return out


@pytest.mark.parametrize("name", [p[0] for p in P3109 if p[1] <= 12 or FULL] + [f[0] for f in FIXED] + MINIFLOATS)
def test_decode_every_pattern_exactly(name):
    """(16-bit shapes with FMTFORGE_FULL=1: the Python reference takes 5 s each.)"""
    fmt = golden.lookup(name)
    bits = fmt.all_bits()
    want = [value_of(name)(int(b)) for b in bits]
    got = exact_values(fmt, bits)
    f64 = fmt.decode(bits)
    for b, w, g, d in zip(bits, want, got, f64):
        assert g == w or (g is w), f"{name} 0x{int(b):x}: expected {w}, got {g}"
        assert (math.isnan(d) if w is oracle_small.NAN else d == float(w)), f"{name} 0x{int(b):x}: float64 {d}"
    finite = [w for w in want if w is not oracle_small.NAN and not (isinstance(w, float) and math.isinf(w))]
    assert fmt.max == max(abs(w) for w in finite)
    assert sum(w is oracle_small.NAN for w in want) == (1 if name.startswith("p3109") else
                                                        sum(fmt.is_nan(bits)))


def test_p3109_published_codes():
    """The report's K8 P3 (binary8p3se) corners, and the rules: one NaN at 0x80, +-inf at 0x7F / 0xFF, no -0."""
    f = golden.lookup("p3109_k8p3")
    assert f is golden.lookup("binary8p3se") and f.bias == 16 and f.exp_bits == 5
    v = f.decode(np.array([0x00, 0x01, 0x7E, 0x7F, 0x80, 0xFF, 0xFE, 0x04], dtype=np.uint8))
    assert v[0] == 0 and not np.signbit(v[0]) and v[1] == 2.0 ** -17 and v[2] == 49152.0
    assert v[3] == np.inf and math.isnan(v[4]) and v[5] == -np.inf and v[6] == -49152.0 and v[7] == 2.0 ** -15
    assert [golden.lookup(f"p3109_k8p{p}").bias for p in (1, 3, 4, 7)] == [64, 16, 8, 1]  # floor(2**(K-P-1))
    assert [golden.lookup(f"p3109_k8p{p}_unsigned").bias for p in (1, 3, 4, 8)] == [128, 32, 16, 1]  # 2**(K-P)
    u = golden.lookup("p3109_k8p3_unsigned")
    assert list(u.decode(np.array([0xFD, 0xFE], dtype=np.uint8))) == [1.25 * 2.0 ** 31, np.inf]
    assert math.isnan(u.decode(np.array([0xFF], dtype=np.uint8))[0])
    # the signed finite variants are the fnuz minifloats, one object per format
    assert golden.lookup("p3109_k8p4_finite") is golden.lookup("fp8_e4m3fnuz") is golden.lookup("binary8p4sf")
    assert golden.lookup("p3109_k8p3_finite") is golden.lookup("fp8_e5m2fnuz")
    assert golden.lookup("p3109_k6p3_finite") == golden.lookup("e3m2_fnuz")
    assert golden.p3109(8, 3, signed=False) is u and golden.lookup(golden.P3109(k=8, p=3)) is f


@pytest.mark.parametrize("bad, message", [
    ("p3109_k8p8", "p must be an integer in 1..7, not 8"), ("p3109_k17p3", "k must be an integer in 2..16"),
    ("p3109_k2p1", "k=2 signed extended"), ("p3109_k8p0_unsigned", "p must be an integer in 1..8, not 0"),
    ("binary8p9ue", "p must be an integer in 1..8, not 9")])
def test_p3109_bad_names(bad, message):
    with pytest.raises(ValueError, match=message):
        golden.lookup(bad)


@pytest.mark.parametrize("name, ref", [("int1", ml_dtypes.int1), ("uint1", ml_dtypes.uint1)])
def test_one_bit_integers_match_ml_dtypes(name, ref):
    fmt = golden.lookup(name)
    codes = fmt.all_bits().astype(np.uint8)
    info = ml_dtypes.iinfo(ref)
    vals = np.arange(int(info.min), int(info.max) + 1).astype(ref).astype(np.int64)
    assert sorted(fmt.decode(codes).tolist()) == vals.tolist()
    # encoding ml_dtypes' values gives codes that decode back to them; beyond the range it saturates
    x = vals.astype(np.float64)
    assert np.array_equal(fmt.decode(fmt.encode(x)), x)
    assert fmt.decode(fmt.encode(np.array([1e9, -1e9]))).tolist() == [info.max, info.min]


def test_mxint8_is_int8_over_64():
    f = golden.lookup("mxint8")
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(f.decode(codes), codes.view(np.int8).astype(np.float64) / 64)
    assert float(f.max) == 2.0 and float(f.min_normal) == 2.0 ** -6
    got, fl = f.encode_flags(np.array([-2.0, 127 / 64, 1.99, -1.99, 0.5 / 64, 1.5 / 64, np.nan]))
    assert list(got) == [0x81, 0x7F, 0x7F, 0x81, 0x00, 0x02, 0x00]  # -128 (0x80) never produced
    assert list(fl) == [NV, 0, NX, NX, NX, NX, NV]
    # the MX block scheme's INT8 elements are this format
    x = np.linspace(-3, 3, 64)
    t = golden.block.quantize(x, "mxint8")
    assert np.array_equal(golden.block.dequantize(t), f.decode(t.codes) * golden.lookup("e8m0").decode(t.scales).repeat(32))


def ref_encode(name, x, mode, saturate):
    for n, k, p, s, e in P3109:
        if n == name:
            return oracle_small.encode_p3109(k, p, s, e, x, mode, saturate)
    for n, b, s, fb, sym in FIXED:
        if n == name:
            return oracle_small.encode_fixed(b, s, fb, sym, x, mode)
    fmt = golden.lookup(name)
    return oracle.encode_minifloat(fmt, x, mode, saturate), None


def source_vectors(src, dst):
    src = golden.lookup(src)
    if src.width <= 16:
        return src.all_bits()
    return structured(src, dst).astype(src.dtype)


CONV_DSTS = [p[0] for p in P3109 if p[1] <= 12 or FULL] + [f[0] for f in FIXED] + MINIFLOATS
CONV_CASES = [(d, s, m, sat) for d in CONV_DSTS for s in ("fp16", "bf16", "fp32") for m in MODES
              for sat in (False, True)]
if not FULL:  # a rotation: every destination from every source, every mode and saturation setting in the slice
    CONV_CASES = [(d, s, MODES[(i + j) % 5], bool((i + j) % 2)) for i, d in enumerate(CONV_DSTS)
                  for j, s in enumerate(("fp16", "bf16", "fp32"))]


@pytest.mark.parametrize("dst, src, mode, saturate", CONV_CASES)
def test_convert_matches_rational_reference(dst, src, mode, saturate):
    xs = source_vectors(src, dst)
    x = golden.lookup(src).decode(xs)  # exact: every fp16 / bf16 / fp32 value is a float64
    want, want_fl = ref_encode(dst, x, mode, saturate)
    got, got_fl = golden.convert_flags(xs, src, dst, mode, saturate)
    sig = golden.signaling(golden.lookup(src).decode_raw(xs))
    if want_fl is None:  # an IEEE-style destination keeps NaN payloads, which float64 x does not carry here
        nan = np.isnan(x)
        assert golden.lookup(dst).is_nan(got[nan]).all()
        want = np.where(nan, got.astype(np.int64), want)
    bad = np.flatnonzero(got.astype(np.int64) != want)
    if want_fl is not None:
        want_fl = np.where(sig, want_fl | NV, want_fl)
        bad = np.union1d(bad, np.flatnonzero(got_fl != want_fl))
    assert bad.size == 0, f"{src}->{dst} {mode} saturate={saturate}: {bad.size} of {len(xs)} differ, e.g. " + ", ".join(
        f"0x{int(xs[k]):x} ({x[k]!r}): expected 0x{int(want[k]):x}"
        + (f" flags {int(want_fl[k]):05b}" if want_fl is not None else "")
        + f", got 0x{int(got[k]):x} flags {int(got_fl[k]):05b}" for k in bad[:6])


@pytest.mark.parametrize("name", ["p3109_k6p3", "p3109_k5p2_unsigned", "p3109_k4p2_unsigned_finite",
                                  "p3109_k16p11", "p3109_k8p7"])
def test_parametric_fast_paths_equal_exact(name):
    """Catalog formats are covered by test_fastconv; these parametric shapes take the same plans."""
    dst = golden.lookup(name)
    fp32 = golden.lookup("fp32")
    xs = np.concatenate([structured(fp32, dst), np.random.default_rng(seed()).integers(0, 1 << 32, 1 << 15)])
    xs = xs.astype(np.uint32)
    for mode in (MODES if FULL else ["rne", "rup"]):
        for sat in (False, True):
            p = fastconv.plan(fp32, dst, mode, sat)
            if dst.frac_bits + 1 <= 8:
                assert p is not None and p.kind == "key-table"
            if p is None:
                continue
            got, want = p(xs), convert_flags_exact(xs, fp32, dst, mode, sat)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (name, mode, sat)


def test_flags_by_name():
    """Overflow, underflow, NaN and the unsigned range's bottom, each with its flags (P3109 K8 P3)."""
    f, u = "p3109_k8p3", "p3109_k8p3_unsigned"
    x = np.array([65536.0, np.inf, 2.0 ** -18 * 3, np.nan, -1.0, -2.0 ** -40])
    b, fl = golden.lookup(f).encode_flags(x)
    assert [hex(v) for v in b] == ["0x7f", "0x7f", "0x2", "0x80", "0xc0", "0x0"]
    assert list(fl) == [OF | NX, 0, UF | NX, 0, 0, UF | NX]
    b, fl = golden.lookup(f).encode_flags(x, "rtz")
    assert [hex(v) for v in b][:2] == ["0x7e", "0x7f"] and fl[0] == OF | NX
    x[0], x[2] = 2.0 ** 32, 3 * 2.0 ** -35  # beyond the unsigned format's max, 1.25 * 2**31; min subnormal 2**-33
    b, fl = golden.lookup(u).encode_flags(x)
    assert [hex(v) for v in b] == ["0xfe", "0xfe", "0x1", "0xff", "0xff", "0x0"]
    assert list(fl) == [OF | NX, 0, UF | NX, 0, NV, UF | NX]
    b, fl = golden.lookup(u).encode_flags(x, saturate=True)
    assert [hex(v) for v in b] == ["0xfd", "0xfd", "0x1", "0xff", "0x0", "0x0"]
    assert list(fl) == [OF | NX, 0, UF | NX, 0, NV, UF | NX]
    b, fl = golden.lookup("p3109_k8p4_unsigned_finite").encode_flags(np.array([np.inf, 1e9]))
    assert [hex(v) for v in b] == ["0xff", "0xff"] and list(fl) == [NV, OF | NX]
