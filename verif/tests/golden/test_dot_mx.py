"""golden.arith.mx_dot and nvfp4_dot against verif/support/refs/dot.py (elements and scales decoded from the
published parameters, Fractions, IEEE rounding): every element pair, random blocks with cancelling halves, NaN
scales, the scale range's ends, both accumulation readings of MX 6.2. FMTFORGE_SEED changes the seed."""

import zlib

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import arith
from fmtforge.verif.support.refs import dot as ref
from fmtforge.verif.support.vectors.patterns import seed

from fmtforge.verif.tests.conftest import FULL
REF_NAME = {"int8": "mxint8"}
ELEMS = list(arith.MX_ELEMENTS)


def rng_for(*key):
    s = seed()
    print(f"seed {s} (FMTFORGE_SEED)")
    return np.random.default_rng([s, zlib.crc32(repr(key).encode())])


def compare_mx(a, b, xa, xb, c, ea, eb, k, **kw):
    got, gfl = arith.mx_dot(a, b, xa, xb, c, a_elem=ea, b_elem=eb, block_size=k, **kw)
    ra, rb = REF_NAME.get(ea, ea), REF_NAME.get(eb, eb)
    fc = kw.get("c_fmt", "fp32")
    rkw = {"out": kw.get("out_fmt", "fp32"), **{x: kw[x] for x in ("accumulate", "rounding") if x in kw}}
    for i in range(a.shape[0]):
        cv = ref.V("num") if c is None else ref.decode(fc, c[i])
        want, wfl = ref.ref_mx_dot([ref.decode(ra, x) for x in a[i]], [ref.decode(rb, x) for x in b[i]],
                                   [int(x) for x in xa[i]], [int(x) for x in xb[i]], cv, k, **rkw)
        if (int(got[i]), int(gfl[i])) != (want, wfl):
            raise AssertionError(
                f"row {i}: {ea} x {eb}, k={k}, {kw}: a={a[i].tolist()} b={b[i].tolist()} xa={xa[i].tolist()} "
                f"xb={xb[i].tolist()} c={None if c is None else hex(int(c[i]))}: want 0x{want:X} = "
                f"{ref.decode(rkw['out'], want)} flags {wfl:#x}, got 0x{int(got[i]):X} = "
                f"{ref.decode(rkw['out'], got[i])} flags {int(gfl[i]):#x}; reproduce: arith.mx_dot(a[[i]], b[[i]], "
                f"xa[[i]], xb[[i]], c, a_elem={ea!r}, b_elem={eb!r}, block_size={k}, **{kw}) on this row")


def elem_width(e):
    return ref.width(REF_NAME.get(e, e))


@pytest.mark.parametrize("eb", ELEMS)
@pytest.mark.parametrize("ea", ELEMS)
def test_every_element_pair_in_one_lane(ea, eb):
    """Every (a, b) element pair as a block whose other products are zero, scales 2**0 and 2**-3 x 2**5."""
    wa, wb = elem_width(ea), elem_width(eb)
    pa = np.repeat(np.arange(1 << wa), 1 << wb)
    pb = np.tile(np.arange(1 << wb), 1 << wa)
    n, k = pa.size, 16
    a = np.zeros((n, k), np.uint8)
    b = np.zeros((n, k), np.uint8)
    a[:, 3], b[:, 3] = pa, pb
    xa = np.where(np.arange(n) % 2, 124, 127).astype(np.uint8)[:, None]
    xb = np.where(np.arange(n) % 2, 132, 127).astype(np.uint8)[:, None]
    got, fl = arith.mx_dot(a, b, xa, xb, a_elem=ea, b_elem=eb, block_size=k)
    # a * b * 2**(xa + xb - 254), + the zeros (+0 sum of signed zeros: +0 in rne), from the reference tables
    va, _ = ref.float64_table(REF_NAME.get(ea, ea))
    vb, sb = ref.float64_table(REF_NAME.get(eb, eb))
    with np.errstate(invalid="ignore"):
        x = va[pa] * vb[pb] * np.ldexp(1.0, xa[:, 0].astype(int) + xb[:, 0].astype(int) - 254)
    x = np.where(x == 0, 0.0, x)
    want = ref.f64_to_bits("fp32", x)
    nv = ref.float64_table(REF_NAME.get(ea, ea))[1][pa] | sb[pb]
    inv = (np.isinf(va[pa]) & (vb[pb] == 0)) | ((va[pa] == 0) & np.isinf(vb[pb]))
    assert np.array_equal(got.astype(np.int64), want)
    assert np.array_equal(fl, np.where(nv | inv, golden.NV, 0))


