"""Bits-to-bits conversion between any two formats: exact decode, then one rounding.

``convert_flags`` takes an exact fast path (golden.formats.fastconv: tables and per-binade integer arithmetic,
tested bit for bit, flags included, against the exact path) when one applies -- deterministic modes, IEEE float
sources of at most 32 bits or any source of at most 20 bits -- and the exact path otherwise;
``convert_flags_exact`` is the exact path alone, the reference.

``daz`` (denormals are zero) reads subnormal source patterns as zeros of their sign, raising nothing;
``ftz`` (flush to zero) turns a result that would be subnormal (after rounding) into a zero of its sign,
raising UF and NX (an underflow that is inexact now). Both are for float formats (``check_flush``); fnuz
formats, having no -0, read and flush to +0.

``tininess`` (``after``, the default, or ``before`` rounding; IEEE 754-2019 7.5, see golden.rounding) decides
when an inexact float result raises UF: after rounding (RISC-V, x86 SSE, x87), the value rounded to the
destination's precision with an unbounded exponent lies below the smallest normal; before rounding (Arm), the
exact value does. A value just below the smallest normal that rounds up to it raises UF before, not after.
Destinations without underflow (integers, posits, codebooks) accept either and never raise UF. ``ftz`` flushes
by the delivered result (a subnormal), whatever the tininess rule.
"""

import numpy as np

from ..validate import check_bool
from . import fastconv
from .catalog import lookup
from .fastconv_tables import to_words
from .minifloat import Minifloat
from .rounding import NX, UF, check_tininess

__all__ = ["check_flush", "convert", "convert_flags", "convert_flags_exact", "convert_words",
           "to_words"]


def check_flush(src, dst, ftz, daz):
    """Validate the ``ftz`` and ``daz`` options for a conversion from ``src`` to ``dst`` (formats)."""
    check_bool("ftz", ftz)
    check_bool("daz", daz)
    if ftz and not isinstance(dst, Minifloat):
        raise ValueError(f"ftz: the destination {dst.name} is not a float (ftz flushes subnormal float results)")
    if daz and not isinstance(src, Minifloat):
        raise ValueError(f"daz: the source {src.name} is not a float (daz reads subnormal float inputs as zero)")


def _flushing(convert_fn):
    """``convert_fn`` (bits, src, dst, ...) -> (bits, flags) with the ``ftz`` and ``daz`` options around it."""
    def run(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None, ftz=False, daz=False,
            tininess="after"):
        src, dst = lookup(src), lookup(dst)
        check_flush(src, dst, ftz, daz)
        check_tininess(tininess)
        if daz:
            bits = src.as_bits(bits)
            bits = np.where(src.subnormal_patterns(bits), src.zero_patterns(bits), bits).astype(bits.dtype)
        out, flags = convert_fn(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits,
                                tininess=tininess)
        if ftz:
            sub = dst.subnormal_patterns(out)
            out = np.where(sub, dst.zero_patterns(out), out).astype(out.dtype)
            flags = (flags | np.where(sub, UF | NX, 0)).astype(flags.dtype)
        return out, flags
    run.__name__, run.__doc__ = convert_fn.__name__, convert_fn.__doc__
    return run


@_flushing
def convert_flags_exact(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None,
                        tininess="after"):
    """Convert ``src`` bit patterns to ``dst`` bit patterns on the exact path; returns ``(bits, flags)``."""
    src, dst = lookup(src), lookup(dst)
    return dst.encode_raw(src.decode_raw(bits), rounding, saturate, rand=rand, rand_bits=rand_bits,
                          tininess=tininess)


@_flushing
def convert_flags(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
    """Convert ``src`` bit patterns to ``dst`` bit patterns; returns ``(bits, flags)`` (``ftz``, ``daz``,
    ``tininess``: see the module doc)."""
    src, dst = lookup(src), lookup(dst)
    if rand is None and rand_bits is None:
        p = fastconv.plan_for(src, dst, rounding, saturate, np.size(bits), tininess=tininess)
        if p is not None:
            return p(bits)
    return dst.encode_raw(src.decode_raw(bits), rounding, saturate, rand=rand, rand_bits=rand_bits,
                          tininess=tininess)


def convert(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None, ftz=False, daz=False,
            tininess="after"):
    """Convert ``src`` bit patterns to ``dst`` bit patterns (formats by name or object), exactly: the value
    each source pattern stands for is rounded once into ``dst`` by ``rounding`` (see golden.rounding)."""
    return convert_flags(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits, ftz=ftz, daz=daz,
                         tininess=tininess)[0]



def convert_words(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None, ftz=False,
                  daz=False, tininess="after"):
    """:func:`convert_flags` with the results as ``shape + (ceil(width / 64),)`` uint64 words, low word first,
    for any destination width: no Python ints, so an x87 destination keeps the fast path's speed."""
    src, dst = lookup(src), lookup(dst)
    if rand is None and rand_bits is None and not ftz and not daz:
        check_tininess(tininess)
        p = fastconv.plan_for(src, dst, rounding, saturate, np.size(bits), tininess=tininess)
        if p is not None and hasattr(p, "words"):
            shape = np.shape(bits)
            w, f = p.words(bits)
            return w.reshape(shape + (w.shape[-1],)), f.reshape(shape)
    out, flags = convert_flags(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits, ftz=ftz, daz=daz,
                               tininess=tininess)
    return to_words(out, dst.width), flags
