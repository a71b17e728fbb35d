"""Exact fast paths for conversions, built from (and tested bit for bit against) the exact models.

``convert_flags`` (golden.formats.convert) takes one of these when it can; every result, bits and flags,
equals ``dst.encode_raw(src.decode_raw(bits), rounding, saturate)`` -- the exact path -- for every input.
Deterministic modes only (``rne rtz rdn rup rmm``); stochastic rounding stays on the exact path.

Three plans, chosen per (source, destination, mode, saturate) and cached:

``source-table``
    Sources of at most ``SOURCE_TABLE_MAX_BITS`` bits (bf16, fp16, tf32, fp8, posit16, ...): the exact result of
    every source pattern, computed once; a conversion is one table lookup. Any destination.

``key-table``
    An IEEE source float of at most 32 bits (fp32, fp24, pxr24) into a destination whose rounding boundaries
    have at most ``K`` significant bits after the leading one (``K`` = fraction bits + 1 for a float, the most
    fraction bits + 1 for a posit, the width for an integer, 1 for E8M0). A pattern is cut to a *key*: its sign,
    exponent and top ``K`` fraction bits, plus one sticky bit saying whether anything below them is set. The
    table holds, per key, the exact result of one representative (the key's patterns with the sticky bit as
    the bit just below the kept ones). Every pattern of a key has that result: all of them lie at or strictly
    inside one interval between consecutive multiples of the key's unit, and no rounding boundary of the
    destination (a representable value, a midpoint, a range limit: at most ``K`` bits after the leading one)
    lies strictly inside such an interval -- in the source's normal range. Below it the key's unit is fixed
    while destination boundaries may get finer: the plan checks that the destination has none finer than the
    key's unit there, or else sends source subnormals to the exact path. NaN payloads keep their top ``K``
    bits, which is all such a destination keeps (and the quiet bit is the top one). Used for destinations
    of at most 16 bits whose table has at most ``2**KEY_TABLE_MAX_BITS`` entries (fp8, fp6, fp4, cfloat8,
    bf16, posit8, int8, uint8, int4, uint4, e8m0).

``binade``
    An IEEE source float of at most 32 bits into any minifloat with subnormals (no explicit integer bit),
    posit or integer. Within one source binade (source exponent field ``E``, so the value is ``1.f * 2**e``),
    the destination's encoding, read as an unsigned integer, is a fixed prefix ``A`` -- the destination
    exponent field; a posit's regime and exponent bits; only the hidden bit for integers and destination
    subnormals -- followed by the source fraction, cut at a position ``s`` constant over the binade:
    ``encoding = round((A << F | f) / 2**s)``, F the source fraction width. The encodings are monotonic in the
    value, so a carry out of the fraction runs into the exponent or regime exactly as rounding the value does.
    Per row (sign and ``E``) a table holds the prefix split at the cut (``Apre`` above it, the rest ``T0``
    below it, beside the fraction), the cut ``S`` (cuts far below the fraction are clamped to one where the
    round bit is 0 and the sticky bit the same; a cut above the fraction end shifts the fraction left), and the
    rounding bias for the mode, so each element costs a handful of integer operations:
    ``low = T0 | f; mag = Apre + ((low + bias) >> S)`` with ``bias = 2**(S-1) - 1 + lsb`` (rne), ``2**(S-1)``
    (rmm), ``2**S - 1`` or 0 by sign (rup, rdn), 0 (rtz); inexact is ``low & (2**S - 1) != 0``. Rows beyond the
    destination's range hold prefixes that overflow (floats), saturate (integers) or clamp (posits: maxpos,
    minpos), and the per-destination tail applies overflow, underflow (after rounding, as the exact path
    does), the sign and the flags. Source zeros, subnormals (normalised with a leading-zero count onto rows of
    their own), infinities and NaNs are rare and go a separate way: zeros and infinities take the exact
    path's result for their sign, computed once; NaNs the exact path's flags for their sign and quiet bit and
    a payload formula that the plan checks against the exact path when it is built (NaNs fall back to the
    exact path if it disagrees).

The x87 destination (80 bits: Python-int patterns) goes through the binade plan into fp64 -- exact for any
source of at most 32 bits -- and is repacked; building the Python ints is what limits its speed.

Work goes in chunks of ``CHUNK`` elements, so temporaries stay in cache; arithmetic is uint32 wherever every
intermediate of the plan fits 32 bits, else uint64. Flags use the named constants of golden.rounding.
"""

