"""Formats whose codes index a table of levels (NF4)."""

import numpy as np

from .base import Format
from .minifloat import FP64
from .raw import NAN, from_float64
from .rounding import NV, NX, check_tininess

__all__ = ["Codebook"]


class Codebook(Format):
    """``2**bits`` codes, each standing for one float64 level (strictly increasing with the code).

    Encoding gives the nearest level, computed exactly; a value exactly halfway between two levels takes
    the lower one (toward -inf), as bitsandbytes' strict comparisons do. Values beyond the ends clamp to the
    end levels; NaN gives the code of 0.0 (or the lowest code when no level is 0) with the NV flag. Only
    nearest rounding (``rne``) is defined.
    """

    __slots__ = ("name", "width", "levels", "kind")

    def __init__(self, *, name, levels):
        lv = np.asarray(levels, dtype=np.float64)
        n = len(lv)
        if n < 2 or n & (n - 1) or n > 256:
            raise ValueError(f"levels must hold a power of two from 2 to 256 values, not {n}")
        if not np.all(np.isfinite(lv)) or not np.all(np.diff(lv) > 0):
            raise ValueError("levels must be finite and strictly increasing")
        from fractions import Fraction
        if any(Fraction(float(a)) + Fraction(float(b)) != Fraction(float(a + b)) for a, b in zip(lv[:-1], lv[1:])):
            raise ValueError("levels must have midpoints exact in float64 (float32 levels do)")
        lv.setflags(write=False)
        self._init(name=name, width=n.bit_length() - 1, levels=lv, kind="codebook")

    def _key(self):
        return tuple(self.levels.tolist())

    def __repr__(self):
        return f"Codebook(name={self.name!r}, levels={len(self.levels)})"

    @property
    def max(self):
        from fractions import Fraction
        return Fraction(float(np.max(np.abs(self.levels))))

    @property
    def min_normal(self):
        from fractions import Fraction
        return Fraction(float(np.min(np.abs(self.levels[self.levels != 0]))))

    @property
    def min_subnormal(self):
        return None

    @property
    def epsilon(self):
        from fractions import Fraction
        return Fraction(float(np.min(np.diff(self.levels))))

    def decode_raw(self, bits):
        return from_float64(self.decode(bits))

    def _decode_exact(self, bits):
        return self.levels[self.as_bits(bits).astype(np.int64)]

    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        check_tininess(tininess)  # no underflow here (UF is 0): accepted for any destination
        if rounding != "rne":
            raise ValueError(f"{self.name} encodes to the nearest level only: rounding must be 'rne', not {rounding!r}")
        # x is compared with the midpoints m (exact in float64: sums of two float32-or-wider levels are
        # checked below). t = x truncated toward zero to float64, with `inexact`: x > m <=> t > m, or t == m
        # and x > 0 and inexact.
        t_bits, fl = FP64.encode_raw(raw, "rtz", saturate=True)
        t = t_bits.view(np.float64)
        inexact = (fl & NX) != 0
        lv = self.levels
        mids = (lv[1:] + lv[:-1]) / 2
        code = np.searchsorted(mids, t, side="left")  # number of midpoints < t
        on_mid = (code < len(mids)) & (mids[np.minimum(code, len(mids) - 1)] == t)
        code = code + (on_mid & inexact & ~raw.sign)
        nan = raw.cls == NAN
        zero_code = int(np.argmin(np.abs(lv)))
        code = np.where(nan, zero_code, code)
        exact = np.isin(t, lv) & ~inexact
        flags = np.where(nan, NV, np.where(exact | nan, 0, NX))
        return code.astype(self.dtype), flags.astype(np.uint8)
