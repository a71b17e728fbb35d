"""Rounding modes and exception flags, shared by every golden format.

Modes (IEEE 754 short names): ``rne`` nearest, ties to even; ``rtz`` toward zero; ``rdn`` toward -inf;
``rup`` toward +inf; ``rmm`` nearest, ties away from zero; ``stochastic``: round up with probability equal to
the discarded fraction, decided reproducibly from random bits passed in by the caller.

Stochastic rounding with ``rand_bits = R``: the top ``R`` discarded bits, read as an integer ``t`` (the
discarded fraction truncated to ``R`` bits), and the caller's random integer ``r`` in ``[0, 2**R)`` round the
magnitude up exactly when ``t + r >= 2**R``. Hardware with an ``R``-bit random input computes the same.

Tininess (IEEE 754-2019 7.5), for the UF flag of a float destination: ``after`` rounding (the default; RISC-V,
x86 SSE and x87) calls a nonzero result tiny when the value rounded to the destination's precision ``p`` with
an unbounded exponent lies strictly between +-2**emin; ``before`` rounding (Arm) when the exact value does. UF
is raised when the result is tiny and inexact. The two differ only on values in the binade just below 2**emin
that round to 2**emin at precision ``p``: ``2**emin (1 - 2**-(p+1)) <= |x| < 2**emin`` under rne and rmm.
Stochastic rounding at precision ``p`` uses the same random integer as the delivered rounding; a format
without fraction bits (``p = 1``) breaks a tie toward the even exponent field, as its delivered rounding does.
"""

import numpy as np

__all__ = ["DZ", "FLAG_NAMES", "MODES", "NV", "NX", "OF", "TININESS", "UF", "check_mode", "check_tininess",
           "increment"]

MODES = ("rne", "rtz", "rdn", "rup", "rmm", "stochastic")
#: When a float result is tiny, for UF (the first is the default): see the module doc.
TININESS = ("after", "before")

# Exception flags as bits of one integer, in the RISC-V ``fflags`` layout (also FPnew's ``status_t`` order):
# the hardware's ``flags`` port uses the same bits, so it ORs into fflags unchanged. Conversions never raise DZ.
NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16
FLAG_NAMES = {NX: "NX", UF: "UF", OF: "OF", DZ: "DZ", NV: "NV"}


def check_mode(rounding, rand=None, rand_bits=None):
    """Validate a rounding mode (and, for stochastic, its random bits). Returns the mode."""
    if rounding not in MODES:
        raise ValueError(f"rounding must be one of {', '.join(MODES)}, not {rounding!r}")
    if rounding == "stochastic":
        if rand is None or rand_bits is None:
            raise ValueError("rounding='stochastic' needs rand= (random integers) and rand_bits= (their width)")
        if not isinstance(rand_bits, int) or not 1 <= rand_bits <= 32:
            raise ValueError(f"rand_bits must be an integer in 1..32, not {rand_bits!r}")
        r = np.asarray(rand)
        if r.size and (np.min(r) < 0 or np.max(r) >= (1 << rand_bits)):
            raise ValueError(f"rand values must lie in 0..{(1 << rand_bits) - 1} for rand_bits={rand_bits}")
    return rounding


def check_tininess(tininess):
    """Validate a tininess rule (:data:`TININESS`). Returns it."""
    if not isinstance(tininess, str) or tininess not in TININESS:
        raise ValueError(f"tininess must be one of {', '.join(TININESS)}, not {tininess!r}")
    return tininess


def increment(rounding, x, shift, sign, lsb, rbit, sticky, rand=None, rand_bits=None):
    """Whether the magnitude ``x / 2**shift``, truncated, rounds up by one unit under ``rounding``.

    ``rbit``/``sticky`` come from :func:`golden.raw.shift_right`; ``lsb`` is the last bit of the truncated
    encoding (what "even" refers to).
    """
    inexact = rbit | sticky
    if rounding == "rne":
        return rbit & (sticky | lsb)
    if rounding == "rtz":
        return np.zeros_like(inexact)
    if rounding == "rup":
        return inexact & ~sign
    if rounding == "rdn":
        return inexact & sign
    if rounding == "rmm":
        return rbit
    return _stochastic_inc(x, shift, rand, rand_bits)


def _stochastic_inc(x, shift, rand, rand_bits):
    x = np.asarray(x, dtype=np.uint64)
    shift = np.asarray(shift, dtype=np.int64)
    R = rand_bits
    # t = floor(frac * 2**R) where frac = (x mod 2**shift) / 2**shift.
    s = np.clip(shift, 0, 64)
    sm = np.minimum(s, 63).astype(np.uint64)
    low = np.where(s >= 64, x, x & ((np.uint64(1) << sm) - np.uint64(1)))
    down = shift - R  # t = low >> down  (down >= 0)  or  low << -down
    t_right = _shr(low, np.maximum(down, 0))
    t_left = low << np.clip(-down, 0, 63).astype(np.uint64)  # low < 2**s and s < R here: no overflow
    t = np.where(down >= 0, t_right, t_left)
    r = np.asarray(rand, dtype=np.uint64)
    return (t + r) >= np.uint64(1 << R)


def _shr(x, s):
    s = np.clip(s, 0, 64)
    half = s // 2
    return (x >> half.astype(np.uint64)) >> (s - half).astype(np.uint64)
