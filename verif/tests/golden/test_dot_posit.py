"""golden.arith.posit_dot against verif/support/refs/dot_posit.py (posits decoded from the 2022 standard's
definition, Fractions, the standard's rounding from value tables): every product pair of two posit formats,
random fused dot products with an addend (a quire's job), cancellation, NaR, the range's ends; the quire widths.
FMTFORGE_SEED changes the seed."""

import zlib
from fractions import Fraction

import numpy as np
import pytest

from fmtforge.golden import arith
from fmtforge.verif.support.refs import dot_posit as ref
from fmtforge.verif.support.vectors import seed


def name(n, es):
    return f"posit{n}_es{es}"


@pytest.mark.parametrize("fa,fb,fo", [((8, 2), (8, 2), (16, 2)), ((8, 2), (8, 2), (8, 2)), ((6, 1), (8, 2), (10, 1)),
                                      ((8, 0), (7, 3), (12, 2))])
def test_every_product_pair(fa, fb, fo):
    pa = np.repeat(np.arange(1 << fa[0]), 1 << fb[0])
    pb = np.tile(np.arange(1 << fb[0]), 1 << fa[0])
    got, fl = arith.posit_dot(pa[:, None], pb[:, None], a_fmt=name(*fa), b_fmt=name(*fb), out_fmt=name(*fo))
    ta = [ref.decode(*fa, x) for x in range(1 << fa[0])]
    tb = [ref.decode(*fb, x) for x in range(1 << fb[0])]
    nar = 1 << (fo[0] - 1)
    for i, (x, y) in enumerate(zip(pa, pb)):
        if ta[x] is None or tb[y] is None:
            want, wfl = nar, 0
        else:
            want, inexact = ref.round_posit(ta[x] * tb[y], *fo)
            wfl = int(inexact)
        if (int(got[i]), int(fl[i])) != (want, wfl):
            raise AssertionError(f"{name(*fa)} 0x{x:X} ({ta[x]}) x {name(*fb)} 0x{y:X} ({tb[y]}) -> {name(*fo)}: "
                                 f"want 0x{want:X} NX={wfl}, got 0x{int(got[i]):X} NX={int(fl[i])}; reproduce: "
                                 f"arith.posit_dot(np.array([[0x{x:X}]]), np.array([[0x{y:X}]]), a_fmt="
                                 f"{name(*fa)!r}, b_fmt={name(*fb)!r}, out_fmt={name(*fo)!r})")


def rng_for(*key):
    s = seed()
    print(f"seed {s} (FMTFORGE_SEED)")
    return np.random.default_rng([s, zlib.crc32(repr(key).encode())])


@pytest.mark.parametrize("k", [4, 64])
@pytest.mark.parametrize("fa,fo", [((8, 2), (16, 2)), ((8, 2), (8, 2)), ((16, 2), (16, 2)), ((10, 1), (12, 3))])
def test_random_fused_dot_products(fa, fo, k):
    rng = rng_for(fa, fo, k)
    n = 80
    a = rng.integers(0, 1 << fa[0], (n, k))
    b = rng.integers(0, 1 << fa[0], (n, k))
    nar = 1 << (fa[0] - 1)
    a = np.where(a == nar, 0, a)  # NaR only where placed below
    a[:4, 0] = nar
    cancel = rng.random(n) < 0.4  # the second half negates the first: the sum is c exactly
    h = k // 2
    a[cancel, h:] = a[cancel, :h]
    b[cancel, h:] = (-b[cancel, :h]) & ((1 << fa[0]) - 1)
    c = rng.integers(0, 1 << fo[0], n)
    c[4:8] = [0, 1, (1 << (fo[0] - 1)) - 1, 1 << (fo[0] - 1)]  # 0, minpos, maxpos, NaR
    got, fl = arith.posit_dot(a, b, c, a_fmt=name(*fa), b_fmt=name(*fa), out_fmt=name(*fo))
    for i in range(n):
        want = ref.ref_posit_dot(a[i], b[i], c[i], fa, fa, fo, fo)
        assert (int(got[i]), int(fl[i])) == want, (i, a[i].tolist(), b[i].tolist(), int(c[i]))


def test_never_zero_or_nar_from_nonzero():
    """posit8: minpos**2 alone rounds to minpos; maxpos**2 to maxpos; maxpos**2 - maxpos**2 + minpos**2 is
    minpos**2 exactly, then minpos; minpos * maxpos = 1."""
    mx, mn = 0x7F, 0x01
    a = np.array([[mn, 0], [mx, 0], [mx, mn], [mn, 0]], np.uint8)
    b = np.array([[mn, 0], [mx, 0], [mx, mn], [mx, 0]], np.uint8)
    c = np.array([0, 0, 0x81, 0], np.uint8)  # 0x81 = -maxpos; the third row: maxpos**2 - maxpos + minpos**2
    got, fl = arith.posit_dot(a, b, c, a_fmt="posit8", b_fmt="posit8", out_fmt="posit8")
    assert [int(g) for g in got[[0, 1, 3]]] == [0x01, 0x7F, 0x40]
    assert [int(f) for f in fl[[0, 1, 3]]] == [1, 1, 0]
    assert int(got[2]) == ref.ref_posit_dot(a[2], b[2], 0x81, (8, 2), (8, 2), (8, 2), (8, 2))[0]


@pytest.mark.parametrize("n,es", [(8, 2), (16, 2), (32, 2), (8, 0), (12, 1)])
def test_quire_widths(n, es):
    """The standard's 16n for es = 2; the exact width from the value table's finest bit and largest value."""
    if es == 2:
        assert arith.quire_bits(n, es) == 16 * n
    if n <= 12:
        vals = [abs(v) for v in (ref.decode(n, es, p) for p in range(1 << n)) if v]
        lsb = min(Fraction(1, v.denominator) for v in vals)  # every value has a fraction part at the bottom
        top = max(vals)
        for terms in (1, 4, 1000):
            q = terms * top * top / (lsb * lsb)
            assert arith.exact_quire_bits(n, es, terms) == (-(-q.numerator // q.denominator)).bit_length() + 1
        assert arith.exact_quire_bits(n, es, 2 ** 31 - 1) <= arith.quire_bits(n, es)


def test_posit_bad_options():
    z = np.zeros((1, 2), np.uint8)
    with pytest.raises(ValueError, match="a_fmt must be a posit format"):
        arith.posit_dot(z, z, a_fmt="fp8_e4m3", b_fmt="posit8", out_fmt="posit8")
    with pytest.raises(ValueError, match="out_fmt must be a posit format of at most 32 bits"):
        arith.posit_dot(z, z, a_fmt="posit8", b_fmt="posit8", out_fmt="posit64")
