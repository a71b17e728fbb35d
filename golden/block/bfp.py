"""Block floating point with integer mantissas: Microsoft MSFP, and Nervana Flexpoint with Autoflex."""

import collections
import math

import numpy as np

from ..formats.base import bits_dtype
from ..validate import check_int
from .common import BlockTensor, Scheme, as_blocks, check_block_size, check_finite, check_rounding
from ..formats.integer import Integer
from ..formats.rounding import NV

__all__ = ["FLEX16_5", "MSFP12", "MSFP16", "Autoflex", "Flexpoint", "MSFP", "msfp_encode_bits"]


class MSFP(Scheme):
    """Microsoft floating point: ``block_size`` values sharing one 8-bit exponent, each a sign and a
    ``man_bits``-bit magnitude aligned to the block's largest exponent (MSFP12: 3 bits, MSFP16: 7; block 16).

    Parameters
    ----------
    man_bits : int, 1..15
        Mantissa magnitude bits per element; the leading one is explicit (no hidden bit).
    block_size : int
    rounding : str
        How the low bits are dropped: ``"rtz"`` (truncation, the default, as the format is described) or
        ``"rne"`` (to nearest, ties to even; a magnitude rounding up to ``2**man_bits`` saturates at
        ``2**man_bits - 1``, the shared exponent never moves).
    name : str, optional

    Encoding: ``E = floor(log2(amax))`` of the block (exact), clamped to -127..128; element magnitude
    ``M = round(|v| / 2**(E - man_bits + 1))`` by ``rounding``, at most ``2**man_bits - 1``; value
    ``(-1)**s * M * 2**(E - man_bits + 1)``. An all-zero block has ``E = -127``. NaN and infinities have no
    encoding: ValueError.

    Layout: ``codes`` hold ``s << man_bits | M`` (uint8, or uint16 beyond 7 bits), ``scales`` the biased
    exponent ``E + 127`` (uint8).
    """

    __slots__ = ("name", "man_bits", "block_size", "rounding", "bias", "kind")

    def __init__(self, *, man_bits=3, block_size=16, rounding="rtz", name=None):
        man_bits = check_int("man_bits", man_bits, 1, 15)
        block_size = check_block_size(block_size)
        check_rounding(rounding, ("rtz", "rne"))
        if name is None:
            name = f"msfp{9 + man_bits}" + ("" if block_size == 16 else f"_k{block_size}") + (
                "" if rounding == "rtz" else f"_{rounding}")
        self._init(name=name, man_bits=man_bits, block_size=block_size, rounding=rounding, bias=127, kind="bfp")

    def _key(self):
        return (self.man_bits, self.block_size, self.rounding)

    def __repr__(self):
        return (f"MSFP(name={self.name!r}, man_bits={self.man_bits}, block_size={self.block_size}, "
                f"rounding={self.rounding!r})")

    def quantize(self, x):
        """Encode the last axis of ``x`` (a multiple of ``block_size`` long) as a :class:`BlockTensor`."""
        xb = as_blocks(x, self.block_size, self.name)
        check_finite(xb, self.name)
        m = self.man_bits
        amax = np.max(np.abs(xb), axis=-1, initial=0.0)
        _, e = np.frexp(amax)
        big = np.clip(np.where(amax == 0, -self.bias, e - 1), -self.bias, 256 - self.bias - 1).astype(np.int64)
        scaled = np.ldexp(np.abs(xb), (m - 1 - big)[..., None])
        mag = np.floor(scaled) if self.rounding == "rtz" else np.rint(scaled)
        mag = np.minimum(mag, (1 << m) - 1).astype(np.int64)
        codes = (np.signbit(xb).astype(np.int64) << m) | mag
        return BlockTensor(self, codes.astype(bits_dtype(m + 1)).reshape(np.shape(x)),
                           (big + self.bias).astype(np.uint8))

    def dequantize(self, t):
        """float64 values ``(-1)**s * M * 2**(E - man_bits + 1)`` (exact)."""
        self._check(t)
        m = self.man_bits
        c = t.codes.astype(np.int64).reshape(t.scales.shape + (self.block_size,))
        e = t.scales.astype(np.int64) - self.bias - m + 1
        v = np.ldexp((c & ((1 << m) - 1)).astype(np.float64), e[..., None])
        return np.where((c >> m) & 1, -v, v).reshape(t.codes.shape)


MSFP12 = MSFP(man_bits=3)
MSFP16 = MSFP(man_bits=7)


