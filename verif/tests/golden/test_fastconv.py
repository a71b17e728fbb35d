"""The exact fast conversion paths (golden/formats/fastconv.py) equal the exact path, bits and flags.

The exact path is ``dst.encode_raw(src.decode_raw(bits), mode, saturate)`` (``convert_flags_exact``); every
expectation here is read from it at test time, never written down, except for the few known answers at the end.
Inputs: every sign x every exponent x a structured mantissa set (every pattern with at most 2 bits set, runs
of ones from either end, and at every cut position the tie, its neighbours and the carries, which covers every
destination's ties in every binade), plus seeded random patterns (FMTFORGE_SEED, printed).
"""

import functools

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import NV, NX, OF, UF
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.convert import convert_flags_exact
from fmtforge.golden.formats.minifloat import Minifloat
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.support.vectors.structured import mantissas as structured_mantissas
from fmtforge.verif.tests.conftest import FULL
from fmtforge.verif.support.vectors.format_sets import FIXED_AND_P3109

MODES = fastconv.DETERMINISTIC
FP32 = golden.lookup("fp32")

# issue 16's catalog formats take the plans of the families above (key table, binade): two modes in `make test`,
# every mode with FMTFORGE_FULL=1 (verif/tests/golden/test_small_formats.py checks their exact paths)
ISSUE16 = set(FIXED_AND_P3109)

# every catalog destination but the codebook (nf4: exact path only), plus parametric posits and two odd floats
DESTS = [f for f in golden.CATALOG.values() if f.kind != "codebook"] + [
    golden.lookup("posit16_es1"), golden.lookup("posit12_es3")]
EXTRA = [Minifloat(exp_bits=4, man_bits=3, subnormals=False, name="e4m3_ftz"),
         Minifloat(exp_bits=3, man_bits=0, specials="none", name="e3m0_none"),
         golden.lookup("posit32_es3"), golden.lookup("posit6_es0"), golden.Integer(bits=32, signed=False)]


def mantissas(F):
    """The structured mantissa set of an F-bit fraction (the one set: vectors.structured)."""
    return sorted(structured_mantissas(F))


@functools.cache
def structured(src):
    e, F = src.exp_bits, src.frac_bits
    man = np.array(mantissas(F), dtype=np.uint64)
    heads = np.arange(1 << (1 + e), dtype=np.uint64) << np.uint64(F)  # every sign x exponent
    return (heads[:, None] | man[None, :]).ravel().astype(src.dtype)


@functools.cache
def inputs(src, log_random=17):
    """The structured set, 2**log_random uniform patterns and 2**(log_random - 2) random values near 1."""
    rng = np.random.default_rng([seed(), src.width, log_random])
    n, m = 1 << log_random, 1 << (log_random - 2)
    rnd = rng.integers(0, 1 << src.width, n, dtype=np.uint64)
    # random values near 1 and near the small formats' ranges, where most rounding happens
    near = rng.integers(0, 1 << src.frac_bits, m, dtype=np.uint64) | (
        (rng.integers(src.bias - 40, src.bias + 40, m).astype(np.uint64) << np.uint64(src.frac_bits))
        | (rng.integers(0, 2, m).astype(np.uint64) << np.uint64(src.width - 1)))
    return np.concatenate([structured(src), rnd.astype(src.dtype), near.astype(src.dtype)])


def kinds(src, dst, mode, saturate):
    """Every fast plan that applies, not only the one convert_flags picks."""
    chosen = fastconv.plan_kind(src, dst, mode, saturate)
    ks = [chosen]
    for k in ("key-table", "binade"):
        if k != chosen and fastconv._applies(k, src, dst) and (k != "key-table" or dst.width <= 8):
            ks.append(k)
    return ks


def check(src, dst, mode, saturate, x):
    want_b, want_f = convert_flags_exact(x, src, dst, mode, saturate)
    ks = kinds(src, dst, mode, saturate)
    assert ks[0] is not None, (src.name, dst.name)
    for k in ks:
        got_b, got_f = fastconv.convert_flags_fast(x, src, dst, mode, saturate, kind=k)
        assert got_b.dtype == want_b.dtype and got_f.dtype == want_f.dtype
        bad = np.flatnonzero((got_b != want_b) | (got_f != want_f))
        assert bad.size == 0, (f"seed={seed()} {src.name}->{dst.name} {mode} saturate={saturate} plan={k}: "
                               f"{bad.size} mismatches, first: " + ", ".join(
                                   f"x={int(x[i]):#x} fast={int(got_b[i]):#x}/{int(got_f[i])} "
                                   f"exact={int(want_b[i]):#x}/{int(want_f[i])}" for i in bad[:4]))
    # and the public face (fast once a plan pays for its build, exact before) gives the same answers
    got_b, got_f = golden.convert_flags(x, src, dst, mode, saturate)
    assert np.array_equal(got_b, want_b) and np.array_equal(got_f, want_f)


