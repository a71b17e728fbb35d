"""The integer parameters of a quantized matrix product, derived from its float quantization parameters as an
ONNX model states them (QLinearMatMul, or QuantizeLinear -> MatMulInteger -> DequantizeLinear -> QuantizeLinear).

numpy only: reading the model file is the CLI's (``fmtforge.rtl.cli.onnx_qmac``); here the scales and zero
points are plain arrays. The rescale ``M = acc_scale / y_scale`` (QLinearMatMul: ``acc_scale = a_scale *
b_scale``) is computed in float64 from the models' float32 values, as TFLite computes its real multiplier in
double, and held as ``M0 * 2**(shift - 31)`` by :func:`quantize_multiplier`: one per tensor, or one per output
column when ``b_scale`` (or the dequantize scale) is a vector.
"""

import numpy as np

from .affine import int_format
from .fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier

__all__ = ["QMAC_KEYS", "qmac_params"]

#: The keys of :func:`qmac_params`' integer parameters (lists when per channel), in the JSON file's order.
QMAC_KEYS = ("za", "zw", "z3", "qmin", "qmax", "m0", "shift", "bias")


def _scalar_or_columns(name, value, columns):
    """``value`` (a scalar or a 1-d array of one per output column) as a 1-d array of length ``columns``."""
    v = np.asarray(value)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] not in (1, columns)):
        raise ValueError(f"{name} must be a scalar or hold one value per output column ({columns}), "
                         f"not shape {v.shape}")
    return np.broadcast_to(v.reshape(-1), (columns,)) if v.ndim else np.full(columns, v[()])


def _zero_point(name, value, dtype, columns):
    fmt = int_format(dtype)
    z = _scalar_or_columns(name, value, columns).astype(np.int64)
    if np.any((z < fmt.min_int) | (z > fmt.max_int)):
        raise ValueError(f"{name} must be {dtype} values, in {fmt.min_int}..{fmt.max_int}, not {z.tolist()}")
    return z


def qmac_params(*, a_zero, b_zero, acc_scale, y_scale, y_zero, a_type, b_type, y_type, columns, acc_zero=0):
    """The qmac's integer parameters of ``q3 = clamp(round(acc * acc_scale / y_scale) + y_zero, qmin, qmax)``,
    ``acc = sum_j (a_j - a_zero)(b_jk - b_zero_k) - acc_zero_k``.

    Parameters
    ----------
    a_zero, y_zero : scalar ints; b_zero : scalar or one per column
        Zero points of the activations (``a_type``), the weights (``b_type``) and the output (``y_type``).
    acc_scale, y_scale : positive floats (float32 in a model); ``acc_scale`` scalar or one per column
        The accumulator's real scale (``a_scale * b_scale``) and the output's.
    acc_zero : int or one per column
        The accumulator's zero point (a DequantizeLinear of the int32 product may have one): it becomes
        ``bias = -acc_zero``.
    columns : int
        Output columns (channels).

    Returns
    -------
    dict with ``per_channel`` (bool: any parameter differs between columns) and the keys :data:`QMAC_KEYS`:
    Python ints when per tensor, lists of ``columns`` ints when per channel. ``za``, ``z3``, ``qmin``,
    ``qmax`` are always per tensor; ``zw``, ``m0``, ``shift`` and ``bias`` per column when they vary.
    """
    if not (isinstance(columns, int) and columns >= 1):
        raise ValueError(f"columns must be a positive integer, not {columns!r}")
    za = _zero_point("a_zero_point", a_zero, a_type, 1)
    z3 = _zero_point("y_zero_point", y_zero, y_type, 1)
    zw = _zero_point("b_zero_point", b_zero, b_type, columns)
    s_acc = _scalar_or_columns("acc_scale", np.asarray(acc_scale, dtype=np.float64), columns)
    s_y = np.asarray(y_scale, dtype=np.float64)
    if s_y.ndim and s_y.size != 1:
        raise ValueError(f"y_scale must be a scalar (per tensor), not shape {s_y.shape}")
    s_y = float(s_y.reshape(-1)[0])
    for name, v in (("acc_scale", s_acc), ("y_scale", np.array([s_y]))):
        if not np.all(np.isfinite(v) & (v > 0)):
            raise ValueError(f"{name} must be positive and finite, not {v.tolist()}")
    try:
        m0, shift = quantize_multiplier(s_acc / s_y)
    except ValueError:
        raise ValueError(f"acc_scale / y_scale must be below 2**30 (the multiplier's range), not "
                         f"{(s_acc / s_y).max()!r}") from None
    bias = -_scalar_or_columns("acc_zero_point", np.asarray(acc_zero, dtype=np.int64), columns)
    if np.any((bias < INT32_MIN) | (bias > INT32_MAX)):
        raise ValueError(f"acc_zero_point must be int32 values, not {(-bias).tolist()}")
    fmt = int_format(y_type)
    per_column = {"zw": zw, "m0": m0, "shift": shift, "bias": bias}
    per_channel = any(np.any(v != v[0]) for v in per_column.values())
    out = {"per_channel": bool(per_channel), "za": int(za[0]), "z3": int(z3[0]), "qmin": fmt.min_int,
           "qmax": fmt.max_int}
    for key, v in per_column.items():
        out[key] = [int(x) for x in v] if per_channel else int(v[0])
    return {k: out[k] for k in ("per_channel",) + QMAC_KEYS}
