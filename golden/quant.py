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

import math
from fractions import Fraction

import numpy as np

from .base import check_int
from .catalog import lookup

__all__ = ["INT32_MAX", "INT32_MIN", "MODES", "ROUNDINGS", "choose_qparams", "dequantize", "fake_quantize",
           "int_format", "qmatmul", "qmatmul_acc", "quantize", "quantize_multiplier", "real_multiplier",
           "requantize", "round_quotient", "rounding_divide_by_pot", "srdhm"]

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
ROUNDINGS = ("rne", "rmm", "rtz", "rdn", "rup")
MODES = ("gemmlowp", "single", "float-rne")
OVERFLOWS = ("wrap", "saturate")
_HALF = Fraction(1, 2)


# -- helpers ----------------------------------------------------------------------------------------------
def _choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _show(v):
    v = np.asarray(v) if isinstance(v, np.generic) else v
    return repr(v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v)


def _ints(name, value, lo, hi):
    """``value`` (integer scalar or array) as int64, or a ValueError naming ``name`` and ``lo..hi``."""
    a = np.asarray(value)
    if a.dtype.kind not in "iu" or a.dtype == bool:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {_show(value)}")
    if a.size:
        bad = (a < lo) | (a > hi)
        if np.any(bad):
            raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {_show(a[bad].flat[0])}")
    return a.astype(np.int64)


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
    if not isinstance(narrow_range, bool):
        raise ValueError(f"narrow_range must be True or False, not {narrow_range!r}")
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
    _choice("rounding", rounding, ROUNDINGS)
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
        raise ValueError(f"scale must be positive and finite, not {_show(scale)}")
    return s, _ints("zero_point", z, zlo, zhi)


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
    if not isinstance(symmetric, bool):
        raise ValueError(f"symmetric must be True or False, not {symmetric!r}")
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


def quantize(r, scale, zero_point, dtype="int8", *, axis=None, rounding="rne", narrow_range=False):
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

    NaN gives the zero point; +-inf give ``qmax`` / ``qmin``. Runtimes that divide in float32 (ONNX) or
    multiply by a float32 reciprocal (PyTorch) can differ by one on values within float32 rounding of a tie.
    """
    fmt = int_format(dtype)
    rounding = _choice("rounding", rounding, ROUNDINGS)
    qmin, qmax = _qrange(fmt, narrow_range)
    r = np.asarray(r, dtype=np.float64)
    s, z = _qparams(scale, zero_point, r.ndim, r.shape, axis, fmt.min_int, fmt.max_int)
    finite = np.isfinite(r)
    n = np.clip(round_quotient(np.where(finite, r, 0.0), s, rounding), -2.0 ** 40, 2.0 ** 40)
    q = n.astype(np.int64) + z
    q = np.where(np.isnan(r), z, np.where(r == np.inf, qmax, np.where(r == -np.inf, qmin, q)))
    size = 8 if fmt.bits <= 8 else 16 if fmt.bits <= 16 else 32
    return np.clip(q, qmin, qmax).astype(f"{'' if fmt.signed else 'u'}int{size}")


def dequantize(q, scale, zero_point, *, axis=None):
    """``r = S * (q - Z)`` in float64 (``q - Z`` exact; one correctly rounded product)."""
    q = np.asarray(q)
    qi = _ints("q", q, -(1 << 62), (1 << 62) - 1)
    s, z = _qparams(scale, zero_point, q.ndim, q.shape, axis, -(1 << 62), (1 << 62) - 1)
    return (qi - z).astype(np.float64) * s


def fake_quantize(r, scale, zero_point, dtype="int8", *, axis=None, rounding="rne", narrow_range=False):
    """``dequantize(quantize(r, ...))``: the float64 values ``r`` is quantized to."""
    q = quantize(r, scale, zero_point, dtype, axis=axis, rounding=rounding, narrow_range=narrow_range)
    return dequantize(q, scale, zero_point, axis=axis)


# -- integer-only requantization -------------------------------------------------------------------------------
def quantize_multiplier(M):
    """TFLite's QuantizeMultiplier: ``(M0, shift)`` with ``M ~= M0 * 2**(shift - 31)``.

    ``M = q * 2**shift`` with ``q`` in [0.5, 1) (frexp); ``M0 = round_half_away(q * 2**31)`` in
    ``[2**30, 2**31)``; a result of ``2**31`` becomes ``2**30`` with ``shift + 1``. ``M = 0``, and ``M`` so
    small that ``shift < -31``, give ``(0, 0)``. ``M`` must be finite, non-negative and need ``shift <= 30``.
    Scalars give Python ints; arrays give int64 arrays (per-channel multipliers).
    """
    m = np.asarray(M, dtype=np.float64)
    if not np.all(np.isfinite(m) & (m >= 0)):
        raise ValueError(f"M must be a finite number >= 0, not {M!r}")
    frac, exp = np.frexp(m)
    m0 = np.floor(np.ldexp(frac, 31) + 0.5).astype(np.int64)  # exact: frac * 2**31 < 2**31 has 22 fraction bits
    carry = m0 == 1 << 31
    m0, exp = np.where(carry, 1 << 30, m0), (exp + carry).astype(np.int64)
    tiny = (m == 0) | (exp < -31)
    m0, exp = np.where(tiny, 0, m0), np.where(tiny, 0, exp)
    if np.any(exp > 30):
        raise ValueError(f"M must be below 2**30 (shift must be an integer in -31..30), not {_show(m[exp > 30][0])}")
    return (int(m0), int(exp)) if m.ndim == 0 else (m0, exp)


def real_multiplier(M0, shift):
    """The exact value ``M0 * 2**(shift - 31)`` as a Fraction."""
    M0 = check_int("M0", M0, 0, INT32_MAX)
    shift = check_int("shift", shift, -31, 30)
    return Fraction(M0) * Fraction(2) ** (shift - 31)


def _srdhm(a, b):
    ab = a * b  # |ab| <= 2**62: exact in int64
    x = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = np.where(x >= 0, x >> 31, -((-x) >> 31))  # C division: truncation toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, res)


def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul of int32 ``a`` and ``b`` (arrays broadcast).

    ``INT32_MIN * INT32_MIN`` saturates to ``INT32_MAX``; otherwise ``(a*b + nudge) / 2**31`` with C truncating
    division, ``nudge = 2**30`` if ``a*b >= 0`` else ``1 - 2**30``: ``floor(a*b / 2**31 + 1/2)``, ties toward
    +inf.
    """
    out = _srdhm(_ints("a", a, INT32_MIN, INT32_MAX), _ints("b", b, INT32_MIN, INT32_MAX))
    return int(out) if out.ndim == 0 else out


