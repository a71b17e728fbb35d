"""`fmtforge synth` and `fmtforge synth-all`: the FPGA flow (fmtforge.rtl.flow) on the command line."""

import functools
import json
import sys
from pathlib import Path

from ..flow import TARGETS, SynthError, markdown_table, synth_all, synth_one
from ..flow.peers import PEERS, peer_key
from ..flow.report import SEEDS
from ..units.registry import DEFAULT_UNITS, UNITS, build_unit
from .curves import add_curve_option, add_curves_all_option, cmd_curve, curves_all
from .options import CliError, add_unit_parsers, unit_options
from .progress import Progress

__all__ = ["add_synth_subparser", "synth_jobs"]


def _given(kind, options):
    """The options that differ from the unit's defaults (how a report row names a configuration)."""
    unit = UNITS[kind]
    return {k: v for k, v in options.items() if unit.option(k).required or v != unit.option(k).default}


def _job(kind, options):
    # a partial, not a lambda: the job may run in another process (synth-all shards)
    return kind, _given(kind, options), functools.partial(build_unit, kind, **options)


def synth_jobs(units):
    """Flow jobs ``(unit, options, build, targets)`` of ``(kind, options)`` pairs (what ``synth_all`` takes):
    ``targets`` are those the configuration is written for (None: any), as its unit declares."""
    return [(*_job(kind, options), UNITS[kind].targets_for(options)) for kind, options in units]


def _check_target(kind, options, target):
    allowed = UNITS[kind].targets_for(options)
    if allowed is not None and target not in allowed:
        given = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in _given(kind, options).items())
        raise CliError(f"target: {kind} {given} is written for {', '.join(allowed)} (it instantiates that "
                       f"part's primitives), not {target}")


def with_peer_variants(units):
    """``units`` and, after each one a peer compares with on other terms (a peer that flushes subnormals), the
    variant that conforms as the peer does (``--ftz``), for the report's like-for-like comparison."""
    out = []
    for kind, options in units:
        out.append((kind, options))
        for p in PEERS:
            if p.like and peer_key(kind, _given(kind, options)) == peer_key(p.unit, p.options):
                variant = {**options, **p.like}
                if (kind, variant) not in out and (kind, variant) not in units:
                    out.append((kind, variant))
    return out


def _seeds(args):
    """The placement seeds: ``--seed N`` alone, else ``--seeds`` (default 1,2,3)."""
    if args.seed is not None:
        if args.seed < 0:
            raise CliError(f"seed must be a non-negative integer, not {args.seed}")
        return (args.seed,)
    try:
        seeds = tuple(int(t) for t in args.seeds.split(","))
    except ValueError:
        seeds = ()
    if not seeds or any(x < 0 for x in seeds) or len(set(seeds)) != len(seeds):
        raise CliError(f"seeds must be distinct non-negative integers separated by commas (1,2,3), "
                       f"not {args.seeds!r}")
    return seeds


def _cmd_synth(args):
    options = unit_options(args)
    if args.curve:
        return cmd_curve(args, options)
    try:
        UNITS[args.unit].resolve(options)  # bad options: one line, before any tool runs
        _check_target(args.unit, UNITS[args.unit].resolve(options), args.target)
        seeds = _seeds(args)
        row = synth_one(*_job(args.unit, options), args.target, seeds=seeds, out_dir=args.output_dir)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise CliError(str(e)) from None
    except SynthError as e:
        sys.exit(f"fmtforge synth: {e}")
    print(json.dumps(row, indent=1) if args.json else markdown_table([row]), end="\n" if args.json else "")


def _cmd_synth_all(args):
    seeds = _seeds(args)
    if args.jobs is not None and args.jobs < 1:
        raise CliError(f"jobs must be a positive integer, not {args.jobs}")
    try:
        synth_all(synth_jobs(with_peer_variants(DEFAULT_UNITS)), args.target or tuple(TARGETS),
                  out_dir=args.output_dir, seeds=seeds, workers=args.jobs, scheduler=args.scheduler,
                  progress=lambda total: Progress(total, "synth-all", every=0))
        if args.curves:
            curves_all(args, DEFAULT_UNITS, args.target or tuple(TARGETS))
    except SynthError as e:
        sys.exit(f"fmtforge synth-all: {e}")
    out = Path(args.output_dir)
    print((out / "report.md").read_text())
    print(f"wrote {out / 'report.json'} and {out / 'report.md'}", file=sys.stderr)


def _seed_arguments(p):
    p.add_argument("--seeds", default=",".join(map(str, SEEDS)),
                   help="nextpnr placement seeds; Fmax is their median (default: 1,2,3)")
    p.add_argument("--seed", type=int, help="one placement seed only (instead of --seeds)")


def add_synth_subparser(subparsers):
    """Add ``synth UNIT ...`` (one unit, one target: prints its row) and ``synth-all`` (every default unit;
    writes report.json and report.md) to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("synth", help="synthesise one unit for an FPGA: LUTs, flip-flops, Fmax")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for q in add_unit_parsers(units):
        q.add_argument("--target", default="ice40", choices=tuple(TARGETS),
                       help="; ".join(f"{n}: {tg.help}" for n, tg in TARGETS.items()) + " (default: ice40)")
        _seed_arguments(q)
        q.add_argument("--output-dir", default="build/synth",
                       help="the flow's files go into OUTPUT_DIR/TARGET/MODULE (default: build/synth)")
        q.add_argument("--json", action="store_true", help="print the whole result as JSON")
        add_curve_option(q)
        q.set_defaults(func=_cmd_synth)

    p = subparsers.add_parser("synth-all", help="synthesise every default unit: build/synth/report.{json,md}")
    p.add_argument("--target", action="append", choices=tuple(TARGETS),
                   help="a target (repeatable; default: all)")
    _seed_arguments(p)
    p.add_argument("--output-dir", default="build/synth")
    p.add_argument("--jobs", type=int, help="flows run at once in local processes (default: the number of CPUs)")
    p.add_argument("--scheduler", help="a Dask scheduler (tcp://host:port) that runs the flows instead")
    add_curves_all_option(p)
    p.set_defaults(func=_cmd_synth_all)
    return p
