"""`fmtforge info FORMAT`: a format's facts, its documented behaviour and (up to 8 bits) its table of values."""

import inspect
from fractions import Fraction

from fmtforge import golden

__all__ = ["cmd_info"]


def _show(value):
    """An exact value as a short readable string: 448, 2**-9 (0.001953125), 1.5e-45 ..."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    v = Fraction(value)
    if v and v.numerator == 1 and v.denominator & (v.denominator - 1) == 0:
        return f"2**-{v.denominator.bit_length() - 1} ({float(v):.6g})"
    if v.denominator == 1 and v.numerator > 1 and v.numerator & (v.numerator - 1) == 0 and v.numerator > 1 << 20:
        return f"2**{v.numerator.bit_length() - 1} ({float(v):.6g})"
    return f"{float(v):.10g}"


def cmd_info(args):
    fmt = args.format
    print(repr(fmt))
    for key, value in fmt.facts().items():
        if key in ("name",):
            continue
        print(f"  {key:22s} {_show(value) if key != 'width' else value}")
    doc = inspect.getdoc(type(fmt)) or ""
    paragraphs = [p for p in doc.split("\n\n") if not p.startswith(("Parameters", "--"))]
    paragraphs = [p for p in paragraphs if not p.lstrip().startswith(("exp_bits", "n :", "bits :"))]
    print()
    for p in paragraphs:
        print("  " + p.replace("\n", "\n  "))
    if fmt.width <= 8:
        print()
        print("  pattern  value")
        bits = fmt.all_bits()
        raw = fmt.decode_raw(bits)
        for b, v, c in zip(bits, fmt.decode(bits), raw.cls):
            name = {golden.NAN: "NaR" if fmt.kind == "posit" else "NaN"}.get(int(c), repr(float(v)))
            print(f"  0x{int(b):02x}     {name}")
