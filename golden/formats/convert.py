"""Bits-to-bits conversion between any two formats: exact decode, then one rounding.

``convert_flags`` takes an exact fast path (golden.formats.fastconv: tables and per-binade integer arithmetic,
tested bit for bit, flags included, against the exact path) when one applies -- deterministic modes, IEEE float
sources of at most 32 bits or any source of at most 20 bits -- and the exact path otherwise;
``convert_flags_exact`` is the exact path alone, the reference.
"""

import numpy as np

from . import fastconv
from .catalog import lookup

__all__ = ["convert", "convert_exact", "convert_flags", "convert_flags_exact"]


def convert_flags_exact(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """Convert ``src`` bit patterns to ``dst`` bit patterns on the exact path; returns ``(bits, flags)``."""
    src, dst = lookup(src), lookup(dst)
    return dst.encode_raw(src.decode_raw(bits), rounding, saturate, rand=rand, rand_bits=rand_bits)


def convert_flags(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """Convert ``src`` bit patterns to ``dst`` bit patterns; returns ``(bits, flags)``."""
    src, dst = lookup(src), lookup(dst)
    if rand is None and rand_bits is None:
        p = fastconv.plan_for(src, dst, rounding, saturate, np.size(bits))
        if p is not None:
            return p(bits)
    return dst.encode_raw(src.decode_raw(bits), rounding, saturate, rand=rand, rand_bits=rand_bits)


def convert(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """Convert ``src`` bit patterns to ``dst`` bit patterns (formats by name or object), exactly: the value
    each source pattern stands for is rounded once into ``dst`` by ``rounding`` (see golden.rounding)."""
    return convert_flags(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits)[0]


def convert_exact(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """:func:`convert` on the exact path alone."""
    return convert_flags_exact(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits)[0]
