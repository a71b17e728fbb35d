"""Exact fast paths for conversions, built from (and tested bit for bit against) the exact models.

``convert_flags`` (golden.formats.convert) takes one of these when it can; every result, bits and flags,
equals ``dst.encode_raw(src.decode_raw(bits), rounding, saturate)`` -- the exact path -- for every input.
Deterministic modes only (``rne rtz rdn rup rmm``); stochastic rounding stays on the exact path.

Three plans, chosen per (source, destination, mode, saturate) and cached:

``source-table``
    Sources of at most ``SOURCE_TABLE_MAX_BITS`` bits (bf16, fp16, tf32, fp8, posit16, ...): the exact result of
    every source pattern, computed once; a conversion is one table lookup. Any destination.

``key-table``
    An IEEE source float of at most 32 bits (fp32, fp24, pxr24) into a destination whose rounding boundaries
    have at most ``K`` significant bits after the leading one (``K`` = fraction bits + 1 for a float, the most
    fraction bits + 1 for a posit, the width for an integer, 1 for E8M0). A pattern is cut to a *key*: its sign,
    exponent and top ``K`` fraction bits, plus one sticky bit saying whether anything below them is set. The
    table holds, per key, the exact result of one representative (the key's patterns with the sticky bit as
    the bit just below the kept ones). Every pattern of a key has that result: all of them lie at or strictly
    inside one interval between consecutive multiples of the key's unit, and no rounding boundary of the
    destination (a representable value, a midpoint, a range limit: at most ``K`` bits after the leading one)
    lies strictly inside such an interval -- in the source's normal range. Below it the key's unit is fixed
    while destination boundaries may get finer: the plan checks that the destination has none finer than the
    key's unit there, or else sends source subnormals to the exact path. NaN payloads keep their top ``K``
    bits, which is all such a destination keeps (and the quiet bit is the top one). Used for destinations
    of at most 16 bits whose table has at most ``2**KEY_TABLE_MAX_BITS`` entries (fp8, fp6, fp4, cfloat8,
    bf16, posit8, int8, uint8, int4, uint4, e8m0).

``binade``
    An IEEE source float of at most 32 bits into any minifloat with subnormals (no explicit integer bit),
    posit or integer. Within one source binade (source exponent field ``E``, so the value is ``1.f * 2**e``),
    the destination's encoding, read as an unsigned integer, is a fixed prefix ``A`` -- the destination
    exponent field; a posit's regime and exponent bits; only the hidden bit for integers and destination
    subnormals -- followed by the source fraction, cut at a position ``s`` constant over the binade:
    ``encoding = round((A << F | f) / 2**s)``, F the source fraction width. The encodings are monotonic in the
    value, so a carry out of the fraction runs into the exponent or regime exactly as rounding the value does.
    Per row (sign and ``E``) a table holds the prefix split at the cut (``Apre`` above it, the rest ``T0``
    below it, beside the fraction), the cut ``S`` (cuts far below the fraction are clamped to one where the
    round bit is 0 and the sticky bit the same; a cut above the fraction end shifts the fraction left), and the
    rounding bias for the mode, so each element costs a handful of integer operations:
    ``low = T0 | f; mag = Apre + ((low + bias) >> S)`` with ``bias = 2**(S-1) - 1 + lsb`` (rne), ``2**(S-1)``
    (rmm), ``2**S - 1`` or 0 by sign (rup, rdn), 0 (rtz); inexact is ``low & (2**S - 1) != 0``. Rows beyond the
    destination's range hold prefixes that overflow (floats), saturate (integers) or clamp (posits: maxpos,
    minpos), and the per-destination tail applies overflow, underflow (after rounding, as the exact path
    does), the sign and the flags. Source zeros, subnormals (normalised with a leading-zero count onto rows of
    their own), infinities and NaNs are rare and go a separate way: zeros and infinities take the exact
    path's result for their sign, computed once; NaNs the exact path's flags for their sign and quiet bit and
    a payload formula that the plan checks against the exact path when it is built (NaNs fall back to the
    exact path if it disagrees).

The x87 destination (80 bits: Python-int patterns) goes through the binade plan into fp64 -- exact for any
source of at most 32 bits -- and is repacked; building the Python ints is what limits its speed.

Every plan takes the tininess rule for UF (golden.rounding): the tables and the binade plan's special values
come from the exact path with it, and the binade plan decides tininess per row by one threshold on the source
fraction (the binade just below the destination's smallest normal is tiny below it; lower binades always, higher
never).

Work goes in chunks of ``CHUNK`` elements, so temporaries stay in cache; arithmetic is uint32 wherever every
intermediate of the plan fits 32 bits, else uint64. Flags use the named constants of golden.rounding.
"""

import numpy as np

from .integer import Integer
from .minifloat import FP64, Minifloat
from .posit import Posit

from .fastconv_binade import _Binade
from .fastconv_wide import _Wide
from .fastconv_tables import (CHUNK, DETERMINISTIC, KEY_TABLE_MAX_BITS, SOURCE_TABLE_MAX_BITS, _U8, _U32, _U64,  # noqa: F401
                              _KeyTable, _SourceTable, key_bits)

__all__ = ["CHUNK", "DETERMINISTIC", "convert_flags_fast", "key_bits", "plan", "plan_for", "plan_kind"]


_PLANS = {}
_MAX_PLANS = 256


