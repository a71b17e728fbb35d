"""``fmtforge sweep UNIT [unit options] ...``: a converter swept through the batch lane against golden.

Plugged into the ``fmtforge`` command through the ``fmtforge.commands`` entry point group (the generators do
not import the verification floor).
"""

import json
import os
import sys
import time

__all__ = ["add_sweep"]


def _parse_range(text, total):
    try:
        lo, hi = (int(v, 0) if v else None for v in text.split(":"))
    except ValueError:
        raise ValueError(f"range must be LO:HI (integers, 0x.. allowed), not {text!r}") from None
    lo = 0 if lo is None else lo
    hi = total if hi is None else hi
    if not 0 <= lo < hi <= total:
        raise ValueError(f"range must satisfy 0 <= LO < HI <= {total}, not {text!r}")
    return lo, hi


class SweepProgress:
    """``run_sweep``'s ``progress(done, total)`` callback on the shared helper (fmtforge.rtl.cli.progress): one
    updating line on a terminal, a plain line every ``every`` seconds otherwise, with vectors/s and the ETA."""

    def __init__(self, stream=None, every=15.0):
        self.stream, self.every, self.bar = stream, every, None

    def __call__(self, done, total):
        from fmtforge.rtl.cli.progress import Progress as Bar
        if self.bar is None:
            self.bar = Bar(total, "sweep", stream=self.stream, every=self.every,
                           rate=lambda n, s: f"{n / max(s, 1e-9) / 1e6:.2f} M vectors/s")
        self.bar.update(done)


def _cmd_sweep(args):
    from fmtforge.rtl.cli.options import CliError, unit_options
    from fmtforge.rtl.units.registry import UNITS, build_unit

    from fmtforge.verif.support.campaigns.sweep import combine, make_spec, run_sweep

    if args.unit != "convert":
        raise CliError(f"unit must be convert for a sweep (the batch lane drives combinational converters), "
                       f"not {args.unit!r}")
    try:
        options = UNITS[args.unit].resolve(unit_options(args))
    except ValueError as e:
        raise CliError(str(e)) from None
    if args.jobs is not None and args.jobs < 1:
        raise CliError(f"jobs must be a positive integer, not {args.jobs}")
    if args.inputs != "all" and not (args.inputs.isdigit() and int(args.inputs) > 0):
        raise CliError(f"inputs must be all or a positive integer, not {args.inputs!r}")
    if options["stages"]:
        raise CliError("stages must be 0 for a sweep: the batch lane checks the combinational core")
    try:
        component, _ = build_unit("convert", **options)
        spec = make_spec(component, src=options["src"].name, dst=options["dst"].name,
                         rounding=options["rounding"], saturate=options["saturate"], flags=options["flags"],
                         rand_bits=options["rand_bits"], inputs=args.inputs, seed=args.seed, ftz=options["ftz"],
                         daz=options["daz"], tininess=options["tininess"])
        lo, hi = _parse_range(args.range, spec.total) if args.range else (0, spec.total)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(f"sweep {spec.top}: inputs {lo}..{hi - 1} ({hi - lo} vectors, {spec.mode}, seed {spec.seed}), "
          f"{'Dask ' + args.scheduler if args.scheduler else f'{args.jobs or os.cpu_count()} local processes'}",
          file=sys.stderr)
    t = time.perf_counter()
    interrupted = False
    try:
        results = run_sweep(spec, lo, hi, jobs=args.jobs, scheduler=args.scheduler, progress=SweepProgress())
    except KeyboardInterrupt as e:
        results, interrupted = getattr(e, "results", []), True
    seconds = time.perf_counter() - t
    count = sum(r["count"] for r in results)
    bad = sum(r["mismatches"] for r in results)
    report = {"unit": args.unit, "options": {k: getattr(v, "name", v) for k, v in options.items()},
              "module": spec.top, "mode": spec.mode, "seed": spec.seed, "range": [lo, hi], "inputs": count,
              "mismatches": bad, "seconds": round(seconds, 2), "vectors_per_s": round(count / max(seconds, 1e-9)),
              "digest": combine(results), "complete": not interrupted and count == hi - lo,
              "shards": [{k: r[k] for k in ("lo", "hi", "mismatches", "digest", "seconds")} for r in results]}
    for line in [ln for r in results for ln in r["first"]][:10]:
        print("  " + line, file=sys.stderr)
    print(f"{spec.top}: {count} inputs, {bad} mismatches, {seconds:.1f} s ({report['vectors_per_s'] / 1e6:.1f} M/s), "
          f"digest {report['digest'][:16]}" + (" (interrupted)" if interrupted else ""))
    if bad:
        print("reproduce: fmtforge sweep convert ... --range LO:HI on a failing shard (see --json)", file=sys.stderr)
    if args.json:
        from fmtforge.rtl.cli.output import write_output
        write_output(json.dumps(report, indent=1) + "\n", args.json, "--json")
    if interrupted:
        sys.exit(130)
    if bad:
        sys.exit(1)


def add_sweep(subparsers):
    """``sweep UNIT [unit options] [--inputs all|N] [--range LO:HI] [--jobs N] [--scheduler ADDRESS]
    [--json FILE]`` on an argparse ``subparsers`` object."""
    from fmtforge.rtl.cli.options import add_unit_parsers
    p = subparsers.add_parser("sweep", help="sweep a converter's inputs through the batch lane against golden",
                              description="Every input (or N of them) of a combinational converter, simulated "
                              "by Verilator in a C++ loop and compared bit for bit (outputs and flags) with golden.")
    units = p.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for q in add_unit_parsers(units):
        q.add_argument("--inputs", default="all",
                       help="all (every pattern of a <= 32-bit source) or N: that many (the structured set "
                       "first for wider sources, then seeded random)")
        q.add_argument("--range", help="LO:HI, the input indices to check (a shard of the sweep)")
        q.add_argument("--jobs", type=int, help="local worker processes (default: the number of CPUs)")
        q.add_argument("--scheduler", help="a Dask scheduler address, tcp://HOST:PORT (default: local processes)")
        q.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
        q.add_argument("--json", help="write the report here: unit, options, inputs, mismatches, seconds, "
                       "vectors_per_s, digest, shards")
        q.set_defaults(func=_cmd_sweep)
    return p
