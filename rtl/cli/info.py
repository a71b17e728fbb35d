"""`fmtforge info FORMAT`: a format's facts, its documented behaviour and (up to 8 bits) its table of values."""

import inspect

from fmtforge import golden
from fmtforge.golden.facts import format_facts, show_value, special_codes

__all__ = ["cmd_info"]


def cmd_info(args):
    fmt = args.format
    print(repr(fmt))
    for key, value in format_facts(fmt).items():
        if key in ("name",):
            continue
        print(f"  {key:22s} {show_value(value) if key != 'width' else value}")
    if fmt.width <= 16:
        for key, text in special_codes(fmt):
            print(f"  {key:22s} {text}")
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
