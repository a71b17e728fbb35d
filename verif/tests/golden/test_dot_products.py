"""golden.dot with K = 1 on every product pair of every two 8-bit formats (2**16 pairs each), against
verif/support/refs/dot.py: values decoded from the formats' published parameters, exact products, IEEE rounding.

Every two formats into fp32 (where every product of two 8-bit values is exact: the check is the product's value, sign,
specials and flags); into fp16 and bf16 in every rounding mode and both tininess rules for a slice of pairs
(every pair under FMTFORGE_FULL=1). Reproduce one case with
``golden.dot(np.array([[a]]), np.array([[b]]), a_fmt=..., b_fmt=..., out_fmt=..., rounding=...)``.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.refs import dot as ref

from fmtforge.verif.tests.conftest import FULL
EIGHT = ["fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz", "fp8_e5m2fnuz", "float8_e4m3b11fnuz", "float8_e3m4",
         "float8_e4m3", "cfloat8_1_4_3", "cfloat8_1_5_2", "p3109_k8p1", "p3109_k8p3", "p3109_k8p4",
         "p3109_k8p3_unsigned", "p3109_k8p4_unsigned", "int8", "uint8", "mxint8"]
ROUNDED_PAIRS = [("fp8_e4m3", "fp8_e4m3"), ("fp8_e5m2", "fp8_e5m2"), ("fp8_e4m3", "fp8_e5m2"),
                 ("p3109_k8p3", "p3109_k8p4"), ("float8_e3m4", "int8"), ("p3109_k8p1", "p3109_k8p1"),
                 ("cfloat8_1_5_2", "fp8_e5m2fnuz"), ("p3109_k8p4_unsigned", "fp8_e4m3")]
if FULL:
    ROUNDED_PAIRS = list(itertools.product(EIGHT, EIGHT))
MODES = ["rne", "rtz", "rdn", "rup", "rmm"]


def _tables(name):
    vals, snan = ref.float64_table(name)
    fin = np.isfinite(vals) & (vals != 0)
    m = np.frexp(vals[fin])[0] * 2 ** 8  # <= 8 significant bits: products of two are exact in float64
    assert np.all(m == np.floor(m)) and np.all(np.abs(vals[fin]) > 2.0 ** -500)
    return vals, snan


def expected(fa, fb, out, rounding, tininess="after"):
    """Patterns and flags of a * b + (+0) for every pair (a-major), per the reference's rules."""
    va, sa = _tables(fa)
    vb, sb = _tables(fb)
    with np.errstate(invalid="ignore"):
        x = np.multiply.outer(va, vb).ravel()
    invalid = (np.multiply.outer(np.isinf(va), vb == 0) | np.multiply.outer(va == 0, np.isinf(vb))).ravel()
    nv = invalid | np.add.outer(sa, sb).ravel()
    fin = np.isfinite(x)
    r, flags = ref.round_f64(np.where(fin, x, 0.0), out, rounding, tininess=tininess)
    r = np.where(fin, r, x)
    # an exact zero product plus the +0 addend: +0, or -0 under rdn when the product is -0 (IEEE 754 6.3)
    r = np.where(x == 0, np.where(np.signbit(x) & (rounding == "rdn"), -0.0, 0.0), r)
    flags = np.where(fin, flags, 0) | np.where(nv, ref.NV, 0)
    return ref.f64_to_bits(out, r), flags


def run_golden(fa, fb, out, rounding, tininess="after"):
    a = np.repeat(np.arange(256, dtype=np.uint8), 256)
    b = np.tile(np.arange(256, dtype=np.uint8), 256)
    bits, flags = golden.dot(a[:, None], b[:, None], a_fmt=fa, b_fmt=fb, out_fmt=out, rounding=rounding,
                             tininess=tininess)
    return a, b, bits.astype(np.int64), flags.astype(np.int64)


def check(fa, fb, out, rounding, tininess="after"):
    a, b, got, gflags = run_golden(fa, fb, out, rounding, tininess)
    want, wflags = expected(fa, fb, out, rounding, tininess)
    bad = np.flatnonzero((got != want) | (gflags != wflags))
    if bad.size:
        i = bad[0]
        raise AssertionError(
            f"{bad.size} mismatches; first: {fa} 0x{a[i]:02X} ({ref.decode(fa, a[i])}) x {fb} 0x{b[i]:02X} "
            f"({ref.decode(fb, b[i])}) -> {out} {rounding} tininess={tininess}: want 0x{want[i]:X} flags "
            f"{wflags[i]:#x}, got 0x{got[i]:X} flags {gflags[i]:#x}; reproduce: golden.dot(np.array([[0x{a[i]:X}]]), "
            f"np.array([[0x{b[i]:X}]]), a_fmt={fa!r}, b_fmt={fb!r}, out_fmt={out!r}, rounding={rounding!r})")


# every two formats (products commute: each unordered pair once; the other order too under FMTFORGE_FULL=1)
PAIRS = list(itertools.product(EIGHT, EIGHT) if FULL else itertools.combinations_with_replacement(EIGHT, 2))


@pytest.mark.parametrize("fa,fb", PAIRS)
def test_every_product_pair_into_fp32(fa, fb):
    check(fa, fb, "fp32", "rne")


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("out", ["fp16", "bf16"])
@pytest.mark.parametrize("fa,fb", ROUNDED_PAIRS)
def test_every_product_pair_rounded(fa, fb, out, rounding):
    check(fa, fb, out, rounding)


@pytest.mark.parametrize("out", ["fp16", "bf16"])
@pytest.mark.parametrize("fa,fb", ROUNDED_PAIRS[:3])
def test_every_product_pair_tininess_before(fa, fb, out):
    for rounding in MODES:
        check(fa, fb, out, rounding, "before")


@pytest.mark.parametrize("out", ["fp16", "bf16"])
def test_vectorised_rounder_matches_fraction_rounder(out):
    """The float64 rounder used above against the Fraction one (IEEE's definition) on every distinct
    product magnitude of E4M3 x E5M2 and of P3109 K8P3 x K8P3, both signs, every mode and tininess rule."""
    for fa, fb in [("fp8_e4m3", "fp8_e5m2"), ("p3109_k8p3", "p3109_k8p3")]:
        va, vb = ref.float64_table(fa)[0], ref.float64_table(fb)[0]
        with np.errstate(invalid="ignore"):
            x = np.unique(np.abs(np.multiply.outer(va, vb)))
        x = x[np.isfinite(x) & (x > 0)]
        x = np.concatenate([x, -x])
        for rounding, tininess in itertools.product(MODES, ["after", "before"]):
            r, fl = ref.round_f64(x, out, rounding, tininess=tininess)
            for xi, ri, fi in zip(x[::7], r[::7], fl[::7]):
                v, f = ref.round_value(abs(Fraction(xi)), xi < 0, out, rounding, tininess=tininess)
                want = (-1 if v.neg else 1) * (float(v.mag) if v.kind == "num" else np.inf)
                assert (want, f) == (ri, fi), (xi, out, rounding, tininess)
