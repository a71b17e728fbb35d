"""OCP Microscaling (MX v1.0): blocks of 32 elements sharing one E8M0 power-of-two scale."""

import numpy as np

from .common import BlockTensor, Scheme, as_blocks, check_block_size, check_rounding
from ..formats.catalog import lookup

__all__ = ["MX", "SCALE_MODES", "dequantize_to", "MXFP4", "MXFP6_E2M3", "MXFP6_E3M2", "MXFP8_E4M3", "MXFP8_E5M2", "MXINT8"]

ELEMENTS = ("fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "int8")

#: How the shared exponent is chosen from the block's largest magnitude amax. "floor" is MX v1.0 section 6.3;
#: the others are torchao's ``ScaleCalculationMode`` (torchao/prototype/mx_formats), computed here exactly:
#:
#: - "floor": ``floor(log2(amax)) - emax_elem`` (the spec; amax / X may exceed the element's max: it clamps);
#: - "ceil": ``ceil(log2(amax)) - emax_elem`` (torchao CEIL: one more when amax is not a power of two);
#: - "even": ``floor(log2(amax')) - emax_elem`` with amax' = amax rounded to the element's fraction bits, ties
#:   away from zero (torchao EVEN: the exponent goes up when that rounding carries into the next binade,
#:   i.e. when amax >= 2**f * (2 - 2**-(m + 1)), m the element's fraction bits, 6 for INT8);
#: - "rceil": ``ceil(log2(amax / max_elem))``, the smallest X with amax / X <= max_elem, so nothing clamps
#:   (torchao RCEIL, NVIDIA's cuBLAS/cuDNN MXFP8 recipe "round amax / max up to a power of two").
SCALE_MODES = ("floor", "ceil", "even", "rceil")


class MX(Scheme):
    """An MX format: ``block_size`` elements of format ``element`` sharing an E8M0 scale X.

    Parameters
    ----------
    element : str
        "fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1" or "int8" (two's complement with an
        implicit scale of 2**-6, so an element stands for ``q * 2**-6``).
    block_size : int
        32 in MX v1.0 (other sizes for experiments).
    name : str, optional

    Quantization (MX v1.0 section 6.3, ``scale_mode="floor"``): ``X = 2**(floor(log2(amax)) - emax_elem)`` with ``amax`` the block's
    largest magnitude, computed exactly, and ``emax_elem`` the exponent of the element format's largest normal
    (E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2, INT8 0); each element is ``v / X`` (exact: X is a power of two)
    rounded by ``rounding`` (RNE by default) and clamped to the element format's largest magnitude (INT8:
    +-127, so -128 is never produced, as Microsoft's microxcaling library does; it decodes as -2).

    ``scale_mode`` picks another rule for the shared exponent (torchao's CEIL, EVEN, RCEIL: :data:`SCALE_MODES`).

    Edges: the shared exponent is clamped below at -127 (E8M0's smallest); an all-zero block takes that
    smallest scale (pattern 0x00) and zero elements (signs kept). A block holding NaN or +-inf, or whose shared
    exponent exceeds 127 (only from float64 inputs beyond fp32's range), gets the NaN scale 0xFF and zero
    element codes: it decodes to NaN throughout, as in microxcaling.

    Layout of the :class:`BlockTensor`: ``codes`` are the element bit patterns (uint8, one per element: FP6 in
    the low 6 bits, FP4 in the low 4, INT8 as its two's complement byte); ``scales`` are E8M0 patterns (uint8).
    """

    __slots__ = ("name", "element", "block_size", "elem", "scale_format", "emax_elem", "kind")

    def __init__(self, *, element, block_size=32, name=None):
        if element not in ELEMENTS:
            raise ValueError(f"element must be one of {', '.join(ELEMENTS)}, not {element!r}")
        block_size = check_block_size(block_size)
        elem = lookup(element)
        emax = 0 if elem.kind == "int" else elem.emax
        if name is None:
            name = ("mx" + element.replace("_e2m1", "") if element != "int8" else "mxint8") + (
                "" if block_size == 32 else f"_k{block_size}")
        self._init(name=name, element=element, block_size=block_size, elem=elem, scale_format=lookup("e8m0"),
                   emax_elem=emax, kind="mx")

    def _key(self):
        return (self.element, self.block_size)

    def __repr__(self):
        return f"MX(name={self.name!r}, element={self.element!r}, block_size={self.block_size})"

    @property
    def int_frac_bits(self):
        """INT8 elements: fraction bits of the implicit scale (6: q * 2**-6)."""
        return self.elem.bits - 2 if self.elem.kind == "int" else 0

    @property
    def max_elem(self):
        """The element format's largest magnitude as the element stands for it (INT8: 127 * 2**-6)."""
        if self.elem.kind == "int":
            return float(np.ldexp(self.elem.max_int, -self.int_frac_bits))
        return float(self.elem.max)

    @property
    def elem_frac_bits(self):
        """Fraction bits of an element (INT8: 6, its implicit binary point)."""
        return self.int_frac_bits if self.elem.kind == "int" else self.elem.man_bits

    def shared_exponent(self, amax, scale_mode="floor"):
        """The unclamped shared exponent of blocks whose largest finite magnitude is ``amax`` (> 0, float64),
        by ``scale_mode`` (one of :data:`SCALE_MODES`), as an int64 array."""
        amax = np.asarray(amax, dtype=np.float64)
        frac, e = np.frexp(amax)  # amax = frac * 2**e, frac in [0.5, 1): floor(log2(amax)) = e - 1
        floor = e.astype(np.int64) - 1
        sig = 2 * frac  # amax / 2**floor, in [1, 2)
        if scale_mode == "floor":
            up = np.zeros(amax.shape, bool)
        elif scale_mode == "ceil":
            up = sig != 1
        elif scale_mode == "even":
            up = sig >= 2 - np.ldexp(1.0, -(self.elem_frac_bits + 1))
        else:  # rceil: amax <= max_elem * 2**k, max_elem = top * 2**emax_elem with top in [1, 2)
            up = sig > self.max_elem / 2.0 ** self.emax_elem
        return floor + up - self.emax_elem

    def quantize(self, x, rounding="rne", scale_mode="floor"):
        """Encode the last axis of ``x`` (a multiple of ``block_size`` long) as a :class:`BlockTensor`; the
        shared exponent by ``scale_mode`` (:data:`SCALE_MODES`, default the spec's "floor")."""
        check_rounding(rounding)
        if scale_mode not in SCALE_MODES:
            raise ValueError(f"scale_mode must be one of {', '.join(SCALE_MODES)}, not {scale_mode!r}")
        xb = as_blocks(x, self.block_size, self.name)
        e8m0 = self.scale_format
        emin, emax = -e8m0.bias, e8m0.max_pattern - e8m0.bias
        finite = np.all(np.isfinite(xb), axis=-1)
        amax = np.max(np.abs(np.where(np.isfinite(xb), xb, 0.0)), axis=-1, initial=0.0)
        shared = np.where(amax == 0, emin, self.shared_exponent(np.where(amax == 0, 1.0, amax), scale_mode))
        shared = np.maximum(shared, emin)
        nan = ~finite | (shared > emax)
        shared = np.where(nan, 0, shared).astype(np.int64)
        v = np.ldexp(np.where(np.isfinite(xb), xb, 0.0), -shared[..., None])
        if self.elem.kind == "int":
            codes = self.elem.encode(np.ldexp(v, self.int_frac_bits), rounding, saturate=True)
            lowest = 1 << (self.elem.bits - 1)  # the pattern of -2**(bits-1): clamp to the symmetric range
            codes = np.where(codes == lowest, lowest + 1, codes)
        else:
            codes = self.elem.encode(v, rounding, saturate=True)
        codes = np.where(nan[..., None], 0, codes).astype(np.uint8)
        scales = e8m0.encode(np.ldexp(1.0, shared), "rne", saturate=False)
        scales = np.where(nan, e8m0.encode(np.array([np.nan]))[0], scales).astype(np.uint8)
        return BlockTensor(self, codes.reshape(np.shape(x)), scales)

    def dequantize(self, t):
        """float64 values: ``X * element`` (exact); NaN throughout a block whose scale is NaN."""
        self._check(t)
        x = self.scale_format.decode(t.scales)
        if self.elem.kind == "int":
            v = np.ldexp(self.elem.decode(t.codes), -self.int_frac_bits)
        else:
            v = self.elem.decode(t.codes)
        vb = v.reshape(t.scales.shape + (self.block_size,))
        return (vb * x[..., None]).reshape(t.codes.shape)


MXFP8_E4M3 = MX(element="fp8_e4m3")
MXFP8_E5M2 = MX(element="fp8_e5m2")
MXFP6_E2M3 = MX(element="fp6_e2m3")
MXFP6_E3M2 = MX(element="fp6_e3m2")
MXFP4 = MX(element="fp4_e2m1")
MXINT8 = MX(element="int8")


def dequantize_to(t, dst):
    """Bit patterns of ``t``'s values (any block scheme's tensor, e.g. MX or NVFP4) in the IEEE float ``dst``
    ("fp32" or "bf16"): the exact products rounded once, ties to even, with ``dst``'s own overflow (to +-inf)
    and underflow (to subnormals, then +-0) rules; every NaN (a NaN scale, a NaN element) is ``dst``'s
    positive quiet NaN (0x7FC00000, 0x7FC0), whatever its source. What the mx-dequantize unit produces."""
    dst = lookup(dst)
    v = t.scheme.dequantize(t)
    with np.errstate(over="ignore"):
        bits = np.asarray(dst.encode(v, "rne"))
    qnan = ((1 << dst.exp_bits) - 1) << dst.man_bits | 1 << (dst.man_bits - 1)
    return np.where(np.isnan(v), qnan, bits).astype(bits.dtype)