class Flexpoint(Scheme):
    """Flexpoint flexN+E: ``man_bits``-bit two's complement mantissas sharing one ``exp_bits``-bit exponent
    per tensor (flex16+5: 16 and 5).

    An element stands for ``m * 2**(e - (man_bits - 1))``: the mantissa read as a fraction in [-1, 1) times
    ``2**e``, with ``e`` a two's complement ``exp_bits``-bit integer (-16..15 for 5 bits). This placement of the
    exponent range is our convention (the paper leaves it open); it puts tensor maxima from 2**-16 to 2**15 at
    full precision.

    Encoding with exponent ``e``: ``m = round(x * 2**(man_bits - 1 - e))`` (RNE by default), saturated to
    the mantissa's range (an *overflow*). NaN and infinities have no encoding: ValueError. The exponent is
    chosen ahead of time by :class:`Autoflex`, or given, or by default the best one for ``x`` itself
    (:meth:`best_exponent`).

    Layout: ``codes`` the mantissas (int16 for 16 bits), ``scales`` the exponent (0-d int64 array).
    """

    __slots__ = ("name", "man_bits", "exp_bits", "mantissa", "kind")

    def __init__(self, *, man_bits=16, exp_bits=5, name=None):
        man_bits = check_int("man_bits", man_bits, 2, 32)
        exp_bits = check_int("exp_bits", exp_bits, 2, 8)
        self._init(name=name or f"flex{man_bits}+{exp_bits}", man_bits=man_bits, exp_bits=exp_bits,
                   mantissa=Integer(bits=man_bits), kind="flex")

    def _key(self):
        return (self.man_bits, self.exp_bits)

    def __repr__(self):
        return f"Flexpoint(name={self.name!r}, man_bits={self.man_bits}, exp_bits={self.exp_bits})"

    @property
    def emin(self):
        return -(1 << (self.exp_bits - 1))

    @property
    def emax(self):
        return (1 << (self.exp_bits - 1)) - 1

    def largest(self, exponent):
        """The largest value encodable with ``exponent`` (``max_int * 2**(exponent - man_bits + 1)``)."""
        return math.ldexp(self.mantissa.max_int, exponent - self.man_bits + 1)

    def best_exponent(self, amax):
        """The smallest exponent whose largest value is at least ``amax`` (clamped to ``emin..emax``)."""
        amax = float(amax)
        if not math.isfinite(amax) or amax < 0:
            raise ValueError(f"amax must be a finite number >= 0, not {amax!r}")
        if amax == 0:
            return self.emin
        e = math.frexp(amax)[1]  # amax in [2**(e-1), 2**e): largest(e) = (1 - 2**(1-man_bits)) * 2**e
        e += amax > self.largest(e)  # so the exponent is e, or e + 1 when amax is within 2**-man_bits of 2**e
        return min(max(e, self.emin), self.emax)

    def _encode(self, x, exponent, rounding):
        check_rounding(rounding)
        x = np.asarray(x, dtype=np.float64)
        check_finite(x, self.name)
        if exponent is None:
            exponent = self.best_exponent(np.max(np.abs(x), initial=0.0))
        exponent = check_int("exponent", exponent, self.emin, self.emax)
        bits, flags = self.mantissa.encode_flags(np.ldexp(x, self.man_bits - 1 - exponent), rounding, True)
        codes = bits.astype(np.int64)
        codes = np.where(codes >> (self.man_bits - 1), codes - (1 << self.man_bits), codes)
        dt = np.dtype(f"int{max(8, 1 << (self.man_bits - 1).bit_length())}")
        t = BlockTensor(self, codes.astype(dt), np.array(exponent, dtype=np.int64))
        return t, bool(np.any(flags & NV))

    def quantize(self, x, exponent=None, rounding="rne"):
        """Encode ``x`` (any shape) with ``exponent`` (default: :meth:`best_exponent` of ``max|x|``)."""
        return self._encode(x, exponent, rounding)[0]

    def dequantize(self, t):
        """float64 values ``m * 2**(e - man_bits + 1)`` (exact)."""
        self._check(t)
        return np.ldexp(t.codes.astype(np.float64), int(t.scales) - self.man_bits + 1)


FLEX16_5 = Flexpoint(man_bits=16, exp_bits=5)


