# amaranth: UnusedElaboratable=no
"""The timing diagrams in docs/waves: re-simulated, the committed WaveDrom JSON must equal the trace (make waves
rewrites them), the SVG must be what yowasp-wavedrom renders from that JSON, and each trace must itself be right:
its results equal golden, at the unit's latency, held while o.ready is low."""

import json
from pathlib import Path

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import quant as gq
from fmtforge.verif.support import waves

DOCS = Path(__file__).parents[3] / "docs" / "waves"


@pytest.fixture(scope="module")
def traces():
    return {name: make() for name, make in waves.TRACES.items()}


@pytest.mark.parametrize("name", sorted(waves.TRACES))
def test_committed_json_is_the_trace(name, traces):
    _, diagram = traces[name]
    assert (DOCS / f"{name}.json").read_text() == waves.dumps(diagram), f"docs/waves/{name}.json is stale: make waves"


@pytest.mark.parametrize("name", sorted(waves.TRACES))
def test_committed_svg_is_rendered_from_the_json(name):
    render = pytest.importorskip("yowasp_wavedrom").render
    assert (DOCS / f"{name}.svg").read_text() == render(json.loads((DOCS / f"{name}.json").read_text()))


def _transfers(trace, payload, valid, ready):
    return [(t, v) for t, v in enumerate(trace[payload]) if trace[valid][t] and trace[ready][t]]


def test_convert_trace_is_right(traces):
    trace, _ = traces["convert"]
    ins = _transfers(trace, "i.payload", "i.valid", "i.ready")
    outs = _transfers(trace, "o.payload", "o.valid", "o.ready")
    assert [v for _, v in ins] == waves.CONVERT_IN  # every input went in, in order
    want = golden.convert(np.array(waves.CONVERT_IN, dtype=np.uint32), "fp32", "bf16")
    assert [v for _, v in outs] == [int(x) for x in want]
    assert outs[0][0] - ins[0][0] == 2  # latency 2 (stages=2) with nothing stalling
    for t in waves.CONVERT_O_READY_LOW:  # held, and the input refused, while the consumer is not ready
        assert trace["o.valid"][t] and not trace["i.ready"][t] and trace["o.payload"][t] == trace["o.payload"][t + 1]


def test_qmac_trace_is_right(traces):
    from fmtforge.rtl.units.qmac import qmac_latency
    trace, _ = traces["qmac"]
    lasts = [t for t, v in _transfers(trace, "i.last", "i.valid", "i.ready") if v]
    outs = _transfers(trace, "o.payload", "o.valid", "o.ready")
    jobs, cur = [], ([], [])
    for a, w, last in waves.QMAC_BEATS:
        cur[0].extend(a)
        cur[1].extend(w)
        if last:
            jobs.append(cur)
            cur = ([], [])
    want = [int(gq.qmatmul(np.array([a]), 0, np.array(w)[:, None], 0, M0=1 << 30, shift=-4, z3=0, qmin=-128,
                           qmax=127)[0, 0]) for a, w in jobs]
    assert [v for _, v in outs] == want and len(set(want)) == len(want)
    first_valid = trace["o.valid"].index(1)
    assert first_valid - lasts[0] == qmac_latency(2)
    for t in waves.QMAC_O_READY_LOW:
        assert trace["o.valid"][t] and not trace["i.ready"][t]


def test_posit_decode_trace_is_right(traces):
    from fractions import Fraction
    trace, _ = traces["posit_decode"]
    fmt = golden.lookup("posit16")
    s = waves.POSIT_STAGES
    for t, bits in enumerate(waves.POSIT_IN):
        v = fmt.decode_raw(np.array([bits], dtype=np.uint16)).to_fractions()[0]
        at = {k[2:]: trace[k][t + s] for k in trace if k.startswith("o.")}
        if v is None:
            assert at["is_nar"] == 1 and at["is_zero"] == 0
        elif v == 0:
            assert at["is_zero"] == 1 and at["is_nar"] == 0
        else:
            width = max(fmt.n - 3 - fmt.es, 0) + 1  # sig's width (README): the hidden bit on top
            got = (-1) ** at["sign"] * Fraction(2) ** at["scale"] * Fraction(at["sig"], 1 << (width - 1))
            assert got == v and at["is_zero"] == 0 and at["is_nar"] == 0, f"pattern 0x{bits:04x}"
