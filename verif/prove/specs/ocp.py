"""Specifications of the non-IEEE small floats: OCP fn and fnuz, FP6/FP4, CFloat8, IEEE P3109, OCP MX E8M0.

Written from the published rules (OCP OFP8 v1.0, OCP MX v1.0, the P3109 interim report, Tesla's CFloat8 note;
digest in /work/shared/SPECS.md) and the README's rules for saturation, NaN, infinities and zero -- never from
golden's or the RTL's code. Each destination is a documented wrapper around one SMT FloatingPoint rounding:

1. *Scale.* The exact source value ``v`` (a term of an FP sort ``W`` wide enough to hold it, and it scaled,
   exactly) is multiplied by ``2**s`` with ``s = emin(S) - emin(target)``, where ``S = (Es, p)`` is an SMT sort
   with the target's precision ``p`` and a wider exponent. After scaling, ``S``'s subnormal grid is the
   target's subnormal grid, and the biased exponent field of a value in ``S`` *is* the target's exponent field
   (the two biases differ by exactly ``s``), only with more bits above it so nothing overflows in ``S``.
2. *Round.* ``fp.to_fp`` with the rounding mode into ``S`` (``p >= 3``). SMT-LIB sorts need at least 3
   significand bits, so for ``p < 3`` (FP4 E2M1, P3109 P1/P2, E8M0) and for stochastic rounding the value is
   truncated (``roundTowardZero``) into ``(Es, p + g)`` and the ``g`` extra bits decide one increment of the
   magnitude pattern (round and sticky bits, or :mod:`stochastic`'s carry): the textbook rule, on a pattern in
   which a carry out of the fraction walks into the exponent field as it does in the target.
3. *Rules.* The rounded magnitude pattern ``M`` (exponent field over fraction, ``Es + p - 1`` bits) is compared,
   as an unsigned integer, with the target's largest finite pattern: above it is overflow. Then the README's
   rules: overflow and infinities give +-max when saturating or when the mode rounds toward zero for that
   sign, else the format's overflow code (fn: NaN; fnuz: 0x80; formats with neither: +-max; P3109 extended:
   +-inf); NaN gives the format's NaN (formats without one: +0 with NV); fnuz and P3109 have no -0.
4. *Pack.* sign bit over ``M``'s low bits: bit-vector concatenation.

Flags (RISC-V ``fflags`` bits): NX inexact; UF tiny and inexact, tiny *after rounding* (the value rounded to
``p`` bits with an unbounded exponent lies strictly below ``2**emin``) or *before* (the exact value does), as
``ProveOptions.tininess`` says; OF when the rounded value exceeds the largest finite one (with NX); NV for a
signaling NaN source, an infinity or NaN the format cannot hold. As sources, each format decodes exactly
(:func:`decode`) into an FP term, for conversions from them into any destination.
"""

from dataclasses import dataclass

import z3

from ..options import SpecOut
from .stochastic import carry, truncate_float

__all__ = ["Exact", "RM", "Target", "decode", "encode", "flags_word", "round_scaled", "spec", "target"]

#: README mode names to the SMT-LIB rounding modes.
RM = {"rne": z3.RNE(), "rtz": z3.RTZ(), "rdn": z3.RTN(), "rup": z3.RTP(), "rmm": z3.RNA()}


@dataclass(frozen=True)
class Exact:
    """A source pattern's exact value: ``fp`` an FP term (NaN for every NaN/NaR; never rounded), ``snan``
    whether it was a signaling NaN, and static bounds: every finite nonzero ``|value|`` lies in
    ``[2**lo, 2**(hi + 1))``, with at most ``prec`` significant bits."""

    fp: object
    snan: object
    lo: int
    hi: int
    prec: int
    sign: object = None     # the sign bit as a BoolRef where a NaN has one (SMT-LIB's NaN has none)
    payload: object = None  # IEEE NaN sources: the fraction field, for a NaN destination that keeps it


def _sort_holding(lo, hi, prec):
    """An FP sort holding every value of ``prec`` bits with exponent in ``lo .. hi`` as a normal number.

    At least 8 significand bits (exact either way): with 3, z3 5.4 answers unknown ("invalid extract
    application") for every converter from the unsigned P3109 K8P3 (found by the whole-matrix run: 480 of 480)."""
    eb = 2
    while (1 << (eb - 1)) - 2 < max(-lo, hi) + 2:
        eb += 1
    return z3.FPSort(eb, max(prec, 8))