class Autoflex:
    """Flexpoint's exponent management: chooses a tensor's exponent *before* seeing it, from the history of
    that tensor's maxima (Koster et al. 2017, section 3.2).

    Parameters
    ----------
    fmt : Flexpoint
    history : int
        How many recent maxima are kept (the paper's dequeue length).
    kappa : float
        Standard deviations of the recent maxima added to their maximum.
    margin : float
        Multiplies the prediction (>= 1: extra headroom).

    The rule, precisely. The statistic of a tensor is ``max|x|`` of the values presented (exact). For each
    tensor, in order:

    1. Before any statistic exists (initialization), the tensor is encoded with its own best exponent: what the
       paper's initialization, retrying with larger exponents until nothing overflows, converges to.
    2. Otherwise the exponent is ``fmt.best_exponent(P)`` with the predicted maximum
       ``P = margin * (max(G) + kappa * std(G))`` over the recorded maxima ``G`` (population standard
       deviation, float64), plus 1 if the previous tensor overflowed ("the exponent is increased by one
       additional bit"), clamped to the format's range.
    3. The tensor is encoded; its statistic is appended to ``G`` (the oldest dropped beyond ``history``). If
       any element saturated (an overflow), ``G`` is reset to hold only this statistic and ``overflows``
       counts it.
    """

    def __init__(self, fmt=FLEX16_5, *, history=16, kappa=3.0, margin=1.0):
        if not isinstance(fmt, Flexpoint):
            raise ValueError(f"fmt must be a Flexpoint format, not {fmt!r}")
        history = check_int("history", history, 1, 1 << 20)
        for pname, v, lo in (("kappa", kappa, 0.0), ("margin", margin, 1.0)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < lo:
                raise ValueError(f"{pname} must be a finite number >= {lo}, not {v!r}")
        self.fmt, self.kappa, self.margin = fmt, float(kappa), float(margin)
        self.maxima = collections.deque(maxlen=history)
        self.overflows = 0
        self._bump = 0

    def predict(self):
        """The exponent the next tensor will get (None before the first tensor)."""
        if not self.maxima:
            return None
        g = np.array(self.maxima, dtype=np.float64)
        p = self.margin * (float(np.max(g)) + self.kappa * float(np.std(g)))
        return min(self.fmt.best_exponent(p) + self._bump, self.fmt.emax)

    def quantize(self, x, rounding="rne"):
        """Encode the next value of the tensor with the predicted exponent, then update the statistics."""
        x = np.asarray(x, dtype=np.float64)
        check_finite(x, self.fmt.name)
        stat = float(np.max(np.abs(x), initial=0.0))
        t, overflow = self.fmt._encode(x, self.predict(), rounding)
        self.maxima.append(stat)
        if overflow:
            self.overflows += 1
            self.maxima.clear()
            self.maxima.append(stat)
        self._bump = int(overflow)
        return t


def msfp_encode_bits(scheme, bits, src="fp32"):
    """``scheme.quantize`` of ``src`` bit patterns (bf16 or fp32), with non-finite blocks defined, as the
    ``bfp-encode`` unit computes it. Returns ``(codes, scales)`` arrays (the BlockTensor's layout).

    Finite blocks: exactly ``scheme.quantize(src.decode(bits))``. From bf16 or fp32 the shared biased
    exponent is then simply the largest exponent field of the block (subnormals and zeros count as 0: their
    ``floor(log2)`` is below -126 and clamps to -127), so 0xFF never occurs. A block holding a NaN or an
    infinity gets the scale 0xFF (E = 128) as a marker, and each element the code ``s << man_bits | M`` with
    its pattern's sign bit and ``M = 2**man_bits - 1`` for an infinity, 0 otherwise (NaN and finite
    elements). ``scheme.dequantize`` knows no marker: read 0xFF as "this block was not finite".
    """
    from ..formats.catalog import lookup
    if not isinstance(scheme, MSFP):
        raise ValueError(f"scheme must be an MSFP scheme, not {scheme!r}")
    fmt = lookup(src)
    if fmt.name not in ("bf16", "fp32"):
        raise ValueError(f"src must be bf16 or fp32, not {fmt.name!r}")
    b = np.asarray(bits).astype(np.uint64)
    x = np.asarray(fmt.decode(b), dtype=np.float64)
    xb = as_blocks(x, scheme.block_size, scheme.name)
    bad = ~np.all(np.isfinite(xb), axis=-1)
    t = scheme.quantize(np.where(bad[..., None], 0.0, xb).reshape(x.shape))
    m = scheme.man_bits
    sign = (b >> np.uint64(fmt.width - 1)).astype(np.int64)
    marked = (sign << m) | np.where(np.isinf(x), (1 << m) - 1, 0)
    bad_e = np.repeat(bad, scheme.block_size, axis=-1).reshape(x.shape)
    codes = np.where(bad_e, marked, t.codes).astype(t.codes.dtype)
    scales = np.where(bad, 0xFF, t.scales).astype(np.uint8)
    return codes, scales
