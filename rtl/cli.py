"""The ``fmtforge`` command line: generate Verilog, list what is known, describe formats."""

import argparse
import sys
from pathlib import Path

import golden
from golden import MODES

from .cli_units import CliError, _format, add_unit_parsers, unit_options
from .units import DEFAULT_UNITS, build_unit, unit_kinds

__all__ = ["main"]


def _write(text, path):
    if path == "-":
        sys.stdout.write(text)
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    print(f"wrote {p}", file=sys.stderr)


def cmd_generate(args):
    options = unit_options(args)
    try:
        component, default_name = build_unit(args.unit, **options)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise CliError(str(e)) from None
    from .verilog import to_verilog
    _write(to_verilog(component, args.name or default_name), args.output)


def cmd_list(args):
    print("formats:")
    for name, fmt in golden.CATALOG.items():
        print(f"  {name:14s} {fmt.width:3d} bits  {fmt!r}")
    print("units (fmtforge generate UNIT --help):")
    for kind, doc in unit_kinds().items():
        print(f"  {kind:14s} {doc}")
    print(f"rounding modes: {', '.join(MODES)}")


def cmd_verilog_all(args):
    """Write the Verilog of every default unit into one folder (what ``make verilog`` runs)."""
    from .verilog import to_verilog
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for kind, options in DEFAULT_UNITS:
        component, name = build_unit(kind, **options)
        (out / f"{name}.v").write_text(to_verilog(component, name))
        print(f"  {out / (name + '.v')}")
    print(f"wrote {len(DEFAULT_UNITS)} Verilog modules into {out}/")


def _show(value):
    """An exact value as a short readable string: 448, 2**-9 (0.001953125), 1.5e-45 ..."""
    from fractions import Fraction
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
    import numpy as np
    fmt = args.format
    print(repr(fmt))
    for key, value in fmt.facts().items():
        if key in ("name",):
            continue
        print(f"  {key:22s} {_show(value) if key != 'width' else value}")
    import inspect
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


def make_parser():
    parser = argparse.ArgumentParser(prog="fmtforge", description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the formats, units and rounding modes fmtforge knows")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("generate", help="write the Verilog of one unit")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for q in add_unit_parsers(units):
        q.add_argument("--name", help="Verilog module name (default: spelled from the parameters)")
        q.add_argument("-o", "--output", required=True, help="output Verilog file, or - for stdout")
        q.set_defaults(func=cmd_generate)

    from .synth_cli import add_synth_subparser
    add_synth_subparser(sub)

    p = sub.add_parser("info", help="facts about a format, and the table of its values (formats of <= 8 bits)")
    p.add_argument("format", type=_format, help="a format name (see `fmtforge list`)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("verilog-all", help="write every unit at its default parameters (make verilog)")
    p.add_argument("--output-dir", default="build/verilog")
    p.set_defaults(func=cmd_verilog_all)
    return parser


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CliError as e:
        parser.exit(2, f"fmtforge: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
