"""A format's facts as ``fmtforge info`` and the atlas show them: exact values written readably, the facts that
hold beyond float64's range, the special patterns."""

import math
from fractions import Fraction

from .formats.raw import FINITE, INF, NAN

__all__ = ["format_facts", "show_value", "special_codes"]


def show_value(value):
    """An exact value as a short readable string: 448, 2**-9 (0.001953125), 1.5e-45 ..."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    v = Fraction(value)
    if v and v.numerator == 1 and v.denominator > 1 and v.denominator & (v.denominator - 1) == 0:
        return f"2**-{v.denominator.bit_length() - 1}" + (f" ({float(v):.6g})" if v > 2 ** -1000 else "")
    if v.denominator == 1 and v.numerator > 1 and v.numerator & (v.numerator - 1) == 0 and v.numerator > 1 << 20:
        return f"2**{v.numerator.bit_length() - 1}" + (f" ({float(v):.6g})" if v < 2 ** 1000 else "")
    if v and not 2 ** -1000 < abs(v) < 2 ** 1000:  # beyond float64 (x87): mantissa * 2**exponent
        a = abs(v)
        e = a.numerator.bit_length() - a.denominator.bit_length()
        e -= a < Fraction(2) ** e  # a / 2**e in [1, 2)
        return f"{float(v / Fraction(2) ** e):.10g} * 2**{e}"
    return f"{float(v):.10g}"


def _log2(value):
    """log2 of a positive exact value, also beyond float64's range (fp64's 2**2098 ratio)."""
    v = Fraction(value)
    return math.log2(v.numerator) - math.log2(v.denominator)


def format_facts(fmt):
    """``fmt.facts()``; for formats whose range overflows float64 (fp64, x87), where ``Format.dynamic_range``
    raises OverflowError, the same facts with the dynamic range computed from the exact values."""
    try:
        return fmt.facts()
    except OverflowError:
        lo = fmt.min_subnormal or fmt.min_normal
        return {"name": fmt.name, "width": fmt.width, "max": fmt.max, "min_normal": fmt.min_normal,
                "min_subnormal": fmt.min_subnormal, "epsilon": fmt.epsilon,
                "dynamic_range_binades": _log2(Fraction(fmt.max) / Fraction(lo)) if lo else math.inf}


def _codes(codes, width):
    """Patterns as hex, runs of consecutive ones as ranges: ``0x7f81..0x7fff, 0xff81..0xffff (510)``."""
    codes = [int(c) for c in codes]
    if not codes:
        return "none"
    digits = (width + 3) // 4
    runs, start = [], codes[0]
    for a, b in zip(codes, codes[1:] + [None]):
        if b != a + 1:
            runs.append(f"0x{start:0{digits}x}" + (f"..0x{a:0{digits}x}" if a != start else ""))
            start = b
    text = ", ".join(runs[:4]) + (", ..." if len(runs) > 4 else "")
    return text + (f" ({len(codes)})" if len(codes) > 1 else "")


def special_codes(fmt):
    """(label, text) for the NaN/NaR, infinity and negative-zero patterns of a format of at most 16 bits."""
    bits = fmt.all_bits()
    raw = fmt.decode_raw(bits)
    finite_zero = (raw.cls == FINITE) & (raw.sig == 0)
    return [("nar_codes" if fmt.kind == "posit" else "nan_codes", _codes(bits[raw.cls == NAN], fmt.width)),
            ("inf_codes", " ".join(f"{s}{_codes(bits[(raw.cls == INF) & (raw.sign == neg)], fmt.width)}"
                                   for s, neg in (("+", False), ("-", True))
                                   if ((raw.cls == INF) & (raw.sign == neg)).any()) or "none"),
            ("neg_zero_code", _codes(bits[finite_zero & raw.sign], fmt.width))]
