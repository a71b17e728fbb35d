"""NVFP4 (NVIDIA Blackwell-class parts): 16 FP4 E2M1 elements per block, a UE4M3 scale per block, one fp32
scale per tensor."""

import dataclasses
from fractions import Fraction

import numpy as np

from .common import BlockTensor, Scheme, as_blocks, encode_ratio
from ..formats.catalog import lookup

__all__ = ["NVFP4", "NVFP4Tensor", "NVFP4_SCALE_ROUNDING"]

#: Rounding of the block scale to UE4M3: "rne" (a cast to float8_e4m3fn, as NVIDIA's ModelOpt and
#: TransformerEngine quantize it) or "rup" (cuDNN's block_scale_quantize: ``quantize_round_up``).
NVFP4_SCALE_ROUNDING = ("rne", "rup")
E4M3_NAN = 0x7F


@dataclasses.dataclass(frozen=True, eq=False)
class NVFP4Tensor(BlockTensor):
    """A :class:`BlockTensor` with NVFP4's per-tensor scale ``tensor_scale`` (a positive finite fp32 value)."""

    tensor_scale: float = 1.0


class NVFP4(Scheme):
    """NVFP4: ``value = e2m1 * ue4m3 * tensor_scale``.

    Quantization (NVIDIA's recipe, computed exactly):

    - the per-tensor scale ``s`` (the decode scale) is given, or ``amax_tensor / (6 * 448)`` rounded to fp32
      (RNE) from the largest finite magnitude, 1.0 for a tensor of zeros; it must be a positive finite fp32
      value;
    - the block scale code is ``amax_block / (6 * s)`` (exact quotient) rounded to E4M3 by ``scale_rounding``
      (:data:`NVFP4_SCALE_ROUNDING`) and saturated at 448, sign bit 0; a block that rounds to scale 0 (all
      zero, or tiny against the tensor) gets code 0 and elements +-0 (the signs kept);
    - each element is ``v / (S * s)`` (exact) rounded to E2M1 with ties to even and clamped to +-6.
    - a block holding NaN or +-inf gets the E4M3 NaN code 0x7F as its scale and zero element codes: it
      decodes to NaN throughout (as MX's NaN blocks).

    Layout of the :class:`NVFP4Tensor`: ``codes`` E2M1 patterns (uint8, low nibble; ``golden.block.pack_int4``
    packs two per byte, the even element low, as NVIDIA stores them), ``scales`` E4M3 patterns (uint8),
    ``tensor_scale`` a Python float.
    """

    __slots__ = ("name", "block_size", "elem", "scale_format", "kind")

    def __init__(self, *, name="nvfp4"):
        self._init(name=name, block_size=16, elem=lookup("fp4_e2m1"), scale_format=lookup("fp8_e4m3"),
                   kind="nvfp4")

    def _key(self):
        return ()

    def __repr__(self):
        return f"NVFP4(name={self.name!r})"

    @staticmethod
    def default_tensor_scale(x):
        """``amax / 2688`` rounded to fp32 (1.0 when every finite value is 0)."""
        x = np.asarray(x, dtype=np.float64)
        amax = float(np.max(np.abs(np.where(np.isfinite(x), x, 0.0)), initial=0.0))
        if amax == 0:
            return 1.0
        fp32 = lookup("fp32")
        return float(fp32.decode(encode_ratio(fp32, np.array([amax]), np.array([6.0 * 448]), saturate=True))[0])

    def block_scale_codes(self, amax, tensor_scale, scale_rounding="rne"):
        """E4M3 codes of ``amax / (6 * tensor_scale)`` (``amax`` finite, >= 0), rounded by ``scale_rounding``."""
        e4m3 = self.scale_format
        amax = np.asarray(amax, dtype=np.float64)
        den = np.full(amax.shape, 6.0 * tensor_scale)  # exact: 6 * a 24-bit significand
        codes = np.asarray(encode_ratio(e4m3, amax, den, saturate=True)).astype(np.int64)
        if scale_rounding == "rup":
            q = amax / den
            up = e4m3.decode(codes) < q  # the nearest one lies below the float64 quotient: one code up
            for k in zip(*np.nonzero(~up & (e4m3.decode(codes) == q))):  # equal: is the exact quotient above?
                up[k] = Fraction(float(amax[k])) / Fraction(float(den[k])) > Fraction(float(q[k]))
            codes = np.where(up & (codes < e4m3.max_biased << e4m3.man_bits | e4m3.max_frac), codes + 1, codes)
        return codes.astype(np.uint8)

    def quantize(self, x, tensor_scale=None, scale_rounding="rne"):
        """Encode the last axis of ``x`` (a multiple of 16 long) as an :class:`NVFP4Tensor`."""
        if scale_rounding not in NVFP4_SCALE_ROUNDING:
            raise ValueError(f"scale_rounding must be one of {', '.join(NVFP4_SCALE_ROUNDING)}, "
                             f"not {scale_rounding!r}")
        s = self.default_tensor_scale(x) if tensor_scale is None else self.check_tensor_scale(tensor_scale)
        xb = as_blocks(x, self.block_size, self.name)
        finite = np.all(np.isfinite(xb), axis=-1)
        xf = np.where(np.isfinite(xb), xb, 0.0)
        amax = np.max(np.abs(xf), axis=-1)
        scales = self.block_scale_codes(amax, s, scale_rounding)
        d = self.scale_format.decode(scales) * s  # exact: 4 x 24 significant bits
        dd = np.broadcast_to(np.where(d == 0, 1.0, d)[..., None], xb.shape)
        codes = np.asarray(encode_ratio(self.elem, xf, dd, saturate=True)).astype(np.uint8)
        signed_zero = np.where(np.signbit(xf), 0x8, 0x0).astype(np.uint8)
        codes = np.where((d == 0)[..., None], signed_zero, codes)
        codes = np.where(finite[..., None], codes, 0).astype(np.uint8)
        scales = np.where(finite, scales, E4M3_NAN).astype(np.uint8)
        return NVFP4Tensor(self, codes.reshape(np.shape(x)), scales, tensor_scale=s)

    @staticmethod
    def check_tensor_scale(s):
        fp32 = lookup("fp32")
        try:
            v = float(s)
        except (TypeError, ValueError):
            raise ValueError(f"tensor_scale must be a positive finite fp32 value, not {s!r}") from None
        if not (np.isfinite(v) and v > 0 and float(fp32.decode(fp32.encode(np.array([v])))[0]) == v):
            raise ValueError(f"tensor_scale must be a positive finite fp32 value, not {s!r}")
        return v

    def dequantize(self, t):
        """float64 values ``e2m1 * ue4m3 * tensor_scale`` (exact); NaN throughout a block whose scale is NaN."""
        self._check(t)
        x = self.scale_format.decode(t.scales) * t.tensor_scale
        v = self.elem.decode(t.codes).reshape(t.scales.shape + (self.block_size,))
        return (v * x[..., None]).reshape(t.codes.shape)
