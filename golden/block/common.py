"""What every block-scaled scheme shares: the encoded container, the split into blocks, exact ratio rounding."""

import dataclasses
from fractions import Fraction

import numpy as np

from ..formats.rounding import MODES
from ..formats.frozen import Frozen

__all__ = ["BlockTensor", "Scheme", "as_blocks", "encode_ratio"]


@dataclasses.dataclass(frozen=True, eq=False)
class BlockTensor:
    """A tensor encoded by a block scheme.

    Members
    -------
    scheme : Scheme
        The scheme that made it (and decodes it: ``scheme.dequantize(t)``).
    codes : numpy array, the shape of the original tensor
        One element code per value, unpacked (see the scheme for its dtype and meaning; packing into bytes or
        words is a separate step: ``golden.block.pack_int4``, ``pack_words``).
    scales : numpy array
        One scale per block: shape ``codes.shape[:-1] + (codes.shape[-1] // block_size,)``; blocks run along
        the last axis. Flexpoint's single exponent is a 0-d array.
    zero_points : numpy array or None
        One per block (asymmetric schemes), same shape as ``scales``.
    """

    scheme: object
    codes: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray = None

    @property
    def shape(self):
        return self.codes.shape

    def dequantize(self):
        """float64 values of the tensor (``self.scheme.dequantize(self)``)."""
        return self.scheme.dequantize(self)


class Scheme(Frozen):
    """Base of the block schemes: immutable, validated objects with ``quantize`` and ``dequantize``."""

    __slots__ = ()
    name: str


    def fake_quantize(self, x, **kwargs):
        """``dequantize(quantize(x))``: the float64 values ``x`` is quantized to."""
        return self.dequantize(self.quantize(x, **kwargs))

    def _check(self, t):
        if not isinstance(t, BlockTensor) or t.scheme != self:
            made = t.scheme.name if isinstance(t, BlockTensor) else type(t).__name__
            raise ValueError(f"{self.name} decodes BlockTensors it made, not one from {made}")
        bs = getattr(self, "block_size", None)
        if bs is not None:
            want = t.codes.shape[:-1] + (t.codes.shape[-1] // bs,) if t.codes.ndim else None
            if t.codes.ndim == 0 or t.codes.shape[-1] % bs or t.scales.shape != want:
                raise ValueError(f"{self.name}: codes of shape {t.codes.shape} need scales of shape {want}, "
                                 f"not {t.scales.shape}")
        return t


def check_block_size(block_size):
    from ..validate import check_int
    return check_int("block_size", block_size, 1, 1 << 16)


def as_blocks(x, block_size, name):
    """float64 ``x`` reshaped to ``(..., blocks, block_size)``; ValueError unless the last axis fits."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] % block_size:
        raise ValueError(f"{name} needs an array whose last axis is a multiple of its block size {block_size}, "
                         f"not shape {x.shape}")
    return x.reshape(x.shape[:-1] + (x.shape[-1] // block_size, block_size))


def check_finite(x, name):
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has no encoding for NaN or infinity: x must be finite")


def check_rounding(rounding, allowed=MODES[:5]):
    if rounding not in allowed:
        raise ValueError(f"rounding must be one of {', '.join(allowed)}, not {rounding!r}")
    return rounding


_BOUNDARIES = {}


def _boundaries(fmt):
    """Midpoints between neighbouring finite values of a narrow format: where nearest rounding changes."""
    b = _BOUNDARIES.get(fmt)
    if b is None:
        v = np.unique(fmt.decode(fmt.all_bits()))
        v = v[np.isfinite(v)]
        b = _BOUNDARIES[fmt] = (v[1:] + v[:-1]) / 2
    return b


def encode_ratio(fmt, num, den, saturate=True):
    """Bit patterns of ``fmt`` nearest to the exact quotient ``num / den`` (float64s, ``den`` > 0 finite).

    The float64 quotient is correctly rounded, so encoding it is exact unless it lands exactly on a rounding
    boundary of ``fmt`` (a midpoint) that the exact quotient is not on: there the exact quotient decides, by
    nudging the float64 one unit toward it (no other boundary lies that close).
    """
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    with np.errstate(over="ignore", under="ignore"):
        q = np.asarray(num / den)
    bits = np.asarray(fmt.encode(q, "rne", saturate))
    if fmt.width <= 16:
        on_mid = np.isin(q, _boundaries(fmt))
    else:
        lo, hi = fmt.decode(fmt.encode(q, "rdn", True)), fmt.decode(fmt.encode(q, "rup", True))
        on_mid = (lo != hi) & (q == (lo + hi) / 2)
    for k in zip(*np.nonzero(np.atleast_1d(on_mid))):
        k = k if q.ndim else ()
        exact = Fraction(float(num[k])) / Fraction(float(den[k]))
        if exact != Fraction(float(q[k])):
            nudged = np.nextafter(q[k], np.inf if exact > Fraction(float(q[k])) else -np.inf)
            bits[k] = fmt.encode(np.array([nudged]), "rne", saturate)[0]
    return bits
