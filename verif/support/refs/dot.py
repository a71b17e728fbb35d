"""An independent reference for golden.arith's dot products: formats decoded from their published parameters
(not from golden's decode), products and sums as Fractions, a rounder written from IEEE 754's definition, and
each accumulation mode re-stated from docs/dot.md.

Values are :class:`V`: ``kind`` "num" (``mag`` a Fraction >= 0, ``neg`` the sign, zeros included), "inf" or
"nan" (``snan``: a signaling NaN).
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16

# name: (exp_bits, frac_bits, bias, policy). Policies: ieee (inf at all-ones exponent, NaN with a nonzero
# fraction, quiet bit = top fraction bit), fn (OCP E4M3: only S.1111.111 is NaN, no inf), fnuz (0x80 the only
# NaN, no -0, no inf), none (every pattern a number), p3109 (0x80 NaN, 0x7F/0xFF +-inf, no -0).
FLOATS = {
    "fp32": (8, 23, 127, "ieee"), "fp16": (5, 10, 15, "ieee"), "bf16": (8, 7, 127, "ieee"),
    "fp8_e4m3": (4, 3, 7, "fn"), "fp8_e5m2": (5, 2, 15, "ieee"),
    "fp8_e4m3fnuz": (4, 3, 8, "fnuz"), "fp8_e5m2fnuz": (5, 2, 16, "fnuz"),
    "float8_e4m3b11fnuz": (4, 3, 11, "fnuz"),
    "float8_e3m4": (3, 4, 3, "ieee"), "float8_e4m3": (4, 3, 7, "ieee"),
    "cfloat8_1_4_3": (4, 3, 7, "none"), "cfloat8_1_5_2": (5, 2, 15, "none"),
    "p3109_k8p1": (7, 0, 64, "p3109"), "p3109_k8p3": (5, 2, 16, "p3109"), "p3109_k8p4": (4, 3, 8, "p3109"),
    "fp6_e2m3": (2, 3, 1, "none"), "fp6_e3m2": (3, 2, 3, "none"), "fp4_e2m1": (2, 1, 1, "none"),
}
# name: (bits, signed, frac_bits): value = two's complement integer * 2**-frac_bits
INTS = {"int8": (8, True, 0), "uint8": (8, False, 0), "int4": (4, True, 0), "mxint8": (8, True, 6)}


@dataclass(frozen=True)
class V:
    kind: str
    neg: bool = False
    mag: Fraction = Fraction(0)
    snan: bool = False

    def value(self):
        return -self.mag if self.neg else self.mag


NAN = V("nan")


def width(name):
    if name in INTS:
        return INTS[name][0]
    e, f, _, _ = FLOATS[name]
    return 1 + e + f


def decode(name, bits):
    """The value of one pattern of format ``name``, from the published field layout."""
    bits = int(bits)
    if name in INTS:
        n, signed, fb = INTS[name]
        q = bits - (1 << n) if signed and bits >> (n - 1) else bits
        return V("num", q < 0, Fraction(abs(q), 1 << fb))
    e, f, bias, pol = FLOATS[name]
    w = 1 + e + f
    neg = bool(bits >> (w - 1))
    ef = (bits >> f) & ((1 << e) - 1)
    ff = bits & ((1 << f) - 1)
    top_e, top_f = (1 << e) - 1, (1 << f) - 1
    if pol == "ieee" and ef == top_e:
        return V("inf", neg) if ff == 0 else V("nan", snan=not (ff >> (f - 1)) & 1)
    if pol == "fn" and ef == top_e and ff == top_f:
        return NAN
    if pol in ("fnuz", "p3109") and bits == 1 << (w - 1):
        return NAN
    if pol == "p3109" and (bits & ((1 << (w - 1)) - 1)) == (1 << (w - 1)) - 1:
        return V("inf", neg)
    if ef == 0:
        mag = Fraction(ff, 1 << f) * Fraction(2) ** (1 - bias)
    else:
        mag = Fraction((1 << f) + ff, 1 << f) * Fraction(2) ** (ef - bias)
    return V("num", neg, mag)


def table(name):
    """Every pattern's value, in order."""
    return [decode(name, b) for b in range(1 << width(name))]


def float64_table(name):
    """Every pattern's value as float64 (exact for these formats), NaN as NaN, -0 as -0.0; and the sNaN mask."""
    vals, snan = [], []
    for v in table(name):
        vals.append(math.nan if v.kind == "nan" else (-math.inf if v.neg else math.inf) if v.kind == "inf"
                    else -float(v.mag) if v.neg else float(v.mag))
        snan.append(v.snan)
    return np.array(vals), np.array(snan)


