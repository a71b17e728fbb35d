"""Exponent-only scale formats: OCP MX's E8M0."""

from fractions import Fraction

import numpy as np

from ..validate import check_int
from .base import Format
from .minifloat import raw_to_float64
from .raw import FINITE, INF, NAN, QUIET, Raw, bit_length, shift_right, signaling
from .rounding import NV, NX, OF, UF, check_tininess, increment

__all__ = ["PowerOfTwo"]

_U64 = np.uint64


class PowerOfTwo(Format):
    """Unsigned powers of two: pattern p stands for 2**(p - bias); the all-ones pattern is NaN. No sign, no
    zero, no infinity (OCP MX E8M0 with exp_bits=8, bias=127).

    Encoding rounds to a power of two by the mode (``rne`` ties go to the even pattern), then: above the
    largest, NaN (or the largest, with ``saturate`` or a mode rounding toward zero); zero and values below the
    smallest give the smallest (there is no zero); negative values, NaN and -inf give NaN (NV); +inf gives
    NaN, or the largest with ``saturate``.
    """

    __slots__ = ("name", "width", "exp_bits", "bias", "kind")

    def __init__(self, *, exp_bits=8, bias=None, name=None):
        exp_bits = check_int("exp_bits", exp_bits, 1, 15)
        bias = check_int("bias", (1 << (exp_bits - 1)) - 1 if bias is None else bias, -(1 << 20), 1 << 20)
        self._init(name=name or f"e{exp_bits}m0", width=exp_bits, exp_bits=exp_bits, bias=bias, kind="scale")

    def _key(self):
        return (self.exp_bits, self.bias)

    def __repr__(self):
        return f"PowerOfTwo(name={self.name!r}, exp_bits={self.exp_bits}, bias={self.bias})"

    @property
    def max_pattern(self):
        return (1 << self.exp_bits) - 2

    @property
    def max(self):
        return Fraction(2) ** (self.max_pattern - self.bias)

    @property
    def min_normal(self):
        return Fraction(2) ** -self.bias

    @property
    def min_subnormal(self):
        return None

    @property
    def epsilon(self):
        return Fraction(1)

    def decode_raw(self, bits):
        b = self.as_bits(bits).astype(np.int64)
        nan = b == (1 << self.exp_bits) - 1
        return Raw.make(np.where(nan, NAN, FINITE), False, b - self.bias, np.where(nan, QUIET, 1))

    def _decode_exact(self, bits):
        return raw_to_float64(self.decode_raw(bits))

    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        rand = self._prepare(raw, rounding, rand, rand_bits)
        check_tininess(tininess)
        cls, sign, exp, sig = raw
        L = bit_length(sig)
        scale = exp + L - 1
        shift = np.maximum(L - 1, 0)
        _, rbit, sticky = shift_right(sig, shift)
        pat = scale + self.bias
        lsb = (pat & 1).astype(bool)
        inc = increment(rounding, sig, shift, sign, lsb, rbit, sticky, rand, rand_bits)
        pat = pat + inc
        inexact = rbit | sticky
        pos = (cls == FINITE) & (sig != 0) & ~sign
        over = pos & (pat > self.max_pattern)
        # tiny (UF; every tiny result is inexact: the smallest pattern is 2**-bias, there is no zero): after
        # rounding, the value rounded with an unbounded exponent is below 2**-bias; before, the value itself
        under = pos & ((scale + self.bias < 0) if tininess == "before" else (pat < 0))
        toward_zero = {"rtz": True, "rdn": True}.get(rounding, False)
        nan_pat = (1 << self.exp_bits) - 1
        out = np.clip(pat, 0, self.max_pattern)
        out = np.where(over & ~(saturate or toward_zero), nan_pat, out)
        zero = (cls == FINITE) & (sig == 0)
        out = np.where(zero, 0, out)
        bad = (cls == NAN) | ((cls == FINITE) & (sig != 0) & sign) | ((cls == INF) & (sign | (not saturate)))
        out = np.where(bad, nan_pat, out)
        out = np.where((cls == INF) & ~sign & saturate, self.max_pattern, out)
        flags = (np.where(pos & inexact | over | under | zero, NX, 0) | np.where(over, OF, 0)
                 | np.where(under | zero, UF, 0) | np.where(bad & (cls != NAN) | signaling(raw), NV, 0))
        return out.astype(self.dtype), flags.astype(np.uint8)