def _pow2(k, sort):
    return z3.fpFP(z3.BitVecVal(0, 1), z3.BitVecVal(k + (1 << (sort.ebits() - 1)) - 1, sort.ebits()),
                   z3.BitVecVal(0, sort.sbits() - 1))


def flags_word(nx=False, uf=False, of=False, nv=False):
    """The 5-bit flags word (NX bit 0, UF 1, OF 2, DZ 3 always 0, NV 4) from booleans."""
    word = z3.BitVecVal(0, 5)
    for bit, cond in ((0, nx), (1, uf), (2, of), (4, nv)):
        word = word | z3.If(cond, z3.BitVecVal(1 << bit, 5), z3.BitVecVal(0, 5))
    return word


# -- sources -------------------------------------------------------------------------------------------------
def _fields_value(sign, expf, frac, exp_bits, frac_bits, bias, subnormals=True, daz=False, fnuz=False):
    """Exact value of sign/exponent-field/fraction (normal: 1.f * 2**(e - bias); field 0: 0.f * 2**(1 - bias),
    or a zero of the sign when the format or ``daz`` flushes; fnuz zeros are +0)."""
    subs = bool(frac_bits and subnormals and not daz)
    lo, hi = 1 - bias - (frac_bits if subs else 0), (1 << exp_bits) - 1 - bias
    sort = _sort_holding(lo, hi, frac_bits + 1)
    sb = sort.sbits() - 1
    if frac_bits == 0:
        wide_frac = z3.BitVecVal(0, sb)
    else:
        wide_frac = z3.Concat(frac, z3.BitVecVal(0, sb - frac_bits)) if sb > frac_bits else frac
    field = z3.ZeroExt(sort.ebits() - exp_bits, expf) + ((1 << (sort.ebits() - 1)) - 1 - bias)
    normal = z3.fpFP(sign, field, wide_frac)
    zero = z3.fpPlusZero(sort) if fnuz else z3.If(sign == 1, z3.fpMinusZero(sort), z3.fpPlusZero(sort))
    if subs:
        # the fraction widened to >= 8 bits first (exact either way): z3 5.4 answers unknown ("invalid extract
        # application") for fp.to_fp_unsigned from a <= 5-bit vector into a 3-significand-bit sort
        wide = z3.ZeroExt(8 - frac_bits, frac) if frac_bits < 8 else frac
        mag = z3.fpMul(z3.RNE(), z3.fpToFPUnsigned(z3.RNE(), wide, sort), _pow2(lo, sort))
        sub = z3.If(frac == 0, zero, z3.If(sign == 1, z3.fpNeg(mag), mag))
    else:
        sub = zero
    return z3.If(expf == 0, sub, normal), lo, hi, frac_bits + 1


