"""``make regress``'s dot-product section: >= 10**6 random dot products per configuration class of the ``dot`` and
``posit-dot`` units through the stream batch lane, against the unit contract's model (golden.arith).

A *class* is one configuration: for ``dot`` every accumulation mode (exact, beat, window) x four operand /
result pairs (e4m3 x e4m3 -> fp32, e5m2 x e4m3 -> fp16 rounding down, fp16 x fp16 -> fp32, int8 x e4m3 ->
bf16 rounding up; window mode with the Hopper, Ada FP22 and B200 settings of docs/dot.md) x lanes 1, 2, 4, the
optional registers varied with the lanes, flags compared; for ``posit-dot`` posit(8,2) x 4 lanes -> posit(16,2)
(exact quire) and posit(16,2) x 1 lane -> posit(32,2) with an addend (standard quire). Each class runs a
stall-free phase (latency exactly the documented one, a beat every cycle) and then the dot products in chunks,
each under a different mix of input gaps and output back-pressure, the structured dot products first
(:mod:`..benches.stream_dot`). Every chunk is checked by the one stream bench's checker (values, beats lost or
duplicated, outputs changed while stalled, latency never below the documented one) and mismatches are described
in hex with decoded values. A class is a pure function of (label, dot products, seed): it runs in a local
process pool (:func:`fmtforge.rtl.flow.shard.run_shards`).

``python -m fmtforge.verif.support.campaigns.regress_dot [--classes LABEL ...] [--dots N] [--seed N]
[--jobs N] [--output-dir DIR]`` writes ``dot_report.json`` and ``dot_report.md``.
"""

import argparse
import json
import os
import sys
import time
import zlib

import numpy as np

__all__ = ["CLASSES", "SLICE", "class_options", "main", "run_class", "write_reports"]

DOTS = 10**6
CHUNK = 200_000  # dot products per chunk (bounds the memory of the beat buffers)
MIXES = ((0.3, 0.3), (0.05, 0.7), (0.7, 0.05), (0.0, 0.0))  # (idle, back-pressure), one per chunk in turn
STALL_FREE = 2000  # dot products of the stall-free phase

_PAIRS = (
    ("e4m3xe4m3-fp32", dict(a="fp8_e4m3", b="fp8_e4m3", c="fp32", out="fp32"),
     dict(window=14, acc="fp32", acc_rounding="rtz")),  # hopper-fp8 (without promotion)
    ("e5m2xe4m3-fp16-rdn", dict(a="fp8_e5m2", b="fp8_e4m3", c="fp16", out="fp16", rounding="rdn"),
     dict(window=14, acc="e8m13", acc_rounding="rtz")),  # ada-fp22
    ("fp16xfp16-fp32", dict(a="fp16", b="fp16", c="fp32", out="fp32"),
     dict(window=25, acc="fp32", acc_rounding="rtz")),  # b200
    ("int8xe4m3-bf16-rup", dict(a="int8", b="fp8_e4m3", c="bf16", out="bf16", rounding="rup"),
     dict(window=16, acc="bf16", acc_rounding="rne")),
)
_STAGES = {"exact": {1: 0, 2: 3, 4: 1}, "beat": {1: 0, 2: 1, 4: 0}, "window": {1: 1, 2: 0, 4: 0}}


def _classes():
    out = {}
    for mode in ("exact", "beat", "window"):
        for pair, base, win in _PAIRS:
            for lanes in (1, 2, 4):
                o = dict(base, mode=mode, lanes=lanes, flags=True, stages=_STAGES[mode][lanes])
                if mode == "window":
                    o.update(win)
                if mode == "exact" and lanes == 4:
                    o["max_terms"] = 1024  # a narrower accumulator; its bound is one of the structured sums
                out[f"dot-{mode}-{pair}-l{lanes}"] = ("dot", o)
    out["posit-dot-p8e2-p16e2-l4"] = ("posit-dot", dict(n=8, es=2, lanes=4, quire="exact", stages=4))
    out["posit-dot-p16e2-p32e2-l1-addend"] = ("posit-dot", dict(n=16, es=2, lanes=1, addend=True, stages=2))
    return out


#: label -> (unit, options): every class of the campaign
CLASSES = _classes()
#: the classes make test runs (every mode, every pair, lanes 1, 2 and 4, both posit classes)
SLICE = ("dot-exact-e4m3xe4m3-fp32-l4", "dot-beat-e5m2xe4m3-fp16-rdn-l2", "dot-window-fp16xfp16-fp32-l1",
         "dot-exact-int8xe4m3-bf16-rup-l2", "posit-dot-p8e2-p16e2-l4", "posit-dot-p16e2-p32e2-l1-addend")


