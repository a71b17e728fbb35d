"""Bits-to-bits conversion between any two formats: exact decode, then one rounding."""

from .catalog import lookup

__all__ = ["convert", "convert_flags"]


def convert_flags(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """Convert ``src`` bit patterns to ``dst`` bit patterns; returns ``(bits, flags)``."""
    src, dst = lookup(src), lookup(dst)
    return dst.encode_raw(src.decode_raw(bits), rounding, saturate, rand=rand, rand_bits=rand_bits)


def convert(bits, src, dst, rounding="rne", saturate=False, *, rand=None, rand_bits=None):
    """Convert ``src`` bit patterns to ``dst`` bit patterns (formats by name or object), exactly: the value
    each source pattern stands for is rounded once into ``dst`` by ``rounding`` (see golden.rounding)."""
    return convert_flags(bits, src, dst, rounding, saturate, rand=rand, rand_bits=rand_bits)[0]