def decode(fmt, x, opts=None):
    """The exact value of pattern ``x`` of a small float ``fmt`` (Minifloat of any policy but x87's explicit
    integer bit, P3109, E8M0), as an :class:`Exact`. ``opts.daz`` reads subnormals as zeros (fnuz: +0)."""
    kind = type(fmt).__name__
    daz = bool(opts and opts.daz)
    w = fmt.width
    if kind == "PowerOfTwo":  # E8M0: 2**(p - bias), all-ones NaN
        sort = _sort_holding(-fmt.bias, (1 << fmt.exp_bits) - 2 - fmt.bias, 1)
        field = z3.ZeroExt(sort.ebits() - fmt.exp_bits, x) + ((1 << (sort.ebits() - 1)) - 1 - fmt.bias)
        val = z3.fpFP(z3.BitVecVal(0, 1), field, z3.BitVecVal(0, sort.sbits() - 1))
        nan = x == (1 << w) - 1
        return Exact(z3.If(nan, z3.fpNaN(sort), val), z3.BoolVal(False), -fmt.bias, (1 << w) - 2 - fmt.bias, 1)
    if kind == "P3109":
        signed, e, f = fmt.signed, fmt.k - fmt.p + (0 if fmt.signed else 1), fmt.p - 1
        bias = (1 << (fmt.k - fmt.p - 1)) if signed else 1 << (fmt.k - fmt.p)  # the report's biases
        sign = z3.Extract(w - 1, w - 1, x) if signed else z3.BitVecVal(0, 1)
        mag = z3.Extract(w - 2, 0, x) if signed else x
        mbits = w - 1 if signed else w
        value, lo, hi, prec = _fields_value(sign, z3.Extract(mbits - 1, f, mag),
                                            z3.Extract(f - 1, 0, mag) if f else None, e, f, bias, fnuz=True)
        sort = value.sort()
        inf = z3.If(sign == 1, z3.fpMinusInfinity(sort), z3.fpPlusInfinity(sort))
        if signed:
            nan, isinf = x == 1 << (w - 1), z3.And(fmt.extended, mag == (1 << mbits) - 1)
        else:
            nan, isinf = x == (1 << w) - 1, z3.And(fmt.extended, x == (1 << w) - 2)
        value = z3.If(nan, z3.fpNaN(sort), z3.If(isinf, inf, value))
        return Exact(value, z3.BoolVal(False), lo, hi, prec, sign == 1)  # 0x80's sign bit: -NaN, as fnuz's
    # Minifloat: ieee (with signaling NaNs), fn, fnuz, none
    e, f, pol = fmt.exp_bits, fmt.man_bits, fmt.specials
    if fmt.explicit_integer:
        raise ValueError("decode: x87's explicit integer bit is the IEEE module's (provecore's) to decode")
    sign = z3.Extract(w - 1, w - 1, x)
    expf = z3.Extract(w - 2, f, x)
    frac = z3.Extract(f - 1, 0, x) if f else None
    value, lo, hi, prec = _fields_value(sign, expf, frac, e, f, fmt.bias, fmt.subnormals, daz, pol == "fnuz")
    sort = value.sort()
    ones = (1 << e) - 1
    snan = z3.BoolVal(False)
    if pol == "ieee":
        inf = z3.If(sign == 1, z3.fpMinusInfinity(sort), z3.fpPlusInfinity(sort))
        nan = z3.And(expf == ones, frac != 0)
        value = z3.If(nan, z3.fpNaN(sort), z3.If(expf == ones, inf, value))
        snan = z3.And(nan, z3.Extract(f - 1, f - 1, x) == 0) if f else z3.BoolVal(False)
        return Exact(value, snan, lo, hi, prec, sign == 1, frac)
    elif pol == "fn":
        value = z3.If(z3.Extract(w - 2, 0, x) == (1 << (w - 1)) - 1, z3.fpNaN(sort), value)
    elif pol == "fnuz":
        value = z3.If(x == 1 << (w - 1), z3.fpNaN(sort), value)
    return Exact(value, snan, lo, hi, prec, sign == 1)


# -- destinations ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A destination's parameters for :func:`encode`, derived from the published format definitions."""

    name: str
    signed: bool
    mag_bits: int      # bits below the sign (all of them when unsigned)
    frac_bits: int     # p - 1
    emin: int          # unbiased exponent of the smallest normal (field 1); E8M0: of pattern 0
    max_mag: int       # largest finite magnitude pattern
    nan: object        # "keep-sign-ones" (fn), an int code, "ieee", or None (no NaN)
    inf_mag: object    # +inf magnitude pattern or None
    neg_zero: bool     # has -0
    subnormals: bool
    policy: str        # "minifloat", "p3109", "p3109u", "e8m0"