def class_options(label):
    """``(unit name, resolved options, built component, StreamModel)`` of class ``label``."""
    from fmtforge.rtl.flow import to_verilog
    from fmtforge.rtl.units import UNITS
    from fmtforge.verif.support.batch.stream_lane import stream_model
    name, opts = CLASSES[label]
    o = UNITS[name].resolve(opts)
    unit = UNITS[name].build(**o)
    return name, o, unit, stream_model(to_verilog(unit, unit.name), unit.name)


def reproduce(label, dots, seed):
    return (f"FMTFORGE_SEED={seed} .venv/bin/python -m fmtforge.verif.support.campaigns.regress_dot "
            f"--classes {label} --dots {dots}")


def run_class(label, dots=DOTS, seed=1, chunk=CHUNK, keep=6):
    """Run ``dots`` random dot products (plus the structured ones and a stall-free phase) of class ``label``;
    returns its report row (a dict: counts, mismatches, seconds by phase, rates, the first failures)."""
    from fmtforge.verif.support.benches.stream import check_trace, run_batch
    from fmtforge.verif.support.benches.stream_dot import corner_jobs, dot_jobs, mismatches, stimulus_of
    t0, c0 = time.perf_counter(), time.process_time()
    name, o, unit, model = class_options(label)
    t_build, c_build = time.perf_counter() - t0, time.process_time() - c0
    rng = np.random.default_rng([seed, zlib.crc32(label.encode())])
    again = reproduce(label, dots, seed)
    row = {"class": label, "unit": name, "module": unit.name, "seed": seed, "dot_products": 0, "products": 0,
           "beats": 0, "mismatches": 0, "protocol_failures": 0, "failures": []}
    t_gold = t_sim = 0.0
    phases = [("stall-free", STALL_FREE, (0.0, 0.0), False)]
    left, k = dots, 0
    while left > 0:
        n = min(chunk, left)
        phases.append((f"chunk {k}", n, MIXES[k % len(MIXES)], k == 0))
        left, k = left - n, k + 1
    for j, (what, n, (idle, stall), corners) in enumerate(phases):
        t = time.perf_counter()
        jobs = dot_jobs(name, o, rng, n)
        if corners:
            jobs = corner_jobs(name, o, rng).concat(jobs)
        stim = stimulus_of(name, o, unit, jobs, rng)
        t_gold += time.perf_counter() - t
        t = time.perf_counter()
        trace = run_batch(model, stim, rng, idle, stall, garbage_seed=seed + j)
        t_sim += time.perf_counter() - t
        bad, lines = mismatches(stim, trace.out, keep)
        row["mismatches"] += bad
        row["failures"] += [f"{label} {what} (idle {idle}, back-pressure {stall}):{line}" for line in lines]
        try:
            check_trace(f"{label} {what}", stim, trace, idle == 0 and stall == 0, seed, again)
        except AssertionError as e:
            if not bad:  # a value mismatch is already counted and described; the rest is protocol or latency
                row["protocol_failures"] += 1
            row["failures"].append(str(e).splitlines()[1] if len(str(e).splitlines()) > 1 else str(e))
        row["dot_products"] += len(jobs)
        row["products"] += int(jobs.k.sum())
        row["beats"] += len(stim.beats)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0 - c_build  # cpu: after the build
    row["failures"] = row["failures"][:20] + ([f"reproduce: {again}"] if row["failures"] else [])
    row.update(seconds=round(seconds, 1), build_seconds=round(t_build, 1), golden_seconds=round(t_gold, 1),
               sim_seconds=round(t_sim, 1),
               dots_per_s=round(row["dot_products"] / max(seconds - t_build, 1e-9)),
               products_per_s=round(row["products"] / max(seconds - t_build, 1e-9)),
               sim_dots_per_s=round(row["dot_products"] / max(t_sim, 1e-9)), cpu_seconds=round(cpu, 1),
               cpu_dots_per_s=round(row["dot_products"] / max(cpu, 1e-9)),
               cpu_products_per_s=round(row["products"] / max(cpu, 1e-9)))
    return row