# -- the rounder, from IEEE 754's definition ------------------------------------------------------------------
def _floor_log2(x):
    """floor(log2 x) of a Fraction x > 0."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    return e if Fraction(2) ** e <= x else e - 1


def _round_mag(mag, neg, q, mode):
    """``mag`` (Fraction >= 0) rounded to a multiple of 2**q by ``mode``."""
    s = mag / Fraction(2) ** q
    n = s.numerator // s.denominator
    r = s - n
    if r == 0:
        return n * Fraction(2) ** q
    up = {"rne": r > Fraction(1, 2) or (r == Fraction(1, 2) and n % 2 == 1), "rtz": False, "rup": not neg,
          "rdn": neg, "rmm": r >= Fraction(1, 2)}[mode]
    return (n + up) * Fraction(2) ** q


def out_params(name):
    e, f, bias, _ = FLOATS[name]
    emin, emax = 1 - bias, (1 << e) - 2 - bias
    return f + 1, emin, emax, (2 - Fraction(2) ** -f) * Fraction(2) ** emax


def round_value(x, neg, name, mode, saturate=False, tininess="after"):
    """Round the exact value ``(-1)**neg * x`` (x a Fraction >= 0) into IEEE-style ``name``: (V, flags)."""
    p, emin, emax, top = out_params(name)
    if x == 0:
        return V("num", neg, Fraction(0)), 0
    e = _floor_log2(x)
    r = _round_mag(x, neg, max(e, emin) - (p - 1), mode)
    r_unb = _round_mag(x, neg, e - (p - 1), mode)  # the exponent range unbounded
    if r_unb > top:
        to_max = saturate or mode == "rtz" or (mode == "rup" and neg) or (mode == "rdn" and not neg)
        return (V("num", neg, top) if to_max else V("inf", neg)), OF | NX
    flags = NX if r != x else 0
    tiny = (r_unb < Fraction(2) ** emin) if tininess == "after" else (x < Fraction(2) ** emin)
    if tiny and flags:
        flags |= UF
    return V("num", neg, r), flags


def encode(name, v):
    """The pattern of ``v`` in IEEE-style ``name`` (NaN: the canonical quiet NaN, sign 0)."""
    e, f, bias, _ = FLOATS[name]
    s = int(v.neg) << (e + f)
    if v.kind == "nan":
        return (((1 << e) - 1) << f) | (1 << (f - 1))
    if v.kind == "inf":
        return s | (((1 << e) - 1) << f)
    if v.mag == 0:
        return s
    ex = _floor_log2(v.mag)
    if ex < 1 - bias:
        m = v.mag / Fraction(2) ** (1 - bias - f)
        assert m.denominator == 1
        return s | int(m)
    m = v.mag / Fraction(2) ** (ex - f)
    assert m.denominator == 1
    return s | ((ex + bias) << f) | (int(m) - (1 << f))


# -- sums and the modes ---------------------------------------------------------------------------------------
def mul(x, y):
    """Exact product and whether it was invalid (inf x 0)."""
    if x.kind == "nan" or y.kind == "nan":
        return NAN, False
    zero_x = x.kind == "num" and x.mag == 0
    zero_y = y.kind == "num" and y.mag == 0
    if (x.kind == "inf" and zero_y) or (y.kind == "inf" and zero_x):
        return NAN, True
    if x.kind == "inf" or y.kind == "inf":
        return V("inf", x.neg != y.neg), False
    return V("num", x.neg != y.neg, x.mag * y.mag), False


def add_all(terms, mode):
    """Exact sum of V terms: (V, nv). The zero sign: all -0 -> -0; all +0 -> +0; else +0 (-0 under rdn)."""
    if any(t.kind == "nan" for t in terms):
        return NAN, False
    infs = {t.neg for t in terms if t.kind == "inf"}
    if len(infs) == 2:
        return NAN, True
    if infs:
        return V("inf", infs.pop()), False
    s = sum((t.value() for t in terms), Fraction(0))
    if s != 0:
        return V("num", s < 0, abs(s)), False
    if all(t.mag == 0 for t in terms) and len({t.neg for t in terms}) == 1:
        return V("num", terms[0].neg), False
    return V("num", mode == "rdn"), False


def round_v(v, name, mode, saturate=False, tininess="after"):
    if v.kind != "num":
        return v, 0
    return round_value(v.mag, v.neg, name, mode, saturate, tininess)


def ref_dot(a, b, c, *, out="fp32", mode="exact", lanes=1, rounding="rne", saturate=False, tininess="after",
            window=None, acc="fp32", acc_rounding="rtz", promote_every=None):
    """One dot product of V lists ``a``, ``b`` and V ``c`` per docs/dot.md: (result pattern, flags)."""
    nv = any(x.snan for x in a + b + [c])
    prods = []
    for x, y in zip(a, b):
        p, bad = mul(x, y)
        prods.append(p)
        nv |= bad
    flags = 0

    def step(terms, fmt, rnd):
        nonlocal nv, flags
        s, bad = add_all(terms, rnd)
        nv |= bad
        r, f = round_v(s, fmt, rnd, saturate, tininess)
        flags |= f
        return r

    if mode == "exact":
        res = step([c] + prods, out, rounding)
    elif mode == "beat":
        res = c
        for j in range(0, len(prods), lanes):
            res = step([res] + prods[j:j + lanes], out, rounding)
    else:
        group = promote_every or len(prods)
        main = c
        for g in range(0, len(prods), group):
            w = c if promote_every is None else V("num")
            for j in range(g, g + group, lanes):
                terms = [w] + prods[j:j + lanes]
                terms, lost = truncate(terms, window)
                w = step(terms, acc, acc_rounding)
                if lost and w.kind == "num":
                    flags |= NX
            main = w if promote_every is None else step([main, w], "fp32", "rne")
        res = step([main], out, rounding)
    return encode(out, res), flags | (NV if nv else 0)


def truncate(terms, window):
    """Window rule: magnitudes truncated toward zero to multiples of 2**(E - window + 1), E = the largest
    floor(log2 |t|) among nonzero finite terms."""
    nz = [t for t in terms if t.kind == "num" and t.mag != 0]
    if not nz:
        return terms, False
    E = max(_floor_log2(t.mag) for t in nz)
    ulp = Fraction(2) ** (E - window + 1)
    out, lost = [], False
    for t in terms:
        if t.kind == "num" and t.mag != 0:
            m = (t.mag / ulp).__floor__() * ulp
            lost |= m != t.mag
            t = V("num", t.neg, m)
        out.append(t)
    return out, lost


# -- a vectorised rounder for the exhaustive product tables (float64 values that are exact) --------------------
def round_f64(x, name, mode, saturate=False, tininess="after"):
    """IEEE rounding of exact float64 values ``x`` (finite, zeros allowed) into ``name``: (float64 results,
    flags). The same definition as :func:`round_value`, on float64 (exact: scaling by powers of two, integer
    parts and remainders of values below 2**54); checked against it in the tests."""
    p, emin, emax, top = out_params(name)
    top = float(top)
    ax = np.abs(x)
    neg = np.signbit(x)
    nz = ax != 0
    e = np.frexp(np.where(nz, ax, 1.0))[1] - 1

    def rnd(q):
        s = np.ldexp(ax, -q)
        n = np.floor(s)
        r = s - n
        odd = np.fmod(n, 2) == 1
        up = {"rne": (r > 0.5) | ((r == 0.5) & odd), "rtz": np.zeros_like(nz), "rup": (r > 0) & ~neg,
              "rdn": (r > 0) & neg, "rmm": r >= 0.5}[mode]
        return np.ldexp(n + up, q)

    r = rnd(np.maximum(e, emin) - (p - 1))
    r_unb = rnd(e - (p - 1))
    over = nz & (r_unb > top)
    to_max = saturate or mode == "rtz"
    to_max = to_max | ((mode == "rup") & neg) | ((mode == "rdn") & ~neg)
    r = np.where(over, np.where(to_max, top, np.inf), r)
    flags = np.where(over, OF | NX, np.where(r != ax, NX, 0))
    tiny = (r_unb < 2.0 ** emin) if tininess == "after" else (ax < 2.0 ** emin)
    flags |= np.where(nz & ~over & tiny & (r != ax), UF, 0)
    return np.where(neg, -r, r), flags


def out_values(name, bits):
    """float64 values of IEEE-style ``name`` patterns, decoded from the field layout (vectorised)."""
    e, f, bias, _ = FLOATS[name]
    b = np.asarray(bits).astype(np.int64)
    neg = (b >> (e + f)) & 1
    ef = (b >> f) & ((1 << e) - 1)
    ff = b & ((1 << f) - 1)
    mag = np.where(ef == 0, np.ldexp(ff.astype(float), 1 - bias - f),
                   np.ldexp((ff + (1 << f)).astype(float), ef - bias - f))
    mag = np.where(ef == (1 << e) - 1, np.where(ff == 0, np.inf, np.nan), mag)
    return np.where(neg == 1, -mag, mag)


def f64_to_bits(name, vals):
    """Patterns of float64 values exactly representable in ``name`` (fp32, fp16, bf16), by numpy's own IEEE
    casts (exact here); NaN gives the canonical quiet NaN."""
    vals = np.asarray(vals, dtype=np.float64)
    if name == "fp16":
        out = vals.astype(np.float16).view(np.uint16).astype(np.int64)
    else:
        out = vals.astype(np.float32).view(np.uint32).astype(np.int64)
        if name == "bf16":
            assert not np.any(out & 0xFFFF & ~np.isnan(vals)), "not a bf16 value"
            out >>= 16
    return np.where(np.isnan(vals), encode(name, NAN), out)