import numpy as np

from .integer import Integer
from .minifloat import FP64, Minifloat
from .posit import Posit
from .rounding import NV, NX, OF, UF
from .scale import PowerOfTwo

__all__ = ["CHUNK", "DETERMINISTIC", "convert_flags_fast", "key_bits", "plan", "plan_for", "plan_kind"]

DETERMINISTIC = ("rne", "rtz", "rdn", "rup", "rmm")
CHUNK = 1 << 16
SOURCE_TABLE_MAX_BITS = 20
KEY_TABLE_MAX_BITS = 18

_U8, _U32, _U64 = np.uint8, np.uint32, np.uint64
_PLANS = {}
_MAX_PLANS = 256


# -- which plan ---------------------------------------------------------------------------------------------
def _ieee_source(src):
    """An IEEE-style float source the key-table and binade plans read directly (at most 32 bits)."""
    return (isinstance(src, Minifloat) and src.specials == "ieee" and src.subnormals
            and not src.explicit_integer and src.width <= 32 and 1 <= src.frac_bits <= 31)


def key_bits(dst):
    """Fraction bits after the leading one that every rounding boundary of ``dst`` fits in (None: unknown)."""
    if isinstance(dst, Minifloat):
        return None if dst.explicit_integer else dst.frac_bits + 1
    if isinstance(dst, Posit):
        return max(dst.n - 3 - dst.es, 0) + 1
    if isinstance(dst, Integer):
        return dst.bits
    if isinstance(dst, PowerOfTwo):
        return 1
    return None


def _binade_dst(dst):
    return (isinstance(dst, Minifloat) and dst.subnormals and not dst.explicit_integer) \
        or isinstance(dst, (Posit, Integer))


def _wide_dst(src, dst):
    """An explicit-integer destination (x87 layout) holding every source value as a normal number."""
    return (isinstance(dst, Minifloat) and dst.explicit_integer and dst.man_bits == 64 and dst.exp_bits == 15
            and dst.specials == "ieee" and dst.subnormals and dst.frac_bits >= 52
            and dst.emin <= src.emin - src.frac_bits and dst.emax >= src.emax
            and FP64.emin <= src.emin - src.frac_bits and FP64.emax >= src.emax)


def plan_kind(src, dst, rounding="rne", saturate=False):
    """The plan :func:`plan` would use (``source-table``, ``key-table``, ``binade``, ``wide``), or None."""
    if rounding not in DETERMINISTIC or not isinstance(saturate, (bool, np.bool_)):
        return None
    if src.dtype != object and src.width <= SOURCE_TABLE_MAX_BITS:
        return "source-table"
    if not _ieee_source(src):
        return None
    K = key_bits(dst)
    if (K is not None and dst.dtype != object and dst.width <= 16 and K < src.frac_bits
            and src.width - (src.frac_bits - K) + 1 <= KEY_TABLE_MAX_BITS):
        return "key-table"
    if _binade_dst(dst):
        return "binade"
    if _wide_dst(src, dst):
        return "wide"
    return None


_BUILD = {}  # filled below: kind -> plan class


def plan(src, dst, rounding="rne", saturate=False, kind=None):
    """The cached fast conversion ``bits -> (bits, flags)`` for these formats (formats as objects), or None.

    ``kind`` forces one plan (tests use it to check every plan that applies, not only the chosen one)."""
    saturate = bool(saturate) if isinstance(saturate, (bool, np.bool_)) else saturate
    chosen = plan_kind(src, dst, rounding, saturate)
    if chosen is None:
        return None
    kind = kind or chosen
    key = (src, dst, rounding, saturate, kind)
    p = _PLANS.get(key)
    if p is None:
        if kind != chosen and not _applies(kind, src, dst):
            raise ValueError(f"plan {kind!r} does not apply to {src} -> {dst}")
        try:
            p = _BUILD[kind](src, dst, rounding, saturate)
        except ValueError:  # the exact path refuses these arguments (a codebook in another mode): let it say so
            return None
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = p
    return p


