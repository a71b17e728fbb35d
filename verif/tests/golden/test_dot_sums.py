"""golden.dot on sums: structured cases (exact cancellation in every mode, huge plus tiny, every special, overflow,
the tininess band) and seeded random dot products, each mode (exact, beat, window, with its presets) against the
Fraction re-statement of its documented rule in verif/support/refs/dot.py. FMTFORGE_SEED changes the seed."""

import zlib

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.refs import dot as ref
from fmtforge.verif.support.vectors.patterns import seed

from fmtforge.verif.tests.conftest import FULL
MODES = ["rne", "rtz", "rdn", "rup", "rmm"]


def ref_rows(a, b, c, fa, fb, fc, **kw):
    """Reference patterns and flags of every row."""
    out = []
    for i in range(a.shape[0]):
        av = [ref.decode(fa, x) for x in a[i]]
        bv = [ref.decode(fb, x) for x in b[i]]
        cv = ref.V("num") if c is None else ref.decode(fc, c[i])
        out.append(ref.ref_dot(av, bv, cv, **kw))
    return np.array([o[0] for o in out], dtype=np.int64), np.array([o[1] for o in out], dtype=np.int64)


def show(name, bits):
    """A pattern's value, decoded by the reference."""
    v = ref.decode(name, bits)
    return "NaN" if v.kind == "nan" else f"{'-' if v.neg else '+'}{'inf' if v.kind == 'inf' else v.mag}"


GOLDEN_KW = {"out": "out_fmt", "acc": "acc_fmt"}


def compare(a, b, c, fa, fb, fc, **kw):
    """golden.dot against the reference on rows a, b (N, K), c (N,) or None; raises on the first mismatch."""
    gkw = {GOLDEN_KW.get(k, k): v for k, v in kw.items()}
    if gkw.get("mode") != "window":
        gkw.pop("acc_fmt", None), gkw.pop("acc_rounding", None)
    got, gfl = golden.dot(a, b, c, a_fmt=fa, b_fmt=fb, c_fmt=fc, **gkw)
    out = kw.get("out", "fp32")
    want, wfl = ref_rows(a, b, c, fa, fb, fc, **kw)
    got, gfl = got.astype(np.int64), gfl.astype(np.int64)
    bad = np.flatnonzero((got != want) | (gfl != wfl))
    if bad.size:
        i = bad[0]
        cs = "None" if c is None else f"np.array([0x{int(c[i]):X}])"
        raise AssertionError(
            f"{bad.size}/{len(got)} mismatches; first row {i}: a={[hex(int(x)) for x in a[i]]} ({fa}) "
            f"b={[hex(int(x)) for x in b[i]]} ({fb}) c={cs} ({fc}) {kw}: want 0x{want[i]:X} = {show(out, want[i])} "
            f"flags {wfl[i]:#x}, got 0x{got[i]:X} = {show(out, got[i])} flags {gfl[i]:#x}; reproduce: "
            f"golden.dot(np.array([{[int(x) for x in a[i]]}]), "
            f"np.array([{[int(x) for x in b[i]]}]), {cs}, a_fmt={fa!r}, b_fmt={fb!r}, c_fmt={fc!r}, **{gkw})")


def bits(name, values):
    return np.array([ref.f64_to_bits(name, [v])[0] for v in values])


E4 = "fp8_e4m3"
ONE, TWO, HALF = 0x38, 0x40, 0x30  # E4M3 1.0, 2.0, 0.5
NEG = 0x80


# -- structured --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("mode", ["exact", "beat"])
def test_exact_cancellation_sign(mode, rounding):
    """Sums that are exactly zero: +0 except -0 under rdn; all-(-0) terms keep -0 (IEEE 754 6.3)."""
    a = np.array([[ONE, ONE], [ONE, ONE], [NEG, NEG], [NEG, NEG], [TWO, HALF], [0, 0]], dtype=np.uint8)
    b = np.array([[TWO, TWO | NEG], [TWO, TWO | NEG], [ONE, ONE], [0, 0], [HALF, ONE], [0, 0]], dtype=np.uint8)
    c = bits("fp32", [0.0, -0.0, -0.0, -0.0, -1.5, 0.0])
    want_neg = [rounding == "rdn", rounding == "rdn", True, True, rounding == "rdn", False]
    got, fl = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, mode=mode, lanes=2, rounding=rounding)
    assert [int(g) for g in got] == [0x80000000 if n else 0 for n in want_neg]
    assert not fl.any()
    compare(a, b, c, E4, E4, "fp32", mode=mode, lanes=2, rounding=rounding)


