"""Block-scaled formats: a scale shared by a block of elements (numpy golden models).

Every scheme is an immutable object with ``quantize(x) -> BlockTensor`` and ``dequantize(t) -> float64``;
blocks run along the last axis, whose length must be a multiple of the block size (ValueError otherwise).

==================  =====================================  ===============================================
scheme              codes (one per element)                scales (one per block)
==================  =====================================  ===============================================
MX (mxfp8, ...)     element bit patterns, uint8            E8M0 patterns, uint8 (0xFF: NaN block)
MSFP12 / MSFP16     sign << man_bits | magnitude, uint8     biased shared exponent E + 127, uint8
Flexpoint           int16 mantissas                        one exponent per tensor, 0-d int64
W4A16 (GroupInt)    unsigned codes, uint8                  float16 (+ uint8 zero points if asymmetric)
q4f16 / q3f16       unsigned codes 0..2K, uint8            float16
NF4 / FP4 (Absmax)  4-bit codes, uint8                     float32 absmax scale
==================  =====================================  ===============================================

Named schemes: :data:`SCHEMES` and :func:`lookup`. The conventions of each (rounding, saturation, all-zero
blocks, NaN) are in its class docstring and in docs/quant.md.
"""

from .bfp import FLEX16_5, MSFP12, MSFP16, Autoflex, Flexpoint, MSFP
from .common import BlockTensor, Scheme, encode_ratio
from .mx import MX, SCALE_MODES, dequantize_to, MXFP4, MXFP6_E2M3, MXFP6_E3M2, MXFP8_E4M3, MXFP8_E5M2, MXINT8
from .nvfp4 import NVFP4, NVFP4Tensor
from .weights import (FP4_B64, NF4_B64, Q3F16, Q4F16, W4A16_G32, W4A16_G64, W4A16_G128, W4A16_G128_ASYM,
                            Absmax, GroupInt, MLCGroup, pack_int4, pack_words, unpack_int4, unpack_words)

__all__ = ["FLEX16_5", "FP4_B64", "MSFP12", "MSFP16", "MXFP4", "MXFP6_E2M3", "MXFP6_E3M2", "MXFP8_E4M3",
           "MXFP8_E5M2", "MXINT8", "NF4_B64", "Q3F16", "Q4F16", "SCHEMES", "W4A16_G128", "W4A16_G128_ASYM",
           "W4A16_G32", "W4A16_G64", "Absmax", "Autoflex", "BlockTensor", "Flexpoint", "GroupInt", "MLCGroup",
           "MSFP", "MX", "NVFP4", "NVFP4Tensor", "NVFP4_SCHEME", "SCALE_MODES", "Scheme", "dequantize", "dequantize_to", "encode_ratio", "lookup", "pack_int4", "pack_words",
           "quantize", "unpack_int4", "unpack_words"]

SCHEMES = {s.name: s for s in (
    MXFP8_E4M3, MXFP8_E5M2, MXFP6_E2M3, MXFP6_E3M2, MXFP4, MXINT8, MSFP12, MSFP16, FLEX16_5,
    W4A16_G32, W4A16_G64, W4A16_G128, W4A16_G128_ASYM, Q4F16, Q3F16, NF4_B64, FP4_B64,
)}
NVFP4_SCHEME = SCHEMES["nvfp4"] = NVFP4()


def lookup(name):
    """The named scheme (a scheme object is returned unchanged)."""
    if isinstance(name, Scheme):
        return name
    try:
        return SCHEMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown block scheme {name!r}; known schemes: {', '.join(SCHEMES)}") from None


def quantize(x, scheme, **kwargs):
    """``lookup(scheme).quantize(x, **kwargs)``."""
    return lookup(scheme).quantize(x, **kwargs)


def dequantize(t):
    """float64 values of a :class:`BlockTensor`, decoded by the scheme that made it."""
    if not isinstance(t, BlockTensor):
        raise ValueError(f"dequantize needs a BlockTensor, not {type(t).__name__}")
    return t.scheme.dequantize(t)