_USAGE = {}  # values converted on the exact path per plan not built yet


def _build_cost(kind, src, dst):
    """Roughly how many values the exact path converts in the time a plan takes to build."""
    if kind == "source-table":
        return 1 << src.width
    if kind == "key-table":
        return 1 << (src.width - (src.frac_bits - key_bits(dst)) + 1)
    return 1 << 12  # binade, wide: probes and a NaN check


def plan_for(src, dst, rounding, saturate, size):
    """The plan for a call converting ``size`` values, or None to stay on the exact path: a plan is built once
    the values these arguments have converted reach its build cost (so one-off small calls never pay for it)."""
    kind = plan_kind(src, dst, rounding, saturate)
    if kind is None:
        return None
    sat = bool(saturate)
    p = _PLANS.get((src, dst, rounding, sat, kind))
    if p is not None:
        return p
    key = (src, dst, rounding, sat)
    used = _USAGE.get(key, 0) + size
    if used < _build_cost(kind, src, dst):
        if len(_USAGE) >= 4096:
            _USAGE.clear()
        _USAGE[key] = used
        return None
    _USAGE.pop(key, None)
    return plan(src, dst, rounding, saturate)


def _applies(kind, src, dst):
    if kind == "source-table":
        return src.dtype != object and src.width <= SOURCE_TABLE_MAX_BITS
    if not _ieee_source(src):
        return False
    if kind == "key-table":
        K = key_bits(dst)
        return K is not None and dst.dtype != object and dst.width <= 16 and K < src.frac_bits \
            and src.width - (src.frac_bits - K) + 1 <= 24
    if kind == "binade":
        return _binade_dst(dst)
    return kind == "wide" and _wide_dst(src, dst)


def convert_flags_fast(bits, src, dst, rounding="rne", saturate=False, kind=None):
    """Like ``convert_flags`` but always on a fast plan (ValueError when none applies)."""
    from .catalog import lookup
    src, dst = lookup(src), lookup(dst)
    p = plan(src, dst, rounding, saturate, kind)
    if p is None:
        raise ValueError(f"no fast conversion for {src} -> {dst}, rounding={rounding!r}, saturate={saturate!r}")
    return p(bits)


# -- plans -------------------------------------------------------------------------------------------------
class _Plan:
    kind = ""

    def __init__(self, src, dst, rounding, saturate):
        self.src, self.dst, self.rounding, self.saturate = src, dst, rounding, saturate

    def __repr__(self):
        return f"<{self.kind} plan {self.src} -> {self.dst} {self.rounding} saturate={self.saturate}>"

    def exact(self, bits):
        """The exact path: the reference every plan is built from and tested against."""
        return self.dst.encode_raw(self.src.decode_raw(bits), self.rounding, self.saturate)

    def __call__(self, bits):
        x = self.src.as_bits(bits)
        shape = x.shape
        x = np.ascontiguousarray(x).reshape(-1)
        n = x.size
        out = np.empty(n, self.dst.dtype)
        flags = np.empty(n, _U8)
        for a in range(0, n, CHUNK):
            b = min(a + CHUNK, n)
            self._chunk(x[a:b], out[a:b], flags[a:b])
        return out.reshape(shape), flags.reshape(shape)

    def _chunk(self, x, out, flags):
        raise NotImplementedError


class _TableMixin:
    """Results and flags of a table, packed into one uint32 (bits | flags << 16) for narrow destinations."""

    def _set_table(self, ob, of):
        if self.dst.dtype != object and self.dst.width <= 16:
            self.packed = ob.astype(_U32) | (of.astype(_U32) << _U32(16))
        else:
            self.packed = None
            self.tbits, self.tflags = ob, of.astype(_U8)

    def _lookup(self, idx, out, flags):
        if self.packed is not None:
            v = self.packed.take(idx)
            np.copyto(out, v, casting="unsafe")  # the low bits: the pattern (uint8 / uint16 keep them)
            v >>= _U32(16)
            np.copyto(flags, v, casting="unsafe")
        else:
            out[...] = self.tbits.take(idx)
            flags[...] = self.tflags.take(idx)