@pytest.mark.parametrize("rounding", MODES)
def test_huge_plus_tiny(rounding):
    """2**100 plus E4M3's smallest product 2**-18 (and minus): only the directed modes move, by one ulp."""
    a = np.array([[0x01], [0x81]], dtype=np.uint8)  # +-2**-9
    b = np.array([[0x01], [0x01]], dtype=np.uint8)
    c = bits("fp32", [2.0 ** 100, 2.0 ** 100])
    got, fl = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, rounding=rounding)
    up = {"rup": (1, 0), "rdn": (0, -1), "rtz": (0, -1)}.get(rounding, (0, 0))
    assert [int(g) - 0x71800000 for g in got] == list(up)
    assert list(fl) == [golden.NX, golden.NX]
    compare(a, b, c, E4, E4, "fp32", rounding=rounding)


E5 = "fp8_e5m2"
PINF, NINF, SNAN, QNAN, E5MAX = 0x7C, 0xFC, 0x7D, 0x7E, 0x7B


@pytest.mark.parametrize("mode", ["exact", "beat", "window"])
def test_specials(mode):
    """inf - inf, inf x 0, signaling and quiet NaNs in a, b and c, infinities meeting finite values."""
    one = 0x3C
    rows = [([PINF, one], [one, NINF], 0.0),          # +inf + -inf: NaN, NV
            ([PINF, 0], [0, one], 0.0),              # inf x 0: NaN, NV
            ([SNAN, one], [one, one], 0.0),          # sNaN: NaN, NV
            ([QNAN, one], [one, one], 0.0),          # qNaN: NaN, no flag
            ([QNAN, PINF], [one, 0], 0.0),           # qNaN beside inf x 0: NaN, NV
            ([PINF, one], [one, one], float("-inf")),  # +inf + c = -inf: NaN, NV
            ([PINF, one], [one, one], 1.0),          # +inf
            ([NINF, NINF], [one, one], 5.0),         # -inf
            ([one, one], [one, one], float("inf")),  # c = +inf
            ([one, one], [one, one], float("nan")),  # c = qNaN
            ([E5MAX, E5MAX], [E5MAX, E5MAX], 0.0)]  # finite
    a = np.array([r[0] for r in rows], dtype=np.uint8)
    b = np.array([r[1] for r in rows], dtype=np.uint8)
    c = bits("fp32", [r[2] for r in rows])
    c_snan = np.array([0x7F800001], dtype=np.uint32)
    extra = {"window": 14} if mode == "window" else {}
    got, fl = golden.dot(a, b, c, a_fmt=E5, b_fmt=E5, mode=mode, lanes=2, **extra)
    nan = 0x7FC00000
    assert [int(g) for g in got[:6]] == [nan] * 6
    assert [int(f) for f in fl[:6]] == [golden.NV, golden.NV, golden.NV, 0, golden.NV, golden.NV]
    assert [int(g) for g in got[6:10]] == [0x7F800000, 0xFF800000, 0x7F800000, nan]
    compare(a, b, c, E5, E5, "fp32", mode=mode, lanes=2, **extra)
    g, f = golden.dot(a[:1] * 0, b[:1] * 0, c_snan, a_fmt=E5, b_fmt=E5, mode=mode, lanes=2, **extra)
    assert (int(g[0]), int(f[0])) == (nan, golden.NV)


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("rounding", MODES)
def test_overflow(rounding, saturate):
    """Two E5M2 max products (2 x 57344**2) overflow fp16: inf (or max toward zero / saturating), OF | NX."""
    a = np.array([[E5MAX, E5MAX], [E5MAX | 0x80, E5MAX]], dtype=np.uint8)
    b = np.array([[E5MAX, E5MAX], [E5MAX, E5MAX | 0x80]], dtype=np.uint8)
    c = np.array([0, 0], dtype=np.uint16)
    for mode in ("exact", "beat"):
        got, fl = golden.dot(a, b, c, a_fmt=E5, b_fmt=E5, c_fmt="fp16", out_fmt="fp16", rounding=rounding,
                             saturate=saturate, mode=mode)
        to_max = saturate or rounding in ("rtz", "rdn")
        assert int(got[0]) == (0x7BFF if to_max else 0x7C00) and int(fl[0]) == golden.OF | golden.NX
        compare(a, b, c, E5, E5, "fp16", out="fp16", rounding=rounding, saturate=saturate, mode=mode)


