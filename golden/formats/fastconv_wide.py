"""The x87 destination's fast plan: the exact fp64 result of the binade plan, repacked into x87's layout
(sign | 15-bit exponent | explicit integer bit | fraction), as Python ints or as uint64 words. See fastconv."""

import numpy as np

from .fastconv_binade import _Binade, _Specials
from .fastconv_tables import CHUNK, _U8, _U32, _U64, _Plan
from .minifloat import FP64


class _Wide(_Plan):
    """x87 layout: the exact fp64 result (binade plan), repacked into sign | exponent | 1 | fraction."""

    kind = "wide"

    def __init__(self, src, dst, rounding, saturate, tininess="after"):
        super().__init__(src, dst, rounding, saturate, tininess)
        self.inner = _Binade(src, FP64, rounding, saturate, tininess)  # never tiny: every value is normal
        self.spec = _Specials(self)
        self.F = src.frac_bits
        self.abs_mask = _U32((1 << (src.width - 1)) - 1)
        self.top = _U32(((1 << src.exp_bits) - 1) << src.frac_bits)

    def _parts(self, x, flags):
        """``(hi, f, specials)``: sign | exponent (16 bits) and the fraction (F bits) of every result, and the
        indices of zeros, infinities and NaNs, whose results :attr:`spec` gives."""
        x = x.astype(_U32, copy=False)
        b = np.empty(x.size, _U64)
        self.inner._chunk(x, b, flags)  # fp64 from a <= 32-bit source: exact, every value normal (or zero)
        hi = (b >> _U64(52)) & _U64(0x7FF)
        hi += _U64(self.dst.bias - 1023)
        hi |= (b >> _U64(63)) << _U64(15)
        f = b & _U64((1 << 52) - 1)
        f >>= _U64(52 - self.F)
        a = x & self.abs_mask
        return x, hi, f, np.flatnonzero((a == 0) | (a >= self.top))

    def _chunk(self, x, out, flags):
        x, hi, v, sp = self._parts(x, flags)
        # pattern = hi << 64 | 1 << 63 | f << (63 - F): its low 63 - F bits are 0, so it is one uint64
        # v = hi << (F + 1) | 1 << F | f, shifted left once as a Python int (the costly part)
        F = self.F
        v |= _U64(1 << F)
        hi <<= _U64(F + 1)
        v |= hi
        out[...] = v.astype(object) << (63 - F)
        if sp.size:
            ob, of = self.spec(x[sp])
            out[sp] = ob
            flags[sp] = of

    def words(self, bits):
        """``(words, flags)``: the results as ``(n, 2)`` uint64, low word first (no Python ints)."""
        x = np.ascontiguousarray(self.src.as_bits(bits)).reshape(-1)
        n = x.size
        out = np.empty((n, 2), _U64)
        flags = np.empty(n, _U8)
        for a in range(0, n, CHUNK):
            b = min(a + CHUNK, n)
            xc, hi, f, sp = self._parts(x[a:b], flags[a:b])
            f <<= _U64(63 - self.F)
            f |= _U64(1 << 63)
            out[a:b, 0] = f
            out[a:b, 1] = hi
            if sp.size:
                ob, of = self.spec(xc[sp])
                mask = (1 << 64) - 1
                out[a + sp, 0] = np.array([int(v) & mask for v in ob], dtype=_U64)
                out[a + sp, 1] = np.array([int(v) >> 64 for v in ob], dtype=_U64)
                flags[a + sp] = of
        return out, flags