def target(fmt):
    """The :class:`Target` of a destination format object (from its published parameters)."""
    kind = type(fmt).__name__
    if kind == "PowerOfTwo":
        return Target(fmt.name, False, fmt.exp_bits, 0, -fmt.bias, (1 << fmt.exp_bits) - 2, (1 << fmt.width) - 1,
                      None, False, False, "e8m0")
    if kind == "P3109":
        k, p = fmt.k, fmt.p
        if fmt.signed:  # bias floor(2**(K-P-1)); 0x80 NaN; 0x7F/0xFF +-inf (extended)
            bias = 1 << (k - p - 1)
            top = (1 << (k - 1)) - 1
            return Target(fmt.name, True, k - 1, p - 1, 1 - bias, top - 1 if fmt.extended else top, 1 << (k - 1),
                          top if fmt.extended else None, False, True, "p3109")
        bias = 1 << (k - p)  # unsigned: 0xFF NaN, 0xFE +inf (extended) or max (finite)
        top = (1 << k) - 1
        return Target(fmt.name, False, k, p - 1, 1 - bias, top - 2 if fmt.extended else top - 1, top,
                      top - 1 if fmt.extended else None, False, True, "p3109u")
    e, f, pol = fmt.exp_bits, fmt.man_bits, fmt.specials
    if fmt.explicit_integer:
        raise ValueError("encode: x87 destinations are the IEEE module's (provecore's)")
    ones = (1 << (e + f)) - 1
    if pol == "ieee":
        return Target(fmt.name, True, e + f, f, 1 - fmt.bias, ones - (1 << f), "ieee", ones - ((1 << f) - 1), True,
                      fmt.subnormals, "minifloat")
    if pol == "fn":
        return Target(fmt.name, True, e + f, f, 1 - fmt.bias, ones - 1, "fn", None, True, fmt.subnormals, "minifloat")
    if pol == "fnuz":
        return Target(fmt.name, True, e + f, f, 1 - fmt.bias, ones, 1 << (e + f), None, False, fmt.subnormals,
                      "minifloat")
    return Target(fmt.name, True, e + f, f, 1 - fmt.bias, ones, None, None, True, fmt.subnormals, "minifloat")


def round_scaled(v_s, exp_bits, prec, mode, rand=None, rand_bits=0, odd_even=False):
    """Round ``v_s`` (finite, scaled to the sort ``(exp_bits, prec)``'s grid) to ``prec`` bits by ``mode``.

    Returns ``(M, exact)``: ``M`` the magnitude pattern of the rounded value in the ``(exp_bits, prec)``
    layout (``exp_bits + prec - 1`` bits), ``exact`` whether rounding lost nothing. ``fp.to_fp`` does it for
    ``prec >= 3``; otherwise, and for stochastic rounding, a truncation keeps ``g`` more bits and one
    increment of the pattern finishes (see the module docstring). ``odd_even``: the target's patterns are
    the sort's minus one (E8M0), so its even patterns are the sort's odd ones (ties to even, ``prec == 1``).
    """
    neg = z3.fpIsNegative(v_s)
    width = exp_bits + prec - 1
    if mode != "stochastic" and prec >= 3:
        r = z3.fpToFP(RM[mode], v_s, z3.FPSort(exp_bits, prec))
        exact = z3.fpEQ(z3.fpToFP(z3.RNE(), r, v_s.sort()), v_s)
        return z3.Extract(width - 1, 0, z3.fpToIEEEBV(r)), exact
    if mode == "stochastic":
        kept, t, rest = truncate_float(v_s, exp_bits, prec, rand_bits)
        exact = z3.And(t == 0, z3.Not(rest))
        inc = carry(t, rand, rand_bits)
    else:
        g = 2
        kept, low, rest = truncate_float(v_s, exp_bits, prec, g)
        exact = z3.And(low == 0, z3.Not(rest))
        rbit, sticky = z3.Extract(g - 1, g - 1, low) == 1, z3.Or(z3.Extract(g - 2, 0, low) != 0, rest)
        lsb = z3.Extract(0, 0, kept) == (0 if odd_even else 1)
        inc = {"rne": z3.And(rbit, z3.Or(sticky, lsb)), "rmm": rbit, "rtz": z3.BoolVal(False),
               "rup": z3.And(z3.Not(neg), z3.Or(rbit, sticky)), "rdn": z3.And(neg, z3.Or(rbit, sticky))}[mode]
    return z3.If(inc, kept + 1, kept), exact


def _scaling(v, tgt, prec):
    """(v scaled into a wide sort, Es, emin(S)): the scale ``2**s`` that gives ``S = (Es, prec)`` the
    target's grid (its field 1 at the target's smallest normal), and a sort holding ``v`` and ``v * 2**s``."""
    span = tgt.mag_bits - tgt.frac_bits  # exponent field bits of the target
    es = max(span + 2, 4)
    emin_s = 2 - (1 << (es - 1))
    s = emin_s - tgt.emin
    lo = min(v.lo, v.lo + s, emin_s - prec - 4)
    hi = max(v.hi, v.hi + s, emin_s) + 4
    wide = _sort_holding(lo, hi, max(v.prec, prec) + 2)
    vw = z3.fpToFP(z3.RNE(), v.fp, wide)
    return (z3.fpMul(z3.RNE(), vw, _pow2(s, wide)) if s else vw), es, emin_s