@pytest.mark.parametrize("tininess", ["after", "before"])
@pytest.mark.parametrize("rounding", MODES)
def test_tininess_band(rounding, tininess):
    """fp16 results near 2**-14: 2**-14 (1 - 2**-11) is tiny after rounding but delivered normal under rne;
    2**-14 (1 - 2**-12) rounds to 2**-14 even with an unbounded exponent (tiny only before rounding)."""
    vals = [2.0 ** -14 * (1 - 2.0 ** -11), 2.0 ** -14 * (1 - 2.0 ** -12), -(2.0 ** -14) * (1 - 2.0 ** -12),
            2.0 ** -14 * (1 - 2.0 ** -11 - 2.0 ** -20), 2.0 ** -15 + 2.0 ** -30, 2.0 ** -14]
    c = bits("fp32", vals)
    z = np.zeros((len(vals), 1), dtype=np.uint8)
    got, fl = golden.dot(z, z, c, a_fmt=E4, b_fmt=E4, out_fmt="fp16", rounding=rounding, tininess=tininess)
    if rounding == "rne":
        uf = golden.UF | golden.NX
        assert [int(x) for x in fl] == [uf, uf if tininess == "before" else golden.NX,
                                        uf if tininess == "before" else golden.NX, uf, uf, 0]
    compare(z, z, c, E4, E4, "fp32", out="fp16", rounding=rounding, tininess=tininess)


# -- random ---------------------------------------------------------------------------------------------------
CONFIGS = [  # a, b, c, out
    (E4, E4, "fp32", "fp32"), (E5, E4, "fp16", "fp16"), ("int8", "int8", "bf16", "bf16"),
    ("p3109_k8p3", "fp6_e2m3", "fp16", "fp32"), ("fp4_e2m1", "float8_e3m4", "fp32", "bf16"),
    ("fp16", "bf16", "fp32", "fp32"), ("int4", "fp8_e4m3fnuz", "bf16", "fp16"),
]


def random_rows(rng, fa, fb, fc, n, k):
    """Uniform patterns (specials included) and rows built to cancel: the second half negates the first."""
    wa, wb = ref.width(fa), ref.width(fb)
    a = rng.integers(0, 1 << wa, (n, k)).astype(np.uint16)
    b = rng.integers(0, 1 << wb, (n, k)).astype(np.uint16)
    h = k // 2
    if h and ref.FLOATS.get(fa, (0, 0, 0, "int"))[3] != "int":
        cancel = rng.random(n) < 0.5
        a[cancel, h:2 * h] = a[cancel, :h]
        b[cancel, h:2 * h] = b[cancel, :h] ^ (1 << (wb - 1))  # sign flip (not an exact negation for ints)
    wc = ref.width(fc)
    c = rng.integers(0, 1 << wc, n).astype(np.uint32)
    e, f, bias, _ = ref.FLOATS[fc]
    near = rng.random(n) < 0.6  # most addends within a few binades of 1, where the products live
    expo = rng.integers(bias - 12, bias + 12, n)
    keep = ((1 << wc) - 1) ^ (((1 << e) - 1) << f)
    c = np.where(near, (c & keep) | (expo << f), c).astype(np.uint32)
    if fa in ref.INTS or fb in ref.INTS:
        a, b = a.astype(np.uint16), b.astype(np.uint16)
    return a, b, c


def rng_for(*key):
    s = seed()
    print(f"seed {s} (FMTFORGE_SEED)")
    return np.random.default_rng([s, zlib.crc32(repr(key).encode())])


N = 300 if FULL else 60


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(c))
def test_random_exact(cfg, rounding):
    fa, fb, fc, out = cfg
    rng = rng_for("exact", *cfg, rounding)
    for k in (1, 3, 16):
        a, b, c = random_rows(rng, fa, fb, fc, N, k)
        compare(a, b, c, fa, fb, fc, out=out, rounding=rounding)
    compare(a, b, None, fa, fb, fc, out=out, rounding=rounding)


