"""UF's tininess (IEEE 754-2019 7.5) in golden: ``tininess="after"`` (the default; RISC-V, x86 SSE, x87) and
``"before"`` (Arm), against an independent reference written here from the standard's definitions with exact
rationals, exhaustively over fp16 sources, by named cases at every destination family's boundary band, and (on an
x86-64 machine with gcc) against this machine's own SSE conversion of fp64 to fp32.

make test runs a slice of the exhaustive comparison (printed in the ids); FMTFORGE_FULL=1 runs every destination,
rounding mode and rule.
"""

import ctypes
import math
import platform
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import NV, NX, UF
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.convert import convert_flags_exact

from fmtforge.verif.tests.conftest import FULL
MODES = ("rne", "rtz", "rdn", "rup", "rmm")
RULES = ("after", "before")


# -- the reference: exact values, one rounding at precision p with an unbounded exponent ------------------------
def floor_log2(a):
    """The exponent e with 2**e <= a < 2**(e+1), for a positive Fraction."""
    n, d = a.numerator, a.denominator
    e = n.bit_length() - d.bit_length()
    # 2**e <= n / d, compared on integers
    return e if (d << e if e >= 0 else d) <= (n if e >= 0 else n << -e) else e - 1


def round_at_precision(a, p, mode, negative, bias):
    """``a`` (positive) rounded to ``p`` significant bits with an unbounded exponent, by ``mode`` for a value
    of sign ``negative``. With p = 1 every significand is 1: a tie goes to the power of two whose exponent
    field (``e + bias``) is even, the rule the delivered rounding of such formats uses."""
    e = floor_log2(a)
    ulp = Fraction(2) ** (e - p + 1)
    n = a / ulp
    fl = math.floor(n)
    rem = n - fl
    if mode == "rne":
        even_down = (e + bias) % 2 == 0 if p == 1 else fl % 2 == 0
        up = rem > Fraction(1, 2) or (rem == Fraction(1, 2) and not even_down)
    elif mode == "rmm":
        up = rem >= Fraction(1, 2)
    elif mode == "rup":
        up = rem > 0 and not negative
    elif mode == "rdn":
        up = rem > 0 and negative
    else:
        up = False
    return (fl + up) * ulp


def dst_params(dst):
    """(emin, precision p, bias, quantum exponent of the subnormal range) of a float destination."""
    return dst.emin, dst.frac_bits + 1, dst.bias, dst.emin - dst.frac_bits


def ref_uf(x, dst, mode, rule):
    """Whether converting the exact nonzero value ``x`` into ``dst`` raises UF: tiny (by ``rule``) and inexact.
    Inexact here is "not a multiple of the destination's quantum at its binade" (values this small do not
    overflow)."""
    a, negative = abs(x), x < 0
    emin, p, bias, qmin = dst_params(dst)
    small = Fraction(2) ** emin
    if a >= small:
        return False
    inexact = (a / Fraction(2) ** qmin).denominator != 1
    if rule == "before":
        return inexact
    return inexact and round_at_precision(a, p, mode, negative, bias) < small


def rounds_to_zero(x, dst, mode):
    """Whether ``x`` rounds to 0 in ``dst`` (at the subnormal quantum; ``x`` below 2**emin)."""
    q = abs(x) / Fraction(2) ** dst_params(dst)[3]
    if q >= 1:
        return False
    up = {"rne": q > Fraction(1, 2), "rmm": q >= Fraction(1, 2), "rup": x > 0, "rdn": x < 0, "rtz": False}[mode]
    return not up


def ref_decode(fmt, b):
    """The exact value of an IEEE-policy source pattern (None for NaN and infinity), from its fields."""
    f, k = fmt.frac_bits, fmt.exp_bits
    s, e, fr = b >> (fmt.width - 1), (b >> fmt.man_bits) & ((1 << k) - 1), b & ((1 << f) - 1)
    if e == (1 << k) - 1:
        return None
    if e == 0:
        v = Fraction(fr) * Fraction(2) ** (1 - fmt.bias - f)
    else:
        v = Fraction((1 << f) + fr) * Fraction(2) ** (e - fmt.bias - f)
    return -v if s else v


