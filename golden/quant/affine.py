"""Affine integer quantization, ``r = S * (q - Z)`` (Jacob et al. 2018): parameters, quantize, dequantize.

``quantize`` rounds half to even (``rounding="rne"``, as ONNX QuantizeLinear and PyTorch), then saturates to
the integer range; NaN gives the zero point, +-inf the range's ends. A quotient ``r / S`` is rounded to an
integer exactly (:func:`round_quotient`).
"""

import math
from fractions import Fraction

import numpy as np

from ..formats.catalog import lookup
from ..validate import check_bool, check_choice, check_int, check_ints, show_value

__all__ = ["ARITHMETICS", "ROUNDINGS", "choose_qparams", "dequantize", "fake_quantize", "int_format", "quantize",
           "round_quotient"]

ROUNDINGS = ("rne", "rmm", "rtz", "rdn", "rup")
#: How ``quantize`` computes ``r / S``: exactly, or as a float32 runtime does (ONNX's reference QuantizeLinear).
ARITHMETICS = ("exact", "float32")
_HALF = Fraction(1, 2)


def int_format(dtype):
    """The golden integer format named by ``dtype`` ("int8", "uint8", "int4", "uint4", "int16", "int32")."""
    try:
        fmt = lookup(dtype)
    except ValueError:
        fmt = None
    if fmt is None or fmt.kind != "int":
        raise ValueError(f"dtype must name an integer format (int8, uint8, int4, uint4, int16, int32), not {dtype!r}")
    return fmt


def _qrange(fmt, narrow_range):
    check_bool("narrow_range", narrow_range)
    return fmt.min_int + narrow_range, fmt.max_int


def _round_fraction(x, rounding):
    """Python int nearest to the Fraction ``x`` by ``rounding``."""
    f = math.floor(x)
    rem = x - f
    if rem == 0 or rounding == "rdn":
        return f
    if rounding == "rup":
        return f + 1
    if rounding == "rtz":
        return f + (x < 0)
    if rem != _HALF:
        return f + (rem > _HALF)
    return f + (f % 2 if rounding == "rne" else x > 0)


def round_quotient(r, s, rounding="rne"):
    """The exact quotient ``r / s`` rounded to an integer by ``rounding`` (float64 array of integers).

    ``r`` and ``s`` are float64 (broadcast together; ``s`` positive, ``r`` finite). The quotient is computed as
    a correctly rounded float64 and rounded by numpy; wherever it lies within rounding distance of a rounding
    boundary (an integer, or half-integer for the nearest modes), the exact rational quotient decides instead.
    Exact for ``|r / s| < 2**40``; beyond, the result is the float64 quotient (monotone, which is all clamping
    to a 32-bit range needs).
    """
    check_choice("rounding", rounding, ROUNDINGS)
    r, s = np.broadcast_arrays(np.asarray(r, dtype=np.float64), np.asarray(s, dtype=np.float64))
    shape = r.shape
    r, s = r.ravel(), s.ravel()
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        q = r / s
        rmm = lambda v: np.copysign(np.floor(np.abs(v) + 0.5), v)  # noqa: E731
        out = {"rne": np.rint, "rtz": np.trunc, "rdn": np.floor, "rup": np.ceil, "rmm": rmm}[rounding](q)
        q2 = q * 2
        near = (np.abs(q2 - np.rint(q2)) <= np.abs(q) * 2.0 ** -49) | (q == 0)
    near &= (np.abs(q) < 2.0 ** 40) & (r != 0)
    for k in np.flatnonzero(near):
        out[k] = _round_fraction(Fraction(float(r[k])) / Fraction(float(s[k])), rounding)
    return out.reshape(shape)


