"""Two's complement and unsigned integers as number formats (targets round, then saturate), also with a
fixed binary point (MXINT8's 1.6 fixed point: ``q * 2**-6``)."""

from fractions import Fraction

import numpy as np

from ..validate import check_bool, check_int
from .base import Format
from .raw import FINITE, INF, NAN, Raw, bit_length, shift_right
from .rounding import NV, NX, check_tininess, increment

__all__ = ["Integer"]

_U64 = np.uint64


class Integer(Format):
    """An integer of ``bits`` bits (1..32), two's complement when ``signed``, standing for ``q * 2**-frac_bits``.

    Encoding rounds by the mode (to a multiple of ``2**-frac_bits``), then saturates to the range (flag NV when
    it had to, as IEEE 754 does for out-of-range conversions to integer). NaN gives 0 and +-inf the range's
    ends, both with NV. ``symmetric``: the range is ``-max_int..max_int``; the most negative pattern
    (``-2**(bits-1)``) still decodes to its two's-complement value but is never produced (MXINT8, as
    Microsoft's microxcaling library and the MX block scheme treat it). ``int1`` holds -1 and 0, ``uint1`` 0 and 1.
    """

    __slots__ = ("name", "width", "bits", "signed", "frac_bits", "symmetric", "kind")

    def __init__(self, *, bits, signed=True, frac_bits=0, symmetric=False, name=None):
        bits = check_int("bits", bits, 1, 32)
        check_bool("signed", signed)
        frac_bits = check_int("frac_bits", frac_bits, 0, 31)
        check_bool("symmetric", symmetric)
        if symmetric and (not signed or bits < 2):
            raise ValueError(f"symmetric=True needs a signed integer of at least 2 bits, not bits={bits}, "
                             f"signed={signed}")
        if name is None:
            name = f"{'' if signed else 'u'}int{bits}" + (f"_f{frac_bits}" if frac_bits else "") \
                + ("_sym" if symmetric else "")
        self._init(name=name, width=bits, bits=bits, signed=signed, frac_bits=frac_bits, symmetric=symmetric,
                   kind="int")

    def _key(self):
        return (self.bits, self.signed, self.frac_bits, self.symmetric)

    def __repr__(self):
        return (f"Integer(name={self.name!r}, bits={self.bits}, signed={self.signed}"
                + (f", frac_bits={self.frac_bits}" if self.frac_bits else "")
                + (", symmetric=True" if self.symmetric else "") + ")")

    @property
    def min_int(self):
        """The most negative integer ``q`` encoding produces (``-max_int`` when symmetric)."""
        if self.symmetric:
            return -self.max_int
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_int(self):
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def unit(self):
        """The value of the last bit, ``2**-frac_bits``."""
        return Fraction(1, 1 << self.frac_bits)

    @property
    def max(self):
        """The largest magnitude a pattern holds (the most negative two's-complement value when it is
        larger: 2 for MXINT8's -2, 1 for int1's -1)."""
        top = max(self.max_int, 1 << (self.bits - 1)) if self.signed else self.max_int
        return Fraction(top) * self.unit

    @property
    def min_normal(self):
        return self.unit

    @property
    def min_subnormal(self):
        return None

    @property
    def epsilon(self):
        return self.unit

    def _ints(self, bits):
        b = self.as_bits(bits).astype(np.int64)
        return np.where(b >= (1 << (self.bits - 1)), b - (1 << self.bits), b) if self.signed else b

    def decode_raw(self, bits):
        v = self._ints(bits)
        return Raw.make(FINITE, v < 0, -self.frac_bits, np.abs(v).astype(_U64))

    def _decode_exact(self, bits):
        return np.ldexp(self._ints(bits).astype(np.float64), -self.frac_bits)

    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        check_tininess(tininess)  # no underflow here (UF is 0): accepted for any destination
        rand = self._prepare(raw, rounding, rand, rand_bits)
        cls, sign, exp, sig = raw
        exp = exp + self.frac_bits  # round q = value * 2**frac_bits to an integer
        scale = exp + bit_length(sig) - 1
        shift = np.maximum(-exp, 0)
        kept, rbit, sticky = shift_right(sig, shift)
        lsb = (kept & _U64(1)).astype(bool)
        inc = increment(rounding, sig, shift, sign, lsb, rbit, sticky, rand, rand_bits)
        huge = (cls == FINITE) & (sig != 0) & (scale >= self.bits)  # beyond any bits-bit integer
        whole = np.where(exp > 0, sig << np.clip(exp, 0, 63).astype(_U64), kept + inc.astype(_U64))
        whole = np.where(huge, _U64(0), whole).astype(np.int64)
        value = np.where(sign, -whole, whole)
        lo, hi = self.min_int, self.max_int
        out_of_range = huge | (value < lo) | (value > hi)
        value = np.clip(value, lo, hi)
        value = np.where(huge, np.where(sign, lo, hi), value)
        value = np.where(cls == INF, np.where(sign, lo, hi), value)
        value = np.where(cls == NAN, 0, value)
        inexact = (rbit | sticky) & (cls == FINITE)
        flags = np.where(inexact & ~out_of_range, NX, 0) | np.where(
            (cls != FINITE) | ((cls == FINITE) & out_of_range), NV, 0)
        bits = np.where(value < 0, value + (1 << self.bits), value)
        return bits.astype(self.dtype), flags.astype(np.uint8)