# -- which plan ---------------------------------------------------------------------------------------------
def _ieee_source(src):
    """An IEEE-style float source the key-table and binade plans read directly (at most 32 bits)."""
    return (isinstance(src, Minifloat) and src.specials == "ieee" and src.subnormals
            and not src.explicit_integer and src.width <= 32 and 1 <= src.frac_bits <= 31)


def _binade_dst(dst):
    return (isinstance(dst, Minifloat) and dst.subnormals and not dst.explicit_integer) \
        or isinstance(dst, (Posit, Integer))


def _wide_dst(src, dst):
    """An explicit-integer destination (x87 layout) holding every source value as a normal number."""
    return (isinstance(dst, Minifloat) and dst.explicit_integer and dst.man_bits == 64 and dst.exp_bits == 15
            and dst.specials == "ieee" and dst.subnormals and dst.frac_bits >= 52
            and dst.emin <= src.emin - src.frac_bits and dst.emax >= src.emax
            and FP64.emin <= src.emin - src.frac_bits and FP64.emax >= src.emax)


def plan_kind(src, dst, rounding="rne", saturate=False):
    """The plan :func:`plan` would use (``source-table``, ``key-table``, ``binade``, ``wide``), or None."""
    if rounding not in DETERMINISTIC or not isinstance(saturate, (bool, np.bool_)):
        return None
    if src.dtype != object and src.width <= SOURCE_TABLE_MAX_BITS:
        return "source-table"
    if not _ieee_source(src):
        return None
    K = key_bits(dst)
    if (K is not None and dst.dtype != object and dst.width <= 16 and K < src.frac_bits
            and src.width - (src.frac_bits - K) + 1 <= KEY_TABLE_MAX_BITS):
        return "key-table"
    if _binade_dst(dst):
        return "binade"
    if _wide_dst(src, dst):
        return "wide"
    return None


_BUILD = {}  # filled below: kind -> plan class


def plan(src, dst, rounding="rne", saturate=False, kind=None, *, tininess="after"):
    """The cached fast conversion ``bits -> (bits, flags)`` for these formats (formats as objects), or None.

    ``kind`` forces one plan (tests use it to check every plan that applies, not only the chosen one);
    ``tininess`` is the UF rule (golden.rounding)."""
    saturate = bool(saturate) if isinstance(saturate, (bool, np.bool_)) else saturate
    chosen = plan_kind(src, dst, rounding, saturate)
    if chosen is None:
        return None
    kind = kind or chosen
    key = (src, dst, rounding, saturate, kind, tininess)
    p = _PLANS.get(key)
    if p is None:
        if kind != chosen and not _applies(kind, src, dst):
            raise ValueError(f"plan {kind!r} does not apply to {src} -> {dst}")
        try:
            p = _BUILD[kind](src, dst, rounding, saturate, tininess)
        except ValueError:  # the exact path refuses these arguments (a codebook in another mode): let it say so
            return None
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = p
    return p


_USAGE = {}  # values converted on the exact path per plan not built yet


def _build_cost(kind, src, dst):
    """Roughly how many values the exact path converts in the time a plan takes to build."""
    if kind == "source-table":
        return 1 << src.width
    if kind == "key-table":
        return 1 << (src.width - (src.frac_bits - key_bits(dst)) + 1)
    return 1 << 12  # binade, wide: probes and a NaN check


def plan_for(src, dst, rounding, saturate, size, *, tininess="after"):
    """The plan for a call converting ``size`` values, or None to stay on the exact path: a plan is built once
    the values these arguments have converted reach its build cost (so one-off small calls never pay for it)."""
    kind = plan_kind(src, dst, rounding, saturate)
    if kind is None:
        return None
    sat = bool(saturate)
    p = _PLANS.get((src, dst, rounding, sat, kind, tininess))
    if p is not None:
        return p
    key = (src, dst, rounding, sat, tininess)
    used = _USAGE.get(key, 0) + size
    if used < _build_cost(kind, src, dst):
        if len(_USAGE) >= 4096:
            _USAGE.clear()
        _USAGE[key] = used
        return None
    _USAGE.pop(key, None)
    return plan(src, dst, rounding, saturate, tininess=tininess)


def _applies(kind, src, dst):
    if kind == "source-table":
        return src.dtype != object and src.width <= SOURCE_TABLE_MAX_BITS
    if not _ieee_source(src):
        return False
    if kind == "key-table":
        K = key_bits(dst)
        return K is not None and dst.dtype != object and dst.width <= 16 and K < src.frac_bits \
            and src.width - (src.frac_bits - K) + 1 <= 24
    if kind == "binade":
        return _binade_dst(dst)
    return kind == "wide" and _wide_dst(src, dst)


def convert_flags_fast(bits, src, dst, rounding="rne", saturate=False, kind=None, *, tininess="after"):
    """Like ``convert_flags`` but always on a fast plan (ValueError when none applies)."""
    from .catalog import lookup
    src, dst = lookup(src), lookup(dst)
    p = plan(src, dst, rounding, saturate, kind, tininess=tininess)
    if p is None:
        raise ValueError(f"no fast conversion for {src} -> {dst}, rounding={rounding!r}, saturate={saturate!r}")
    return p(bits)


_BUILD.update({"source-table": _SourceTable, "key-table": _KeyTable, "binade": _Binade, "wide": _Wide})
