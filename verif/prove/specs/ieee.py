"""Specification of conversions into and between the IEEE-policy floats, written from IEEE 754-2019 and the
README, in the SMT-LIB FloatingPoint theory (never from golden's or the RTL's code).

Formats: every :class:`golden.Minifloat` with the ``ieee`` special-value policy: fp64, fp32, fp16, bf16, tf32,
fp24, pxr24, fp8_e5m2, float8_e3m4, float8_e4m3, every ``e<E>m<M>`` (any bias, with or without subnormals) and
x87's 80-bit extended format with its stored integer bit.

Value (IEEE 754-2019 3.4): a pattern is read as the SMT-LIB ``fp`` term of its fields (``fp.to_fp`` of the
bit-vector in the sort ``(_ FloatingPoint E P)``); a bias other than ``2**(E-1) - 1`` scales that value by a
power of two, exactly, in a wider sort. x87 (Intel SDM vol. 1, 8.2.2 and table 8-3): the integer bit must be
1 for a nonzero exponent field and 0 for a zero one; the other encodings (unnormals, pseudo-denormals,
pseudo-infinities, pseudo-NaNs) are invalid operands, read as signaling NaNs (README: "as the 387 and later
raise invalid on them"). Without subnormals (``_ftz`` formats) an exponent field of 0 reads as a zero.

Rounding (IEEE 754-2019 4.3, 5.4.2): ``fp.to_fp`` of the exact value into the destination's sort with the mode
(rne RNE, rtz RTZ, rdn RTN, rup RTP, rmm RNA); overflow and infinities as the README says: +-max when
saturating (and, as IEEE's roundings themselves give, when the mode rounds toward zero for that sign), else
+-inf. NaN (README): the destination's NaN with the source's sign and the top of its payload (the fraction
MSB-aligned, truncated or zero-extended), quiet bit set; x87's unnormals and pseudo-denormals carry no payload
(a zero one), pseudo-NaNs and pseudo-infinities keep their fraction as the payload.

Flags (IEEE 754-2019 7.2-7.6), RISC-V layout: NX when the delivered result differs from the exact value; OF
when the value rounded with an unbounded exponent exceeds the largest finite number; UF when the result is
tiny and inexact, tiny *after rounding* (the value rounded to the destination's precision with an unbounded
exponent is nonzero and strictly between +-2**emin) or *before rounding* (the exact value is nonzero and
strictly between +-2**emin), as ``ProveOptions.tininess`` says; NV for a signaling NaN operand.
``ftz`` (README): a result delivered subnormal becomes the zero of its sign, raising UF and NX; ``daz``: a
subnormal source pattern reads as the zero of its sign, raising nothing.
"""

from dataclasses import dataclass

import z3

from ..options import FLAG_BITS, SpecOut

__all__ = ["Exact", "RM", "decode", "encode", "flags_word", "is_ieee", "sort_holding", "spec"]

#: README mode names to the SMT-LIB rounding modes.
RM = {"rne": z3.RNE(), "rtz": z3.RTZ(), "rdn": z3.RTN(), "rup": z3.RTP(), "rmm": z3.RNA()}


def is_ieee(fmt):
    """True for the formats of this module: binary floats with the IEEE special-value policy."""
    return getattr(fmt, "kind", None) == "float" and getattr(fmt, "specials", None) == "ieee" \
        and hasattr(fmt, "explicit_integer")


@dataclass(frozen=True)
class Exact:
    """A source pattern's exact value, as a specification of the destination needs it.

    Members
    -------
    fp : z3.FPRef
        The value (NaN for every NaN), exact in its sort.
    snan : z3.BoolRef
        The operand is a signaling NaN (IEEE 754-2019 7.2: invalid).
    lo, hi : int
        Static bounds: every finite nonzero ``|value|`` lies in ``[2**lo, 2**(hi + 1))``.
    prec : int
        At most this many significant bits.
    sign : z3.BoolRef or None
        The sign bit of a NaN operand (None: +).
    payload : z3.BitVecRef or None
        A NaN operand's payload, MSB-aligned (its top bit is the quiet bit's position); None: no payload.
    """

    fp: object
    snan: object
    lo: int
    hi: int
    prec: int
    sign: object = None
    payload: object = None


