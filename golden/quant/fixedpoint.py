"""Integer-only requantization (gemmlowp / TFLite): Q31 multipliers, SRDHM, RoundingDivideByPOT, requantize.

A quantized matrix product is rescaled by ``M = S1 S2 / S3``, held as a Q31 integer ``M0`` and a shift:
``M = M0 * 2**(shift - 31)``. Integer steps are exact on int32 semantics (computed in int64).

- ``requantize`` names its rounding: ``"gemmlowp"`` (TFLite's default: two roundings, SRDHM ties toward +inf,
  then RoundingDivideByPOT ties away from zero), ``"single"`` (TFLite's single-rounding build: one rounding,
  ties toward +inf) and ``"float-rne"`` (the exact product rounded half to even, ONNX-style).
- An int32 intermediate that overflows (``acc * 2**shift`` in "gemmlowp", the multiplier's result in
  "single", both possible only when ``shift > 0``) wraps modulo 2**32 by default, as TFLite's kernels compiled
  for real hardware do; ``overflow="saturate"`` clamps it to int32 instead. Adding the zero point and clamping
  to ``[qmin, qmax]`` is exact (no int32 wrap there).
"""

from fractions import Fraction

import numpy as np

from ..validate import check_choice, check_int, check_ints, show_value

__all__ = ["INT32_MAX", "INT32_MIN", "MODES", "OVERFLOWS", "quantize_multiplier", "real_multiplier",
           "requantize", "rounding_divide_by_pot", "srdhm"]

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MODES = ("gemmlowp", "single", "float-rne")
OVERFLOWS = ("wrap", "saturate")


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
        raise ValueError(f"M must be below 2**30 (shift must be an integer in -31..30), not {show_value(m[exp > 30][0])}")
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
    out = _srdhm(check_ints("a", a, INT32_MIN, INT32_MAX), check_ints("b", b, INT32_MIN, INT32_MAX))
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
    out = _rdbpot(check_ints("x", x, INT32_MIN, INT32_MAX), check_ints("exponent", exponent, 0, 31))
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
    acc_a = check_ints("acc", acc, INT32_MIN, INT32_MAX)
    m0 = check_ints("M0", M0, 0, INT32_MAX)
    sh = check_ints("shift", shift, -31, 30)
    qmin = check_int("qmin", qmin, INT32_MIN, INT32_MAX)
    qmax = check_int("qmax", qmax, qmin, INT32_MAX)
    zp = check_ints("zero_point", zero_point, qmin, qmax)
    check_choice("mode", mode, MODES)
    check_choice("overflow", overflow, OVERFLOWS)
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