def ref_encode(fmt, x):
    """The pattern of the exact value ``x`` in IEEE-style ``fmt`` (x87: its explicit integer bit set on normal
    values): the named cases' sources."""
    a = abs(x)
    e = max(floor_log2(a), fmt.emin)
    f = fmt.frac_bits
    m = a / Fraction(2) ** (e - f)  # the significand as an integer: hidden bit and fraction
    assert m.denominator == 1 and m < 1 << (f + 1), (fmt.name, x)
    m = int(m)
    field = e + fmt.bias if m >> f else 0  # a subnormal: exponent field 0
    stored = m if fmt.explicit_integer else m & ((1 << f) - 1)
    return (int(x < 0) << (fmt.width - 1)) | (field << fmt.man_bits) | stored


# -- exhaustive over fp16 ----------------------------------------------------------------------------------
EXHAUSTIVE_DSTS = ("fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz", "fp8_e5m2fnuz", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1",
                   "p3109_k8p3", "p3109_k6p3_unsigned", "e3m0_none")


def exhaustive_cases():
    if FULL:
        return [(d, m, r) for d in EXHAUSTIVE_DSTS for m in MODES for r in RULES]
    # a slice: each destination once, modes and rules rotating
    return [(d, MODES[k % 5], RULES[k % 2]) for k, d in enumerate(EXHAUSTIVE_DSTS)]


_FP16 = {}


def fp16_values():
    if not _FP16:
        fmt = golden.lookup("fp16")
        _FP16["xs"] = np.arange(1 << 16, dtype=np.uint16)
        _FP16["v"] = [ref_decode(fmt, b) for b in range(1 << 16)]
    return _FP16["xs"], _FP16["v"]


@pytest.mark.parametrize("dst, mode, rule", exhaustive_cases())
def test_exhaustive_fp16_against_rational_reference(dst, mode, rule):
    xs, values = fp16_values()
    d = golden.lookup(dst)
    small = Fraction(2) ** d.emin
    unsigned = not getattr(d, "signed", True)
    want = np.zeros(xs.size, dtype=bool)
    for k, v in enumerate(values):
        if v is None or v == 0 or abs(v) >= small:
            continue  # not tiny by either rule: UF must be 0 (checked below with the rest)
        if unsigned and v < 0 and not rounds_to_zero(v, d, mode):
            continue  # below an unsigned range: NV, no other flag (golden.P3109)
        want[k] = ref_uf(v, d, mode, rule)
    for name, (bits, flags) in (("convert_flags", golden.convert_flags(xs, "fp16", d, mode, tininess=rule)),
                                ("exact path", convert_flags_exact(xs, "fp16", d, mode, tininess=rule))):
        got = (flags & UF) != 0
        bad = np.flatnonzero(got != want)
        assert not bad.size, f"{name}: " + "; ".join(
            f"fp16 0x{int(xs[k]):04x} ({float(values[k]):.6g}) -> {dst} {mode} tininess={rule}: UF expected "
            f"{int(want[k])}, got {int(got[k])} (result 0x{int(bits[k]):x}, flags {int(flags[k]):05b})"
            for k in bad[:6])