def flags_word(nx=False, uf=False, of=False, nv=False):
    """The 5-bit flags vector (``FLAG_BITS`` layout; DZ is never raised by a conversion)."""
    out = z3.BitVecVal(0, 5)
    for name, cond in (("NX", nx), ("UF", uf), ("OF", of), ("NV", nv)):
        out = out | z3.If(cond, z3.BitVecVal(1 << FLAG_BITS[name], 5), z3.BitVecVal(0, 5))
    return out


def sort_holding(lo, hi, prec):
    """An FP sort in which every value of ``prec`` significant bits with exponent ``lo .. hi + 1`` is a normal
    number (so rounding into it is exact, and rounding into ``prec`` bits in it has an unbounded exponent)."""
    eb = 2
    while 2 - (1 << (eb - 1)) > lo - 1 or (1 << (eb - 1)) - 1 < hi + 2:
        eb += 1
    return z3.FPSort(eb, max(prec, 2))


def _std_bias(fmt):
    return (1 << (fmt.exp_bits - 1)) - 1


def _pow2(k, sort):
    """2**k as a term of ``sort`` (k within its normal range)."""
    return z3.FPVal(1.0, sort) if k == 0 else z3.fpFP(
        z3.BitVecVal(0, 1), z3.BitVecVal(k + (1 << (sort.ebits() - 1)) - 1, sort.ebits()),
        z3.BitVecVal(0, sort.sbits() - 1))


def _bounds(fmt):
    """(lo, hi, prec) of a format's finite nonzero values."""
    f = fmt.frac_bits
    lo = fmt.emin - f if fmt.subnormals else fmt.emin
    return lo, fmt.emax, f + 1


def decode(fmt, x, opts):
    """The exact value of pattern ``x`` (a BitVec of ``fmt.width``) of an IEEE-policy format (:class:`Exact`).
    ``opts.daz`` reads subnormal patterns as zeros of their sign."""
    w, f, eb = fmt.width, fmt.frac_bits, fmt.exp_bits
    sign = z3.Extract(w - 1, w - 1, x)
    expf = z3.Extract(w - 2, fmt.man_bits, x)
    frac = z3.Extract(f - 1, 0, x)
    std = z3.FPSort(eb, f + 1)
    v = z3.fpBVToFP(z3.Concat(sign, expf, frac), std)
    zero_e = expf == 0
    all_e = expf == (1 << eb) - 1
    if not fmt.subnormals or opts.daz:
        v = z3.If(z3.And(zero_e, frac != 0), z3.If(sign == 1, z3.fpMinusZero(std), z3.fpPlusZero(std)), v)
    lo, hi, prec = _bounds(fmt)
    if fmt.bias != _std_bias(fmt):  # the pattern's value is its standard-bias value times 2**(std - bias)
        k = _std_bias(fmt) - fmt.bias
        wide = sort_holding(min(lo, 1 - _std_bias(fmt) - f), max(hi, (1 << eb) - 2 - _std_bias(fmt)), prec)
        v = z3.fpMul(z3.RNE(), z3.fpFPToFP(z3.RNE(), v, wide), _pow2(k, wide))
    isnan = z3.fpIsNaN(v)
    quiet = z3.Extract(f - 1, f - 1, x) == 1
    snan = z3.And(isnan, z3.Not(quiet))
    payload = frac
    if fmt.explicit_integer:
        intbit = z3.Extract(f, f, x) == 1
        invalid = intbit != z3.Not(zero_e)
        snan = z3.Or(snan, invalid)
        # unnormals and pseudo-denormals have no payload; pseudo-NaN and pseudo-infinity keep their fraction
        payload = z3.If(z3.And(invalid, z3.Not(all_e)), z3.BitVecVal(0, f), frac)
        v = z3.If(invalid, z3.fpNaN(v.sort()), v)
    return Exact(v, snan, lo, hi, prec, sign=sign == 1, payload=payload)


