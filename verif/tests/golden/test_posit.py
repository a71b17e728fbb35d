"""golden.Posit against the standard's definition (verif.oracle, Python integers and Fractions) and against the
interleaving of posit(n) and posit(n+1): the odd patterns of posit(n+1) are exactly the ties of posit(n)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.refs import oracle
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

SMALL = [(8, 0), (8, 1), (8, 2), (16, 0), (16, 1), (16, 2), (10, 3), (6, 4), (5, 2), (3, 0), (4, 1), (3, 2)]


def exact(raw, k):
    if raw.cls[k] == golden.NAN:
        return oracle.NAN
    v = Fraction(int(raw.sig[k])) * Fraction(2) ** int(raw.exp[k])
    return -v if raw.sign[k] else v


@pytest.mark.parametrize("n, es", SMALL, ids=lambda v: str(v))
def test_decode_every_pattern(n, es):
    p = golden.posit(n, es)
    bits = p.all_bits()
    raw = p.decode_raw(bits)
    f64 = p.decode(bits)
    for k, b in enumerate(bits):
        want = oracle.posit_value(n, es, b)
        got = exact(raw, k)
        assert got == want or (got is oracle.NAN and want is oracle.NAN), f"posit({n},{es}) 0x{int(b):x}: {want} vs {got}"
        assert (math.isnan(f64[k]) and want is oracle.NAN) or f64[k] == float(want)


@pytest.mark.parametrize("n, es", [(8, 0), (8, 1), (8, 2), (16, 1), (16, 2), (12, 3), (6, 4)], ids=lambda v: str(v))
def test_ties_are_the_odd_patterns_of_one_more_bit(n, es):
    """Every posit(n+1) value: even patterns are posit(n) values (exact), odd ones are the bit-string midpoints
    between neighbours and round to the even neighbour -- except that nothing rounds to 0 or NaR."""
    wide, p = golden.posit(n + 1, es), golden.posit(n, es)
    q = wide.all_bits().astype(np.int64)
    v = wide.decode(q)
    ok = ~np.isnan(v)
    q, v = q[ok], v[ok]
    got = p.encode(v).astype(np.int64)
    lo = q >> 1
    hi = (lo + 1) & ((1 << n) - 1)
    want = np.where(q % 2 == 0, lo, np.where(lo % 2 == 0, lo, hi))
    # never to zero or NaR: the midpoints next to them go to minpos / maxpos
    want = np.where(want == 0, np.where(v > 0, 1, (1 << n) - 1), want)
    want = np.where(want == 1 << (n - 1), np.where(v > 0, (1 << (n - 1)) - 1, (1 << (n - 1)) + 1), want)
    want = np.where(v == 0, 0, want)
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, [(hex(int(q[k])), v[k], hex(int(want[k])), hex(int(got[k]))) for k in bad[:8]]


@pytest.mark.parametrize("mode", ["rne", "rtz", "rdn", "rup", "rmm"])
@pytest.mark.parametrize("n, es", [(8, 2), (16, 2), (32, 2), (64, 2), (16, 1), (13, 0), (20, 4)], ids=lambda v: str(v))
def test_encode_random_against_bit_string_rounding(n, es, mode):
    p = golden.posit(n, es)
    rng = np.random.default_rng([seed(), n, es])
    print(f"seed {seed()}")
    span = p.max_scale + 8
    x = rng.standard_normal(4000) * np.exp2(rng.integers(-span, span, 4000).astype(float))
    got = p.encode(x, mode).astype(object)
    for k in range(len(x)):
        want = oracle.posit_encode(n, es, Fraction(float(x[k])), mode)
        assert int(got[k]) == want, f"posit({n},{es}) {mode} {x[k]!r}: expected 0x{want:x}, got 0x{int(got[k]):x}"


def test_posit_facts_2022():
    for n in (8, 16, 32, 64):
        p = golden.lookup(f"posit{n}")
        assert p.es == 2 and p.max == Fraction(2) ** (4 * (n - 2)) and p.min_normal == Fraction(2) ** (-4 * (n - 2))
    p16 = golden.lookup("posit16")
    assert list(p16.encode([2.0 ** 56, 2.0 ** 60, 2.0 ** -56, 2.0 ** -70, -2.0 ** -70, 0.0, np.nan, np.inf, 1.0])) == [
        0x7FFF, 0x7FFF, 0x0001, 0x0001, 0xFFFF, 0x0000, 0x8000, 0x8000, 0x4000]
    assert list(p16.encode([np.inf, -np.inf], saturate=True)) == [0x7FFF, 0x8001]
    assert np.isnan(p16.decode([0x8000])[0])


def test_posit64_round_trips_fp64_in_range():
    p = golden.lookup("posit64")
    rng = np.random.default_rng(seed())
    x = rng.standard_normal(100_000) * np.exp2(rng.integers(-20, 20, 100_000).astype(float))
    # within 2**+-28 posit64 carries >= 52 fraction bits: every float64 there is exact
    assert np.array_equal(p.decode(p.encode(x)), x)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=2), "n must be an integer in 3..64, not 2"), (dict(n=65), "n must be an integer in 3..64, not 65"),
    (dict(n=16, es=5), "es must be an integer in 0..4, not 5"), (dict(n=16, es=-1), "es must be an integer in 0..4, not -1"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        golden.posit(**kwargs)


@pytest.mark.parametrize("mode", ["rne", "rtz", "rdn", "rup", "rmm"])
@pytest.mark.parametrize("n, es", [(8, 2), (16, 2), (16, 1), (12, 0)], ids=lambda v: str(v))
def test_encode_million_random_against_search(n, es, mode):
    """1,000,000 random values per format and mode (200,000 in make test; FMTFORGE_FULL=1: the million), plus
    every value, midpoint and midpoint neighbour, against search among the sorted values with the bit-string
    midpoints as boundaries (verif.oracle.posit_rounder)."""
    p = golden.posit(n, es)
    r = oracle.posit_rounder(n, es)
    rng = np.random.default_rng([seed(), n, es, 1])
    print(f"seed {seed()}")
    span = p.max_scale + 6
    count = 1_000_000 if FULL else 200_000
    x = rng.standard_normal(count) * np.exp2(rng.uniform(-span, span, count))
    x = np.concatenate([x, r.values, r.mids[:-1], np.nextafter(r.mids[:-1], np.inf), np.nextafter(r.mids[:-1], -np.inf)])
    want = oracle.posit_encode_many(r, n, x, mode)
    got = p.encode(x, mode).astype(np.int64)
    bad = np.nonzero(want != got)[0]
    assert bad.size == 0, [(x[k], hex(int(want[k])), hex(int(got[k]))) for k in bad[:6]]


def test_posit17_decode_every_pattern():
    """posit(17, 2) gives the bit-string midpoints of posit16: check its decoding too."""
    p = golden.posit(17, 2)
    bits = p.all_bits()
    f64 = p.decode(bits)
    for b in bits[::1]:
        want = oracle.posit_value(17, 2, b)
        got = f64[int(b)]
        assert (want is oracle.NAN and math.isnan(got)) or got == float(want)


@pytest.mark.parametrize("n, es", [(8, 2), (8, 0), (16, 2), (16, 1)], ids=lambda v: str(v))
def test_flags_say_what_happened(n, es):
    """NX exactly when the result's value differs from the input; NV for infinities; nothing else."""
    p = golden.posit(n, es)
    wide = golden.posit(n + 1, es)
    v = wide.decode(wide.all_bits())
    x = np.concatenate([v[~np.isnan(v)], [np.inf, -np.inf, np.nan, 1e300, -1e-300]])
    bits, flags = p.encode_flags(x)
    back = p.decode(bits)
    changed = ~((back == x) | np.isnan(x))
    assert np.array_equal((flags & golden.NX) != 0, changed & np.isfinite(x))
    assert np.array_equal((flags & golden.NV) != 0, np.isinf(x))
    assert not np.any(flags & (golden.OF | golden.UF))