BAND_DSTS = ("fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "fp6_e3m2")
# make test: every mode, the destinations rotating; FMTFORGE_FULL=1: every pair
BAND_CASES = [(d, m) for d in BAND_DSTS for m in MODES] if FULL else \
    [(BAND_DSTS[k % 4], m) for k, m in enumerate(MODES)] + [("fp8_e5m2", "rne"), ("fp4_e2m1", "rup")]


@pytest.mark.parametrize("dst, mode", BAND_CASES)
def test_rules_differ_exactly_on_the_band(dst, mode):
    """after vs before: only inexact values in the binade below 2**emin that round up to 2**emin at precision
    p (rne, rmm: [2**emin (1 - 2**-(p+1)), 2**emin); rup: positive values above 2**emin (1 - 2**-p); rdn: the
    negative ones; rtz: none). after vs the old rule (the delivered result below 2**emin): only where tiny
    values are delivered as 2**emin: rne and rmm on [2**emin (1 - 2**-p), 2**emin (1 - 2**-(p+1))), rup
    (rdn) on the positive (negative) values above the largest subnormal up to 2**emin (1 - 2**-p)."""
    xs, values = fp16_values()
    d = golden.lookup(dst)
    emin, p, _, qmin = dst_params(d)
    small = Fraction(2) ** emin
    a_lo, b_lo = small * (1 - Fraction(1, 2 ** p)), small * (1 - Fraction(1, 2 ** (p + 1)))
    top_sub = small - Fraction(2) ** qmin
    after = golden.convert_flags(xs, "fp16", d, mode)
    before = golden.convert_flags(xs, "fp16", d, mode, tininess="before")
    assert np.array_equal(after[0], before[0]) and np.array_equal(after[1] | UF, before[1] | UF)
    differ = set(np.flatnonzero((after[1] ^ before[1]) & UF).tolist())
    out = d.decode(after[0])
    old = set(np.flatnonzero((np.abs(out) < float(small)) & ((after[1] & NX) != 0)).tolist())
    new = set(np.flatnonzero((after[1] & UF) != 0).tolist())
    band_b, band_a = set(), set()
    for k, v in enumerate(values):
        if v is None or v == 0 or (v / Fraction(2) ** qmin).denominator == 1:
            continue
        a = abs(v)
        if mode in ("rne", "rmm"):
            band_b.update([k] if b_lo <= a < small else [])
            band_a.update([k] if a_lo <= a < b_lo else [])
        elif (mode == "rup" and v > 0) or (mode == "rdn" and v < 0):
            band_b.update([k] if a_lo < a < small else [])
            band_a.update([k] if top_sub < a <= a_lo else [])
    assert differ == band_b, sorted(differ ^ band_b)[:6]
    assert new ^ old == band_a, sorted((new ^ old) ^ band_a)[:6]
    if mode != "rtz":
        assert band_a and band_b  # the bands hold fp16 values for these destinations: the test can fail


# -- named cases at each destination family's boundary band -------------------------------------------------
FAMILIES = [("fp64", "fp32"), ("fp32", "fp16"), ("fp32", "bf16"), ("fp32", "tf32"), ("fp32", "fp8_e5m2"),
            ("fp32", "fp8_e4m3"), ("fp32", "fp8_e4m3fnuz"), ("fp32", "fp6_e2m3"), ("fp32", "fp6_e3m2"),
            ("fp32", "fp4_e2m1"), ("fp32", "p3109_k8p3"), ("fp32", "p3109_k8p4_unsigned"), ("x87", "fp64")]


def named_cases(dst):
    """(value, mode, (bits, flags) after, (bits, flags) before), written from the definitions: A = 2**emin
    (1 - 2**-p) is representable at precision p, so tiny after rounding though delivered as 2**emin (rne
    ties to 2**emin: the largest subnormal is odd); B = 2**emin (1 - 2**-(p+1)) ties at precision p and goes
    up (rne: to even; rmm: away); just above A, rup rounds up for positive values only."""
    emin, p, _, _ = dst_params(dst)
    small = Fraction(2) ** emin
    A, B = small * (1 - Fraction(1, 2 ** p)), small * (1 - Fraction(1, 2 ** (p + 1)))
    above_a = A + small * Fraction(1, 2 ** (p + 3))
    mn, top_sub = 1 << dst.frac_bits, (1 << dst.frac_bits) - 1  # the smallest normal, the largest subnormal
    neg = 1 << (dst.width - 1)
    cases = [(A, "rne", (mn, UF | NX), (mn, UF | NX)), (B, "rne", (mn, NX), (mn, UF | NX)),
             (-A, "rmm", (neg | mn, UF | NX), (neg | mn, UF | NX)), (-B, "rmm", (neg | mn, NX), (neg | mn, UF | NX)),
             (above_a, "rup", (mn, NX), (mn, UF | NX)),
             (-above_a, "rup", (neg | top_sub, UF | NX), (neg | top_sub, UF | NX)),
             (-above_a, "rdn", (neg | mn, NX), (neg | mn, UF | NX)),
             (above_a, "rdn", (top_sub, UF | NX), (top_sub, UF | NX)),
             (B, "rtz", (top_sub, UF | NX), (top_sub, UF | NX))]
    if isinstance(dst, golden.P3109) and not dst.signed:
        cases = [(v, m, a, b) for v, m, a, b in cases if v > 0]
    return cases


@pytest.mark.parametrize("src, dst", FAMILIES)
def test_named_band_cases(src, dst):
    s, d = golden.lookup(src), golden.lookup(dst)
    for value, mode, want_after, want_before in named_cases(d):
        x = ref_encode(s, value)
        assert ref_decode(s, x) == value or s.explicit_integer
        arr = np.array([x], dtype=s.dtype)
        for rule, want in (("after", want_after), ("before", want_before)):
            assert ref_uf(value, d, mode, rule) == bool(want[1] & UF)  # the reference agrees with the table
            bits, flags = golden.convert_flags(arr, s, d, mode, tininess=rule)
            got = (int(bits[0]), int(flags[0]))
            assert got == want, (f"{src} 0x{x:x} ({float(value):.17g}) -> {dst} {mode} tininess={rule}: expected "
                                 f"0x{want[0]:x} flags {want[1]:05b}, got 0x{got[0]:x} flags {got[1]:05b}")


def test_x87_source_is_exact_in_the_reference():
    x87 = golden.lookup("x87")
    value = Fraction(2) ** -1022 * (1 - Fraction(1, 2 ** 54))
    raw = x87.decode_raw(np.array([ref_encode(x87, value)], dtype=object))
    assert Fraction(int(raw.sig[0])) * Fraction(2) ** int(raw.exp[0]) == value


def test_the_issue_example_sse_cvtsd2ss():
    """fp64 0xb80fffffe0000000 (-2**-126 (1 - 2**-24)) -> fp32: x86 SSE's cvtsd2ss gives -2**-126 with UF and
    NX (the issue's example); the old rule gave NX alone."""
    x = np.array([0xB80FFFFFE0000000], dtype=np.uint64)
    for rule in RULES:
        bits, flags = golden.convert_flags(x, "fp64", "fp32", tininess=rule)
        assert (int(bits[0]), int(flags[0])) == (0x80800000, UF | NX)


def test_default_is_after_and_bad_values_are_refused():
    x = np.array([0x3C780000], dtype=np.uint32)  # 2**-6 (1 - 2**-5): band B of fp8_e4m3
    assert golden.convert_flags(x, "fp32", "fp8_e4m3")[1][0] == NX
    for bad in ("Before", "", None, 1):
        for call in (lambda: golden.convert_flags(x, "fp32", "fp8_e4m3", tininess=bad),
                     lambda: golden.convert(x, "fp32", "fp8_e4m3", tininess=bad),
                     lambda: convert_flags_exact(x, "fp32", "fp8_e4m3", tininess=bad),
                     lambda: golden.lookup("fp8_e4m3").encode_flags([1.0], tininess=bad)):
            with pytest.raises(ValueError, match="tininess must be one of after, before, not"):
                call()


def test_destinations_without_underflow_accept_either_rule():
    x = np.arange(1 << 16, dtype=np.uint16)
    for dst in ("int8", "posit8", "uint4"):
        a, b = (golden.convert_flags(x, "fp16", dst, tininess=r) for r in RULES)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and not np.any(a[1] & UF)


def test_ftz_flushes_delivered_subnormals_by_either_rule():
    """ftz flushes a delivered subnormal (UF and NX); a band value delivered as 2**emin is kept, and raises UF
    by the rule (README: ftz)."""
    a = np.array([0x3C700000, 0x3C780000, 0x3C600000], dtype=np.uint32)  # A, B and 7 * 2**-9 (exact subnormal)
    bits, flags = golden.convert_flags(a, "fp32", "fp8_e4m3", ftz=True)
    assert list(bits) == [0x08, 0x08, 0x00] and list(flags) == [UF | NX, NX, UF | NX]
    bits, flags = golden.convert_flags(a, "fp32", "fp8_e4m3", ftz=True, tininess="before")
    assert list(bits) == [0x08, 0x08, 0x00] and list(flags) == [UF | NX, UF | NX, UF | NX]
    bits, flags = golden.convert_flags(a, "fp32", "fp8_e4m3", rounding="rtz", ftz=True)
    assert list(bits) == [0x00, 0x00, 0x00] and list(flags) == [UF | NX] * 3


@pytest.mark.parametrize("kind", ["key-table", "binade"])
@pytest.mark.parametrize("rule", RULES)
def test_fast_plans_follow_the_rule(kind, rule):
    """Every fast plan equals the exact path near 2**emin (both band ends, +-256 patterns, both signs)."""
    src = golden.lookup("fp32")  # (the source table of fp16 sources: the exhaustive tests above)
    for dst in ("fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "p3109_k8p3", "e3m0_none"):
        d = golden.lookup(dst)
        emin, p, _, _ = dst_params(d)
        small = Fraction(2) ** emin
        centres = [ref_encode(src, small * (1 - Fraction(1, 2 ** q))) for q in (p, p + 1)] + [ref_encode(src, small)]
        x = np.array([c + k for c in centres for k in range(-256, 257)], dtype=np.uint64)
        x = np.concatenate([x, x | np.uint64(1 << (src.width - 1))]).astype(src.dtype)
        for mode in MODES:
            try:
                plan = fastconv.plan(src, d, mode, False, kind, tininess=rule)
            except ValueError:
                continue  # this plan does not apply to the pair
            got, want = plan(x), convert_flags_exact(x, src, d, mode, tininess=rule)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (kind, dst, mode, rule)


# -- this machine's SSE, through C ------------------------------------------------------------------------------
_C = r"""
#include <fenv.h>
#include <stdint.h>
#include <string.h>
static const int modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
void to_float(const uint64_t *in, uint32_t *out, uint8_t *flags, long n, int mode) {
    fesetround(modes[mode]);
    for (long i = 0; i < n; i++) {
        volatile double d;
        memcpy((void *)&d, &in[i], 8);
        feclearexcept(FE_ALL_EXCEPT);
        volatile float f = (float)d;
        int e = fetestexcept(FE_ALL_EXCEPT);
        float g = f;
        memcpy(&out[i], &g, 4);
        flags[i] = ((e & FE_INEXACT) ? 1 : 0) | ((e & FE_UNDERFLOW) ? 2 : 0) | ((e & FE_OVERFLOW) ? 4 : 0)
                   | ((e & FE_INVALID) ? 16 : 0);
    }
    fesetround(FE_TONEAREST);
}
"""


@pytest.fixture(scope="module")
def sse(tmp_path_factory):
    if platform.machine() not in ("x86_64", "AMD64") or not shutil.which("gcc"):
        pytest.skip("needs gcc on x86-64 (SSE detects tininess after rounding)")
    d = tmp_path_factory.mktemp("sse")
    (d / "cvt.c").write_text(_C)
    lib = d / "cvt.so"
    subprocess.run(["gcc", "-O1", "-frounding-math", "-fPIC", "-shared", "-o", str(lib), str(d / "cvt.c"), "-lm"],
                   check=True, capture_output=True)
    return ctypes.CDLL(str(lib))


def test_fp64_to_fp32_flags_equal_this_machines_sse(sse):
    """golden fp64 -> fp32 (tininess after) equals cvtsd2ss, bits and flags, on the band, around it, on
    fp32's subnormals and on random doubles near them, in the four modes C offers."""
    rng = np.random.default_rng(20261207)
    f64 = golden.lookup("fp64")
    centres = [ref_encode(f64, Fraction(2) ** -126 * (1 - Fraction(1, 2 ** q))) for q in (24, 25, 23)]
    centres += [ref_encode(f64, Fraction(2) ** -126), ref_encode(f64, Fraction(2) ** -149)]
    near = [c + k * s for c in centres for s in (1, 1 << 27, 1 << 28) for k in range(-40, 41)]
    rnd = (np.uint64(0x36A) + rng.integers(0, 0x20, 20000, dtype=np.uint64)) << np.uint64(52)
    rnd |= rng.integers(0, 1 << 52, 20000, dtype=np.uint64)
    x = np.concatenate([np.array(near, dtype=np.uint64), rnd])
    x = np.concatenate([x, x | np.uint64(1 << 63)])
    out = np.empty(x.size, np.uint32)
    fl = np.empty(x.size, np.uint8)
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    for k, mode in enumerate(("rne", "rtz", "rdn", "rup")):
        sse.to_float(ptr(x), ptr(out), ptr(fl), ctypes.c_long(x.size), ctypes.c_int(k))
        bits, flags = golden.convert_flags(x, "fp64", "fp32", mode)
        bad = np.flatnonzero((bits != out) | (flags != fl))
        assert not bad.size, "; ".join(f"fp64 0x{int(x[i]):016x} {mode}: SSE 0x{int(out[i]):08x} flags "
                                       f"{int(fl[i]):05b}, golden 0x{int(bits[i]):08x} flags {int(flags[i]):05b}"
                                       for i in bad[:5])
        assert np.count_nonzero(fl & UF) > 1000 and not np.any(fl & NV)
