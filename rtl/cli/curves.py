"""``fmtforge synth UNIT ... --curve``: the unit's pipelining curve (fmtforge.rtl.flow.curves) on the command
line: LUT4 / FF / Fmax at 0, 1, 2 and 3 stages, Fmax the median of seeds 1, 2, 3."""

import json
import sys
from pathlib import Path

from ..flow import SynthError
from ..flow.curves import curve, curve_table
from ..units.registry import UNITS, build_unit
from .options import CliError

__all__ = ["CURVE_SEEDS", "CURVE_STAGES", "add_curve_option", "cmd_curve"]

CURVE_STAGES = (0, 1, 2, 3)
CURVE_SEEDS = (1, 2, 3)


def add_curve_option(parser):
    parser.add_argument("--curve", action="store_true",
                        help="synthesise at 0, 1, 2 and 3 stages (Fmax: median of seeds 1, 2, 3) and print the "
                             "pipelining curve; the unit needs a --stages option, which --curve sets itself")


def cmd_curve(args, options):
    """Run the curve of ``args.unit`` with ``options`` (its other options); print the table (or JSON)."""
    unit = UNITS[args.unit]
    if not any(o.name == "stages" for o in unit.options):
        raise CliError(f"curve: unit {args.unit} has no stages option (its pipeline is fixed)")
    if options.get("stages") not in (None, 0):  # None: the unit picks its default stages
        raise CliError("stages: --curve sets the stages itself (0..3); leave --stages out")
    options = {k: v for k, v in options.items() if k != "stages"}
    try:
        unit.resolve(options)  # bad options: one line, before any tool runs
        rows = curve(lambda s: build_unit(args.unit, **options, stages=s), args.target, stages=CURVE_STAGES,
                     seeds=CURVE_SEEDS, out_dir=Path(args.output_dir) / "curves")
    except (ValueError, TypeError, NotImplementedError) as e:
        raise CliError(str(e)) from None
    except SynthError as e:
        sys.exit(f"fmtforge synth: {e}")
    print(json.dumps(rows, indent=1) if args.json else curve_table(rows), end="\n" if args.json else "")


def add_curves_all_option(parser):
    parser.add_argument("--curves", action="store_true",
                        help="also the pipelining curve of every default unit with a stages option (0..3 stages, "
                             "seeds 1, 2, 3): OUTPUT_DIR/curves.json and curves.md")


def curves_all(args, default_units, targets):
    """The curves of every ``(kind, options)`` of ``default_units`` whose unit has a stages option (each
    configuration once, whatever stages it lists) on ``targets``; writes curves.json / curves.md."""
    from ..flow.curves import write_curves
    seen, rows = set(), []
    for kind, options in default_units:
        if not any(o.name == "stages" for o in UNITS[kind].options):
            continue
        options = {k: v for k, v in options.items() if k != "stages"}
        key = (kind, json.dumps(options, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        for target in targets:
            rows += curve(lambda s, kind=kind, options=options: build_unit(kind, **options, stages=s), target,
                          stages=CURVE_STAGES, seeds=CURVE_SEEDS, out_dir=Path(args.output_dir) / "curves")
    write_curves(rows, args.output_dir)
    return rows
