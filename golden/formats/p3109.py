"""IEEE P3109 binary formats with infinities or without a sign bit (the working group's interim report).

A P3109 format is named by its width ``K`` and precision ``P`` (significand bits, the hidden one included), its
signedness and its domain (extended: with infinities; finite: without). It has ``P - 1`` fraction bits,
``K - P`` exponent bits after a sign bit (signed) or ``K - P + 1`` (unsigned), bias ``2**(exponent bits - 1)``
(the report's ``floor(2**(K-P-1))`` signed, ``2**(K-P)`` unsigned), subnormals, one zero and one NaN:

============  ==================  ==================  ==================================
variant       NaN                 infinities          largest finite
============  ==================  ==================  ==================================
signed ext.   0x80 (sign only)    0x7F +inf, 0xFF -inf  0x7E / 0xFE
signed fin.   0x80                none                0x7F / 0xFF  (= the fnuz Minifloat)
unsigned ext. 0xFF (all ones)     0xFE +inf           0xFD
unsigned fin. 0xFF                none                0xFE
============  ==================  ==================  ==================================

(codes shown for K = 8). The signed finite variant is exactly the ``fnuz`` :class:`Minifloat` with its default
bias (``fp8_e4m3fnuz`` is K8 P4, ``fp8_e5m2fnuz`` K8 P3), so the catalog gives that object for it; this class
holds the other three.
"""

from fractions import Fraction

import numpy as np

from ..validate import check_bool, check_int
from .base import Format
from .minifloat import Minifloat
from .raw import FINITE, INF, NAN, QUIET, Raw, signaling
from .rounding import NV, NX, OF, UF

__all__ = ["P3109", "p3109_name"]

_U64 = np.uint64
K_MAX = 16


def p3109_name(k, p, signed=True, extended=True):
    """``p3109_k<K>p<P>`` with ``_unsigned`` and ``_finite`` for the non-default variants."""
    return f"p3109_k{k}p{p}" + ("" if signed else "_unsigned") + ("" if extended else "_finite")


def check_p3109(k, p, signed, extended):
    """Validated (k, p, signed, extended); ValueError naming the parameter and its range."""
    k = check_int("k", k, 2, K_MAX)
    check_bool("signed", signed)
    check_bool("extended", extended)
    p = check_int("p", p, 1 if (signed or k < K_MAX) else 2, k - 1 if signed else k)
    if signed and extended and k == 2:
        raise ValueError("k=2 signed extended P3109 formats hold no nonzero finite value (0, +-inf, NaN): "
                         "use k >= 3, or the finite domain")
    return k, p, signed, extended