class _SourceTable(_TableMixin, _Plan):
    """Every source pattern's exact result."""

    kind = "source-table"

    def __init__(self, src, dst, rounding, saturate):
        super().__init__(src, dst, rounding, saturate)
        self._set_table(*self.exact(src.all_bits()))

    def _chunk(self, x, out, flags):
        self._lookup(x.astype(np.intp), out, flags)


def _key_subnormals_ok(src, dst, K):
    """Whether the key table is exact for source subnormals too: there the key's unit is 2**(emin - K), and
    every boundary of ``dst`` below 2**emin must be a multiple of it (or there must be none)."""
    unit = src.emin - K
    if isinstance(dst, Minifloat):
        return dst.emin - dst.frac_bits - 1 >= unit  # the finest boundaries: half the subnormal step
    if isinstance(dst, Posit):
        return -dst.max_scale >= src.emin  # below minpos everything gives minpos
    if isinstance(dst, Integer):
        return True  # the smallest boundary is 1/2
    if isinstance(dst, PowerOfTwo):
        return -dst.bias - 1 >= src.emin  # lowest boundary 1.5 * 2**(-bias-1); all below give the same
    return False


class _KeyTable(_TableMixin, _Plan):
    """Sign, exponent and top K fraction bits, plus a sticky bit, index the results (see the module doc)."""

    kind = "key-table"

    def __init__(self, src, dst, rounding, saturate):
        super().__init__(src, dst, rounding, saturate)
        K = key_bits(dst)
        F = src.frac_bits
        self.s = s = F - K
        nkeys = 1 << (src.width - s + 1)
        keys = np.arange(nkeys, dtype=_U64)
        rep = ((keys >> _U64(1)) << _U64(s)) | ((keys & _U64(1)) << _U64(s - 1))
        self._set_table(*self.exact(rep.astype(src.dtype)))
        self.low = _U32((1 << s) - 1)
        self.sub_exact = not _key_subnormals_ok(src, dst, K)
        self.abs_mask = _U32((1 << (src.width - 1)) - 1)
        self.frac_mask = _U32((1 << F) - 1)

    def _chunk(self, x, out, flags):
        x = x.astype(_U32, copy=False)
        idx = x >> _U32(self.s)
        idx <<= _U32(1)
        idx |= (x & self.low) != 0
        self._lookup(idx.astype(np.intp), out, flags)
        if self.sub_exact:  # source subnormals: 1 <= |x| <= frac mask, via the exact path
            a = x & self.abs_mask
            a -= _U32(1)
            sp = np.flatnonzero(a < self.frac_mask)
            if sp.size:
                ob, of = self.exact(x[sp])
                out[sp] = ob
                flags[sp] = of


class _Rows:
    """Per-row parameters of the binade plan, as arrays of the plan's dtype."""

    def __init__(self, rows, dt, rounding):
        col = lambda k: np.array([r[k] for r in rows], dtype=object)
        self.Apre = col("Apre").astype(dt)
        self.T0 = col("T0").astype(dt)
        self.has_T0 = bool(self.T0.any())
        self.S = col("S").astype(dt)
        self.L1 = col("L1").astype(dt)
        self.shift = bool(self.L1.any())
        M = [(1 << r["S"]) - 1 for r in rows]
        self.M = np.array(M, dtype=object).astype(dt)
        if rounding == "rne":
            self.B = np.array([m >> 1 for m in M], dtype=object).astype(dt)
        elif rounding == "rmm":
            self.B = np.array([(m >> 1) + 1 for m in M], dtype=object).astype(dt)
        elif rounding == "rup":
            self.B = np.array([0 if r["sign"] else m for r, m in zip(rows, M)], dtype=object).astype(dt)
        elif rounding == "rdn":
            self.B = np.array([m if r["sign"] else 0 for r, m in zip(rows, M)], dtype=object).astype(dt)
        else:
            self.B = None
        for k in ("SB", "CL", "NM", "LIM"):
            if k in rows[0]:
                setattr(self, k, col(k).astype(dt))


