"""Quantized matrix products: the int32 accumulator of ``sum (q1 - z1)(q2 - z2)`` and its requantization."""

import numpy as np

from ..validate import check_int, check_ints
from .fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier, requantize

__all__ = ["qmatmul", "qmatmul_acc"]


def qmatmul_acc(q1, z1, q2, z2, *, bias=None, acc_bits=32):
    """The accumulator of :func:`qmatmul`: ``wrap(sum_j (q1[i,j] - z1)(q2[j,k] - z2[k]) + bias[k])`` (int64).

    ``wrap`` reduces modulo ``2**acc_bits`` into ``[-2**(acc_bits-1), 2**(acc_bits-1))``. Since two's
    complement addition is modular, any accumulation order, and any intermediate wrapping, gives this value.
    """
    acc_bits = check_int("acc_bits", acc_bits, 8, 32)
    a, b = check_ints("q1", q1, INT32_MIN, INT32_MAX), check_ints("q2", q2, INT32_MIN, INT32_MAX)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"q1 and q2 must be matrices (m, n) and (n, k), not shapes {a.shape} and {b.shape}")
    k = b.shape[1]
    z1 = check_ints("z1", z1, INT32_MIN, INT32_MAX)
    if z1.ndim:
        raise ValueError(f"z1 must be a scalar (per-tensor), not shape {z1.shape}")
    z2 = _vector("z2", check_ints("z2", z2, INT32_MIN, INT32_MAX), k)
    acc = (a - z1).astype(np.uint64) @ (b - z2).astype(np.uint64)  # modulo 2**64, a multiple of 2**acc_bits
    if bias is not None:
        acc = acc + _vector("bias", check_ints("bias", bias, INT32_MIN, INT32_MAX), k).astype(np.uint64)
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
    M0 = _vector("M0", check_ints("M0", M0, 0, INT32_MAX), k)
    shift = _vector("shift", check_ints("shift", shift, -31, 30), k)
    z3 = _vector("z3", check_ints("z3", z3, INT32_MIN, INT32_MAX), k)
    return np.asarray(requantize(acc, M0, shift, z3, qmin, qmax, mode, overflow=overflow), dtype=np.int32)
