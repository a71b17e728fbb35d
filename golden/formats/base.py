"""What every golden number format offers: decode, encode, convert and the facts a user asks for."""

import math

import numpy as np

from .frozen import Frozen
from .raw import FINITE, NAN, from_float64
from .rounding import check_mode
from .tables import decode_table, encode_fast, key_bits

__all__ = ["Format", "bits_dtype"]


def bits_dtype(width):
    """The smallest unsigned numpy dtype holding ``width`` bits (``object``, Python ints, beyond 64)."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if width <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    return np.dtype(object)


class Format(Frozen):
    """Base of every format object. Subclasses are immutable and define ``name``, ``width``,
    ``decode_raw``, ``encode_raw`` and the facts (``max``, ``min_normal``, ``min_subnormal``, ``epsilon``)."""

    __slots__ = ()
    name: str
    width: int
    kind: str  # "float", "posit", "int", "codebook", "scale"


    # -- bits ------------------------------------------------------------------------------------------
    @property
    def dtype(self):
        """numpy dtype of this format's bit patterns."""
        return bits_dtype(self.width)

    def as_bits(self, bits):
        """Validate an array of bit patterns and return it as this format's dtype."""
        if self.dtype == object:
            arr = np.asarray(bits, dtype=object)
            flat = [int(b) for b in arr.ravel()]
            if any(b < 0 or b >> self.width for b in flat):
                raise ValueError(f"{self.name} bit patterns must lie in 0..2**{self.width}-1")
            return np.array(flat, dtype=object).reshape(arr.shape)
        arr = np.asarray(bits)
        if arr.dtype.kind not in "ui":
            raise TypeError(f"{self.name} bit patterns must be integers, not {arr.dtype}")
        if arr.size and (arr.min() < 0 or (self.width < 64 and arr.max() >> self.width)):
            raise ValueError(f"{self.name} bit patterns must lie in 0..0x{(1 << self.width) - 1:X}")
        return arr.astype(self.dtype)

    def all_bits(self):
        """Every bit pattern, in order (formats of at most 24 bits)."""
        if self.width > 24:
            raise ValueError(f"all_bits() enumerates formats of at most 24 bits, and {self.name} has {self.width}")
        return np.arange(1 << self.width, dtype=np.uint32).astype(self.dtype)

    # -- values ----------------------------------------------------------------------------------------
    def decode(self, bits):
        """float64 value of each pattern (NaN for NaN/NaR); exact wherever float64 holds the value,
        otherwise rounded to nearest even (``decode_raw`` gives the exact form)."""
        if self.width <= 16:
            return decode_table(self).take(self.as_bits(bits).astype(np.intp))
        return self._decode_exact(bits)

    def _decode_exact(self, bits):
        """float64 values computed from ``decode_raw`` (each family defines it)."""
        raise NotImplementedError

    def encode(self, values, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
        """Bit patterns nearest to float64 ``values`` by ``rounding``, computed exactly from the float64."""
        if rounding in ("rne", "rtz", "rdn", "rup", "rmm") and isinstance(saturate, bool):
            if key_bits(self) is not None:
                return encode_fast(self, values, rounding, saturate)
        return self.encode_raw(from_float64(values), rounding, saturate, rand=rand, rand_bits=rand_bits)[0]

    def encode_exact(self, values, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
        """:meth:`encode` without the table fast path (the reference the tables are built from)."""
        return self.encode_raw(from_float64(values), rounding, saturate, rand=rand, rand_bits=rand_bits)[0]

    def encode_flags(self, values, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        """Like :meth:`encode`, returning ``(bits, flags)`` (flags: golden.rounding.NV|OF|UF|NX; UF by
        ``tininess``, ``after`` or ``before`` rounding)."""
        return self.encode_raw(from_float64(values), rounding, saturate, rand=rand, rand_bits=rand_bits,
                               tininess=tininess)

    def _prepare(self, raw, rounding, rand, rand_bits):
        check_mode(rounding, rand, rand_bits)
        if rounding == "stochastic":
            rand = np.broadcast_to(np.asarray(rand, dtype=np.uint64), raw.sig.shape)
        return rand

    # -- facts -----------------------------------------------------------------------------------------
    @property
    def dynamic_range(self):
        """log2(max / smallest positive value), in binades."""
        lo = self.min_subnormal or self.min_normal
        if not lo:
            return math.inf
        r = self.max / lo  # exact; log2 of its integers, so that fp64's 2**2098 does not overflow a float
        return math.log2(r.numerator) - math.log2(r.denominator)

    def facts(self):
        """A dict of the facts ``fmtforge info`` prints (exact values as Fractions)."""
        return {"name": self.name, "width": self.width, "max": self.max, "min_normal": self.min_normal,
                "min_subnormal": self.min_subnormal, "epsilon": self.epsilon,
                "dynamic_range_binades": self.dynamic_range}

    def is_nan(self, bits):
        return self.decode_raw(bits).cls == NAN

    def is_finite(self, bits):
        return self.decode_raw(bits).cls == FINITE