def random_blocks(rng, ea, eb, n, nb, k):
    a = rng.integers(0, 1 << elem_width(ea), (n, nb * k))
    b = rng.integers(0, 1 << elem_width(eb), (n, nb * k))
    h = k // 2
    cancel = rng.random(n) < 0.3  # the block's second half cancels its first (same codes, sign flipped)
    if ea != "int8":
        a[cancel, h:k] = a[cancel, :h]
        b[cancel, h:k] = b[cancel, :h] ^ (1 << (elem_width(eb) - 1))
    xa = rng.integers(100, 154, (n, nb))
    xb = rng.integers(100, 154, (n, nb))
    ends = rng.random((n, nb)) < 0.1
    xa = np.where(ends, rng.choice([0, 1, 254, 255], (n, nb)), xa)
    c = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    near = rng.random(n) < 0.7
    c = np.where(near, (c & 0x807FFFFF) | (rng.integers(110, 145, n) << 23).astype(np.uint32), c).astype(np.uint32)
    return a.astype(np.uint8), b.astype(np.uint8), xa.astype(np.uint8), xb.astype(np.uint8), c


PAIRS = [("fp8_e4m3", "fp8_e4m3"), ("fp8_e5m2", "fp8_e4m3"), ("fp6_e2m3", "fp6_e3m2"), ("fp4_e2m1", "fp4_e2m1"),
         ("int8", "int8"), ("int8", "fp8_e5m2")]


@pytest.mark.parametrize("accumulate", ["exact", "block"])
@pytest.mark.parametrize("k", [16, 32, 64])
@pytest.mark.parametrize("ea,eb", PAIRS)
def test_random_blocks(ea, eb, k, accumulate):
    rng = rng_for(ea, eb, k, accumulate)
    n = 60 if FULL else 12
    a, b, xa, xb, c = random_blocks(rng, ea, eb, n, 3, k)
    for rounding in (["rne", "rtz", "rdn", "rup", "rmm"] if FULL else ["rne", "rdn"]):
        compare_mx(a, b, xa, xb, c, ea, eb, k, accumulate=accumulate, rounding=rounding)
    compare_mx(a, b, xa, xb, None, ea, eb, k, accumulate=accumulate, out_fmt="bf16")


def test_nan_scale_and_extreme_scales():
    k = 32
    a = np.full((4, k), 0x38, np.uint8)  # E4M3 1.0
    b = np.full((4, k), 0x38, np.uint8)
    xa = np.array([[0xFF], [254], [0], [127]], np.uint8)
    xb = np.array([[127], [254], [0], [127]], np.uint8)
    got, fl = arith.mx_dot(a, b, xa, xb, a_elem="fp8_e4m3", b_elem="fp8_e4m3")
    # NaN scale: quiet NaN, no flag; 32 * 2**254: overflow; 32 * 2**-254: underflows to +0 (UF, NX); 32.0
    assert [int(g) for g in got] == [0x7FC00000, 0x7F800000, 0, 0x42000000]
    assert [int(f) for f in fl] == [0, golden.OF | golden.NX, golden.UF | golden.NX, 0]


