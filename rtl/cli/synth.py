"""`fmtforge synth` and `fmtforge synth-all`: the FPGA flow (fmtforge.rtl.flow) on the command line."""

import json
import sys
from pathlib import Path

from ..flow import TARGETS, SynthError, markdown_table, synth_all, synth_one
from ..units.registry import DEFAULT_UNITS, UNITS, build_unit
from .curves import add_curve_option, add_curves_all_option, cmd_curve, curves_all
from .options import CliError, add_unit_parsers, unit_options

__all__ = ["add_synth_subparser", "synth_jobs"]


def _given(kind, options):
    """The options that differ from the unit's defaults (how a report row names a configuration)."""
    unit = UNITS[kind]
    return {k: v for k, v in options.items() if unit.option(k).required or v != unit.option(k).default}


def _job(kind, options):
    return kind, _given(kind, options), lambda: build_unit(kind, **options)


def synth_jobs(units):
    """Flow jobs ``(unit, options, build)`` of ``(kind, options)`` pairs (what ``synth_all`` takes)."""
    return [_job(kind, options) for kind, options in units]


def _cmd_synth(args):
    options = unit_options(args)
    if args.curve:
        return cmd_curve(args, options)
    try:
        UNITS[args.unit].resolve(options)  # bad options: one line, before any tool runs
        row = synth_one(*_job(args.unit, options), args.target, seed=args.seed, out_dir=args.output_dir)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise CliError(str(e)) from None
    except SynthError as e:
        sys.exit(f"fmtforge synth: {e}")
    print(json.dumps(row, indent=1) if args.json else markdown_table([row]), end="\n" if args.json else "")


def _cmd_synth_all(args):
    try:
        synth_all(synth_jobs(DEFAULT_UNITS), args.target or tuple(TARGETS),
                  out_dir=args.output_dir, seed=args.seed, workers=args.jobs)
        if args.curves:
            curves_all(args, DEFAULT_UNITS, args.target or tuple(TARGETS))
    except SynthError as e:
        sys.exit(f"fmtforge synth-all: {e}")
    out = Path(args.output_dir)
    print((out / "report.md").read_text())
    print(f"wrote {out / 'report.json'} and {out / 'report.md'}", file=sys.stderr)


def add_synth_subparser(subparsers):
    """Add ``synth UNIT ...`` (one unit, one target: prints its row) and ``synth-all`` (every default unit;
    writes report.json and report.md) to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("synth", help="synthesise one unit for an FPGA: LUTs, flip-flops, Fmax")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for q in add_unit_parsers(units):
        q.add_argument("--target", default="ice40", choices=tuple(TARGETS),
                       help="ice40: HX8K ct256; ecp5: LFE5U-25F CABGA256 (default: ice40)")
        q.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default: 1)")
        q.add_argument("--output-dir", default="build/synth",
                       help="the flow's files go into OUTPUT_DIR/TARGET/MODULE (default: build/synth)")
        q.add_argument("--json", action="store_true", help="print the whole result as JSON")
        add_curve_option(q)
        q.set_defaults(func=_cmd_synth)

    p = subparsers.add_parser("synth-all", help="synthesise every default unit: build/synth/report.{json,md}")
    p.add_argument("--target", action="append", choices=tuple(TARGETS),
                   help="a target (repeatable; default: all)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default: 1)")
    p.add_argument("--output-dir", default="build/synth")
    p.add_argument("--jobs", type=int, help="flows run at once (default: the number of CPUs)")
    add_curves_all_option(p)
    p.set_defaults(func=_cmd_synth_all)
    return p
