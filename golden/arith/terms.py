"""The engine under every dot product: exact products, exact sums of terms, one rounding.

A *term* is an exact value in golden's raw form (:class:`golden.formats.raw.Raw`: class, sign, exponent,
integer significand), held in arrays of shape ``(N, T)``: N dot products of T terms each. Products of two raw
values are exact (significands multiply, exponents add); sums are exact (Python-integer or, where the row's span
provably fits, int64 arithmetic at the row's smallest exponent); the one rounding is the destination format's own
``encode_raw`` (the converters' rounder), fed a significand of at most 62 bits whose last bit is a sticky bit
when the exact sum was longer (which cannot change the rounding of any destination of <= 32 bits: at least
30 bits lie between its rounding position and the sticky bit).
"""

import functools
from fractions import Fraction

import numpy as np

from ..formats.catalog import lookup
from ..formats.integer import Integer
from ..formats.minifloat import Minifloat
from ..formats.p3109 import P3109
from ..formats.raw import FINITE, INF, NAN, Raw, bit_length, signaling
from ..formats.rounding import NV, NX, UF

__all__ = ["Terms", "exact_sum", "float_facts", "input_format", "output_format", "product", "round_float",
           "sum_terms", "zero_sign"]

_U64, _I64 = np.uint64, np.int64
_KEEP = 62  # significand bits handed to the rounder: int64 sums of up to 62 bits cannot overflow


class Terms:
    """Arrays ``cls, sign, exp, sig`` of equal shape (..., T), plus ``nv``: invalid operations met so far
    (one bool per row, shape (...))."""

    __slots__ = ("cls", "sign", "exp", "sig")

    def __init__(self, cls, sign, exp, sig):
        self.cls, self.sign, self.exp, self.sig = cls, sign, exp, sig

    @classmethod
    def of(cls, raw):
        return cls(np.asarray(raw.cls), np.asarray(raw.sign), np.asarray(raw.exp, _I64), np.asarray(raw.sig, _U64))

    def join(self, other):
        """The terms of ``self`` and ``other`` side by side (along the last axis)."""
        return Terms(*(np.concatenate([a, b], axis=-1) for a, b in
                       zip((self.cls, self.sign, self.exp, self.sig), (other.cls, other.sign, other.exp, other.sig))))

    def take(self, sl):
        return Terms(self.cls[..., sl], self.sign[..., sl], self.exp[..., sl], self.sig[..., sl])


def input_format(name, value):
    """The golden format ``value`` names, if it can be a dot product operand: a float (IEEE-style Minifloat of any
    policy without an explicit integer bit, or P3109) or an integer, of at most 16 bits."""
    fmt = lookup(value)
    ok = (isinstance(fmt, Minifloat) and not fmt.explicit_integer) or isinstance(fmt, (P3109, Integer))
    if not ok or fmt.width > 16:
        raise ValueError(f"{name} must be a float (minifloat, P3109) or integer format of at most 16 bits, "
                         f"not {fmt.name!r}")
    return fmt


def output_format(name, value):
    """The golden format ``value`` names, if it can be an addend or result: an IEEE-policy float with
    subnormals of at most 32 bits (fp32, fp16, bf16, tf32 ...)."""
    fmt = lookup(value)
    if not (isinstance(fmt, Minifloat) and fmt.specials == "ieee" and fmt.subnormals and not fmt.explicit_integer
            and fmt.width <= 32):
        raise ValueError(f"{name} must be an IEEE-style float of at most 32 bits with inf, NaN and subnormals "
                         f"(fp32, fp16, bf16, tf32 ...), not {fmt.name!r}")
    return fmt


@functools.lru_cache(maxsize=None)
def float_facts(fmt):
    """``(lsb_exp, max_magnitude)`` of a format of at most 16 bits, read from its exact decode of every pattern:
    the weight 2**lsb_exp of the smallest bit any finite value uses, and the largest finite magnitude
    (a Fraction). Formats wider than 16 bits (the addend) use their parameters."""
    if isinstance(fmt, Minifloat) and fmt.width > 16:
        return fmt.emin - fmt.frac_bits, fmt.max
    raw = fmt.decode_raw(fmt.all_bits())
    fin = (raw.cls == FINITE) & (raw.sig != 0)
    lsb = int(raw.exp[fin].min())
    top = max(Fraction(int(s)) * Fraction(2) ** int(e) for s, e in zip(raw.sig[fin], raw.exp[fin]))
    return lsb, top