def encode(fmt, v, opts, rand=None):
    """The destination bits and flags for the exact value ``v`` (an :class:`Exact`) under ``opts``."""
    tgt = target(fmt)
    p, mode = tgt.frac_bits + 1, opts.rounding
    v_s, es, emin_s = _scaling(v, tgt, p)
    width = es + p - 1
    M, exact = round_scaled(v_s, es, p, mode, rand, opts.rand_bits, tgt.policy == "e8m0")
    # tininess: after rounding (p bits, unbounded exponent: a sort two exponent bits wider, same scale) or before
    # (stochastic: the same rule with the same rand, on the unbounded-exponent grid)
    # (E8M0: the unbounded grid's patterns continue below 0, so 2**-bias's pattern 0 stays the even one)
    Mu, _ = round_scaled(v_s, es + 2, p, mode, rand, opts.rand_bits, tgt.policy == "e8m0")
    min_normal_u = (emin_s + (1 << (es + 1)) - 1) << (p - 1)
    if opts.tininess == "before":
        tiny = z3.fpLT(z3.fpAbs(v_s), _pow2(emin_s, v_s.sort()))
    else:
        tiny = z3.ULT(Mu, min_normal_u)
    iszero_in = z3.fpIsZero(v.fp)
    tiny = z3.And(tiny, z3.Not(iszero_in))
    neg = z3.fpIsNegative(v.fp)
    if v.sign is not None:  # a NaN's sign
        neg = z3.If(z3.fpIsNaN(v.fp), v.sign, neg)
    isnan, isinf = z3.fpIsNaN(v.fp), z3.fpIsInf(v.fp)
    ovf = z3.UGT(M, tgt.max_mag)
    tozero = {"rtz": z3.BoolVal(True), "rdn": z3.Not(neg), "rup": neg}.get(mode, z3.BoolVal(False))
    sat = z3.Or(bool(opts.saturate), tozero)
    mb = tgt.mag_bits
    flush = z3.And(bool(opts.ftz) or not tgt.subnormals, tgt.policy == "minifloat",
                   z3.Extract(width - 1, p - 1, M) == 0, M != 0)
    m_out = z3.If(flush, z3.BitVecVal(0, width), M)
    inexact = z3.Or(z3.Not(exact), flush)
    uf = z3.And(z3.Or(tiny, flush), inexact)

    def word(sgn, mag):
        mag = mag if isinstance(mag, z3.BitVecRef) else z3.BitVecVal(mag, mb)
        return z3.Concat(z3.If(sgn, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)), mag) if tgt.signed else mag

    maxw = word(neg, tgt.max_mag)
    low = z3.Extract(mb - 1, 0, m_out)
    nv = v.snan
    of = ovf
    if tgt.policy == "e8m0":  # S's field 1 is pattern 0: pattern = M - 1; M = 0 (below 2**-bias) -> pattern 0
        nanv = z3.BitVecVal(tgt.nan, mb)
        ovf = z3.UGT(M, tgt.max_mag + 1)
        fin = z3.If(ovf, z3.If(sat, maxw, nanv), z3.If(M == 0, z3.BitVecVal(0, mb), low - 1))
        neg = z3.And(neg, z3.Not(isnan))
        bad = z3.Or(isnan, z3.And(neg, z3.Not(iszero_in)), z3.And(isinf, z3.Or(neg, z3.Not(bool(opts.saturate)))))
        res = z3.If(bad, nanv, z3.If(isinf, maxw, fin))
        ok = z3.And(z3.Not(bad), z3.Not(isinf))
        # zero and values below the smallest give the smallest: inexact, and tiny (below 2**-bias) like them
        below = z3.And(ok, M == 0)
        return SpecOut(res, flags_word(z3.And(ok, z3.Or(z3.Not(exact), ovf, below)),
                                       z3.And(ok, z3.Or(uf, iszero_in), z3.Not(ovf)), z3.And(ok, ovf),
                                       z3.Or(v.snan, z3.And(bad, z3.Not(isnan)), isinf)))
    # overflow code, the encoding of +-inf inputs, NaN code
    if tgt.nan == "fn":
        nanw = word(neg, (1 << mb) - 1)
    elif tgt.nan == "ieee":  # quiet bit set, the source's payload (below its quiet bit) MSB-aligned, sign kept
        quiet = 1 << (tgt.frac_bits - 1)
        pay = z3.BitVecVal(0, tgt.frac_bits - 1) if v.payload is None or v.payload.size() < 2 else None
        if pay is None:
            src = z3.Extract(v.payload.size() - 2, 0, v.payload)
            n, k = src.size(), tgt.frac_bits - 1
            pay = z3.Extract(n - 1, n - k, src) if n >= k else z3.Concat(src, z3.BitVecVal(0, k - n))
        nanw = word(neg, z3.BitVecVal(tgt.inf_mag | quiet, mb) | z3.ZeroExt(mb - tgt.frac_bits + 1, pay))
    elif tgt.nan is None:
        nanw = word(False, 0)
    else:
        nanw = z3.BitVecVal(tgt.nan, fmt.width)
    infw = word(neg, tgt.inf_mag) if tgt.inf_mag is not None else (maxw if tgt.nan is None else nanw)
    ovfw = z3.If(sat, maxw, infw)
    zero_ok = tgt.neg_zero
    finw = z3.If(ovf, ovfw, z3.If(m_out == 0, word(z3.And(neg, zero_ok), 0), word(neg, low)))
    inf_res = z3.If(bool(opts.saturate), maxw, infw)
    res = z3.If(isnan, nanw, z3.If(isinf, inf_res, finw))
    nv = z3.Or(v.snan, z3.And(isnan, tgt.nan is None), z3.And(isinf, tgt.inf_mag is None))
    fin = z3.And(z3.Not(isnan), z3.Not(isinf))
    if tgt.policy == "p3109u":  # negative values below the range: 0 (saturate, rtz, rup) or NaN, NV only
        below = z3.And(neg, z3.Or(isinf, z3.And(fin, M != 0)))
        clamp0 = z3.Or(bool(opts.saturate), z3.And(z3.Not(isinf), mode in ("rtz", "rup")))
        res = z3.If(below, z3.If(clamp0, z3.BitVecVal(0, fmt.width), nanw), res)
        nv = z3.Or(nv, below)
        fin = z3.And(fin, z3.Not(below))
    return SpecOut(res, flags_word(z3.And(fin, z3.Or(inexact, ovf)), z3.And(fin, uf, z3.Not(ovf)), z3.And(fin, of), nv))


