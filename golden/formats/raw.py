"""The exact unpacked form every golden format decodes to and encodes from.

A :class:`Raw` holds arrays of equal shape. A finite value is ``(-1)**sign * sig * 2**exp`` with ``sig``
an unsigned integer (zero is ``sig == 0``); ``cls`` marks infinities and NaNs (NaR for posits). A NaN carries
its payload in ``sig``: an IEEE-style source's fraction field MSB-aligned at bit 63, so that bit 63 is the quiet
bit (a NaN with it clear is signaling); NaNs of formats that have no signaling NaNs are quiet: ``sig = QUIET``.
Nothing here rounds: converting between formats is decode to raw, then one rounding step into the destination.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["FINITE", "INF", "NAN", "QUIET", "Raw", "bit_length", "from_float64", "shift_right", "signaling"]

FINITE, INF, NAN = 0, 1, 2
#: The quiet bit of a NaN's payload in ``Raw.sig``.
QUIET = np.uint64(1 << 63)

_U64 = np.uint64


class Raw(NamedTuple):
    """Exact values: ``cls`` (FINITE/INF/NAN, uint8), ``sign`` (bool), ``exp`` (int64), ``sig`` (uint64)."""

    cls: np.ndarray
    sign: np.ndarray
    exp: np.ndarray
    sig: np.ndarray

    @classmethod
    def make(cls, klass, sign, exp, sig):
        shape = np.broadcast_shapes(*(np.shape(a) for a in (klass, sign, exp, sig)))
        return cls(np.broadcast_to(np.asarray(klass, np.uint8), shape).copy(),
                   np.broadcast_to(np.asarray(sign, bool), shape).copy(),
                   np.broadcast_to(np.asarray(exp, np.int64), shape).copy(),
                   np.broadcast_to(np.asarray(sig, _U64), shape).copy())

    def to_fractions(self):
        """Exact values as a list of :class:`fractions.Fraction` (``None`` for NaN, +-``float('inf')``)."""
        from fractions import Fraction
        out = []
        for c, s, e, m in zip(self.cls.ravel(), self.sign.ravel(), self.exp.ravel(), self.sig.ravel()):
            if c == NAN:
                out.append(None)
            elif c == INF:
                out.append(float("-inf") if s else float("inf"))
            else:
                v = Fraction(int(m)) * Fraction(2) ** int(e)
                out.append(-v if s else v)
        return out


def signaling(raw):
    """Which values of ``raw`` are signaling NaNs (a NaN whose quiet bit, bit 63 of ``sig``, is clear)."""
    return (raw.cls == NAN) & ((raw.sig & QUIET) == 0)


def bit_length(x):
    """Vectorised ``int.bit_length`` of a uint64 array (0 for 0)."""
    x = np.asarray(x, dtype=_U64)
    # float64 holds integers below 2**53 exactly, so frexp gives their length; shifting right by 11 first
    # keeps wider values below 2**53 too.
    small = np.frexp(x.astype(np.float64))[1]
    large = np.frexp((x >> _U64(11)).astype(np.float64))[1] + 11
    return np.where(x >= _U64(1 << 11), large, small).astype(np.int64)


def shift_right(x, shift):
    """Split uint64 ``x`` at bit ``shift`` (int64 >= 0, any size).

    Returns ``(kept, round_bit, sticky)``: ``kept = x >> shift``, ``round_bit`` the bit just below it and
    ``sticky`` whether any bit further below is set.
    """
    x = np.asarray(x, dtype=_U64)
    shift = np.asarray(shift, dtype=np.int64)
    s = np.clip(shift, 0, 64)
    half = s // 2
    # Two shifts of at most 32 each: numpy (like C) leaves a shift by 64 undefined.
    kept = (x >> half.astype(_U64)) >> (s - half).astype(_U64)
    sm1 = np.maximum(s - 1, 0).astype(_U64)
    rbit = ((x >> sm1) & _U64(1)).astype(bool) & (s >= 1)
    below = x & ((_U64(1) << sm1) - _U64(1))
    sticky = (below != 0) & (s >= 1)
    far = shift > 64
    rbit = rbit & ~far
    sticky = np.where(far, x != 0, sticky)
    return kept, rbit, sticky


def from_float64(values):
    """Exact raw form of float64 values (read from the bit pattern: no arithmetic, no rounding)."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    b = v.view(_U64)
    sign = (b >> _U64(63)).astype(bool)
    e = ((b >> _U64(52)) & _U64(0x7FF)).astype(np.int64)
    f = b & _U64((1 << 52) - 1)
    cls = np.where(e == 0x7FF, np.where(f == 0, INF, NAN), FINITE).astype(np.uint8)
    sig = np.where(e == 0, f, f | _U64(1 << 52))
    exp = np.where(e == 0, 1 - 1023 - 52, e - 1023 - 52)
    sig = np.where(cls == FINITE, sig, np.where(cls == NAN, f << _U64(12), _U64(0)))
    return Raw(cls, sign, exp.astype(np.int64), sig)