# issue 16's formats in two modes in make test (FMTFORGE_FULL=1: every mode)
@pytest.mark.parametrize("dst, mode, saturate", [
    pytest.param(d, m, s, id=f"{d}-{m}-{s}") for d in DESTS + EXTRA for m in MODES for s in (False, True)
    if FULL or d.name not in ISSUE16 or m in ("rne", "rup")])
def test_fp32_fast_equals_exact(dst, mode, saturate):
    print(f"seed={seed()}")
    # x87's exact path builds Python ints: fewer random patterns there
    check(FP32, dst, mode, saturate, inputs(FP32, 14 if dst.dtype == object else 17))


SMALL_DESTS = ["fp16", "bf16", "fp8_e4m3", "fp8_e5m2fnuz", "posit8", "posit16", "int8", "int16", "fp32",
               "fp64"]


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src", ["fp24", "pxr24"])
def test_other_wide_sources(src, mode, saturate):
    """The key-table and binade plans read any IEEE source of at most 32 bits."""
    print(f"seed={seed()}")
    src = golden.lookup(src)
    x = inputs(src, 13)
    for dst in SMALL_DESTS + (["x87"] if mode == "rne" else []):
        check(src, golden.lookup(dst), mode, saturate, x)


# (tf32: two modes suffice for a table built from the exact path)
@pytest.mark.parametrize("src, mode", [(s, m) for s in ["bf16", "fp16", "tf32", "fp8_e4m3", "posit16", "int16"]
                                       for m in MODES if s != "tf32" or m in ("rne", "rup")])
def test_small_sources_every_pattern(src, mode):
    """Sources of at most 20 bits: a table of every pattern's exact result."""
    src = golden.lookup(src)
    x = src.all_bits()
    for dst in ("fp32", "bf16", "fp8_e5m2", "posit16", "int8") + (("x87",) if mode == "rne" else ()):
        dst = golden.lookup(dst)
        if dst == src:
            continue
        for saturate in (False, True):
            assert fastconv.plan_kind(src, dst, mode, saturate) == "source-table"
            check(src, dst, mode, saturate, x)


def test_plans_cover_the_catalog():
    """Every fp32-source catalog conversion but the codebook's has a fast plan, in every deterministic mode."""
    for dst in DESTS:
        for mode in MODES:
            for saturate in (False, True):
                assert fastconv.plan_kind(FP32, dst, mode, saturate) is not None, (dst.name, mode, saturate)
    assert fastconv.plan_kind(FP32, golden.lookup("nf4")) is None
    assert fastconv.plan_kind(FP32, golden.lookup("bf16"), "stochastic") is None


def test_nan_formula_is_used():
    """Binade plans check their NaN formula against the exact path and would fall back to it (still exact, but
    slower) on a disagreement: none does."""
    for dst in DESTS + EXTRA:
        for mode in MODES:
            for saturate in (False, True):
                p = fastconv.plan(FP32, dst, mode, saturate)
                if p.kind in ("binade", "wide"):
                    assert not p.spec.nan_exact, (dst.name, mode, saturate)


def test_convert_flags_builds_plans_when_they_pay():
    """golden.convert_flags stays exact for small one-off calls and builds a plan once the values converted
    reach the plan's build cost; the answers are the same either way."""
    dst = golden.posit(11, 1)  # a key-table destination (2**18 keys) nothing else here converts to
    rng = np.random.default_rng(seed())
    small = rng.integers(0, 1 << 32, 100, dtype=np.uint64).astype(np.uint32)
    want = convert_flags_exact(small, "fp32", dst, "rdn")
    assert all(np.array_equal(a, b) for a, b in zip(golden.convert_flags(small, "fp32", dst, "rdn"), want))
    key = (FP32, dst, "rdn", False, "key-table", "after")  # (the last: tininess)
    assert key not in fastconv._PLANS
    big = rng.integers(0, 1 << 32, 1 << 17, dtype=np.uint64).astype(np.uint32)
    want = convert_flags_exact(big, "fp32", dst, "rdn")
    assert all(np.array_equal(a, b) for a, b in zip(golden.convert_flags(big, "fp32", dst, "rdn"), want))
    assert key not in fastconv._PLANS  # 2**17 + 100 values: below the 2**18-entry table's cost
    golden.convert_flags(big, "fp32", dst, "rdn")
    assert key in fastconv._PLANS
    got = golden.convert_flags(small, "fp32", dst, "rdn")  # built: small calls use it too
    want = convert_flags_exact(small, "fp32", dst, "rdn")
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