def _qparams(scale, zero_point, ndim, shape, axis, zlo, zhi):
    """Scale (float64) and zero point (int64), validated and shaped to broadcast along ``axis``."""
    if axis is not None:
        if ndim == 0:
            raise ValueError("axis needs an array with at least one dimension")
        axis = check_int("axis", axis, -ndim, ndim - 1) % ndim
    out = []
    for name, value in (("scale", np.asarray(scale, dtype=np.float64)), ("zero_point", np.asarray(zero_point))):
        if axis is None and value.ndim:
            raise ValueError(f"{name} must be a scalar when axis is None (pass axis= for per-channel {name})")
        if axis is not None and (value.ndim > 1 or (value.ndim == 1 and value.shape[0] != shape[axis])):
            raise ValueError(f"{name} must be a scalar or a 1-d array of length {shape[axis]} (axis {axis}), "
                             f"not shape {value.shape}")
        out.append(value.reshape([-1 if d == axis else 1 for d in range(ndim)]) if value.ndim else value)
    s, z = out
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError(f"scale must be positive and finite, not {show_value(scale)}")
    return s, check_ints("zero_point", z, zlo, zhi)


# -- affine quantization -------------------------------------------------------------------------------------
def choose_qparams(rmin, rmax, dtype="int8", symmetric=False, narrow_range=False):
    """Scale and zero point mapping the real range ``[rmin, rmax]`` onto ``dtype``.

    Parameters
    ----------
    rmin, rmax : float or array
        The range (arrays: one range per channel). It is first widened to include 0, so that 0 is exact.
    dtype : str
        An integer format name: "int8", "uint8" (also "int4", "uint4", "int16", "int32").
    symmetric : bool
        Zero point fixed at 0 (signed) or ``2**(bits-1)`` (unsigned: 128 for uint8) and
        ``S = max(-rmin, rmax) / min(qmax - Z, Z - qmin)`` (127 for 8 bits: both ends of the range fit).
    narrow_range : bool
        ``qmin`` is one above the format's minimum (-127 for int8, 1 for uint8).

    Returns
    -------
    (scale, zero_point)
        float64 and int (arrays when the inputs are arrays). Asymmetric: ``S = (rmax - rmin) / (qmax - qmin)``
        (float64) and ``Z = round_half_even(qmin - rmin / S)`` computed exactly, clamped to ``[qmin, qmax]``.
        A zero range gives ``S = 1.0``.
    """
    fmt = int_format(dtype)
    check_bool("symmetric", symmetric)
    qmin, qmax = _qrange(fmt, narrow_range)
    lo, hi = np.asarray(rmin, dtype=np.float64), np.asarray(rmax, dtype=np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
        raise ValueError(f"rmin and rmax must be finite with rmin <= rmax, not {rmin!r}, {rmax!r}")
    lo, hi = np.broadcast_arrays(np.minimum(lo, 0.0), np.maximum(hi, 0.0))
    z0 = 0 if fmt.signed else 1 << (fmt.bits - 1)
    scale = np.maximum(-lo, hi) / min(qmax - z0, z0 - qmin) if symmetric else (hi - lo) / (qmax - qmin)
    scale = np.where(scale == 0, 1.0, scale)
    zp = np.full(lo.shape, z0, dtype=np.int64)
    if not symmetric:
        zp = np.array([min(max(_round_fraction(qmin - Fraction(float(a)) / Fraction(float(s)), "rne"), qmin), qmax)
                       for a, s in zip(lo.ravel(), scale.ravel())], dtype=np.int64).reshape(lo.shape)
    return (float(scale), int(zp)) if lo.ndim == 0 else (scale, zp)


def _float32_quotient(r, s):
    """``float32(r) / float32(S)`` as float32 computes it (one IEEE rounding), widened exactly to float64.

    The operands are rounded to float32 first (a float32 runtime holds them so); a scale that rounds to 0 or
    to infinity in float32 is refused."""
    s32 = np.asarray(s, dtype=np.float32)
    if not np.all(np.isfinite(s32) & (s32 > 0)):
        raise ValueError(f"scale must be a positive, finite float32 with arithmetic='float32', not {show_value(s)}")
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        return (np.asarray(r, dtype=np.float32) / s32).astype(np.float64)


_ROUND_FLOAT = {"rne": np.rint, "rtz": np.trunc, "rdn": np.floor, "rup": np.ceil,
                "rmm": lambda v: np.copysign(np.floor(np.abs(v) + 0.5), v)}  # exact on float64 of float32 values


def quantize(r, scale, zero_point, dtype="int8", *, axis=None, rounding="rne", narrow_range=False,
             arithmetic="exact"):
    """``q = clamp(round(r / S) + Z, qmin, qmax)``, the quotient rounded exactly (half to even by default).

    Parameters
    ----------
    r : array of float
    scale, zero_point : scalar, or 1-d arrays along ``axis`` (per-channel)
        ``scale`` positive and finite; ``zero_point`` an integer in the format's range.
    dtype : str
        Integer format name ("int8", "uint8", ...); the result has the matching numpy dtype.
    axis : int, optional
        The channel axis of per-channel parameters.
    rounding : str
        One of "rne" (ONNX, PyTorch), "rmm" (half away from zero: TFLite reference), "rtz", "rdn", "rup".
    narrow_range : bool
        Clamp to ``qmin + 1`` (-127 for int8).

    arithmetic : str
        "exact" (default): the exact rational ``r / S`` is rounded. "float32": ``r`` and ``S`` are rounded to
        float32 and divided in float32, and that float32 quotient is rounded -- bit for bit what ONNX's
        reference QuantizeLinear (``onnx.reference``) computes, ``rint(x / y_scale)`` on float32 tensors. The
        two differ by one wherever the float32 quotient rounds onto a tie (or an integer, for the directed
        modes) that the exact quotient is not on, and where ``r`` is not a float32.

    NaN gives the zero point; +-inf (and, in float32, a quotient that overflows to +-inf) give ``qmax`` /
    ``qmin``: the range's ends, in both arithmetics. (ONNX's reference casts such quotients, and any beyond
    int32, with numpy's float -> int32 cast, which is undefined there: it gives INT32_MIN on x86, so
    ``qmin`` even for +inf and NaN.) Runtimes that multiply by a float32 reciprocal (PyTorch) can differ by
    one elsewhere too.
    """
    fmt = int_format(dtype)
    rounding = check_choice("rounding", rounding, ROUNDINGS)
    qmin, qmax = _qrange(fmt, narrow_range)
    with np.errstate(invalid="ignore"):  # a float32 signaling NaN widens with an invalid-operation flag
        r = np.asarray(r, dtype=np.float64)
    s, z = _qparams(scale, zero_point, r.ndim, r.shape, axis, fmt.min_int, fmt.max_int)
    arithmetic = check_choice("arithmetic", arithmetic, ARITHMETICS)
    if arithmetic == "float32":
        quotient = _float32_quotient(r, s)
        r = np.where(np.isnan(r), np.nan, quotient)  # an overflowing quotient acts as the infinity it is
        n = _ROUND_FLOAT[rounding](np.where(np.isfinite(quotient), quotient, 0.0))
    else:
        n = round_quotient(np.where(np.isfinite(r), r, 0.0), s, rounding)
    q = np.clip(n, -2.0 ** 40, 2.0 ** 40).astype(np.int64) + z
    q = np.where(np.isnan(r), z, np.where(r == np.inf, qmax, np.where(r == -np.inf, qmin, q)))
    size = 8 if fmt.bits <= 8 else 16 if fmt.bits <= 16 else 32
    return np.clip(q, qmin, qmax).astype(f"{'' if fmt.signed else 'u'}int{size}")


def dequantize(q, scale, zero_point, *, axis=None):
    """``r = S * (q - Z)`` in float64 (``q - Z`` exact; one correctly rounded product)."""
    q = np.asarray(q)
    qi = check_ints("q", q, -(1 << 62), (1 << 62) - 1)
    s, z = _qparams(scale, zero_point, q.ndim, q.shape, axis, -(1 << 62), (1 << 62) - 1)
    return (qi - z).astype(np.float64) * s


def fake_quantize(r, scale, zero_point, dtype="int8", *, axis=None, rounding="rne", narrow_range=False):
    """``dequantize(quantize(r, ...))``: the float64 values ``r`` is quantized to."""
    q = quantize(r, scale, zero_point, dtype, axis=axis, rounding=rounding, narrow_range=narrow_range)
    return dequantize(q, scale, zero_point, axis=axis)