@pytest.mark.parametrize("lanes", [1, 2, 4])
@pytest.mark.parametrize("cfg", CONFIGS[:4], ids=lambda c: "-".join(c))
def test_random_beat(cfg, lanes):
    fa, fb, fc, out = cfg
    rng = rng_for("beat", *cfg, lanes)
    for rounding in (MODES if FULL else ["rne", "rdn"]):
        a, b, c = random_rows(rng, fa, fb, fc, N, 8)
        compare(a, b, c, fa, fb, fc, out=out, mode="beat", lanes=lanes, rounding=rounding)


@pytest.mark.parametrize("tininess", ["after", "before"])
@pytest.mark.parametrize("rounding", MODES)
def test_random_near_underflow(rounding, tininess):
    """E5M2 products of 2**-22 .. 2**-11 (bits down to 2**-26) with fp16 addends near 2**-14: subnormal
    results, UF by either tininess rule, the band where they differ."""
    rng = rng_for("underflow", rounding, tininess)
    n = 4 * N

    def e5(shape):
        return ((rng.integers(0, 2, shape) << 7) | (rng.integers(3, 10, shape) << 2) | rng.integers(0, 4, shape))

    a, b = e5((n, 4)).astype(np.uint8), e5((n, 4)).astype(np.uint8)
    c = (rng.integers(0, 3 << 10, n) | (rng.integers(0, 2, n) << 15)).astype(np.uint16)
    for mode in ("exact", "beat"):
        compare(a, b, c, E5, E5, "fp16", out="fp16", rounding=rounding, tininess=tininess, mode=mode, lanes=2)
    _, fl = golden.dot(a, b, c, a_fmt=E5, b_fmt=E5, c_fmt="fp16", out_fmt="fp16", rounding=rounding)
    assert (fl & golden.UF).any()


WINDOWS = [dict(window=14, lanes=4), dict(window=6, lanes=2, acc="bf16", acc_rounding="rne"),
           dict(window=25, lanes=8, promote_every=8), dict(window=3, lanes=1, acc="fp16", acc_rounding="rdn")]


@pytest.mark.parametrize("w", WINDOWS, ids=lambda w: "-".join(f"{k}{v}" for k, v in w.items()))
@pytest.mark.parametrize("cfg", CONFIGS[:3], ids=lambda c: "-".join(c))
def test_random_window(cfg, w):
    fa, fb, fc, out = cfg
    rng = rng_for("window", *cfg, *w)
    kw = {"acc": "fp32", "acc_rounding": "rtz", **w}
    for rounding in ["rne", "rup"]:
        a, b, c = random_rows(rng, fa, fb, fc, N, 16)
        compare(a, b, c, fa, fb, fc, out=out, mode="window", rounding=rounding, **kw)


@pytest.mark.parametrize("preset", list(golden.arith.PRESETS))
def test_presets_against_their_documented_settings(preset):
    s = golden.arith.PRESETS[preset]
    rng = rng_for("preset", preset)
    k = 256
    a, b, c = random_rows(rng, E4, E4, "fp32", 6, k)
    kw = dict(window=s["window"], acc=golden.lookup(s["acc_fmt"]).name, acc_rounding=s["acc_rounding"],
              promote_every=s["promote_every"])
    got = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, mode="window", lanes=32, preset=preset)
    want = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, mode="window", lanes=32, window=kw["window"], acc_fmt=kw["acc"],
                      acc_rounding=kw["acc_rounding"], promote_every=kw["promote_every"])
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    compare(a, b, c, E4, E4, "fp32", mode="window", lanes=32, **kw)


def test_window_truncation_is_toward_zero_for_either_sign():
    """Window 4: 1 + 2**-4 and -(1 + 2**-4) keep 1 and -1 (magnitudes truncated, not the two's complement)."""
    a = np.array([[0x38, 0x18], [0xB8, 0x98]], dtype=np.uint8)  # +-1, +-2**-4
    b = np.array([[0x38, 0x38], [0x38, 0x38]], dtype=np.uint8)
    got, fl = golden.dot(a, b, a_fmt=E4, b_fmt=E4, mode="window", window=4, lanes=2)
    assert [int(g) for g in got] == [0x3F800000, 0xBF800000] and list(fl) == [golden.NX, golden.NX]


def test_stochastic_with_zero_random_is_rtz():
    rng = rng_for("stochastic")
    a, b, c = random_rows(rng, E4, E4, "fp32", 200, 8)
    rtz = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, out_fmt="bf16", rounding="rtz")
    sr = golden.dot(a, b, c, a_fmt=E4, b_fmt=E4, out_fmt="bf16", rounding="stochastic", rand=np.zeros(200, int),
                    rand_bits=8)
    assert np.array_equal(rtz[0], sr[0]) and np.array_equal(rtz[1], sr[1])


