"""``fmtforge regress`` (``make regress``): the full converter matrix through the batch lane (verif.support.regress),
on the local process pool or a Dask cluster; writes ``build/regress/report.json`` and ``report.md``.

``fmtforge regress [--src S ...] [--dst D ...] [--modes M ...] [--saturate off|on|both] [--chunk N] [--random N]
[--icarus N] [--seed N] [--jobs N] [--scheduler ADDRESS] [--output-dir DIR]``; also
``python -m fmtforge.verif.support.campaigns.regress_cli ...``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

__all__ = ["add_regress", "main", "run_regress", "write_reports"]


def run_regress(grid, *, chunk=64, random=None, seed=0, icarus=256, jobs=None, scheduler=None, progress=None,
                sample=1):
    """Check every converter of ``grid`` (verif.support.regress.matrix); returns the report (a dict)."""
    from fmtforge import golden

    from fmtforge.verif.support.campaigns.regress import RANDOM, destinations, run_task, source_inputs, tasks
    from fmtforge.rtl.flow.shard import run_shards

    random = RANDOM if random is None else random
    todo = tasks(grid, chunk=chunk, random=random, seed=seed, icarus=icarus)
    sizes = {t.src: len(source_inputs(t.src, random, seed)) for t in todo}  # computed once, before the fork
    # the biggest models first: the pool's last tasks are then short ones
    todo.sort(key=lambda t: -sizes[t.src] * len(t.configs) * (4 if golden.lookup(t.src).width > 64 else 1))
    total = sum(sizes[t.src] * len(t.configs) for t in todo)
    t0 = time.perf_counter()
    interrupted = False
    try:
        results = run_shards(run_task, [(t,) for t in todo], jobs=jobs, scheduler=scheduler, progress=progress,
                             total=total, count=lambda r: r["checks"])
    except KeyboardInterrupt as e:
        results, interrupted = e.results, True
    seconds = time.perf_counter() - t0
    results.sort(key=lambda r: (list(grid).index(r["src"]), r["part"]))
    import hashlib
    digest = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in results)).hexdigest()
    per_source = []
    for src in grid:
        rs = [r for r in results if r["src"] == src]
        per_source.append({"src": src, "inputs": sizes.get(src, 0), "converters": sum(r["converters"] for r in rs),
                           "models": len(rs), "checks": sum(r["checks"] for r in rs),
                           "mismatches": sum(r["mismatches"] for r in rs),
                           "icarus_checks": sum(r["icarus_checks"] for r in rs),
                           "icarus_mismatches": sum(r["icarus_mismatches"] for r in rs),
                           "cpu_seconds": round(sum(r["cpu_seconds"] for r in rs), 1)})
    checks = sum(r["checks"] for r in results)
    cpu = sum(r["cpu_seconds"] for r in results)
    phases = {}
    for r in results:
        for k, v in r["phases"].items():
            phases[k] = round(phases.get(k, 0) + v, 1)
    dsts = sorted({c[0] for cs in grid.values() for c in cs}, key=lambda d: (destinations() + [d]).index(d))
    return {
        "sources": list(grid), "destinations": dsts,
        "modes": sorted({c[1] for cs in grid.values() for c in cs}),
        "saturate": sorted({c[2] for cs in grid.values() for c in cs}),
        "converters": sum(r["converters"] for r in results), "models": len(results),
        "expected_converters": sum(len(cs) for cs in grid.values()),
        "checks": checks, "mismatches": sum(r["mismatches"] for r in results),
        "icarus_checks": sum(r["icarus_checks"] for r in results),
        "icarus_mismatches": sum(r["icarus_mismatches"] for r in results),
        "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "checks_per_s": round(checks / max(seconds, 1e-9)),
        "phase_seconds": phases, "chunk": chunk, "random": random, "seed": seed, "icarus_sample": icarus,
        "jobs": jobs or os.cpu_count(), "sample": sample,
        "scheduler": scheduler if isinstance(scheduler, str) else None,
        "digest": digest, "complete": not interrupted and len(results) == len(todo),
        "per_source": per_source, "failures": [f for r in results for f in r["failures"]][:200],
        "tasks": results,
    }


def write_reports(report, out_dir):
    """``report.json`` and ``report.md`` (a summary table per source) in ``out_dir``; returns their paths."""
    from fmtforge.rtl.cli.output import write_output
    out = Path(out_dir)
    write_output(json.dumps(report, indent=1) + "\n", out / "report.json", "--output-dir")
    lines = ["# Converter matrix through the batch lane (`make regress`)", "",
             f"{report['converters']} converters in {report['models']} models: {report['checks']:,} "
             f"(converter, input) checks on Verilator, {report['icarus_checks']:,} on Icarus; "
             f"**{report['mismatches'] + report['icarus_mismatches']} mismatches**. "
             f"{report['seconds']:.0f} s wall, {report['cpu_seconds']:.0f} s CPU (jobs {report['jobs']}), seed "
             f"{report['seed']}, digest `{report['digest'][:16]}`" + ("" if report["complete"] else " (incomplete)"),
             "", "| source | inputs | converters | models | checks | mismatches | Icarus checks | "
             "Icarus mismatches | CPU s |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["per_source"]:
        lines.append(f"| {r['src']} | {r['inputs']:,} | {r['converters']} | {r['models']} | {r['checks']:,} | "
                     f"{r['mismatches']} | {r['icarus_checks']:,} | {r['icarus_mismatches']} | {r['cpu_seconds']} |")
    if report["failures"]:
        lines += ["", "## First mismatches", ""] + [f"- {f}" for f in report["failures"][:40]]
    write_output("\n".join(lines) + "\n", out / "report.md", "--output-dir")
    return out / "report.json", out / "report.md"


def _check(args):
    from fmtforge.rtl.cli.options import CliError

    from fmtforge.verif.support.campaigns.regress import MODES, destinations, matrix, sources
    for what, given, allowed in (("src", args.src, sources()), ("dst", args.dst, destinations()),
                                 ("modes", args.modes, MODES)):
        bad = [v for v in given or [] if v not in allowed]
        if bad:
            raise CliError(f"{what} must be among {', '.join(allowed)}; not {', '.join(bad)}")
    for what, value, lo in (("chunk", args.chunk, 1), ("random", args.random, 0), ("icarus", args.icarus, 1),
                            ("jobs", args.jobs, 1), ("sample", args.sample, 1)):
        if value is not None and value < lo:
            raise CliError(f"{what} must be an integer >= {lo}, not {value}")
    saturate = {"off": (False,), "on": (True,), "both": (False, True)}[args.saturate]
    return matrix(args.src, args.dst, tuple(args.modes or MODES), saturate, args.sample)


def _cmd(args):
    from fmtforge.verif.support.campaigns.sweep_cli import SweepProgress
    grid = _check(args)
    n = sum(len(c) for c in grid.values())
    where = f"Dask {args.scheduler}" if args.scheduler else f"{args.jobs or os.cpu_count()} local processes"
    print(f"regress: {n} converters from {len(grid)} sources, models of <= {args.chunk}, seed {args.seed}, {where}",
          file=sys.stderr)
    report = run_regress(grid, chunk=args.chunk, random=args.random, seed=args.seed, icarus=args.icarus,
                         jobs=args.jobs, scheduler=args.scheduler, progress=SweepProgress(), sample=args.sample)
    for line in report["failures"][:20]:
        print("  " + line, file=sys.stderr)
    write_reports(report, args.output_dir)
    bad = report["mismatches"] + report["icarus_mismatches"]
    print(f"regress: {report['converters']} converters, {report['checks']:,} checks (Verilator) + "
          f"{report['icarus_checks']:,} (Icarus), {bad} mismatches, {report['seconds']:.0f} s "
          f"({report['cpu_seconds']:.0f} s CPU)" + ("" if report["complete"] else " (interrupted)"))
    if not report["complete"]:
        sys.exit(130)
    if bad:
        sys.exit(1)


def _arguments(p):
    p.add_argument("--src", nargs="+", help="source formats (default: every source of the catalog)")
    p.add_argument("--dst", nargs="+", help="destination formats (default: every destination)")
    p.add_argument("--modes", nargs="+", help="rounding modes (default: all six)")
    p.add_argument("--saturate", choices=("off", "on", "both"), default="both")
    p.add_argument("--sample", type=int, default=1, help="check one in K converters of every source, modes and "
                   "saturation rotating over the destinations (default 1: all; for measuring)")
    p.add_argument("--chunk", type=int, default=64, help="converters per generated model (default 64)")
    p.add_argument("--random", type=int, help="seeded random inputs per wide source (default 2**19)")
    p.add_argument("--icarus", type=int, default=256, help="inputs of every model Icarus runs (default 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random and strided inputs (default 0)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", help="a Dask scheduler address, tcp://HOST:PORT (default: local processes)")
    p.add_argument("--output-dir", default="build/regress", help="where report.json and report.md go")
    p.set_defaults(func=_cmd)


def add_regress(subparsers):
    """``regress [options]`` on an argparse ``subparsers`` object (the ``fmtforge.commands`` entry point)."""
    p = subparsers.add_parser("regress", help="the full converter matrix through the batch lane (make regress)",
                              description=__doc__.strip().splitlines()[0])
    _arguments(p)
    return p


def main(argv=None):
    from fmtforge.rtl.cli.options import CliError
    p = argparse.ArgumentParser(prog="regress", description=__doc__.strip().splitlines()[0])
    _arguments(p)
    args = p.parse_args(argv)
    try:
        args.func(args)
    except CliError as e:
        p.exit(2, f"regress: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