class P3109(Format):
    """An IEEE P3109 format with infinities (extended domain) or without a sign bit (unsigned).

    Parameters
    ----------
    k : int, 2..16
        Width in bits.
    p : int
        Precision, the hidden bit included: 1..k-1 signed, 1..k unsigned (2..16 for unsigned k=16, whose
        exponent field would exceed 15 bits).
    signed, extended : bool
        The signed finite variant is golden's ``fnuz`` Minifloat (``golden.p3109`` returns it).
    name : str, optional

    Encoding rounds exactly by the mode with unbounded exponent, then saturates. ``saturate=True`` is P3109's
    SatFinite: a result beyond the largest finite value and an infinite input give +-max. ``saturate=False`` is
    SatNone (called OvfInf in earlier drafts): an overflow gives +-inf (extended) or NaN (finite), except
    that a rounding direction toward zero for the value's sign (rtz; rdn for positive, rup for negative values)
    gives +-max, as IEEE 754 overflow does; infinite inputs stay infinite (extended) or become NaN with NV
    (finite). SatPropagate (finite overflow saturates, infinities propagate) is not offered: for finite inputs
    it equals SatFinite, for infinite inputs SatNone. Overflow raises OF and NX.
    There is no negative zero: a result that rounds to zero is +0 (UF and NX when inexact). UF follows IEEE
    754's tininess (``tininess``: after rounding by default, or before; see golden.rounding). NaN gives the NaN
    code (NV for a signaling NaN source). Unsigned formats: a negative input that does not round to zero is
    below the range (NV, no other flag) and gives 0 when saturating or rounding rtz or rup (P3109 clamps a
    negative overflow toward zero in those directions), else NaN; -inf gives 0 (saturating) or NaN, with NV.
    """

    __slots__ = ("name", "width", "k", "p", "signed", "extended", "exp_bits", "frac_bits", "bias", "inner",
                 "kind")

    def __init__(self, *, k, p, signed=True, extended=True, name=None):
        k, p, signed, extended = check_p3109(k, p, signed, extended)
        if signed and not extended:
            raise ValueError("the signed finite P3109 variant is the fnuz Minifloat: use golden.p3109(k, p, "
                             "extended=False) or Minifloat(..., specials='fnuz')")
        exp_bits = k - p + (not signed)
        bias = 1 << (exp_bits - 1)
        # every rounding step is the specials-free minifloat's (sign bit, same fields); P3109's codes on top
        inner = Minifloat(exp_bits=exp_bits, man_bits=p - 1, bias=bias, specials="none")
        self._init(name=name or p3109_name(k, p, signed, extended), width=k, k=k, p=p, signed=signed,
                   extended=extended, exp_bits=exp_bits, frac_bits=p - 1, bias=bias, inner=inner, kind="float")

    def _key(self):
        return (self.k, self.p, self.signed, self.extended)

    def __repr__(self):
        return (f"P3109(name={self.name!r}, k={self.k}, p={self.p}, signed={self.signed}, "
                f"extended={self.extended}, exp_bits={self.exp_bits}, bias={self.bias})")

    # -- codes ---------------------------------------------------------------------------------------------
    @property
    def mag_bits(self):
        """Bits of the magnitude (all but the sign bit)."""
        return self.k - self.signed

    @property
    def max_code(self):
        """The code (magnitude) of the largest finite value."""
        return (1 << self.mag_bits) - 1 - self.extended - (not self.signed)

    @property
    def nan_code(self):
        return 1 << (self.k - 1) if self.signed else (1 << self.k) - 1

    @property
    def inf_code(self):
        """+inf's code (None in the finite domain); -inf is it with the sign bit (signed formats)."""
        return self.max_code + 1 if self.extended else None

    # -- facts ---------------------------------------------------------------------------------------------
    @property
    def emin(self):
        return 1 - self.bias

    @property
    def emax(self):
        return (self.max_code >> self.frac_bits) - self.bias

    @property
    def max(self):
        f = self.frac_bits
        return Fraction(2) ** self.emax * Fraction((1 << f) | (self.max_code & ((1 << f) - 1)), 1 << f)

    @property
    def min_normal(self):
        return Fraction(2) ** self.emin

    @property
    def min_subnormal(self):
        return Fraction(2) ** (self.emin - self.frac_bits) if self.frac_bits else None

    @property
    def epsilon(self):
        return Fraction(1, 1 << self.frac_bits)

    # -- decode --------------------------------------------------------------------------------------------
    def decode_raw(self, bits):
        b = self.as_bits(bits).astype(_U64)
        cls, sign, exp, sig = self.inner.decode_raw(b.astype(self.inner.dtype))  # unsigned: sign bit 0
        cls = cls.copy()
        mag = b & _U64((1 << self.mag_bits) - 1)
        nan = b == _U64(self.nan_code)
        cls[nan] = NAN
        if self.extended:
            cls[(mag == _U64(self.inf_code)) & ~nan] = INF
        sig = np.where(cls == NAN, QUIET, np.where(cls == INF, _U64(0), sig))
        return Raw(cls, sign, exp, sig)

    def _decode_exact(self, bits):
        raw = self.decode_raw(bits)
        v = np.ldexp(raw.sig.astype(np.float64), raw.exp)
        v = np.where(raw.cls == INF, np.inf, np.where(raw.cls == NAN, np.nan, v))
        return np.where(raw.sign, -v, v)

    # -- encode --------------------------------------------------------------------------------------------
    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        """Round exact values into this format. Returns ``(bits, flags)``; ``tininess`` as golden.Minifloat."""
        ib, fl = self.inner.encode_raw(raw, rounding, False, rand=rand, rand_bits=rand_bits, tininess=tininess)
        ib = ib.astype(_U64)
        cls, sign = raw.cls, raw.sign
        M = _U64(self.max_code)
        mag = ib & _U64((1 << self.mag_bits) - 1)
        finite = cls == FINITE
        # the specials-free rounding clamps at its own all-ones magnitude with OF; beyond our max is overflow
        over = finite & ((mag > M) | ((fl & OF) != 0))
        toward_zero = {"rtz": np.ones_like(sign), "rdn": ~sign, "rup": sign}.get(rounding, np.zeros_like(sign))
        to_max = over & (toward_zero | bool(saturate))
        flags = np.where(finite, fl & (NX | UF), 0) | np.where(over, OF | NX, 0)
        ovf = _U64(self.inf_code if self.extended else self.nan_code)
        out = np.where(over, np.where(to_max, M, ovf), mag)
        inf_in = cls == INF
        out = np.where(inf_in, M if saturate else ovf, out)
        if not self.extended:
            flags = flags | np.where(inf_in & (not saturate), NV, 0)
        nan_in = cls == NAN
        if self.signed:
            # the sign goes on every nonzero magnitude (there is no -0, and the sign-only code is NaN)
            out = np.where((out != 0) & sign & ~nan_in, out | _U64(1 << (self.k - 1)), out)
        else:
            # negative and not rounded to zero: below the range
            below = sign & finite & (mag != 0)
            clamp0 = bool(saturate) or rounding in ("rtz", "rup")
            out = np.where(below, _U64(0) if clamp0 else _U64(self.nan_code), out)
            neg_inf = sign & inf_in
            out = np.where(neg_inf, _U64(0) if saturate else _U64(self.nan_code), out)
            flags = np.where(below | neg_inf, NV, flags)
        out = np.where(nan_in, _U64(self.nan_code), out)
        flags = np.where(nan_in, np.where(signaling(raw), NV, 0), flags)
        return out.astype(self.dtype), flags.astype(np.uint8)