def test_stochastic_and_odd_arguments_take_the_exact_path():
    rng = np.random.default_rng(seed())
    x = rng.integers(0, 1 << 32, 5000, dtype=np.uint64).astype(np.uint32)
    r = rng.integers(0, 1 << 8, 5000)
    got = golden.convert_flags(x, "fp32", "bf16", "stochastic", rand=r, rand_bits=8)
    want = convert_flags_exact(x, "fp32", "bf16", "stochastic", rand=r, rand_bits=8)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))
    with pytest.raises(ValueError):
        golden.convert_flags(x, "fp32", "bf16", "stochastic")  # the exact path's own error


def test_shapes_and_validation():
    x = np.array([[0x3F800000, 0x40000000], [0xBF800000, 0x7FC00000]], dtype=np.uint32)
    b, f = fastconv.convert_flags_fast(x, "fp32", "posit16")
    wb, wf = convert_flags_exact(x, "fp32", "posit16")
    assert b.shape == (2, 2) == f.shape and np.array_equal(b, wb) and np.array_equal(f, wf)
    b, f = fastconv.convert_flags_fast(0x3F800000, "fp32", "bf16")
    assert b.shape == () and int(b) == 0x3F80 and int(f) == 0
    with pytest.raises(ValueError):
        fastconv.convert_flags_fast([1 << 32], "fp32", "bf16")
    with pytest.raises(ValueError):
        fastconv.convert_flags_fast([1], "fp32", "nf4")


KNOWN = [  # (src bits, dst, mode, saturate, dst bits, flags)
    (0x3F800000, "posit16", "rne", False, 0x4000, 0),  # 1.0
    (0x43E80000, "fp8_e4m3", "rne", False, 0x7E, NX),  # 464 = between 448 and 480: tie to even, 448
    (0x43E80000, "fp8_e4m3", "rup", False, 0x7F, OF | NX),  # rounds past the max: NaN (no inf in E4M3)
    (0x43E80000, "fp8_e4m3", "rup", True, 0x7E, OF | NX),
    (0x3F808000, "bf16", "rne", False, 0x3F80, NX),  # 1 + 2**-8: tie to even
    (0x3F818000, "bf16", "rne", False, 0x3F82, NX),  # 1 + 3 * 2**-8: tie to even, up
    (0x4F32D05E, "int32", "rne", False, 0x7FFFFFFF, NV),  # 3e9 saturates
    (0xCF32D05E, "int32", "rtz", False, 0x80000000, NV),  # -3e9
    (0x3F000000, "int8", "rne", False, 0, NX),  # 0.5: tie to even, 0
    (0x3FC00000, "int8", "rmm", False, 2, NX),  # 1.5: away from zero
    (0x00000001, "fp16", "rne", False, 0x0000, UF | NX),  # the smallest fp32 subnormal
    (0x00000001, "fp16", "rup", False, 0x0001, UF | NX),
    (0x00000001, "posit32", "rne", False, 0x00000001, NX),  # never to zero: minpos
    (0x7F7FFFFF, "posit16", "rne", False, 0x7FFF, NX),  # never to NaR: maxpos
    (0xFF800000, "posit16", "rne", True, 0x8001, NV),  # -inf, saturated: -maxpos
    (0x7F7FFFFF, "fp16", "rne", False, 0x7C00, OF | NX),
    (0x477FF000, "fp16", "rne", False, 0x7C00, OF | NX),  # 65520: the tie above max rounds to inf
    (0x477FEFFF, "fp16", "rne", False, 0x7BFF, NX),
    (0x3F800000, "fp64", "rne", False, 0x3FF0000000000000, 0),
    (0x00000001, "fp64", "rne", False, 0x36A0000000000000, 0),  # 2**-149, normal in fp64
    (0x3F800000, "x87", "rne", False, 0x3FFF8000000000000000, 0),
    (0x80000000, "fp8_e4m3fnuz", "rne", False, 0x00, 0),  # -0: no -0 in fnuz
]


@pytest.mark.parametrize("x, dst, mode, saturate, want, want_flags", KNOWN)
def test_known_answers(x, dst, mode, saturate, want, want_flags):
    b, f = fastconv.convert_flags_fast(np.array([x], dtype=np.uint32), "fp32", dst, mode, saturate)
    assert (int(b[0]), int(f[0])) == (want, want_flags)
    b, f = convert_flags_exact(np.array([x], dtype=np.uint32), "fp32", dst, mode, saturate)
    assert (int(b[0]), int(f[0])) == (want, want_flags)