def _nan_bits(dst, sign, payload):
    """The destination's quiet NaN with ``sign`` and the top of ``payload`` (MSB-aligned)."""
    f, eb = dst.frac_bits, dst.exp_bits
    if payload is None:
        top = z3.BitVecVal(0, f)
    else:
        k = payload.size()
        top = z3.Extract(k - 1, k - f, payload) if k >= f else z3.Concat(payload, z3.BitVecVal(0, f - k))
    top = top | z3.BitVecVal(1 << (f - 1), f)
    s = z3.BitVecVal(0, 1) if sign is None else z3.If(sign, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))
    return _pack(dst, s, z3.BitVecVal((1 << eb) - 1, eb), top)


def _pack(dst, s, e, frac):
    """sign | exponent field | (x87: integer bit) | fraction."""
    if dst.explicit_integer:
        intbit = z3.If(e != 0, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))
        return z3.Concat(s, e, intbit, frac)
    return z3.Concat(s, e, frac)


def _fields(dst, r):
    """The destination pattern of a non-NaN term ``r`` of the destination's standard sort."""
    bv = z3.fpToIEEEBV(r)
    f = dst.frac_bits
    n = bv.size()
    return _pack(dst, z3.Extract(n - 1, n - 1, bv), z3.Extract(n - 2, f, bv), z3.Extract(f - 1, 0, bv))


def _truncate(v, sort, rand, rand_bits):
    """Stochastic rounding's pieces (README: "the top rand_bits discarded bits plus the random integer round
    up on carry"): ``v`` truncated (RTZ) into ``sort`` widened by ``rand_bits`` significand bits, as
    ``(magnitude pattern of sort's layout after the increment, exact)``; the increment is the carry out of
    (the ``rand_bits`` discarded bits) + ``rand``."""
    eb, p = sort.ebits(), sort.sbits()
    trunc = z3.fpFPToFP(z3.RTZ(), v, z3.FPSort(eb, p + rand_bits))
    mag = z3.Extract(eb + p + rand_bits - 2, 0, z3.fpToIEEEBV(trunc))
    kept, low = z3.Extract(eb + p + rand_bits - 2, rand_bits, mag), z3.Extract(rand_bits - 1, 0, mag)
    carry = z3.Extract(rand_bits, rand_bits, z3.ZeroExt(1, low) + z3.ZeroExt(1, rand)) == 1
    rest = z3.Not(z3.fpEQ(z3.fpFPToFP(z3.RNE(), trunc, v.sort()), v))
    return z3.If(carry, kept + 1, kept), z3.And(low == 0, z3.Not(rest))


def _stochastic(dst, vw, opts, rand, lo, hi, d_emin):
    """(delivered magnitude pattern, exact, overflow, tiny after rounding) of stochastic rounding of the
    finite ``vw`` (standard-bias domain, exponents ``lo .. hi``) into ``dst``."""
    f, eb, R = dst.frac_bits, dst.exp_bits, opts.rand_bits
    p = f + 1
    # S = (es, p) with its subnormal grid moved onto dst's: scale by 2**s, s = emin(S) - emin(dst); S's
    # exponent field is then dst's, with room above it so that nothing overflows in S
    es = eb + 1
    while (1 << (es - 1)) - 1 - (2 - (1 << (es - 1)) - d_emin) < hi + 3:
        es += 1
    s = 2 - (1 << (es - 1)) - d_emin
    big = sort_holding(min(lo, lo + s), max(hi, hi + s), vw.sort().sbits())
    v_s = z3.fpMul(z3.RNE(), z3.fpFPToFP(z3.RNE(), z3.fpAbs(vw), big), _pow2(s, big))
    m, exact = _truncate(v_s, z3.FPSort(es, p), rand, R)
    largest = z3.BitVecVal((((1 << eb) - 2) << f) | ((1 << f) - 1), es + p - 1)
    over = z3.UGT(m, largest)
    # tininess after rounding: the same rounding at p bits with an unbounded exponent (no scaling needed)
    unb = sort_holding(lo, hi, p)
    mu, _ = _truncate(z3.fpFPToFP(z3.RNE(), z3.fpAbs(vw), sort_holding(lo, hi, vw.sort().sbits())), unb, rand, R)
    bias_u = (1 << (unb.ebits() - 1)) - 1
    tiny_u = z3.And(z3.Not(z3.fpIsZero(vw)), z3.ULT(mu, z3.BitVecVal((d_emin + bias_u) << f, mu.size())))
    return z3.Extract(eb + f - 1, 0, m), exact, over, tiny_u


