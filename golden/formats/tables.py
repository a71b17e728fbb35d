"""Table-driven fast paths for narrow formats, built from (and tested against) the exact models.

Decode: every pattern's float64 value, computed once by the exact ``decode``.

Encode from float64: a float64 is cut to a *key* -- its sign, exponent and top ``K`` mantissa bits, plus one
sticky bit saying whether anything below them is set -- and the key indexes a table of results. The table
entry for a key is the exact encoding of one value strictly inside (or at the start of, when sticky is 0) the
interval of float64s sharing that key. That is the encoding of every value of the interval, because no rounding
boundary of the format lies strictly inside it: boundaries are representable values or midpoints between
neighbours, which have at most ``K`` significant bits after the leading one (``K = frac_bits + 1`` for a
float). NaN payloads keep their top ``K`` bits, which is all a narrow format keeps.
"""

import numpy as np

__all__ = ["decode_table", "encode_table", "key_bits"]

_DECODE = {}
_ENCODE = {}
MAX_TABLE_BITS = 22  # 4M entries at most


def key_bits(fmt):
    """Mantissa bits the key needs for ``fmt``, or None when no table is small enough."""
    if fmt.width > 16:
        return None
    if fmt.kind == "float":
        K = fmt.frac_bits + 1
    elif fmt.kind == "scale":
        K = 1
    elif fmt.kind == "posit":
        K = max(fmt.n - 3 - fmt.es, 0) + 1
    else:
        return None
    return K if 1 + 11 + K + 1 <= MAX_TABLE_BITS else None


def decode_table(fmt):
    t = _DECODE.get(fmt)
    if t is None:
        t = _DECODE[fmt] = fmt._decode_exact(fmt.all_bits())
        t.setflags(write=False)
    return t


def encode_table(fmt, rounding, saturate):
    key = (fmt, rounding, saturate)
    t = _ENCODE.get(key)
    if t is None:
        K = key_bits(fmt)
        s = 52 - K
        keys = np.arange(1 << (1 + 11 + K + 1), dtype=np.uint64)
        sticky = keys & np.uint64(1)
        u = ((keys >> np.uint64(1)) << np.uint64(s)) | (sticky << np.uint64(s - 1))
        from .raw import from_float64
        t = _ENCODE[key] = fmt.encode_raw(from_float64(u.view(np.float64)), rounding, saturate)[0]
        t.setflags(write=False)
    return t, 52 - key_bits(fmt)


def encode_fast(fmt, values, rounding, saturate):
    table, s = encode_table(fmt, rounding, saturate)
    u = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    low = u & np.uint64((1 << s) - 1)
    idx = u >> np.uint64(s)
    idx <<= np.uint64(1)
    idx |= low != 0
    return table.take(idx)
