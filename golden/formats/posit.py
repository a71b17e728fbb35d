"""Posits (Posit Standard 2022 for es = 2; any n and es for the parametric family)."""

from fractions import Fraction

import numpy as np

from ..validate import check_int
from .base import Format
from .minifloat import raw_to_float64
from .raw import FINITE, INF, NAN, QUIET, Raw, bit_length, shift_right, signaling
from .rounding import NV, NX, check_tininess, increment

__all__ = ["Posit"]

_U64 = np.uint64


def _clz64(x):
    return 64 - bit_length(x)


class Posit(Format):
    """A posit(n, es).

    Parameters
    ----------
    n : int, 3..64
        Width in bits.
    es : int, 0..4
        Exponent bits (the 2022 standard fixes es = 2).

    Zero is all zeros, NaR is a 1 followed by zeros; a negative value is the two's complement of its magnitude's
    pattern. After the sign, a run of r identical bits ended by the opposite bit (or the end of the word) is
    the regime, k = r - 1 for a run of ones and -r for a run of zeros; then up to es exponent bits (missing
    bits read as 0) and the fraction: value = 2**(k * 2**es + e) * 1.f.

    Encoding rounds the bit string to n bits (``rne``: to nearest, ties to the even pattern, as the standard
    says; the other modes round the magnitude as for floats), never to zero and never to NaR: values below
    minpos give +-minpos, values above maxpos give +-maxpos. NaN and +-inf give NaR (+-maxpos with
    ``saturate=True`` for the infinities); infinities and signaling NaNs raise NV.
    """

    __slots__ = ("name", "width", "n", "es", "kind")

    def __init__(self, *, n, es=2, name=None):
        n = check_int("n", n, 3, 64)
        es = check_int("es", es, 0, 4)
        # The parametric name golden.lookup reads back (posit<n> alone is a catalog name: posit8 .. posit64).
        self._init(name=name or f"posit{n}_es{es}", width=n, n=n, es=es, kind="posit")

    def _key(self):
        return (self.n, self.es)

    def __repr__(self):
        return f"Posit(name={self.name!r}, n={self.n}, es={self.es})"

    @property
    def useed_log2(self):
        return 1 << self.es

    @property
    def max_scale(self):
        return (self.n - 2) * self.useed_log2

    # -- facts -------------------------------------------------------------------------------------------
    @property
    def max(self):
        return Fraction(2) ** self.max_scale

    @property
    def min_normal(self):
        return Fraction(2) ** -self.max_scale  # minpos: posits have no subnormals

    @property
    def min_subnormal(self):
        return None

    @property
    def epsilon(self):
        """Spacing just above 1: the value of the pattern after 1's (``1 << (n - 2)``), less 1 -- 2**-(n - 3 - es)
        while a fraction bit is left after a 2-bit regime, more when even exponent bits run out (posit(4, 2):
        1 and 4 are neighbours, epsilon 3)."""
        (above,) = self.decode_raw(np.array([(1 << (self.n - 2)) + 1], dtype=self.dtype)).to_fractions()
        return above - 1

    @property
    def nar(self):
        return 1 << (self.n - 1)

    # -- decode ------------------------------------------------------------------------------------------
    def decode_raw(self, bits):
        n, es = self.n, self.es
        b = self.as_bits(bits).astype(_U64)
        mask = _U64((1 << n) - 1) if n < 64 else _U64(0xFFFFFFFFFFFFFFFF)
        sign = ((b >> _U64(n - 1)) & _U64(1)).astype(bool)
        mag = np.where(sign, (~b + _U64(1)) & mask, b)
        nar = b == _U64(1 << (n - 1))
        zero = b == 0
        body = mag << _U64(65 - n) if n > 1 else mag  # the n-1 bits after the sign, at the top of 64
        first = (body >> _U64(63)).astype(bool)
        run = np.where(first, _clz64(~body), _clz64(body))
        run = np.minimum(run, n - 1)
        k = np.where(first, run - 1, -run)
        used = np.minimum(run + 1, n - 1)  # regime bits including the terminator (absent at the end)
        rest = body << np.minimum(used, 63).astype(_U64)
        rest = np.where(used >= 64, _U64(0), rest)
        left = n - 1 - used  # bits after the regime
        if es:
            e = (rest >> _U64(64 - es)).astype(np.int64)
            frac = rest << _U64(es)
        else:
            e = np.zeros(b.shape, np.int64)
            frac = rest
        fb = np.maximum(left - es, 0)  # fraction bits present
        top = (frac >> _U64(1)) >> (_U64(63) - fb.astype(_U64))  # frac >> (64 - fb), fb may be 0
        sig = (_U64(1) << fb.astype(_U64)) | top
        exp = k * (1 << es) + e - fb
        cls = np.where(nar, NAN, FINITE).astype(np.uint8)
        sig = np.where(zero, _U64(0), np.where(nar, QUIET, sig))  # NaR is a quiet NaN
        return Raw(cls, sign & ~nar, exp.astype(np.int64), sig)

    # -- encode ------------------------------------------------------------------------------------------
    def _decode_exact(self, bits):
        return raw_to_float64(self.decode_raw(bits))

    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        check_tininess(tininess)  # no underflow here (UF is 0): accepted for any destination
        rand = self._prepare(raw, rounding, rand, rand_bits)
        n, es = self.n, self.es
        cls, sign, exp, sig = raw
        finite_nz = (cls == FINITE) & (sig != 0)
        L = bit_length(sig)
        scale = exp + L - 1
        big = scale >= self.max_scale
        small = scale < -self.max_scale
        k = np.clip(scale, -self.max_scale, self.max_scale - 1) >> es
        e = np.clip(scale, -self.max_scale, self.max_scale - 1) & ((1 << es) - 1)
        # Regime as a bit string of rl bits: k >= 0: k+1 ones then a zero; k < 0: -k zeros then a one.
        rl = np.where(k >= 0, k + 2, 1 - k)
        regime = np.where(k >= 0, ((_U64(1) << (k + 1).clip(0, 63).astype(_U64)) - _U64(1)) << _U64(1), _U64(1))
        avail = n - 1 - rl  # bits left for exponent and fraction
        # The tail (exponent then fraction) must fit 63 bits: fold excess low fraction bits into a sticky bit,
        # which then lies below the rounding position (avail <= 61).
        fl = L - 1
        cap = 63 - es
        excess = np.maximum(fl - cap, 0)
        kept_sig, lost_r, lost_s = shift_right(sig, excess)
        red = np.where(excess > 0, kept_sig | (lost_r | lost_s).astype(_U64), sig)
        fl = np.minimum(fl, cap)
        fracbits = red & ((_U64(1) << fl.astype(_U64)) - _U64(1))
        tail = (e.astype(_U64) << fl.astype(_U64)) | fracbits
        tl = es + fl
        drop = tl - avail
        head = regime << np.maximum(avail, 0).astype(_U64)
        exact = drop <= 0
        kept, rbit, sticky = shift_right(tail, np.maximum(drop, 0))
        body = head | np.where(exact, tail << np.clip(-drop, 0, 63).astype(_U64), kept)
        lsb = (body & _U64(1)).astype(bool)
        inc = increment(rounding, tail, np.maximum(drop, 0), sign, lsb, rbit, sticky, rand, rand_bits)
        if rounding == "stochastic":
            # Stochastic rounding reads the top rand_bits discarded bits: where the fold above put its sticky
            # bit among them (a 64-bit significand, x87, rounded near its end), read them from sig itself.
            # (The discarded bits are then all fraction bits: sig's low drop + excess bits.)
            folded = (excess > 0) & (drop > 0) & (drop <= fl)
            if folded.any():
                whole = increment(rounding, sig, np.where(folded, drop + excess, 0), sign, lsb, rbit, sticky, rand,
                                  rand_bits)
                inc = np.where(folded, whole, inc)
        inc = inc & ~exact
        body = body + inc.astype(_U64)
        inexact = (rbit | sticky) & ~exact
        maxpos = _U64((1 << (n - 1)) - 1)
        body = np.where(big, maxpos, np.where(small, _U64(1), body))
        exact_max = (scale == self.max_scale) & (sig == (_U64(1) << np.maximum(L - 1, 0).astype(_U64)))
        inexact = np.where(big, ~exact_max, np.where(small, True, inexact))
        mask = _U64((1 << n) - 1) if n < 64 else _U64(0xFFFFFFFFFFFFFFFF)
        neg = (~body + _U64(1)) & mask
        out = np.where(sign, neg, body)
        out = np.where(finite_nz, out, _U64(0))
        special = cls != FINITE
        nar = special & ~((cls == INF) & saturate)
        out = np.where(nar, _U64(self.nar), out)
        out = np.where((cls == INF) & saturate, np.where(sign, (~maxpos + _U64(1)) & mask, maxpos), out)
        flags = np.where(finite_nz & inexact, NX, 0) | np.where((cls == INF) | signaling(raw), NV, 0)
        return out.astype(self.dtype), flags.astype(np.uint8)