def _rdbpot(x, e):
    mask = (np.int64(1) << e) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + ((x & mask) > threshold)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: int32 ``x / 2**exponent`` rounded to nearest, ties away from zero.

    ``mask = 2**e - 1``, ``threshold = (mask >> 1) + (x < 0)``, result ``(x >> e) + ((x & mask) > threshold)``
    with ``0 <= exponent <= 31``.
    """
    out = _rdbpot(_ints("x", x, INT32_MIN, INT32_MAX), _ints("exponent", exponent, 0, 31))
    return int(out) if out.ndim == 0 else out


def _to_int32(x, overflow):
    if overflow == "wrap":
        return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return np.clip(x, INT32_MIN, INT32_MAX)


def requantize(acc, M0, shift, zero_point, qmin, qmax, mode="gemmlowp", *, overflow="wrap"):
    """Rescale int32 accumulators by ``M0 * 2**(shift - 31)``, add the zero point, clamp.

    Parameters
    ----------
    acc : int array, int32 values
    M0 : int or int array, 0..2**31-1 (``quantize_multiplier`` gives 0 or ``[2**30, 2**31)``)
    shift : int or int array, -31..30 (positive: a left shift)
    zero_point : int or int array in ``qmin..qmax``
        ``M0``, ``shift`` and ``zero_point`` broadcast against ``acc`` (per-channel along the last axis).
    qmin, qmax : int
        The output range, ``INT32_MIN <= qmin <= qmax <= INT32_MAX`` (int8: -128, 127).
    mode : str
        ``"gemmlowp"``: ``y = RoundingDivideByPOT(SRDHM(wrap32(acc * 2**max(shift, 0)), M0), max(-shift, 0))``.
        ``"single"``: ``y = wrap32((acc * M0 + 2**(30 - shift)) >> (31 - shift))``, in int64.
        ``"float-rne"``: ``y = round_half_even(acc * M0 * 2**(shift - 31))``, exact, no int32 stage.
    overflow : str
        ``"wrap"`` (default: two's complement, as TFLite's kernels behave) or ``"saturate"``: what ``wrap32``
        does to an int32 intermediate that overflows (only possible when ``shift > 0``).

    Returns
    -------
    int32 array (Python int for scalar inputs): ``clamp(y + zero_point, qmin, qmax)``, the sum exact.
    """
    acc_a = _ints("acc", acc, INT32_MIN, INT32_MAX)
    m0 = _ints("M0", M0, 0, INT32_MAX)
    sh = _ints("shift", shift, -31, 30)
    qmin = check_int("qmin", qmin, INT32_MIN, INT32_MAX)
    qmax = check_int("qmax", qmax, qmin, INT32_MAX)
    zp = _ints("zero_point", zero_point, qmin, qmax)
    _choice("mode", mode, MODES)
    _choice("overflow", overflow, OVERFLOWS)
    scalar = acc_a.ndim == m0.ndim == sh.ndim == zp.ndim == 0
    acc_a, m0, sh, zp = np.broadcast_arrays(acc_a, m0, sh, zp)
    total, half = 31 - sh, np.int64(1) << (30 - sh)  # total shift 1..62; |acc * M0| + 2**61 < 2**63
    if mode == "gemmlowp":
        y = _rdbpot(_srdhm(_to_int32(acc_a << np.maximum(sh, 0), overflow), m0), np.maximum(-sh, 0))
    elif mode == "single":
        y = _to_int32((acc_a * m0 + half) >> total, overflow)
    else:
        fl = (acc_a * m0) >> total
        rem = acc_a * m0 - (fl << total)
        y = fl + ((rem > half) | ((rem == half) & (fl & 1 == 1)))
    out = np.clip(y + zp, qmin, qmax).astype(np.int32)
    return int(out) if scalar else out


# -- quantized matrix product ---------------------------------------------------------------------------------
def qmatmul_acc(q1, z1, q2, z2, *, bias=None, acc_bits=32):
    """The accumulator of :func:`qmatmul`: ``wrap(sum_j (q1[i,j] - z1)(q2[j,k] - z2[k]) + bias[k])`` (int64).

    ``wrap`` reduces modulo ``2**acc_bits`` into ``[-2**(acc_bits-1), 2**(acc_bits-1))``. Since two's
    complement addition is modular, any accumulation order, and any intermediate wrapping, gives this value.
    """
    acc_bits = check_int("acc_bits", acc_bits, 8, 32)
    a, b = _ints("q1", q1, INT32_MIN, INT32_MAX), _ints("q2", q2, INT32_MIN, INT32_MAX)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"q1 and q2 must be matrices (m, n) and (n, k), not shapes {a.shape} and {b.shape}")
    k = b.shape[1]
    z1 = _ints("z1", z1, INT32_MIN, INT32_MAX)
    if z1.ndim:
        raise ValueError(f"z1 must be a scalar (per-tensor), not shape {z1.shape}")
    z2 = _vector("z2", _ints("z2", z2, INT32_MIN, INT32_MAX), k)
    acc = (a - z1).astype(np.uint64) @ (b - z2).astype(np.uint64)  # modulo 2**64, a multiple of 2**acc_bits
    if bias is not None:
        acc = acc + _vector("bias", _ints("bias", bias, INT32_MIN, INT32_MAX), k).astype(np.uint64)
    low = (acc & np.uint64((1 << acc_bits) - 1)).astype(np.int64)
    return low - ((low >> (acc_bits - 1)) << acc_bits)


def _vector(name, a, k):
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != k):
        raise ValueError(f"{name} must be a scalar or a 1-d array of length {k} (one per output column), "
                         f"not shape {a.shape}")
    return a


def qmatmul(q1, z1, q2, z2, *, M0=None, shift=None, scale=None, z3, qmin, qmax, bias=None, mode="gemmlowp",
            acc_bits=32, overflow="wrap"):
    """Integer-only quantized matrix product ``q3 = Z3 + M * sum_j (q1 - Z1)(q2 - Z2)``, as a MAC array does.

    Parameters
    ----------
    q1 : (m, n) int array; z1 : int
        Left operand codes and zero point (per-tensor).
    q2 : (n, k) int array; z2 : int or length-k int array
        Right operand codes and zero points (per-tensor or per output column). All codes and zero points
        are int32 values; operands are widened before the subtraction, so ``q - z`` is exact.
    M0, shift : int or length-k int arrays
        The multiplier ``M = M0 * 2**(shift - 31)`` per tensor or per output column (0..2**31-1, -31..30).
    scale : float or length-k array, instead of ``M0``/``shift``
        The real ``M = S1 S2 / S3``, converted by :func:`quantize_multiplier`: every mode then uses the same
        ``M0 * 2**(shift - 31)``, and differs only in rounding.
    z3, qmin, qmax : int
        Output zero point and range (``z3`` may be per output column).
    bias : length-k int32 array, optional
        Added into the accumulator (as TFLite adds an int32 bias) before it wraps.
    mode, overflow : str
        As :func:`requantize`.
    acc_bits : int, 8..32
        Accumulator width. The integer semantics, exactly::

            acc[i, k] = wrap_acc_bits(sum_j (q1[i, j] - z1) * (q2[j, k] - z2[k]) + bias[k])
            q3[i, k]  = requantize(acc[i, k], M0[k], shift[k], z3, qmin, qmax, mode, overflow=overflow)

        ``wrap_acc_bits`` is two's complement wrap-around to ``acc_bits`` bits (a hardware adder without
        saturation); it is independent of the accumulation order. The wrapped value is sign-extended to int32.

    Returns
    -------
    (m, k) int32 array.
    """
    acc = qmatmul_acc(q1, z1, q2, z2, bias=bias, acc_bits=acc_bits)
    k = acc.shape[1]
    if scale is not None:
        if M0 is not None or shift is not None:
            raise ValueError("give either scale= or M0= and shift=, not both")
        M0, shift = quantize_multiplier(_vector("scale", np.asarray(scale, dtype=np.float64), k))
    elif M0 is None or shift is None:
        raise ValueError("qmatmul needs M0= and shift= (or scale=)")
    M0 = _vector("M0", _ints("M0", M0, 0, INT32_MAX), k)
    shift = _vector("shift", _ints("shift", shift, -31, 30), k)
    z3 = _vector("z3", _ints("z3", z3, INT32_MIN, INT32_MAX), k)
    return np.asarray(requantize(acc, M0, shift, z3, qmin, qmax, mode, overflow=overflow), dtype=np.int32)
