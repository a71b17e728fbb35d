"""Fast conversion plans by table (a table of every source pattern, or one keyed on the source's top bits
and a sticky bit), with what every plan shares: the plan base class, the chunk size, the key width rule.
See fastconv for why each is exact."""

import numpy as np

from .integer import Integer
from .minifloat import Minifloat
from .p3109 import P3109
from .posit import Posit
from .rounding import check_tininess
from .scale import PowerOfTwo

DETERMINISTIC = ("rne", "rtz", "rdn", "rup", "rmm")
CHUNK = 1 << 16
SOURCE_TABLE_MAX_BITS = 20
KEY_TABLE_MAX_BITS = 18

_U8, _U32, _U64 = np.uint8, np.uint32, np.uint64


def key_bits(dst):
    """Fraction bits after the leading one that every rounding boundary of ``dst`` fits in (None: unknown)."""
    if isinstance(dst, Minifloat):
        return None if dst.explicit_integer else dst.frac_bits + 1
    if isinstance(dst, P3109):
        return dst.frac_bits + 1  # values, midpoints and the overflow threshold: the same fields as a minifloat
    if isinstance(dst, Posit):
        return max(dst.n - 3 - dst.es, 0) + 1
    if isinstance(dst, Integer):
        # boundaries: the integers and half-integers up to the range's ends (-2**(bits-1) - 1/2 needs all
        # ``bits``); a symmetric range ends at +-(2**(bits-1) - 1/2), one bit less
        return dst.bits - dst.symmetric
    if isinstance(dst, PowerOfTwo):
        return 1
    return None


