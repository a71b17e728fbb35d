"""Pipelining curves: one unit synthesised at 0, 1, 2 and 3 stages, area and Fmax at each.

A unit's ``stages`` option puts registers inside its datapath where they cut the path into nearly equal parts
(``rtl.pipeline.place``), so each added stage should raise Fmax; the curve shows what it costs in
flip-flops and LUTs. Fmax is the median over the placement seeds (nextpnr's ``--seed``), as in
:func:`~.synth.synthesize`, which each point runs once per seed (the same method as the report: every port
registered by the scan wrapper, the unit's own cells).
"""

import json
import statistics
from pathlib import Path

from .synth import mhz_text, synthesize_seeds

__all__ = ["curve", "curve_table", "write_curves"]


def curve(build, target, stages=(0, 1, 2, 3), seeds=(1, 2, 3), out_dir="build/synth/curves"):
    """:func:`.synth.synthesize_seeds` ``build(s)`` (a function of the stage count returning ``(component, module name)``)
    for each ``s`` of ``stages`` (Yosys once, nextpnr once per seed). Returns one row per stage count: ``stages, module, target,
    luts, ffs, carries, lut4_equiv, fmax_mhz`` (the median over ``seeds``), ``fmax_by_seed`` and
    ``critical_path`` (of the median seed)."""
    rows = []
    for s in stages:
        component, name = build(s)
        runs = synthesize_seeds(component, name, target, tuple(seeds), build_dir=Path(out_dir) / target / name)
        fmaxes = [r["fmax_mhz"] for r in runs]
        timed = [r for r in runs if r["fmax_mhz"] is not None] or runs  # Gowin may time no path
        mid = sorted(timed, key=lambda r: r["fmax_mhz"] or 0)[(len(timed) - 1) // 2]
        first = runs[0]
        rows.append({"stages": s, "module": name, "target": target, "luts": first["luts"], "ffs": first["ffs"],
                     "carries": first["carries"], "lut4_equiv": first["lut4_equiv"],
                     "fmax_mhz": (round(statistics.median([f for f in fmaxes if f is not None]), 2)
                                  if any(f is not None for f in fmaxes) else None), "fmax_by_seed": fmaxes,
                     "critical_path": mid["critical_path"]})
    return rows


def curve_table(rows):
    """The markdown table of :func:`curve` rows (one unit or several)."""
    head = ("| module | target | stages | LUT4 | FF | carry | Fmax (MHz, median) | Fmax by seed |\n"
            "|---|---|--:|--:|--:|--:|--:|---|\n")
    return head + "".join(
        f"| {r['module']} | {r['target']} | {r['stages']} | {r['luts']} | {r['ffs']} | {r['carries']} "
        f"| {mhz_text(r['fmax_mhz'])} | {', '.join(mhz_text(f) for f in r['fmax_by_seed'])} |\n" for r in rows)


def write_curves(rows, out_dir="build/synth"):
    """``out_dir/curves.json`` and ``out_dir/curves.md`` from :func:`curve` rows."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "curves.json").write_text(json.dumps({"results": rows}, indent=1) + "\n")
    (out / "curves.md").write_text("# fmtforge: pipelining curves (LUT4 / FF / Fmax at 0..3 stages)\n\n"
                                   + curve_table(rows))
