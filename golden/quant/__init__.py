"""Affine integer quantization and integer-only requantization (Jacob et al. 2018; gemmlowp / TFLite).

``r = S * (q - Z)`` (scale S > 0, zero point Z). A quantized matrix product is rescaled by ``M = S1 S2 / S3``,
held as a Q31 integer ``M0`` and a shift: ``M = M0 * 2**(shift - 31)``. Integer steps are exact on int32
semantics (computed in int64); float steps are correctly rounded float64 operations, and a quotient ``r / S``
is rounded to an integer exactly (:func:`round_quotient`). Conventions, stated once:

- ``quantize`` rounds half to even (``rounding="rne"``, as ONNX QuantizeLinear and PyTorch), then saturates
  to the integer range; NaN gives the zero point, +-inf the range's ends.
- ``requantize`` names its rounding: ``"gemmlowp"`` (TFLite's default: two roundings, SRDHM ties toward +inf,
  then RoundingDivideByPOT ties away from zero), ``"single"`` (TFLite's single-rounding build: one rounding,
  ties toward +inf) and ``"float-rne"`` (the exact product rounded half to even, ONNX-style).
- An int32 intermediate that overflows (``acc * 2**shift`` in "gemmlowp", the multiplier's result in
  "single", both possible only when ``shift > 0``) wraps modulo 2**32 by default, as TFLite's kernels compiled
  for real hardware do; ``overflow="saturate"`` clamps it to int32 instead. Adding the zero point and clamping
  to ``[qmin, qmax]`` is exact (no int32 wrap there).
"""

from .affine import (ARITHMETICS, ROUNDINGS, choose_qparams, dequantize, fake_quantize, int_format, quantize,
                     round_quotient)
from .fixedpoint import (INT32_MAX, INT32_MIN, MODES, quantize_multiplier, real_multiplier, requantize,
                         rounding_divide_by_pot, srdhm)
from .matmul import qmatmul, qmatmul_acc

__all__ = ["ARITHMETICS", "INT32_MAX", "INT32_MIN", "MODES", "ROUNDINGS", "choose_qparams", "dequantize",
           "fake_quantize", "int_format", "qmatmul", "qmatmul_acc", "quantize", "quantize_multiplier", "real_multiplier",
           "requantize", "round_quotient", "rounding_divide_by_pot", "srdhm"]