def spec(src, dst, opts, x, rand=None):
    """``spec(src, dst, opts, x, rand) -> SpecOut`` for a destination of this module (the PROVE_API form);
    the source is decoded by :func:`decode` when it is one of this module's formats or a non-x87 Minifloat."""
    return encode(dst, decode(src, x, opts), opts, rand)




def evaluate(spec_fn, src, dst, opts, xs, rands=None):
    """Evaluate a specification on concrete inputs: a list of ``(bits, flags)`` (flags None when the spec
    defines none), by substituting each ``x`` (and ``rand``) and simplifying -- the self-tests' and replay's
    way of reading a spec's value. Raises RuntimeError if a result does not simplify to a constant."""
    x = z3.BitVec("x", src.width)
    r = z3.BitVec("rand", opts.rand_bits) if opts.rand_bits else None
    out = spec_fn(src, dst, opts, x, r)
    both = z3.Concat(out.flags, out.bits) if out.flags is not None else out.bits
    res = []
    for i, xv in enumerate(xs):
        subs = [(x, z3.BitVecVal(int(xv), src.width))]
        if r is not None:
            subs.append((r, z3.BitVecVal(int(rands[i]), opts.rand_bits)))
        val = z3.simplify(z3.substitute(both, *subs))
        if not z3.is_bv_value(val):
            raise RuntimeError(f"the spec of {src.name} -> {dst.name} is not constant at {int(xv):#x}: {val}")
        val = val.as_long()
        res.append((val & ((1 << dst.width) - 1), val >> dst.width if out.flags is not None else None))
    return res
