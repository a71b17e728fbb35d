"""Two's complement and unsigned integers as number formats (targets round, then saturate)."""

from fractions import Fraction

import numpy as np

from ..validate import check_bool, check_int
from .base import Format
from .raw import FINITE, INF, NAN, Raw, bit_length, shift_right
from .rounding import NV, NX, increment

__all__ = ["Integer"]

_U64 = np.uint64


class Integer(Format):
    """An integer of ``bits`` bits, two's complement when ``signed``.

    Encoding rounds by the mode, then saturates to the range (flag NV when it had to, as IEEE 754 does for
    out-of-range conversions to integer). NaN gives 0 and +-inf the range's ends, both with NV.
    """

    __slots__ = ("name", "width", "bits", "signed", "kind")

    def __init__(self, *, bits, signed=True, name=None):
        bits = check_int("bits", bits, 2, 32)
        check_bool("signed", signed)
        self._init(name=name or f"{'' if signed else 'u'}int{bits}", width=bits, bits=bits, signed=signed,
                   kind="int")

    def _key(self):
        return (self.bits, self.signed)

    def __repr__(self):
        return f"Integer(name={self.name!r}, bits={self.bits}, signed={self.signed})"

    @property
    def min_int(self):
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_int(self):
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def max(self):
        return Fraction(self.max_int)

    @property
    def min_normal(self):
        return Fraction(1)

    @property
    def min_subnormal(self):
        return None

    @property
    def epsilon(self):
        return Fraction(1)

    def decode_raw(self, bits):
        b = self.as_bits(bits).astype(np.int64)
        v = np.where(b >= (1 << (self.bits - 1)), b - (1 << self.bits), b) if self.signed else b
        return Raw.make(FINITE, v < 0, 0, np.abs(v).astype(_U64))

    def _decode_exact(self, bits):
        b = self.as_bits(bits).astype(np.int64)
        v = np.where(b >= (1 << (self.bits - 1)), b - (1 << self.bits), b) if self.signed else b
        return v.astype(np.float64)

    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
        rand = self._prepare(raw, rounding, rand, rand_bits)
        cls, sign, exp, sig = raw
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