def line(row):
    """One report line of a class."""
    return (f"{row['class']}: {row['dot_products']:,} dot products, {row['products']:,} products, "
            f"{row['seconds']:.1f} s ({row['build_seconds']:.0f} build, {row['golden_seconds']:.1f} golden, "
            f"{row['sim_seconds']:.1f} Verilator; {row['dots_per_s']:,} dot products/s, {row['products_per_s']:,} "
            f"checked products/s; {row['cpu_dots_per_s']:,} and {row['cpu_products_per_s']:,} per CPU second), "
            f"seed {row['seed']}, {row['mismatches']} mismatches"
            + (f", {row['protocol_failures']} protocol/latency failures" if row["protocol_failures"] else ""))


def write_reports(rows, out_dir, dots, seed):
    """``dot_report.json`` and ``dot_report.md`` in ``out_dir``; returns their paths."""
    from pathlib import Path

    from fmtforge.rtl.cli.output import write_output
    out = Path(out_dir)
    bad = sum(r["mismatches"] + r["protocol_failures"] for r in rows)
    report = {"dots": dots, "seed": seed, "classes": len(rows), "mismatches": bad, "rows": rows}
    write_output(json.dumps(report, indent=1) + "\n", out / "dot_report.json", "--output-dir")
    md = ["# dot and posit-dot through the stream batch lane (`make regress`)", "",
          f"{len(rows)} classes, {dots:,} random dot products each (+ structured), seed {seed}: "
          f"**{bad} mismatches**.", "",
          "| class | module | dot products | products | s | dot products/s | checked products/s | per CPU s: "
          "dot products | products | mismatches |", "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        md.append(f"| {r['class']} | `{r['module']}` | {r['dot_products']:,} | {r['products']:,} | {r['seconds']} | "
                  f"{r['dots_per_s']:,} | {r['products_per_s']:,} | {r['cpu_dots_per_s']:,} | "
                  f"{r['cpu_products_per_s']:,} | {r['mismatches'] + r['protocol_failures']} |")
    fails = [f for r in rows for f in r["failures"]]
    if fails:
        md += ["", "## First failures", ""] + [f"    {f}" for f in fails[:60]]
    write_output("\n".join(md) + "\n", out / "dot_report.md", "--output-dir")
    return out / "dot_report.json", out / "dot_report.md"


def main(argv=None):
    from fmtforge.rtl.flow.shard import run_shards
    from fmtforge.verif.support.vectors.patterns import seed as default_seed
    p = argparse.ArgumentParser(prog="regress_dot", description=__doc__.strip().splitlines()[0])
    p.add_argument("--classes", nargs="+", metavar="LABEL", help="classes to run (default: all)")
    p.add_argument("--dots", type=int, default=DOTS, help=f"random dot products per class (default {DOTS})")
    p.add_argument("--seed", type=int, help="seed (default: FMTFORGE_SEED, else the project's default)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: the number of CPUs)")
    p.add_argument("--output-dir", default="build/regress", help="where dot_report.json and .md go")
    p.add_argument("--list", action="store_true", help="print the classes and exit")
    args = p.parse_args(argv)
    if args.list:
        for label, (name, o) in CLASSES.items():
            print(f"{label}: {name} {o}")
        return 0
    bad = [c for c in args.classes or [] if c not in CLASSES]
    if bad:
        p.exit(2, f"regress_dot: error: classes must be among {', '.join(CLASSES)}; not {', '.join(bad)}\n")
    for what, v in (("dots", args.dots), ("jobs", args.jobs)):
        if v is not None and v < 1:
            p.exit(2, f"regress_dot: error: {what} must be an integer >= 1, not {v}\n")
    seed = default_seed() if args.seed is None else args.seed
    labels = args.classes or list(CLASSES)
    print(f"regress dot: {len(labels)} classes x {args.dots:,} dot products, seed {seed}, "
          f"{args.jobs or os.cpu_count()} processes", file=sys.stderr)

    def progress(done, total):
        print(f"  {done} of {total} classes", file=sys.stderr)
    rows = run_shards(run_class, [(label, args.dots, seed) for label in labels], jobs=args.jobs, progress=progress,
                      total=len(labels), count=lambda r: 1)
    rows.sort(key=lambda r: labels.index(r["class"]))
    for r in rows:
        print(line(r))
        for f in r["failures"][:8]:
            print("  " + f)
    write_reports(rows, args.output_dir, args.dots, seed)
    return 1 if any(r["mismatches"] or r["protocol_failures"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
