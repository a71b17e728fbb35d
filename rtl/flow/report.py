"""The synthesis report: many units on many targets, as report.json and a markdown table."""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .synth import synthesize
from .targets import FREQ_MHZ, TARGETS
from .tools import SynthError, tool_versions

__all__ = ["markdown_table", "synth_all", "synth_one"]


def markdown_table(rows):
    """The human-readable table of :func:`synth_one` rows."""
    head = ("| module | target | LUT4 | FF | carry | DSP | Fmax (MHz) | LUT4 equiv | wrapper LUT4 / FF "
            "| total LUT4 | flat: total LUT4, Fmax |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")

    def row(r):
        if r.get("error"):
            return f"| {r['unit']} {r['options']} | {r['target']} | {r['error']} |||||||||\n"
        return (f"| {r['module']} | {r['target']} | {r['luts']} | {r['ffs']} | {r['carries']} | {r['dsps']} "
                f"| {r['fmax_mhz']:.1f} | {r['lut4_equiv']} | {r['wrapper_luts']} / {r['wrapper_ffs']} "
                f"| {r['total_luts']} | {r['flat_total_luts']}, {r['flat_fmax_mhz']:.1f} |\n")
    return head + "".join(row(r) for r in rows)


_NOTES = """\
Every port bit of the unit is registered by a scan wrapper (4 pins, 5 with a reset, whatever the unit's
width). LUT4, FF, carry, DSP: the unit's own cells = total - wrapper, the unit synthesised as its own module
inside the wrapper (the wrapper's cells are those outside it). LUT4 equiv adds the two LUT4s inside each ECP5
CCU2C carry cell. Fmax: nextpnr after routing, wrapper clock, register to register through the unit,
--seed {seeds}, --freq {freq}. flat: the same design flattened, where Yosys may fold the unit's last logic into
the output registers' set/reset (see fmtforge.rtl.flow.synth). Devices: {devices}. Tools: {tools}.
"""


def synth_one(unit, options, build, target, seed=1, out_dir="build/synth"):
    """:func:`synthesize` the component ``build()`` returns (``(component, module name)``) in
    ``out_dir/<target>/<module>`` (``<module>_seed<N>`` for a seed other than 1). ``unit`` and ``options``
    only label the row: the flow knows no registry.

    Returns the :func:`synthesize` dict with ``unit`` and ``options`` (JSON-ready) first.
    """
    component, name = build()
    build_dir = Path(out_dir) / target / (name if seed == 1 else f"{name}_seed{seed}")
    result = synthesize(component, name, target, seed=seed, build_dir=build_dir)
    return {"unit": unit, "options": _json_options(options), **result}


def _json_options(options):
    return {k: getattr(v, "name", v) for k, v in options.items()}


def _synth_or_report(unit, options, build, target, seed, out_dir):
    """synth_one, or a row saying why the flow failed (a unit too large for the device, say): one unit that
    does not fit must not hide the others' figures."""
    try:
        return synth_one(unit, options, build, target, seed=seed, out_dir=out_dir)
    except SynthError as e:
        first = str(e).splitlines()[0]
        reason = "does not fit the device" if "no BELs remaining" in str(e) else first
        return dict(unit=unit, options=_json_options(options), target=target, luts=None, ffs=None, carries=None,
                    dsps=None, fmax_mhz=None, error=reason)


def synth_all(jobs, targets=tuple(TARGETS), out_dir="build/synth", seed=1, workers=None, progress=None):
    """:func:`synth_one` every ``(unit, options, build)`` of ``jobs`` on every target, ``workers`` at a time;
    writes ``out_dir/report.json`` (``{"tools", "method", "results": rows}``) and ``out_dir/report.md``;
    returns the rows. ``progress(total)``, when given, returns an object whose ``step(note)`` is called as each
    flow ends (``fmtforge.rtl.cli.progress.Progress``)."""
    out = Path(out_dir)
    work = [(*job, target) for job in jobs for target in targets]
    bar = progress(len(work)) if progress else None

    def one(w):
        row = _synth_or_report(*w, seed=seed, out_dir=out)
        if bar is not None:
            bar.step(f"{row.get('module', row['unit'])} on {w[-1]}" + (f": {row['error']}" if row.get("error") else ""))
        return row

    # Each flow is a chain of subprocesses: threads are enough to keep the CPUs busy.
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        rows = list(pool.map(one, work))
    tools = tool_versions()
    notes = _NOTES.format(seeds=seed, freq=FREQ_MHZ, tools=", ".join(tools.values()),
                          devices="; ".join(TARGETS[t].device for t in targets))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"tools": tools, "method": " ".join(notes.split()),
                                                 "results": rows}, indent=1) + "\n")
    (out / "report.md").write_text("# fmtforge: FPGA area and Fmax per unit\n\n" + markdown_table(rows)
                                   + "\n" + notes)
    return rows