def encode(dst, v, opts, rand=None, nan_sign=None):
    """The specified destination pattern and flags for the exact value ``v`` (:class:`Exact`, or any object
    with its ``fp``, ``snan``, ``lo``, ``hi``, ``prec``) in the IEEE-policy destination ``dst``. A NaN gets
    ``nan_sign`` (else ``v.sign``; else +) and ``v.payload`` if any."""
    if opts.rounding == "stochastic":
        return _encode_stochastic(dst, v, opts, rand, nan_sign)
    rm = RM[opts.rounding]
    f, eb = dst.frac_bits, dst.exp_bits
    p = f + 1
    std = z3.FPSort(eb, p)
    k = dst.bias - _std_bias(dst)  # a pattern of value u in dst has value u * 2**k in the standard sort
    d_emin, d_emax = 1 - _std_bias(dst), (1 << eb) - 2 - _std_bias(dst)  # of the standard sort
    lo, hi = min(v.lo + k, d_emin - f), max(v.hi + k, d_emax)
    wide = sort_holding(lo, hi, max(v.prec, p))  # holds v (scaled) and every result exactly
    unb = sort_holding(lo, hi, p)  # p bits, unbounded exponent over this range
    vw = z3.fpFPToFP(z3.RNE(), v.fp, wide)
    if k:
        vw = z3.fpMul(z3.RNE(), vw, _pow2(k, wide))
    isnan, isinf = z3.fpIsNaN(vw), z3.fpIsInf(vw)
    fin = z3.And(z3.Not(isnan), z3.Not(isinf))
    neg = z3.fpIsNegative(vw)

    r = z3.fpFPToFP(rm, vw, std)  # IEEE rounding into the destination: subnormals, overflow by the mode
    ru = z3.fpFPToFP(rm, vw, unb)  # the same precision, unbounded exponent
    min_normal = _pow2(d_emin, unb)
    largest = z3.fpFP(z3.BitVecVal(0, 1), z3.BitVecVal((1 << eb) - 2, eb), z3.BitVecVal((1 << f) - 1, f))
    largest_u = z3.fpFPToFP(z3.RNE(), largest, unb)
    of = z3.And(fin, z3.fpGT(z3.fpAbs(ru), largest_u))
    tiny_u = z3.And(z3.Not(z3.fpIsZero(ru)), z3.fpLT(z3.fpAbs(ru), min_normal))
    zero = z3.If(neg, z3.fpMinusZero(std), z3.fpPlusZero(std))
    flushed = z3.BoolVal(False)
    if not dst.subnormals:  # no subnormals: what rounds (unbounded) below 2**emin is a zero of its sign
        flushed = z3.And(fin, tiny_u)
        r = z3.If(flushed, zero, r)
    if opts.ftz:  # README: a result delivered subnormal becomes a zero of its sign, raising UF and NX
        flushed = z3.And(fin, z3.fpIsSubnormal(r))
        r = z3.If(flushed, zero, r)
    if opts.saturate:
        maxed = z3.If(neg, z3.fpNeg(largest), largest)
        r = z3.If(z3.fpIsInf(r), maxed, r)
    inexact = z3.And(fin, z3.Not(z3.fpEQ(z3.fpFPToFP(z3.RNE(), r, wide), vw)))
    if opts.tininess == "before":
        tiny = z3.And(z3.Not(z3.fpIsZero(vw)), z3.fpLT(z3.fpAbs(vw), z3.fpFPToFP(z3.RNE(), min_normal, wide)))
    else:
        tiny = tiny_u
    uf = z3.Or(z3.And(fin, tiny, inexact), flushed)

    sign = nan_sign if nan_sign is not None else getattr(v, "sign", None)
    bits = z3.If(isnan, _nan_bits(dst, sign, getattr(v, "payload", None)), _fields(dst, r))
    flags = flags_word(nx=z3.Or(inexact, flushed), uf=uf, of=of, nv=v.snan)
    return SpecOut(bits, flags)


