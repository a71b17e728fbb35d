"""Bulk random runs of every stream unit in the stream batch lane (a clocked Verilator C++ loop over numpy
buffers of beats, verif/support/batch/stream_lane.py), checked by the one stream bench's checker
(verif/support/benches/stream.py) against the golden model and the documented latency.

Per unit (its default configuration, :data:`STREAM_UNITS`): a stall-free phase (one beat per cycle in, the
latency exactly the documented one) and then about 10**5 beats (10**6 with FMTFORGE_FULL=1; the qmac 2 * 10**4 and 10**5), structured
corners first, in three parts with different gap / back-pressure mixes. The lane's own monitor is tested on a
small hand-written stream unit with selectable faults: each must be caught.
"""

import zlib

import numpy as np
import pytest

from fmtforge.verif.support.sim.runner import require
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

BEATS = 10**6 if FULL else 10**5
# the qmac's golden model (golden.quant.qmatmul per group of dot products) runs ~10**4 beats/s here: fewer beats
QMAC_BEATS = 10**5 if FULL else 2 * 10**4
MIXES = ((0.3, 0.3), (0.05, 0.7), (0.7, 0.05))  # (idle, back-pressure) probabilities of the three parts


def _setup(name):
    from fmtforge.rtl.flow import to_verilog
    from fmtforge.rtl.units.registry import UNITS
    from fmtforge.verif.support.batch.stream_lane import stream_model
    from fmtforge.verif.support.benches.stream_cases import STREAM_UNITS, registry_name, resolve
    require("verilator")
    o = resolve(name, STREAM_UNITS[name])
    unit = UNITS[registry_name(name)].build(**o)
    return o, unit, stream_model(to_verilog(unit, unit.name), unit.name)


def _names():
    from fmtforge.verif.support.benches.stream_cases import STREAM_UNITS
    return list(STREAM_UNITS)


@pytest.mark.parametrize("name", _names())
def test_stream_batch(name):
    from fmtforge.verif.support.benches.stream import check_trace, run_batch, split
    from fmtforge.verif.support.benches.stream_cases import stimulus
    o, unit, model = _setup(name)
    used = seed()
    beats = QMAC_BEATS if name == "qmac" else BEATS
    print(f"{name} ({unit.name}): seed {used}, {beats} beats")
    rng = np.random.default_rng([used, zlib.crc32(name.encode())])
    again = f"FMTFORGE_SEED={used} .venv/bin/pytest verif/tests/rtl/test_stream_batch.py -k '{name}'"
    s0 = stimulus(name, o, unit, rng, 400, corners=False, stall_free=True)
    check_trace(f"{name} stall-free", s0, run_batch(model, s0, rng, 0.0, 0.0, garbage_seed=used), True, used, again)
    stim = stimulus(name, o, unit, rng, beats)
    for k, (part, (idle, stall)) in enumerate(zip(split(stim, len(MIXES)), MIXES)):
        trace = run_batch(model, part, rng, idle, stall, garbage_seed=used + k)
        check_trace(f"{name} part {k} (idle {idle}, back-pressure {stall})", part, trace, False, used, again)
        assert trace.n_out == len(part.expect)


# -- the monitor catches what it claims to: a register stage with faults chosen by the constant input `bug` ----
FAULTY = """\
module faulty_stage (clk, rst, bug, i__valid, i__payload, i__ready, o__valid, o__payload, o__ready);
  input clk;
  input rst;
  input [1:0] bug;
  input i__valid;
  input [15:0] i__payload;
  output i__ready;
  output reg o__valid;
  output reg [15:0] o__payload;
  input o__ready;
  reg [15:0] count;  // beats taken so far
  reg dupped;
  // bug 3: the output beat seen when six beats are in goes out twice (the stage holds it one more cycle)
  wire dupnow = bug == 3 && o__valid && o__ready && count == 6 && !dupped;
  assign i__ready = (~o__valid | o__ready) & ~dupnow;
  always @(posedge clk) begin
    if (rst) begin
      o__valid <= 0; o__payload <= 0; count <= 0; dupped <= 0;
    end else begin
      if (i__valid & i__ready) count <= count + 1;
      if (dupnow) dupped <= 1;
      if (i__ready) begin
        o__valid <= i__valid & ~(bug == 2 && count == 5);  // bug 2: beat 5 is taken and dropped
        o__payload <= i__payload ^ 16'h1234;
      end else if (bug == 1)
        o__payload <= o__payload + 1;  // bug 1: the stalled output changes
    end
  end
endmodule
"""


@pytest.mark.parametrize("bug", [0, 1, 2, 3], ids=["correct", "changes-while-stalled", "drops-a-beat",
                                                   "duplicates-a-beat"])
def test_monitor_catches_faults(bug):
    from fmtforge.verif.support.batch.stream_lane import pack_fields, stream_model
    from fmtforge.verif.support.benches.stream import check_trace, run_batch
    from fmtforge.verif.support.benches.stream_cases import Stimulus
    require("verilator")
    model = stream_model(FAULTY, "faulty_stage", consts=("bug",))
    rng = np.random.default_rng(bug)
    x = rng.integers(0, 1 << 16, 500, dtype=np.uint64)
    idx = np.arange(len(x))
    stim = Stimulus(pack_fields(len(x), 16, [(0, 16, x)]), pack_fields(len(x), 16, [(0, 16, x ^ np.uint64(0x1234))]),
                    idx, idx, 1, lambda k: f"beat {k}: 0x{int(x[k]):04x}")
    trace = run_batch(model, stim, rng, 0.3, 0.5, consts={"bug": bug})
    if bug == 0:
        check_trace("faulty_stage correct", stim, trace, False, bug, "-")
        return
    with pytest.raises(AssertionError) as e:
        check_trace(f"faulty_stage bug {bug}", stim, trace, False, bug, "-")
    want = {1: "changed while o.ready was low", 2: "lost or duplicated", 3: "lost or duplicated"}[bug]
    assert want in str(e.value), str(e.value)
