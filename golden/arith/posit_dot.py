"""Posit dot products through a quire (Posit Standard 2022): the exact sum of the products and an optional posit
addend, rounded once into the result posit.

The quire of posit(n, 2) is 16n bits of two's complement fixed point: a sign, 31 carry-guard bits and 16(n - 2)
bits spanning minpos**2 .. maxpos**2, so that any sum of up to 2**31 - 1 products is exact. A narrower quire
is exact for a known number of terms: :func:`exact_quire_bits`.
"""

from fractions import Fraction

import numpy as np

from ..formats.catalog import lookup
from ..formats.posit import Posit
from ..formats.rounding import MODES
from ..validate import check_choice, check_int
from .dot import addend
from .terms import Terms, product, sum_terms

__all__ = ["exact_quire_bits", "posit_dot", "quire_bits"]


def _posit(name, value, max_n=32):
    fmt = lookup(value)
    if not isinstance(fmt, Posit) or fmt.n > max_n:
        raise ValueError(f"{name} must be a posit format of at most {max_n} bits (posit8, posit16, posit<n>_es<es>), "
                         f"not {fmt.name!r}")
    return fmt


def quire_bits(n, es=2):
    """The quire width of the 2022 standard's layout: a sign, 31 carry-guard bits and the span minpos**2 ..
    maxpos**2 of 4 (n - 2) 2**es bits: ``32 + 4 (n - 2) 2**es``, which is the standard's 16n for es = 2."""
    n, es = check_int("n", n, 3, 64), check_int("es", es, 0, 4)
    return 32 + 4 * (n - 2) * (1 << es)


def exact_quire_bits(n, es=2, max_terms=1, addend=None):
    """The narrowest two's complement fixed-point accumulator that holds every sum of ``max_terms`` products of
    posit(n, es) values (plus one ``addend`` posit, a format name, if given) exactly: its last bit weighs the
    finest bit of any term (minpos**2 = 2**(-2 maxscale), maxscale = (n - 2) 2**es; an addend's minpos if finer),
    and it holds ``max_terms * maxpos**2 (+ the addend's maxpos)``: ``bit_length(ceil(M / 2**lsb)) + 1``."""
    n, es = check_int("n", n, 3, 64), check_int("es", es, 0, 4)
    max_terms = check_int("max_terms", max_terms, 1, 1 << 40)
    ms = (n - 2) << es
    lsb, top = -2 * ms, max_terms * Fraction(2) ** (2 * ms)
    if addend is not None:
        c = _posit("addend", addend, 64)
        lsb, top = min(lsb, -c.max_scale), top + Fraction(2) ** c.max_scale
    scaled = top * Fraction(2) ** -lsb
    return ((scaled.numerator + scaled.denominator - 1) // scaled.denominator).bit_length() + 1


def posit_dot(a, b, c=None, *, a_fmt, b_fmt, out_fmt, c_fmt=None, rounding="rne", return_flags=True):
    """Fused dot products ``c + sum_k a[..., k] * b[..., k]`` of posits, rounded once (the standard's ``fdp``).

    Parameters
    ----------
    a, b : array of int, shape (..., K), K >= 1
        Patterns of ``a_fmt`` / ``b_fmt`` (posits of at most 32 bits, any es; A and B may differ).
    c : array of int, shape (...), optional
        The addend's patterns in ``c_fmt`` (default ``out_fmt``); None is 0.
    out_fmt : str or Posit
        The result posit (at most 32 bits).
    rounding : str
        "rne" (the standard: to nearest, ties to the even pattern); golden's other modes round the magnitude.
    return_flags : bool

    Returns
    -------
    bits : array, shape (...)
    flags : uint8 array, shape (...)
        NX (bit 0) when the result is inexact; posits raise nothing else.

    NaR in any operand gives NaR. Otherwise the exact sum is rounded as the standard rounds: a nonzero sum never
    gives 0 or NaR (below minpos: +-minpos; above maxpos: +-maxpos); an exact zero sum gives 0.
    """
    fa, fb = _posit("a_fmt", a_fmt), _posit("b_fmt", b_fmt)
    out = _posit("out_fmt", out_fmt)
    fc = out if c_fmt is None else _posit("c_fmt", c_fmt)
    rounding = check_choice("rounding", rounding, MODES[:5])
    a, b = fa.as_bits(a), fb.as_bits(b)
    if a.ndim < 1 or a.shape != b.shape or a.shape[-1] < 1:
        raise ValueError(f"a and b must have one shape (..., K) with K >= 1, not {a.shape} and {b.shape}")
    lead, K = a.shape[:-1], a.shape[-1]
    n = int(np.prod(lead, dtype=np.int64))
    prods, _ = product(fa.decode_raw(a.reshape(n, K)), fb.decode_raw(b.reshape(n, K)))  # no inf: never invalid
    raw, _ = sum_terms(Terms.of(addend(c, fc, lead)).join(prods), rounding)
    bits, flags = out.encode_raw(raw, rounding)
    bits, flags = bits.reshape(lead), flags.astype(np.uint8).reshape(lead)
    return (bits, flags) if return_flags else bits