class _Specials:
    """Zeros, infinities and NaNs of an IEEE source: the exact path's results for each sign (zeros,
    infinities) computed once, and for NaNs its flags by sign and quiet bit with the payload formula
    ``base(sign) | payload`` (an IEEE destination keeps the top fraction bits, or all of them shifted up). The
    formula is checked against the exact path here on every NaN with at most 2 payload bits set and random
    ones; should it disagree (``nan_exact``), NaNs take the exact path."""

    def __init__(self, plan):
        self.exact, src, d = plan.exact, plan.src, plan.dst
        self.F, self.sw, self.all_e = F, sw, all_e = src.frac_bits, src.width - 1, (1 << src.exp_bits) - 1
        self.dtype, self.frac_mask = d.dtype, (1 << F) - 1
        top = all_e << F
        neg = 1 << sw
        # probes: +0 -0 +inf -inf, quiet NaNs (+ -), signaling NaNs (+ -)
        pats = [0, neg, top, neg | top, top | (1 << (F - 1)), neg | top | (1 << (F - 1)), top | 1, neg | top | 1]
        pb, pf = self.exact(np.array(pats, dtype=src.dtype))
        self.p_bits, self.p_flags = pb, pf.astype(_U8)
        self.payload_bits = d.frac_bits if isinstance(d, Minifloat) and d.specials == "ieee" else None
        fr = sorted({1 << i for i in range(F)} | {(1 << i) | (1 << j) for i in range(F) for j in range(i)}
                    | {(1 << F) - 1, (1 << (F - 1)) - 1}
                    | set(np.random.default_rng(F).integers(1, 1 << F, 64).tolist()))
        sample = np.array([sg | top | f for sg in (0, neg) for f in fr], dtype=src.dtype)
        (wb, wf), (gb, gf) = self.exact(sample), self._nan(sample)
        self.nan_exact = not (np.array_equal(wb, gb) and np.array_equal(wf, gf))

    def _nan(self, xs):
        xs = xs.astype(_U64)
        F = self.F
        sg = (xs >> _U64(self.sw)).astype(np.intp)
        fr = xs & _U64(self.frac_mask)
        quiet = ((fr >> _U64(F - 1)) & _U64(1)).astype(np.intp)
        base = self.p_bits.take(4 + sg)
        flags = self.p_flags.take(6 + sg - 2 * quiet)
        f = self.payload_bits
        if f is not None:
            pay = fr >> _U64(F - f) if f <= F else fr << _U64(f - F)
            base = base | pay.astype(self.dtype)
        return base, flags

    def __call__(self, xs):
        """Results for patterns with exponent field 0 or all ones (those of subnormals: garbage)."""
        out = np.empty(xs.size, self.dtype)
        flags = np.empty(xs.size, _U8)
        xs = xs.astype(_U32)
        E = (xs >> _U32(self.F)) & _U32(self.all_e)
        fr = xs & _U32(self.frac_mask)
        sg = (xs >> _U32(self.sw)).astype(np.intp)
        for cls, probe in ((E != self.all_e, 0), ((E == self.all_e) & (fr == 0), 2)):
            out[cls] = self.p_bits.take(probe + sg[cls])
            flags[cls] = self.p_flags.take(probe + sg[cls])
        nan = np.flatnonzero((E == self.all_e) & (fr != 0))
        if nan.size:
            ob, of = self.exact(xs[nan]) if self.nan_exact else self._nan(xs[nan])
            out[nan] = ob
            flags[nan] = of
        return out, flags


