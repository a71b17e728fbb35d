"""``make sweep``: every fp32-source conversion (every destination of the catalog, every deterministic mode,
with and without saturation, flags compared) over all 2**32 inputs, through the batch lane; one JSON report.

Run: ``.venv/bin/python -m fmtforge.verif.support.campaigns.sweep_all [--jobs N] [--scheduler ADDR] [--only DST ...]``.
Stochastic rounding is swept with its rand drawn from each input (``fmtforge sweep ... --rounding stochastic``).
"""

import argparse
import json
import sys
import time
from pathlib import Path

from fmtforge import golden
from fmtforge.rtl.cli.progress import Progress
from fmtforge.rtl.units.registry import build_unit

from fmtforge.verif.support.campaigns.sweep import combine, make_spec, run_sweep

MODES = ("rne", "rtz", "rdn", "rup", "rmm")


def destinations():
    return [f.name for f in golden.CATALOG.values() if f.kind in ("float", "int", "posit")]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--jobs", type=int)
    p.add_argument("--scheduler")
    p.add_argument("--only", nargs="*", help="destinations (default: every float, posit and integer)")
    p.add_argument("--output", default="build/sweep/report.json")
    args = p.parse_args(argv)
    rows = []
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    dsts = args.only or destinations()
    bar = Progress(len(dsts) * len(MODES) * 2, "make sweep", every=0)
    for dst in dsts:
        for rounding in MODES:
            for saturate in (False, True):
                options = dict(src="fp32", dst=dst, rounding=rounding, saturate=saturate, flags=True, rand_bits=16)
                component, _ = build_unit("convert", **options)
                spec = make_spec(component, **options)
                t = time.perf_counter()
                results = run_sweep(spec, jobs=args.jobs, scheduler=args.scheduler)
                row = {"module": spec.top, "options": options, "inputs": sum(r["count"] for r in results),
                       "mismatches": sum(r["mismatches"] for r in results), "digest": combine(results),
                       "seconds": round(time.perf_counter() - t, 1),
                       "first": [ln for r in results for ln in r["first"]][:5]}
                rows.append(row)
                bar.message(f"{spec.top}: {row['inputs']} inputs, {row['mismatches']} mismatches, {row['seconds']} s")
                bar.step(spec.top)
                out.write_text(json.dumps({"results": rows}, indent=1) + "\n")
    bad = sum(r["mismatches"] for r in rows)
    print(f"{len(rows)} sweeps, {bad} mismatches; wrote {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
