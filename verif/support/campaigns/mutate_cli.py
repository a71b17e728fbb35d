"""``fmtforge mutate``: the regression's mutation score (verif.support.mutate) on the command line.

``fmtforge mutate convert --src fp32 --dst bf16 [--flags] ... [--count N] [--seed S]`` scores one converter,
``fmtforge mutate qmac --lanes 4 --count 50`` (any stream unit, or convert with ``--stages``) one stream unit
through the stream batch lane;
``fmtforge mutate all [--count N] [--seed S]`` scores every unit of ``SCORED`` and writes
``build/mutate/report.{json,md}`` (``make mutate``); ``fmtforge mutate stream`` only its stream units (one
configuration of each, ``mutate_stream.STREAM_SCORED``).
"""

import sys

__all__ = ["add_mutate"]


def _cmd(args):
    from fmtforge.rtl.cli.options import CliError, unit_options
    from fmtforge.rtl.units.registry import UNITS

    from fmtforge.verif.support.campaigns.mutate import SCORED, Scored, mutate_unit, write_report

    if args.count < 1:
        raise CliError(f"count must be a positive integer, not {args.count}")
    if args.unit == "all":
        scored = SCORED
    elif args.unit == "stream":
        scored = tuple(s for s in SCORED if s.stream)
    else:
        try:
            options = UNITS[args.unit].resolve(unit_options(args))
        except ValueError as e:
            raise CliError(str(e)) from None
        stream = args.unit not in ("convert", "posit-decode") or options.get("stages")
        if args.unit == "posit-decode" or (not stream and options["rounding"] == "stochastic"):
            raise CliError("mutate scores combinational converters (deterministic rounding) and the valid/ready "
                           "stream units (convert --stages N, qmac, mx-quantize, mx-dequantize, w4-dequantize, "
                           "bfp-encode); `fmtforge mutate all` scores every unit of the study")
        given = {k: getattr(v, "name", v) for k, v in options.items() if v != UNITS[args.unit].option(k).default
                 or k in ("src", "dst")}
        label = f"{given['src']} -> {given['dst']}" if args.unit == "convert" else args.unit
        if stream:
            label += " " + " ".join(f"{k}={v}" for k, v in given.items() if k not in ("src", "dst"))
        scored = (Scored(label.strip(), args.unit, given, stream=bool(stream)),)
    from fmtforge.rtl.cli.progress import Progress
    bar = Progress(len(scored), "mutate", every=0)
    rows = []
    for s in scored:
        rows.append(mutate_unit(s, count=args.count, mutant_seed=args.seed, log=bar.message))
        bar.step(s.label)
    out = write_report(rows, args.output_dir)
    print((out / "report.md").read_text())
    print(f"wrote {out / 'report.json'} and {out / 'report.md'}", file=sys.stderr)


def add_mutate(subparsers):
    """``mutate UNIT ...`` and ``mutate all`` on an argparse ``subparsers`` object."""
    from fmtforge.rtl.cli.options import add_unit_parsers
    p = subparsers.add_parser("mutate", help="the regression's mutation score (Yosys mutants, SAT for survivors)",
                              description="Mutants of a unit (Yosys mutate, all in one design) run against the "
                              "vectors make test uses; survivors proved equivalent by SAT or shown killable.")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    parsers = add_unit_parsers(units)  # all of them, so that the others get a clear "not scored here" line
    parsers.append(units.add_parser("all", help="every unit of the study: build/mutate/report.{json,md}"))
    parsers.append(units.add_parser("stream", help="one configuration of every stream unit (the stream batch lane)"))
    for q in parsers:
        q.add_argument("--count", type=int, default=200, help="mutants per unit (default 200)")
        q.add_argument("--seed", type=int, default=1, help="Yosys' mutant sampling seed (default 1)")
        q.add_argument("--output-dir", default="build/mutate", help="where report.json and report.md go")
        q.set_defaults(func=_cmd)
    return p
