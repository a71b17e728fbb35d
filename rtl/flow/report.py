"""The synthesis report: many units on many targets, as report.json and markdown tables, beside the peers.

Fmax is the median over placement seeds (1, 2, 3 by default): nextpnr's result moves by ~10% with the seed, and
one lucky placement must not count. Area does not depend on the seed (Yosys is deterministic): it is read from
the first seed's run, and checked equal across seeds.
"""

import json
import os
import statistics
from pathlib import Path

from .peers import PEERS, peer_key
from .shard import run_all
from .synth import mhz_text, synthesize_seeds
from .targets import FREQ_MHZ, TARGETS
from .tools import SynthError, tool_versions

__all__ = ["SEEDS", "comparison_rows", "comparison_table", "markdown_table", "synth_all", "synth_one"]

#: The placement seeds whose median Fmax is reported.
SEEDS = (1, 2, 3)


def markdown_table(rows):
    """The human-readable table of :func:`synth_one` rows."""
    head = ("| module | target | LUT4 | FF | carry | DSP | Fmax (MHz), median | Fmax by seed | LUT4 equiv "
            "| wrapper LUT4 / FF | total LUT4 | flat: total LUT4, Fmax |\n"
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")

    def row(r):
        if r.get("error"):
            return f"| {r['unit']} {r['options']} | {r['target']} | {r['error']} ||||||||||\n"
        seeds = " / ".join(mhz_text(f) for f in r.get("fmax_seeds", [r["fmax_mhz"]]))
        return (f"| {r['module']} | {r['target']} | {r['luts']} | {r['ffs']} | {r['carries']} | {r['dsps']} "
                f"| {mhz_text(r['fmax_mhz'])} | {seeds} | {r['lut4_equiv']} | {r['wrapper_luts']} / {r['wrapper_ffs']} "
                f"| {r['total_luts']} | {r['flat_total_luts']}, {mhz_text(r['flat_fmax_mhz'])} |\n")
    return head + "".join(row(r) for r in rows)


_NOTES = """\
Method. Every port bit of the unit is registered by a scan wrapper (4 pins, 5 with a reset, whatever the
unit's width). LUT4, FF, carry, DSP: the unit's own cells = total - wrapper, the unit synthesised as its own
module inside the wrapper (the wrapper's cells are those outside it). LUT4 equiv adds the two LUT4s inside each
ECP5 CCU2C carry cell. Fmax: nextpnr after routing, wrapper clock, register to register through the unit,
--freq {freq}, the median over placement seeds {seeds} (each seed's figure beside it). flat: the same design
flattened, where Yosys may fold the unit's last logic into the output registers' set/reset (see
fmtforge.rtl.flow.synth). Devices: {devices}. Tools: {tools}. The peers' figures (fmtforge.rtl.flow.peers,
from issue 14) were measured by the same method on iCE40 HX8K at seed 1.
"""


def synth_one(unit, options, build, target, seeds=SEEDS, out_dir="build/synth"):
    """:func:`synthesize` the component ``build()`` returns (``(component, module name)``) with each placement
    seed of ``seeds``, in ``out_dir/<target>/<module>``: Yosys once, nextpnr once per seed.
    ``unit`` and ``options`` only label the row: the flow knows no registry.

    Returns the first seed's :func:`synthesize` dict with ``unit`` and ``options`` (JSON-ready) first, where
    ``fmax_mhz`` and ``flat_fmax_mhz`` are the medians over the seeds, ``fmax_seeds`` and ``flat_fmax_seeds``
    the figure of each seed and ``seeds`` the seeds.
    """
    seeds = tuple(seeds)
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative integers, at least one, not {seeds!r}")
    component, name = build()
    runs = synthesize_seeds(component, name, target, seeds, build_dir=Path(out_dir) / target / name)
    return {"unit": unit, "options": _json_options(options), **_merge(runs, seeds)}


def _merge(runs, seeds):
    """One row from the runs of one design with several seeds: area from the first (all equal), Fmax medians."""
    row = dict(runs[0])
    for key in ("luts", "ffs", "carries", "dsps"):
        if len({r[key] for r in runs}) != 1:
            raise SynthError(f"{row['module']}: {key} differs between seeds ({[r[key] for r in runs]}): the "
                             "synthesis is not deterministic")
    row.pop("seed", None)
    row["seeds"] = list(seeds)
    for key in ("fmax_mhz", "flat_fmax_mhz"):
        figures = [r[key] for r in runs]
        row[key.replace("_mhz", "_seeds")] = figures
        timed = [f for f in figures if f is not None]  # a tool may give no figure (Gowin: see targets.gowin)
        row[key] = round(statistics.median(timed), 2) if timed else None
    return row


def _json_options(options):
    return {k: getattr(v, "name", v) for k, v in options.items()}


def _synth_or_report(unit, options, build, target, seeds, out_dir):
    """synth_one, or a row saying why the flow failed (a unit too large for the device, say): one unit that
    does not fit must not hide the others' figures."""
    try:
        return synth_one(unit, options, build, target, seeds=seeds, out_dir=out_dir)
    except SynthError as e:
        first = str(e).splitlines()[0]
        reason = "does not fit the device" if "no BELs remaining" in str(e) else first
        return dict(unit=unit, options=_json_options(options), target=target, luts=None, ffs=None, carries=None,
                    dsps=None, fmax_mhz=None, error=reason)


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def comparison_rows(rows, peers=PEERS, target="ice40"):
    """Each peer beside the fmtforge row it compares with on ``target`` (and the ``like``-for-like row, when the
    peer's conformance differs and that row was synthesised): area and Fmax ratios (fmtforge / peer: below 1
    is smaller, above 1 faster) and whether fmtforge's targets are met."""
    by_key = {peer_key(r["unit"], r["options"]): r for r in rows if r["target"] == target and not r.get("error")}
    out = []
    for p in peers:
        ours = by_key.get(peer_key(p.unit, p.options))
        like = by_key.get(peer_key(p.unit, {**p.options, **p.like})) if p.like else None
        entry = dict(unit=p.unit, options=dict(p.options), peer=p.name, peer_luts=p.luts, peer_fmax_mhz=p.fmax_mhz,
                     conformance=p.conformance, target_luts=p.target_luts, target_fmax_mhz=p.target_fmax_mhz)
        if ours is not None:
            entry.update(module=ours["module"], luts=ours["luts"], fmax_mhz=ours["fmax_mhz"],
                         area_ratio=_ratio(ours["luts"], p.luts), fmax_ratio=_ratio(ours["fmax_mhz"], p.fmax_mhz))
            entry["met"] = ((p.target_luts is None or ours["luts"] <= p.target_luts)
                            and (p.target_fmax_mhz is None
                                 or (ours["fmax_mhz"] is not None and ours["fmax_mhz"] >= p.target_fmax_mhz)))
        if like is not None:
            entry.update(like_options=dict(p.like), like_module=like["module"], like_luts=like["luts"],
                         like_fmax_mhz=like["fmax_mhz"], like_area_ratio=_ratio(like["luts"], p.luts),
                         like_fmax_ratio=_ratio(like["fmax_mhz"], p.fmax_mhz))
        out.append(entry)
    return out


def comparison_table(entries):
    """The markdown table of :func:`comparison_rows`."""
    lines = ["| fmtforge unit (exact) | LUT4 | Fmax | peer | peer LUT4 | peer Fmax | peer conforms | area ratio "
             "| Fmax ratio | like for like | target | met |",
             "|---|--:|--:|---|--:|--:|---|--:|--:|---|---|---|"]
    for e in entries:
        if "luts" not in e:
            ours = (f"{e['unit']} {e['options']} (not synthesised)", "", "", "", "")
        else:
            ours = (e["module"], e["luts"], mhz_text(e["fmax_mhz"]), e["area_ratio"], e["fmax_ratio"])
        like = ""
        if "like_luts" in e:
            opts = ", ".join(f"--{k}" for k in e["like_options"])
            like = (f"{opts}: {e['like_luts']} LUT4, {mhz_text(e['like_fmax_mhz'])} MHz (ratios {e['like_area_ratio']}, "
                    f"{e['like_fmax_ratio']})")
        target = ", ".join(t for t in (f"<= {e['target_luts']} LUT4" if e["target_luts"] is not None else "",
                                      f">= {e['target_fmax_mhz']} MHz" if e["target_fmax_mhz"] is not None else "")
                           if t)
        met = "" if "met" not in e else ("yes" if e["met"] else "**no**")
        lines.append(f"| {ours[0]} | {ours[1]} | {ours[2]} | {e['peer']} | {e['peer_luts']} | {e['peer_fmax_mhz']} "
                     f"| {e['conformance'] or '-'} | {ours[3]} | {ours[4]} | {like} | {target} | {met} |")
    return "\n".join(lines) + "\n"


def synth_all(jobs, targets=tuple(TARGETS), out_dir="build/synth", seeds=SEEDS, workers=None, scheduler=None,
              progress=None):
    """:func:`synth_one` every ``(unit, options, build)`` of ``jobs`` on every target (a job's optional fourth
    item: the targets it is written for, the others skipped), sharded like sweeps
    (:func:`.shard.run_all`: ``workers`` local processes, or the Dask scheduler ``scheduler``); writes
    ``out_dir/report.json`` (``{"tools", "method", "results": rows, "peers": comparison rows}``) and
    ``out_dir/report.md``; returns the rows. Each ``build`` must pickle (a ``functools.partial``, not a
    lambda) unless the flows run in this process (``workers=1``, no scheduler). ``progress(total)``, when given,
    returns an object whose ``step(note)`` is called as each flow ends (``fmtforge.rtl.cli.progress.Progress``)."""
    out = Path(out_dir)
    # a job may name the targets it is written for (a fourth item; None or absent: any)
    work = [(*job[:3], target, tuple(seeds), str(out)) for job in jobs for target in targets
            if len(job) < 4 or job[3] is None or target in job[3]]
    bar = progress(len(work)) if progress else None

    def step(row):
        if bar is not None:
            bar.step(f"{row.get('module', row['unit'])} on {row['target']}"
                     + (f": {row['error']}" if row.get("error") else ""))

    rows = run_all(_synth_or_report, work, workers=workers or os.cpu_count() or 1, scheduler=scheduler,
                   on_result=step)
    tools = tool_versions()
    notes = _NOTES.format(seeds=", ".join(map(str, seeds)), freq=FREQ_MHZ, tools=", ".join(tools.values()),
                          devices="; ".join(TARGETS[t].device for t in targets))
    peers = comparison_rows(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"tools": tools, "method": " ".join(notes.split()),
                                                 "results": rows, "peers": peers}, indent=1) + "\n")
    (out / "report.md").write_text("# fmtforge: FPGA area and Fmax per unit\n\n" + markdown_table(rows)
                                   + "\n## Beside the peers (iCE40 HX8K)\n\n" + comparison_table(peers)
                                   + "\nArea ratio: fmtforge LUT4 / peer LUT4 (below 1: smaller); Fmax ratio: "
                                   "fmtforge / peer (above 1: faster).\n\n" + notes)
    return rows