def product(ra, rb):
    """Exact products of raw values ``ra`` and ``rb`` as :class:`Terms`, and where a product is invalid
    (inf x 0: it is NaN)."""
    zero_a = (ra.cls == FINITE) & (ra.sig == 0)
    zero_b = (rb.cls == FINITE) & (rb.sig == 0)
    invalid = ((ra.cls == INF) & zero_b) | (zero_a & (rb.cls == INF))
    nan = (ra.cls == NAN) | (rb.cls == NAN) | invalid
    inf = ((ra.cls == INF) | (rb.cls == INF)) & ~nan
    cls = np.where(nan, NAN, np.where(inf, INF, FINITE)).astype(np.uint8)
    fin = cls == FINITE
    sig = np.where(fin, ra.sig * rb.sig, _U64(0))  # <= 16-bit significands: the product fits 32 bits
    return Terms(cls, ra.sign ^ rb.sign, np.where(fin, ra.exp + rb.exp, 0).astype(_I64), sig), invalid


def zero_sign(t, rounding):
    """The sign of an exact zero sum of terms ``t`` (rows): IEEE 754 6.3 -- when every term is a zero of one
    sign, that sign; otherwise (zeros of both signs, or nonzero terms cancelling) +0, except -0 under rdn."""
    zero = t.sig == 0
    all_zero = zero.all(axis=-1)
    all_neg = t.sign.all(axis=-1)
    all_pos = (~t.sign).all(axis=-1)
    return np.where(all_zero & all_neg, True, np.where(all_zero & all_pos, False, rounding == "rdn"))


def exact_sum(t):
    """Exact sum of the finite terms of ``t`` (shape (N, T); non-finite terms must carry sig = 0).

    Returns ``(sign, exp, sig)``, shape (N,): the sum is ``(-1)**sign * sig * 2**exp`` with ``sig`` < 2**62,
    its last bit ORed with every bit below it that did not fit (a sticky bit) when the exact sum is longer.
    """
    sig, exp, sign = t.sig, t.exp, t.sign
    n, width = sig.shape
    nz = sig != 0
    any_nz = nz.any(axis=1)
    e0 = np.where(nz, exp, np.iinfo(_I64).max).min(axis=1)
    e0 = np.where(any_nz, e0, 0)
    top = np.where(nz, exp + bit_length(sig), e0[:, None]).max(axis=1)
    # int64 is safe when every shifted term and the sum of all T of them stay below 2**62
    fast = (top - e0 + int(width).bit_length()) <= _KEEP
    shifts = np.where(nz & fast[:, None], exp - e0[:, None], 0)
    mag = (sig.astype(_I64) << shifts) * np.where(nz & fast[:, None], 1, 0)
    total = np.where(sign, -mag, mag).sum(axis=1)
    out_sign = total < 0
    out_sig = np.abs(total).astype(_U64)
    out_exp = e0.copy()
    for i in np.flatnonzero(~fast):  # a huge term beside a tiny one: Python integers
        s = 0
        for j in np.flatnonzero(nz[i]):
            v = int(sig[i, j]) << int(exp[i, j] - e0[i])
            s += -v if sign[i, j] else v
        m, e = abs(s), int(e0[i])
        drop = max(m.bit_length() - _KEEP, 0)
        if drop:
            sticky = (m & ((1 << drop) - 1)) != 0
            m, e = (m >> drop) | sticky, e + drop
        out_sign[i], out_sig[i], out_exp[i] = s < 0, m, e
    return out_sign, out_exp, out_sig