def _encode_stochastic(dst, v, opts, rand, nan_sign):
    """:func:`encode` for stochastic rounding: a magnitude pattern from :func:`_stochastic`; overflow gives
    +-inf (stochastic rounding is no rounding toward zero) or +-max with saturation."""
    f, eb = dst.frac_bits, dst.exp_bits
    k = dst.bias - _std_bias(dst)
    d_emin, d_emax = 1 - _std_bias(dst), (1 << eb) - 2 - _std_bias(dst)
    lo, hi = min(v.lo + k, d_emin - f), max(v.hi + k, d_emax)
    wide = sort_holding(lo, hi, max(v.prec, f + 1))
    vw = z3.fpFPToFP(z3.RNE(), v.fp, wide)
    if k:
        vw = z3.fpMul(z3.RNE(), vw, _pow2(k, wide))
    isnan, isinf = z3.fpIsNaN(vw), z3.fpIsInf(vw)
    fin = z3.And(z3.Not(isnan), z3.Not(isinf))
    neg = z3.fpIsNegative(vw)
    mag, exact, over, tiny_u = _stochastic(dst, vw, opts, rand, lo, hi, d_emin)
    inf_mag = z3.BitVecVal(((1 << eb) - 1) << f, eb + f)
    max_mag = z3.BitVecVal((((1 << eb) - 2) << f) | ((1 << f) - 1), eb + f)
    big_mag = max_mag if opts.saturate else inf_mag
    flushed = z3.BoolVal(False)
    if not dst.subnormals:
        flushed = z3.And(fin, tiny_u)
        mag = z3.If(flushed, z3.BitVecVal(0, eb + f), mag)
    if opts.ftz:
        flushed = z3.And(fin, z3.Not(over), z3.Extract(eb + f - 1, f, mag) == 0, mag != 0)
        mag = z3.If(flushed, z3.BitVecVal(0, eb + f), mag)
    of = z3.And(fin, over)
    mag = z3.If(isinf, big_mag, z3.If(over, big_mag, mag))
    inexact = z3.And(fin, z3.Or(z3.Not(exact), over, flushed))
    if opts.tininess == "before":
        tiny = z3.And(z3.Not(z3.fpIsZero(vw)), z3.fpLT(z3.fpAbs(vw), _pow2(d_emin, wide)))
    else:
        tiny = tiny_u
    uf = z3.Or(z3.And(fin, tiny, inexact), flushed)
    s = z3.If(neg, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))
    fin_bits = _pack(dst, s, z3.Extract(eb + f - 1, f, mag), z3.Extract(f - 1, 0, mag))
    sign = nan_sign if nan_sign is not None else getattr(v, "sign", None)
    bits = z3.If(isnan, _nan_bits(dst, sign, getattr(v, "payload", None)), fin_bits)
    return SpecOut(bits, flags_word(nx=inexact, uf=uf, of=of, nv=v.snan))


def spec(src, dst, opts, x, rand=None):
    """``spec(src, dst, opts, x, rand) -> SpecOut`` for an IEEE-policy source and destination."""
    return encode(dst, decode(src, x, opts), opts, rand)