# -- options and widths -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,msg", [
    (dict(a_fmt="fp32"), "a_fmt must be a float"), (dict(a_fmt="posit8"), "a_fmt must be a float"),
    (dict(out_fmt="fp8_e4m3"), "out_fmt must be an IEEE-style float"), (dict(c_fmt="nope"), "unknown format"),
    (dict(mode="fast"), "mode must be one of exact, beat, window"), (dict(mode="beat", lanes=3), "multiple of lanes"),
    (dict(mode="window"), "needs window="), (dict(mode="window", window=1), "window must be an integer in 2..128"),
    (dict(window=8), "belong to mode='window'"), (dict(rounding="stochastic", mode="beat"), "mode='exact' only"),
    (dict(mode="window", preset="h100"), "preset must be one of"), (dict(tininess="later"), "tininess must be"),
    (dict(mode="window", window=8, lanes=2, promote_every=3), "promote_every"),
    (dict(c=np.zeros(3, np.uint32)), r"c must broadcast to shape \(2,\)"),
])
def test_bad_options_name_the_parameter(kw, msg):
    if kw.get("c") is not None:
        kw = dict(kw)
        c = kw.pop("c")
        with pytest.raises(ValueError, match=msg):
            golden.dot(np.zeros((2, 4), np.uint8), np.zeros((2, 4), np.uint8), c, a_fmt=E4, b_fmt=E4, **kw)
        return
    args = {"a_fmt": E4, "b_fmt": E4, **kw}
    with pytest.raises(ValueError, match=msg):
        golden.dot(np.zeros((1, 4), np.uint8), np.zeros((1, 4), np.uint8), **args)


@pytest.mark.parametrize("fa,fb,fc", [(E4, E4, None), (E4, E4, "fp32"), (E5, E5, "fp16"), ("int8", "int8", None),
                                      ("fp4_e2m1", "fp4_e2m1", "bf16"), ("p3109_k8p1", "fp8_e4m3fnuz", None),
                                      ("mxint8", E5, "fp16"), ("bf16", "bf16", None)])
@pytest.mark.parametrize("terms", [1, 32, 1000])
def test_exact_acc_bits_from_the_value_tables(fa, fb, fc, terms):
    """The width from the reference's value tables: the finest product bit and the largest possible sum."""
    from fractions import Fraction

    def facts(name):
        if name in ref.FLOATS and ref.width(name) > 8:
            e, f, bias, _ = ref.FLOATS[name]
            return Fraction(2) ** (1 - bias - f), ref.out_params(name)[3]
        vals = [v.mag for v in ref.table(name) if v.kind == "num" and v.mag]
        lsb = min(Fraction(1, v.denominator) if v.denominator > 1 else Fraction(2) ** (
            (v.numerator & -v.numerator).bit_length() - 1) for v in vals)
        return lsb, max(vals)

    (la, ma), (lb, mb) = facts(fa), facts(fb)
    lsb, top = la * lb, terms * ma * mb
    if fc:
        lc, mc = facts(fc)
        lsb, top = min(lsb, lc), top + mc
    q = top / lsb
    want = (q.numerator + q.denominator - 1) // q.denominator
    assert golden.arith.exact_acc_bits(fa, fb, fc, terms) == want.bit_length() + 1


def test_docs_examples_and_width_table():
    """docs/dot.md's example runs as written, and its width table is what exact_acc_bits says."""
    import re
    from pathlib import Path
    page = (Path(__file__).resolve().parents[3] / "docs" / "dot.md").read_text()
    exec(compile(re.findall(r"```python\n(.*?)```", page, re.S)[0], "docs/dot.md example", "exec"), {})
    rows = re.findall(r"^\| (\S+) x (\S+) \| (\w+) \| (\d+) / (\d+) / (\d+) / (\d+) \|$", page, re.M)
    assert len(rows) >= 9
    for fa, fb, fc, *widths in rows:
        got = [golden.arith.exact_acc_bits(fa, fb, None if fc == "none" else fc, t) for t in (1, 2, 32, 1024)]
        assert got == [int(w) for w in widths], (fa, fb, fc)