class _Binade(_Plan):
    """Per source binade: a prefix, the source fraction, one cut (see the module doc)."""

    kind = "binade"

    def __init__(self, src, dst, rounding, saturate):
        super().__init__(src, dst, rounding, saturate)
        F, eb = src.frac_bits, src.exp_bits
        self.F, self.eb = F, eb
        self.all_e = all_e = (1 << eb) - 1
        self.frac_mask = (1 << F) - 1
        self.sw = src.width - 1  # the sign's bit
        self._setup_dst()
        main = [self._row(sg, E - src.bias if 1 <= E < all_e else None) for sg in (0, 1) for E in range(all_e + 1)]
        # Source subnormals, normalised: row sign << 5 | bit length of the fraction.
        sub = [self._row(sg, src.emin - F + bl - 1 if 1 <= bl <= F else None) for sg in (0, 1) for bl in range(32)]
        real = [r for r in main + sub if not r["dummy"]]
        self.dt = dt = _U32 if self._fits(real, 32) else _U64
        if not self._fits(real, 64):
            raise AssertionError(f"binade plan {src} -> {dst} does not fit 64 bits")
        self.main, self.sub = _Rows(main, dt, rounding), _Rows(sub, dt, rounding)
        self.can_tiny = any(r.get("tiny") for r in real)
        if self.family == "float":
            # An overflow gives +-max or the pattern just above max (inf; fn's NaN; fnuz's NaN 0x80, the sign bit):
            # one clamp of the magnitude, then the sign. The clamp is per row only when it depends on the sign.
            for r in main + sub:
                assert r["CL"] | r["SB"] == r["OVF"], (src, dst, r)
            cl = {r["CL"] for r in main + sub}
            self.clamp = dt(cl.pop()) if len(cl) == 1 else None
        self.spec = _Specials(self)

    # -- rows ------------------------------------------------------------------------------------------
    def _fits(self, rows, width):
        lim = 1 << width
        for r in rows:
            M = (1 << r["S"]) - 1
            low = (r["T0"] | self.frac_mask) << r["L1"]
            if low + M >= lim or r["Apre"] + ((low + M) >> r["S"]) >= lim:
                return False
            if any(r.get(k, 0) >= lim for k in ("SB", "OVF", "CL", "NM", "LIM")):
                return False
        return all(c < lim for c in self.consts)

    def _cut_row(self, A, s):
        """Row for ``encoding = round((A << F | f) / 2**s)``."""
        F = self.F
        if s <= 0:  # the whole fraction fits: shift it left (one spare bit keeps S >= 1, the bias <= 1)
            return {"Apre": A << (F - s), "T0": 0, "S": 1, "L1": 1 - s}
        if s <= F:
            return {"Apre": A << (F - s), "T0": 0, "S": s, "L1": 0}
        s = min(s, F + A.bit_length() + 1)  # further cuts: round bit 0, sticky = (A, f) != 0, the same
        return {"Apre": A >> (s - F), "T0": (A & ((1 << (s - F)) - 1)) << F, "S": s, "L1": 0}

    def _force_row(self, Apre, inexact):
        """A row whose result is Apre or Apre + 1 (clamped afterwards); inexact always, or when f != 0."""
        return {"Apre": Apre, "T0": (1 << self.F) if inexact else 0, "S": self.F + 2, "L1": 0}

    def _row(self, sign, e):
        if e is None:
            row = {"Apre": 0, "T0": 0, "S": 1, "L1": 0, "dummy": True}
        else:
            row = self._dst_row(e)
            row["dummy"] = False
        row["sign"] = sign
        row.update(self._sign_consts(sign))
        return row

    # -- destinations ----------------------------------------------------------------------------------
    def _setup_dst(self):
        d = self.dst
        if isinstance(d, Minifloat):
            self.family = "float"
            f = d.frac_bits
            self.maxmag = (d.max_biased << f) | d.max_frac
            self.consts = [self.maxmag, 1 << f]
        elif isinstance(d, Posit):
            self.family = "posit"
            self.maxpos = (1 << (d.n - 1)) - 1
            self.nmask = (1 << d.n) - 1
            self.has_big = self.has_small = False
            self.consts = [self.nmask]
        else:
            self.family = "int"
            self.nmask = (1 << d.bits) - 1
            self.consts = [self.nmask]

    def _dst_row(self, e):
        d, F = self.dst, self.F
        if self.family == "float":
            f = d.frac_bits
            if e >= d.emin:
                expf = e + d.bias
                row = self._cut_row(min(expf, d.max_biased + 1), F - f)  # beyond max_biased: overflows
                row["tiny"] = False
            else:
                row = self._cut_row(1, F - f + (d.emin - e))
                row["tiny"] = True
            return row
        if self.family == "posit":
            ms = d.max_scale
            if e >= ms:
                self.has_big = True
                return self._force_row(self.maxpos, e > ms)  # maxpos; exact only for 2**max_scale
            if e < -ms:
                self.has_small = True
                return self._force_row(0, True)  # then clamped up to minpos
            es = d.es
            k, ex = e >> es, e & ((1 << es) - 1)
            if k >= 0:
                rl, regime = k + 2, ((1 << (k + 1)) - 1) << 1
            else:
                rl, regime = 1 - k, 1
            return self._cut_row((regime << es) | ex, rl + es + F - (d.n - 1))
        if e >= d.bits:  # above both signs' limits (2**(bits-1) or 2**bits - 1), even plus 1: saturates
            return self._force_row((1 << (d.bits - 1)) + 2 if d.signed else (1 << d.bits) + 1, False)
        return self._cut_row(1, F - e)

    def _sign_consts(self, sign):
        d = self.dst
        if self.family == "float":
            w, f = d.width, d.frac_bits
            sb = sign << (w - 1)
            toward_zero = self.rounding == "rtz" or (self.rounding == "rdn" and not sign) \
                or (self.rounding == "rup" and sign)
            if toward_zero or self.saturate or d.specials == "none":
                ovf = sb | self.maxmag
            elif d.specials == "ieee":
                ovf = sb | (((1 << d.exp_bits) - 1) << f)
            elif d.specials == "fn":
                ovf = sb | ((1 << (w - 1)) - 1)
            else:  # fnuz: NaN is the pattern of -0
                ovf = 1 << (w - 1)
            clamp = self.maxmag if ovf == sb | self.maxmag else self.maxmag + 1
            return {"SB": sb, "OVF": ovf, "CL": clamp}
        if self.family == "posit":
            return {"NM": self.nmask if sign else 0}
        lim = (1 << (d.bits - 1)) - 1 + sign if d.signed else (0 if sign else (1 << d.bits) - 1)
        return {"NM": self.nmask if sign else 0, "LIM": lim}

    def _specials(self, xs):
        """Results for source patterns with exponent field 0 or all ones."""
        out, flags = self.spec(xs)  # zeros, infinities, NaNs
        xs = xs.astype(_U32)
        F = self.F
        fr = xs & _U32(self.frac_mask)
        sub = np.flatnonzero((((xs >> _U32(F)) & _U32(self.all_e)) == 0) & (fr != 0))
        if sub.size:  # subnormals, normalised onto rows of their own: sign << 5 | bit length
            f = fr[sub]
            bl = np.frexp(f.astype(np.float64))[1].astype(_U32)
            fn = (f << (_U32(F + 1) - bl)) & _U32(self.frac_mask)
            r = (((xs[sub] >> _U32(self.sw)) << _U32(5)) | bl).astype(np.intp)
            ob, of = self._compute(self.sub, r, fn.astype(self.dt, copy=False))
            out[sub] = ob
            flags[sub] = of
        return out, flags

    # -- the core --------------------------------------------------------------------------------------
    def _compute(self, T, r, frac):
        dt = self.dt
        if T.has_T0:
            low = T.T0.take(r)
            low |= frac
        else:
            low = frac.copy()
        if T.shift:
            low <<= T.L1.take(r)
        S = T.S.take(r)
        inexact = low & T.M.take(r)
        inexact = inexact != 0
        if self.rounding == "rne":
            Ap = T.Apre.take(r)
            mag = low >> S
            mag += Ap
            mag &= dt(1)
            mag += T.B.take(r)
            mag += low
            mag >>= S
            mag += Ap
        elif T.B is None:
            mag = low >> S
            mag += T.Apre.take(r)
        else:
            mag = T.B.take(r)
            mag += low
            mag >>= S
            mag += T.Apre.take(r)
        return getattr(self, "_finish_" + self.family)(T, r, mag, inexact)

    def _finish_float(self, T, r, mag, inexact):
        dt, d = self.dt, self.dst
        maxmag = dt(self.maxmag)
        over = mag > maxmag
        flags = inexact.view(_U8) * _U8(NX)
        if self.can_tiny:
            tiny = mag < dt(1 << d.frac_bits)
            tiny &= inexact
            flags |= tiny.view(_U8) * _U8(UF)
        flags |= over.view(_U8) * _U8(OF | NX)
        np.minimum(mag, self.clamp if self.clamp is not None else T.CL.take(r), out=mag)
        sb = T.SB.take(r)
        if d.specials == "fnuz":
            sb *= mag != 0  # no -0
        mag |= sb
        return mag, flags

    def _finish_posit(self, T, r, mag, inexact):
        dt = self.dt
        if self.has_big:
            np.minimum(mag, dt(self.maxpos), out=mag)
        if self.has_small:
            np.maximum(mag, dt(1), out=mag)
        nm = T.NM.take(r)
        mag ^= nm
        mag -= nm
        if self.dst.n < 8 * np.dtype(dt).itemsize:
            mag &= dt(self.nmask)
        return mag, inexact.view(_U8) * _U8(NX)

    def _finish_int(self, T, r, mag, inexact):
        dt = self.dt
        lim = T.LIM.take(r)
        oor = mag > lim
        np.minimum(mag, lim, out=mag)
        nm = T.NM.take(r)
        mag ^= nm
        mag -= nm
        mag &= dt(self.nmask)
        flags = oor.view(_U8) * _U8(NV)
        inexact &= ~oor
        flags |= inexact.view(_U8) * _U8(NX)
        return mag, flags

    def _chunk(self, x, out, flags):
        x = x.astype(_U32, copy=False)
        r = (x >> _U32(self.F)).astype(np.intp)
        frac = x & _U32(self.frac_mask)
        mag, fl = self._compute(self.main, r, frac.astype(self.dt, copy=False))
        np.copyto(out, mag, casting="unsafe")
        flags[...] = fl
        # exponent field 0 (zeros, subnormals) or all ones (infinities, NaNs)
        e = x & _U32(self.all_e << self.F)
        e -= _U32(1 << self.F)
        sp = np.flatnonzero(e >= _U32((self.all_e - 1) << self.F))
        if sp.size:
            ob, of = self._specials(x[sp])
            out[sp] = ob
            flags[sp] = of