def test_block_accumulation_rounds_per_block():
    """Block dots 2**24, 1, 1: exact 2**24 + 2 (an fp32 value); per block each + 1 is a tie that rounds to the
    even 2**24, so 2**24 with NX."""
    k = 16
    a = np.zeros((1, 3 * k), np.uint8)
    b = np.zeros((1, 3 * k), np.uint8)
    a[0, 0], b[0, 0] = 0x38, 0x38  # 1.0 * 1.0
    a[0, k], b[0, k] = 0x38, 0x38
    a[0, 2 * k], b[0, 2 * k] = 0x38, 0x38
    xa = np.array([[127 + 24, 127, 127]], np.uint8)
    xb = np.array([[127, 127, 127]], np.uint8)
    ex = arith.mx_dot(a, b, xa, xb, a_elem="fp8_e4m3", b_elem="fp8_e4m3", block_size=k)
    bl = arith.mx_dot(a, b, xa, xb, a_elem="fp8_e4m3", b_elem="fp8_e4m3", block_size=k, accumulate="block")
    assert int(ex[0][0]) == 0x4B800001 and int(ex[1][0]) == 0  # 2**24 + 2: exact in fp32
    assert int(bl[0][0]) == 0x4B800000 and int(bl[1][0]) == golden.NX


def test_mx_bad_options():
    z = np.zeros((1, 32), np.uint8)
    x = np.zeros((1, 1), np.uint8)
    with pytest.raises(ValueError, match="a_elem must be one of"):
        arith.mx_dot(z, z, x, x, a_elem="fp8", b_elem="int8")
    with pytest.raises(ValueError, match="block_size must be one of 16, 32, 64"):
        arith.mx_dot(z, z, x, x, a_elem="int8", b_elem="int8", block_size=8)
    with pytest.raises(ValueError, match="whole blocks"):
        arith.mx_dot(z[:, :20], z[:, :20], x, x, a_elem="int8", b_elem="int8")
    with pytest.raises(ValueError, match="accumulate must be one of exact, block"):
        arith.mx_dot(z, z, x, x, a_elem="int8", b_elem="int8", accumulate="fp32")
    with pytest.raises(ValueError, match=r"xb must broadcast to shape \(1, 1\)"):
        arith.mx_dot(z, z, x, np.zeros((1, 2), np.uint8), a_elem="int8", b_elem="int8")
    with pytest.raises(ValueError, match="sa must hold UE4M3 codes"):
        arith.nvfp4_dot(z[:, :16], z[:, :16], np.array([[0x80]]), x)


@pytest.mark.parametrize("accumulate", ["exact", "block"])
def test_nvfp4_random(accumulate):
    rng = rng_for("nvfp4", accumulate)
    n, nb = 40, 4
    a = rng.integers(0, 16, (n, nb * 16)).astype(np.uint8)
    b = rng.integers(0, 16, (n, nb * 16)).astype(np.uint8)
    sa = rng.integers(0, 128, (n, nb)).astype(np.uint8)  # 0x7F (NaN) and 0 included
    sb = rng.integers(0, 128, (n, nb)).astype(np.uint8)
    ta = (rng.integers(100, 140, n) << 23 | rng.integers(0, 1 << 23, n)).astype(np.uint32)
    tb = (rng.integers(100, 140, n) << 23 | rng.integers(0, 1 << 23, n)).astype(np.uint32)
    tb[:3] = [0x7F800000, 0x7FC00000, 0x7F800001]  # inf, qNaN, sNaN tensor scales
    c = np.zeros(n, np.uint32)
    for rounding in ("rne", "rup"):
        got, gfl = arith.nvfp4_dot(a, b, sa, sb, ta, tb, c, accumulate=accumulate, rounding=rounding)
        for i in range(n):
            want, wfl = ref.ref_nvfp4_dot(
                [ref.decode("fp4_e2m1", x) for x in a[i]], [ref.decode("fp4_e2m1", x) for x in b[i]],
                [ref.decode("fp8_e4m3", x) for x in sa[i]], [ref.decode("fp8_e4m3", x) for x in sb[i]],
                ref.decode("fp32", ta[i]), ref.decode("fp32", tb[i]), ref.decode("fp32", c[i]),
                accumulate=accumulate, rounding=rounding)
            assert (int(got[i]), int(gfl[i])) == (want, wfl), (i, a[i], b[i], sa[i], sb[i], hex(ta[i]), hex(tb[i]))