def to_words(bits, width):
    """Patterns of a ``width``-bit format as ``shape + (ceil(width / 64),)`` uint64, low word first."""
    nw = max(1, -(-width // 64))
    a = np.asarray(bits)
    if a.dtype != object:
        return a.astype(_U64)[..., None]
    flat = a.reshape(-1)
    out = np.empty((flat.size, nw), _U64)
    mask = (1 << 64) - 1
    for k in range(nw):
        out[:, k] = np.array([(int(v) >> (64 * k)) & mask for v in flat], dtype=_U64)
    return out.reshape(a.shape + (nw,))


class _Plan:
    kind = ""

    def __init__(self, src, dst, rounding, saturate, tininess="after"):
        self.src, self.dst, self.rounding, self.saturate = src, dst, rounding, saturate
        self.tininess = check_tininess(tininess)

    def __repr__(self):
        return (f"<{self.kind} plan {self.src} -> {self.dst} {self.rounding} saturate={self.saturate} "
                f"tininess={self.tininess}>")

    def exact(self, bits):
        """The exact path: the reference every plan is built from and tested against."""
        return self.dst.encode_raw(self.src.decode_raw(bits), self.rounding, self.saturate, tininess=self.tininess)

    def __call__(self, bits):
        x = self.src.as_bits(bits)
        shape = x.shape
        x = np.ascontiguousarray(x).reshape(-1)
        n = x.size
        out = np.empty(n, self.dst.dtype)
        flags = np.empty(n, _U8)
        for a in range(0, n, CHUNK):
            b = min(a + CHUNK, n)
            self._chunk(x[a:b], out[a:b], flags[a:b])
        return out.reshape(shape), flags.reshape(shape)

    def _chunk(self, x, out, flags):
        raise NotImplementedError


class _TableMixin:
    """Results and flags of a table, packed into one uint32 (bits | flags << 16) for narrow destinations."""

    def _set_table(self, ob, of):
        if self.dst.dtype != object and self.dst.width <= 16:
            self.packed = ob.astype(_U32) | (of.astype(_U32) << _U32(16))
        else:
            self.packed = None
            self.tbits, self.tflags = ob, of.astype(_U8)

    def _lookup(self, idx, out, flags):
        if self.packed is not None:
            v = self.packed.take(idx)
            np.copyto(out, v, casting="unsafe")  # the low bits: the pattern (uint8 / uint16 keep them)
            v >>= _U32(16)
            np.copyto(flags, v, casting="unsafe")
        else:
            out[...] = self.tbits.take(idx)
            flags[...] = self.tflags.take(idx)


class _SourceTable(_TableMixin, _Plan):
    """Every source pattern's exact result."""

    kind = "source-table"

    def __init__(self, src, dst, rounding, saturate, tininess="after"):
        super().__init__(src, dst, rounding, saturate, tininess)
        self._set_table(*self.exact(src.all_bits()))

    def _chunk(self, x, out, flags):
        self._lookup(x.astype(np.intp), out, flags)

    def words(self, bits):
        """``(words, flags)``: the results as ``(n, ceil(width / 64))`` uint64, low word first, looked up in
        a table of words (an x87 destination's results are Python ints in ``__call__``; not here)."""
        if getattr(self, "_twords", None) is None:
            ob = self.tbits if self.packed is None else (self.packed & _U32(0xFFFF))
            self._twords = to_words(ob, self.dst.width)
            self._tflags = self.tflags if self.packed is None else (self.packed >> _U32(16)).astype(_U8)
        idx = np.ascontiguousarray(self.src.as_bits(bits)).reshape(-1).astype(np.intp)
        return self._twords[idx], self._tflags[idx]


def _key_subnormals_ok(src, dst, K, tininess="after"):
    """Whether the key table is exact for source subnormals too: there the key's unit is 2**(emin - K), and
    every boundary of ``dst`` below 2**emin must be a multiple of it (or there must be none)."""
    unit = src.emin - K
    if isinstance(dst, (Minifloat, P3109)):
        # the finest boundaries: half the subnormal step; with tininess after rounding, the UF boundary
        # 2**emin (1 - 2**-(p+1)) is half a step of the binade below 2**emin, one bit finer
        return dst.emin - dst.frac_bits - 1 - (tininess == "after") >= unit
    if isinstance(dst, Posit):
        return -dst.max_scale >= src.emin  # below minpos everything gives minpos
    if isinstance(dst, Integer):
        return -dst.frac_bits - 1 >= unit  # the smallest boundary is half the last bit's value
    if isinstance(dst, PowerOfTwo):
        return -dst.bias - 1 >= src.emin  # lowest boundary 1.5 * 2**(-bias-1); all below give the same
    return False


class _KeyTable(_TableMixin, _Plan):
    """Sign, exponent and top K fraction bits, plus a sticky bit, index the results (see the module doc)."""

    kind = "key-table"

    def __init__(self, src, dst, rounding, saturate, tininess="after"):
        super().__init__(src, dst, rounding, saturate, tininess)
        K = key_bits(dst)
        F = src.frac_bits
        self.s = s = F - K
        nkeys = 1 << (src.width - s + 1)
        keys = np.arange(nkeys, dtype=_U64)
        rep = ((keys >> _U64(1)) << _U64(s)) | ((keys & _U64(1)) << _U64(s - 1))
        self._set_table(*self.exact(rep.astype(src.dtype)))
        self.low = _U32((1 << s) - 1)
        self.sub_exact = not _key_subnormals_ok(src, dst, K, tininess)
        self.abs_mask = _U32((1 << (src.width - 1)) - 1)
        self.frac_mask = _U32((1 << F) - 1)

    def _chunk(self, x, out, flags):
        x = x.astype(_U32, copy=False)
        idx = x >> _U32(self.s)
        idx <<= _U32(1)
        idx |= (x & self.low) != 0
        self._lookup(idx.astype(np.intp), out, flags)
        if self.sub_exact:  # source subnormals: 1 <= |x| <= frac mask, via the exact path
            a = x & self.abs_mask
            a -= _U32(1)
            sp = np.flatnonzero(a < self.frac_mask)
            if sp.size:
                ob, of = self.exact(x[sp])
                out[sp] = ob
                flags[sp] = of
