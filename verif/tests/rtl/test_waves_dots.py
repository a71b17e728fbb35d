# amaranth: UnusedElaboratable=no
"""The dot-product units' timing diagrams (docs/waves/dot, posit_dot, mx_dot; traces in
verif/support/waves/dots.py) are right: every beat went in, in order; each result equals golden.arith's model
of the beats that went in; it appears at the latency the unit's docs page states (written here from the docs,
not taken from the code); and it is held while o.ready is low. test_waves.py checks the committed JSON and SVG."""

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden.arith import dot, mx_dot, posit_dot
from fmtforge.verif.support.waves import dots
from fmtforge.verif.support.waves.units import TRACES

# docs/dot_unit.md: 3 + stages; docs/posit_dot.md's table: 2 lanes, stages 2, G = 2 -> 9; docs/mx_dot.md: 4 + stages
DOCUMENTED_LATENCY = {"dot": 3, "posit_dot": 9, "mx_dot": 4}


@pytest.fixture(scope="module")
def traces():
    return {name: TRACES[name]()[0] for name in DOCUMENTED_LATENCY}


def _moves(trace, label, valid="i.valid", ready="i.ready"):
    return [(t, trace[label][t]) for t in range(len(trace[valid])) if trace[valid][t] and trace[ready][t]]


def _check(trace, name, want, beats_per_job, low):
    ins = _moves(trace, "i")
    outs = _moves(trace, "o.data", "o.valid", "o.ready")
    assert [v for _, v in ins] == [f"{job}{j}" for job, n in beats_per_job for j in range(n)]
    assert [v for _, v in outs] == [int(w) for w in want]
    lasts = [t for t, v in _moves(trace, "i.last") if v]
    first = trace["o.valid"].index(1)
    assert first - lasts[0] == DOCUMENTED_LATENCY[name]
    assert any(trace["o.valid"][t] for t in low), "the diagram shows no stall"
    for t in low:  # held while stalled, and the input refused
        if trace["o.valid"][t]:
            assert trace["o.valid"][t + 1] and trace["o.data"][t + 1] == trace["o.data"][t]
            assert not trace["i.ready"][t]


def _bits(fmt, values):
    return golden.lookup(fmt).encode(np.array(values, dtype=np.float64)).astype(np.int64)


def test_dot_trace(traces):
    want = [dot(_bits("fp8_e4m3", a)[None], _bits("fp8_e4m3", b)[None], _bits("fp32", [c]), a_fmt="fp8_e4m3",
                b_fmt="fp8_e4m3", c_fmt="fp32", out_fmt="fp32", mode="exact", lanes=dots.DOT_LANES)[0][0]
            for _, (a, b), c in dots.DOT_JOBS]
    assert [int(w) for w in want] == [0x3F000000, 0x48440000, 0x00000000]  # 0.5; 200704 (2**-18 rounded off); +0
    _check(traces["dot"], "dot", want, [(n, len(a) // dots.DOT_LANES) for n, (a, _), _ in dots.DOT_JOBS],
           dots.DOT_O_READY_LOW)


def test_posit_dot_trace(traces):
    want = [posit_dot(_bits("posit8", a)[None], _bits("posit8", b)[None], a_fmt="posit8", b_fmt="posit8",
                      out_fmt="posit16")[0][0] for _, (a, b) in dots.PDOT_JOBS]
    assert [float(golden.lookup("posit16").decode(np.array([w]))[0]) for w in want] == [4.5, 0.0, 1.0]
    _check(traces["posit_dot"], "posit_dot", want, [(n, len(a) // dots.PDOT_LANES) for n, (a, _) in dots.PDOT_JOBS],
           dots.PDOT_O_READY_LOW)


def test_mx_dot_trace(traces):
    want = []
    for _, blocks, c in dots.MXDOT_JOBS:
        a = np.concatenate([_bits("fp8_e4m3", blk[0]) for blk in blocks])[None]
        b = np.concatenate([_bits("fp8_e4m3", blk[1]) for blk in blocks])[None]
        xa, xb = np.array([[blk[2] for blk in blocks]]), np.array([[blk[3] for blk in blocks]])
        want.append(mx_dot(a, b, xa, xb, _bits("fp32", [c]), a_elem="fp8_e4m3", b_elem="fp8_e4m3",
                           block_size=dots.MXDOT_K)[0][0])
    assert [float(golden.lookup("fp32").decode(np.array([w]))[0]) for w in want] == [18.0, 0.25]
    per = dots.MXDOT_K // dots.MXDOT_LANES
    _check(traces["mx_dot"], "mx_dot", want, [(n, len(blocks) * per) for n, blocks, _ in dots.MXDOT_JOBS],
           dots.MXDOT_O_READY_LOW)