@pytest.mark.parametrize("n, es", [(16, 2), (32, 2), (64, 2), (64, 0), (64, 4)], ids=lambda v: str(v))
def test_encode_wide_significands(n, es):
    """x87 sources carry 64-bit significands, wider than any posit keeps: the low bits must still count."""
    x87 = golden.lookup("x87")
    p = golden.posit(n, es)
    rng = np.random.default_rng([seed(), n, es, 7])
    pats = []
    for _ in range(3000):
        e = 16383 + int(rng.integers(-30, 30))
        man = (1 << 63) | int(rng.integers(0, 1 << 63))
        if rng.random() < 0.5:
            man = (1 << 63) | (int(rng.integers(0, 4)) << int(rng.integers(0, 63))) | int(rng.integers(0, 4))
        pats.append((int(rng.integers(0, 2)) << 79) | (e << 64) | man)
    pats = np.array(pats, dtype=object)
    for mode in ("rne", "rtz", "rup"):
        got, flags = golden.convert_flags(pats, x87, p, mode)
        for b, g, f, v in zip(pats, got, flags, x87.decode_raw(pats).to_fractions()):
            want = oracle.posit_encode(n, es, v, mode)
            assert int(g) == want, (hex(b), mode, hex(int(g)), hex(want))
            assert bool(f & golden.NX) == (oracle.posit_value(n, es, want) != v), hex(b)


@pytest.mark.parametrize("n, es, eps", [(16, 2, Fraction(1, 2 ** 11)), (8, 0, Fraction(1, 2 ** 5)), (5, 2, Fraction(1)),
                                        (4, 2, Fraction(3)), (3, 2, Fraction(15)), (4, 0, Fraction(1, 2))])
def test_epsilon_is_the_spacing_above_one(n, es, eps):
    """Hand-derived: above 1 (0b01 0..0) comes 0b01 0..01. posit(5, 2): exponent bits 01 -> 2; posit(4, 2): the
    one exponent bit left is the high one -> e = 2 -> 4; posit(3, 2): regime 11 -> useed = 16."""
    assert golden.posit(n, es).epsilon == eps
