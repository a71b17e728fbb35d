"""The ``fmtforge`` command line: generate Verilog, list what is known, describe formats."""

import argparse
import sys
from pathlib import Path

from fmtforge import golden
from fmtforge.golden import MODES

from ..flow.verilog import check_module_name, to_verilog
from ..units.registry import DEFAULT_UNITS, build_unit, unit_kinds, units_table
from .atlas_doc import add_atlas_subparser
from .info import cmd_info
from .options import CliError, add_unit_parsers, format_arg, unit_options
from .output import write_output
from .plot import add_plot_subparser
from .synth import add_synth_subparser

__all__ = ["main"]


def cmd_generate(args):
    options = unit_options(args)
    if getattr(args, "from_onnx", None) is not None:  # qmac only; onnx is imported in there, not here
        from .onnx_qmac import generate_from_onnx
        return generate_from_onnx(args, options)
    if getattr(args, "node", None) is not None:
        raise CliError("--node needs --from-onnx MODEL")
    try:
        if args.name is not None:
            check_module_name(args.name)
        component, default_name = build_unit(args.unit, **options)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise CliError(str(e)) from None
    write_output(to_verilog(component, args.name or default_name), args.output, "--output")


def cmd_list(args):
    aliases = {}
    for alias, name in golden.ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    for family in golden.FAMILIES:
        print(f"{family.title}:")
        for name, fmt in golden.CATALOG.items():
            if type(fmt) is family.cls:
                also = f"  (also {', '.join(aliases[name])})" if name in aliases else ""
                print(f"  {name:14s} {fmt.width:3d} bits  {fmt!r}{also}")
    print("parametric names: e<E>m<M>[_b<bias>][_ieee|_fn|_fnuz|_none], posit<n>_es<es>, "
          "cfloat8_1_4_3_b<bias>, cfloat8_1_5_2_b<bias>, p3109_k<K>p<P>[_unsigned][_finite], "
          "binary<K>p<P>{s|u}{e|f}")
    print("units (fmtforge generate UNIT --help):")
    for kind, doc in unit_kinds().items():
        print(f"  {kind:14s} {doc.replace('`', '')}")
    print(f"rounding modes: {', '.join(MODES)}")


def cmd_units(args):
    """The registry's units: a markdown table (the README's) or one line each."""
    if args.markdown:
        sys.stdout.write(units_table())
        return
    for kind, doc in unit_kinds().items():
        print(f"{kind:14s} {doc.replace('`', '')}")


def cmd_verilog_all(args):
    """Write the Verilog of every default unit into one folder (what ``make verilog`` runs)."""
    out = Path(args.output_dir)
    for kind, options in DEFAULT_UNITS:
        component, name = build_unit(kind, **options)
        write_output(to_verilog(component, name), out / f"{name}.v", "--output-dir")
    print(f"wrote {len(DEFAULT_UNITS)} Verilog modules into {out}/")


def _quote(arg):
    import shlex
    return shlex.quote(arg) if arg.isprintable() else repr(arg)


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (the parameter and what is wrong), exit status 2;
    ``--help`` still shows the usage. Sub-parsers are made of the same class."""

    def parse_args(self, args=None, namespace=None):
        args, extra = self.parse_known_args(args, namespace)
        if extra:  # quoted, so that an empty or blank argument shows too
            self.error(f"unrecognized arguments: {' '.join(_quote(a) for a in extra)}")
        return args

    def error(self, message):
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)  # one line, always
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def make_parser():
    parser = _Parser(prog="fmtforge", description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the formats, units and rounding modes fmtforge knows")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("generate", help="write the Verilog of one unit")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for q in add_unit_parsers(units):
        q.add_argument("--name", help="Verilog module name (default: spelled from the parameters)")
        q.add_argument("-o", "--output", default="-", help="output Verilog file (default, or -: stdout)")
        q.set_defaults(func=cmd_generate)
        if q.prog.endswith(" qmac"):
            from .onnx_qmac import add_onnx_arguments
            add_onnx_arguments(q)

    add_synth_subparser(sub)

    p = sub.add_parser("info", help="facts about a format, and the table of its values (formats of <= 8 bits)")
    p.add_argument("format", type=format_arg, help="a format name (see `fmtforge list`)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("units", help="the units fmtforge generates, from the unit registry")
    p.add_argument("--markdown", action="store_true", help="as the README's markdown table")
    p.set_defaults(func=cmd_units)

    add_plot_subparser(sub)
    add_atlas_subparser(sub)

    _add_plugins(sub)

    p = sub.add_parser("verilog-all", help="write every unit at its default parameters (make verilog)")
    p.add_argument("--output-dir", default="build/verilog")
    p.set_defaults(func=cmd_verilog_all)
    return parser


def _add_plugins(sub):
    """Commands other packages add through the ``fmtforge.commands`` entry point group: each entry is a function
    ``add(subparsers)``. fmtforge's verification floor adds ``sweep`` and ``mutate`` this way, so that the
    generators never import the testbenches."""
    from importlib.metadata import entry_points
    for ep in sorted(entry_points(group="fmtforge.commands"), key=lambda e: e.name):
        ep.load()(sub)


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CliError as e:
        parser.exit(2, f"fmtforge: error: {e}\n")
    except BrokenPipeError:  # `fmtforge ... | head`: the reader left; end quietly, as shell tools do
        _quiet_stdout()
        return 0
    return 0


def _quiet_stdout():
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