class _Wide(_Plan):
    """x87 layout: the exact fp64 result (binade plan), repacked into sign | exponent | 1 | fraction."""

    kind = "wide"

    def __init__(self, src, dst, rounding, saturate):
        super().__init__(src, dst, rounding, saturate)
        self.inner = _Binade(src, FP64, rounding, saturate)
        self.spec = _Specials(self)
        self.F = src.frac_bits
        self.abs_mask = _U32((1 << (src.width - 1)) - 1)
        self.top = _U32(((1 << src.exp_bits) - 1) << src.frac_bits)

    def _chunk(self, x, out, flags):
        x = x.astype(_U32, copy=False)
        b = np.empty(x.size, _U64)
        self.inner._chunk(x, b, flags)  # fp64 from a <= 32-bit source: exact, every value normal (or zero)
        hi = (b >> _U64(52)) & _U64(0x7FF)
        hi += _U64(self.dst.bias - 1023)
        hi |= (b >> _U64(63)) << _U64(15)
        # pattern = hi << 64 | 1 << 63 | f << (63 - F): its low 63 - F bits are 0, so it is one uint64
        # v = hi << (F + 1) | 1 << F | f, shifted left once as a Python int (the costly part)
        F = self.F
        v = b & _U64((1 << 52) - 1)
        v >>= _U64(52 - F)
        v |= _U64(1 << F)
        hi <<= _U64(F + 1)
        v |= hi
        out[...] = v.astype(object) << (63 - F)
        a = x & self.abs_mask
        sp = np.flatnonzero((a == 0) | (a >= self.top))  # zeros, infinities, NaNs
        if sp.size:
            ob, of = self.spec(x[sp])
            out[sp] = ob
            flags[sp] = of


_BUILD.update({"source-table": _SourceTable, "key-table": _KeyTable, "binade": _Binade, "wide": _Wide})