def sum_terms(t, rounding):
    """Exact sum of the terms of ``t`` (shape (N, T)) with IEEE specials.

    Returns ``(raw, nv)``: the exact sum as a :class:`Raw` (class NaN when a term is NaN or +inf meets -inf,
    INF when an infinity is present, else FINITE with the exact zero's sign per :func:`zero_sign`), and ``nv``
    where +inf met -inf with no NaN term (an invalid addition).
    """
    nan = (t.cls == NAN).any(axis=1)
    pinf = ((t.cls == INF) & ~t.sign).any(axis=1)
    ninf = ((t.cls == INF) & t.sign).any(axis=1)
    fin = Terms(t.cls, t.sign, t.exp, np.where(t.cls == FINITE, t.sig, _U64(0)))
    sign, exp, sig = exact_sum(fin)
    sign = np.where(sig == 0, zero_sign(fin, rounding), sign)
    cls = np.where(nan | (pinf & ninf), NAN, np.where(pinf | ninf, INF, FINITE)).astype(np.uint8)
    sign = np.where(cls == INF, ninf, sign)
    return Raw(cls, sign.astype(bool), exp.astype(_I64), np.where(cls == FINITE, sig, _U64(0))), pinf & ninf & ~nan


def round_float(raw, fmt, rounding, saturate=False, tininess="after", rand=None, rand_bits=None):
    """Round exact values ``raw`` into the IEEE-style ``fmt`` with golden's rounder; returns ``(bits, flags)``.

    Differences from a conversion (decided for the dot product, documented in docs/dot.md): a NaN gives the
    canonical quiet NaN (sign 0, quiet bit only) and no flag; an infinity stays infinite even when
    ``saturate``; UF is IEEE 754 7.5's: tiny (``tininess="after"``: the value rounded to the format's precision
    with an unbounded exponent lies strictly between +-2**emin; ``"before"``: the exact value does) and inexact.
    """
    fin = Raw(raw.cls, raw.sign, raw.exp, np.where(raw.cls == FINITE, raw.sig, _U64(0)))
    finite = Raw(np.zeros_like(raw.cls), raw.sign, raw.exp, fin.sig)
    bits, flags = fmt.encode_raw(finite, rounding, saturate, rand=rand, rand_bits=rand_bits)
    flags = flags.astype(np.uint8) & np.uint8(~UF & 0xFF)
    nz = fin.sig != 0
    e_msb = raw.exp + bit_length(fin.sig) - 1
    tiny = nz & (e_msb < fmt.emin)
    # after rounding: only a value in the binade just below 2**emin can round (unbounded) up to 2**emin
    edge = np.flatnonzero(nz & (e_msb == fmt.emin - 1))
    if tininess == "after" and edge.size:
        wide = _unbounded(fmt)
        sub = Raw(*(x[edge] for x in finite))
        r = None if rand is None else np.broadcast_to(rand, fin.sig.shape)[edge]
        wb, _ = wide.encode_raw(sub, rounding, False, rand=r, rand_bits=rand_bits)
        w = wide.decode_raw(wb)
        tiny[edge] &= (w.exp + bit_length(w.sig) - 1) < fmt.emin
    flags = flags | np.where(tiny & ((flags & NX) != 0), UF, 0).astype(np.uint8)
    f, e = fmt.frac_bits, fmt.exp_bits
    all_e = _U64(((1 << e) - 1) << f)
    sbit = _U64(1 << (fmt.width - 1))
    inf_bits = all_e | np.where(raw.sign, sbit, _U64(0))
    nan_bits = all_e | _U64(1 << (f - 1))
    out = np.where(raw.cls == INF, inf_bits, np.where(raw.cls == NAN, nan_bits, bits.astype(_U64)))
    flags = np.where(raw.cls == FINITE, flags, 0).astype(np.uint8)
    return out.astype(fmt.dtype), flags


@functools.lru_cache(maxsize=None)
def _unbounded(fmt):
    """``fmt``'s precision with an exponent range no dot product leaves (tininess after rounding)."""
    return Minifloat(exp_bits=15, man_bits=fmt.frac_bits)


def signaling_any(raw):
    """Rows (last axis reduced) holding a signaling NaN."""
    return signaling(raw).any(axis=-1)


__all__ += ["signaling_any", "NV"]
