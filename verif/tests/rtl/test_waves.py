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
from fmtforge.verif.support.waves import units as waves
from fmtforge.verif.support.waves import blocks as wb

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
    assert first_valid - lasts[0] == 9  # docs/qmac.md's latency table: 2 lanes, 9 cycles
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


# -- the block units (traces in verif/support/waves/blocks.py) ------------------------------------------------
FP32 = golden.lookup("fp32")


def _beats(trace, labels, valid, ready):
    """(cycle, tuple of the ``labels`` values) of every transfer."""
    return [(t, tuple(trace[label][t] for label in labels)) for t in range(len(trace[valid]))
            if trace[valid][t] and trace[ready][t]]


def _held(trace, labels, low):
    """While o.ready is low (cycles ``low``) the output is valid and every field keeps its value."""
    for t in low:
        assert trace["o.valid"][t] and trace["o.valid"][t + 1], f"cycle {t}: nothing held"
        assert all(trace[label][t] == trace[label][t + 1] for label in labels), f"cycle {t}: output changed"


def _pack(values, width):
    return sum(int(v) << (width * k) for k, v in enumerate(values))


def test_mx_quantize_trace_is_right(traces):
    from fmtforge.golden.block import MX
    trace, _ = traces["mx_quantize"]
    per = wb.MXQ_BLOCK // wb.MXQ_LANES
    ins = _transfers(trace, "i.payload", "i.valid", "i.ready")
    assert [v for _, v in ins] == [f"{b}{j}" for b in "AB" for j in range(per)]  # every beat went in, in order
    x = FP32.decode(FP32.encode(np.array(wb.MXQ_BLOCKS, dtype=np.float64)))
    t = MX(element="fp8_e4m3", block_size=wb.MXQ_BLOCK).quantize(x, scale_mode="floor")
    want = [(*map(int, t.codes[b, j * wb.MXQ_LANES:(j + 1) * wb.MXQ_LANES]), int(t.scales[b, 0]), int(j == per - 1))
            for b in range(len(wb.MXQ_BLOCKS)) for j in range(per)]
    labels = tuple(f"o.codes[{k}]" for k in range(wb.MXQ_LANES)) + ("o.scale", "o.last")
    outs = _beats(trace, labels, "o.valid", "o.ready")
    assert [v for _, v in outs] == want
    assert [int(s) for s in t.scales[:, 0]] == [0x81, 0x77] and t.codes[1, 0] == 0x7E  # as the foot says
    assert t.codes[0, 3] == 0x01 and t.codes[0, 5] == 0x80  # 0.01: a subnormal code; -0.002: -0
    assert trace["o.valid"].index(1) - ins[per - 1][0] == 8  # docs/mx.md: 5 + stages (3) from block A's last beat
    _held(trace, labels, wb.MXQ_O_READY_LOW)


def test_mx_dequantize_trace_is_right(traces):
    from fmtforge.golden.block import MX, BlockTensor, dequantize_to
    trace, _ = traces["mx_dequantize"]
    ins = _beats(trace, ("i.codes", "i.scale", "i.last"), "i.valid", "i.ready")
    assert [v for _, v in ins] == [(_pack(c, 8), s, last) for c, s, last in wb.MXD_BEATS]
    codes = np.array([c for c, _, _ in wb.MXD_BEATS], dtype=np.uint8)
    scales = np.array([s for _, s, _ in wb.MXD_BEATS], dtype=np.uint8)
    lanes = codes.shape[1]
    t = BlockTensor(MX(element="fp8_e4m3", block_size=lanes), codes.reshape(-1), scales)
    want = dequantize_to(t, "fp32").reshape(codes.shape)
    labels = tuple(f"o.data[{k}]" for k in range(lanes)) + ("o.last",)
    outs = _beats(trace, labels, "o.valid", "o.ready")
    assert [v for _, v in outs] == [(*map(int, row), last) for row, (_, _, last) in zip(want, wb.MXD_BEATS)]
    assert outs[0][0] - ins[0][0] == 4  # docs/mx.md: latency 1 + stages (3)
    _held(trace, labels, wb.MXD_O_READY_LOW)
    assert not any(trace["i.ready"][t] for t in wb.MXD_O_READY_LOW)  # i.ready = ~o.valid | o.ready


def test_w4_dequantize_trace_is_right(traces):
    from fmtforge.golden.block.weights import dequantize_bits
    trace, _ = traces["w4_dequantize"]
    per = wb.W4_GROUP // wb.W4_LANES
    ins = _beats(trace, ("i.codes", "i.scale", "i.zero"), "i.valid", "i.ready")
    assert [v for _, v in ins] == [(_pack(c[j * wb.W4_LANES:(j + 1) * wb.W4_LANES], 4), *((s, z) if j == 0 else
                                   wb.W4_JUNK)) for c, s, z in wb.W4_GROUPS for j in range(per)]
    codes = np.array([c for c, _, _ in wb.W4_GROUPS], dtype=np.uint8)
    scales = np.array([[s] for _, s, _ in wb.W4_GROUPS], dtype=np.uint64)
    zeros = np.array([[z] for _, _, z in wb.W4_GROUPS], dtype=np.uint8)
    want = dequantize_bits(codes, scales, group_size=wb.W4_GROUP, codes_type="uint4", zero="group",
                           zero_points=zeros, scale_format="fp16", out_format="fp16")
    labels = tuple(f"o.data[{k}]" for k in range(wb.W4_LANES)) + ("o.last",)
    outs = _beats(trace, labels, "o.valid", "o.ready")
    assert [v for _, v in outs] == [(*map(int, row[j * wb.W4_LANES:(j + 1) * wb.W4_LANES]), int(j == per - 1))
                                    for row in want for j in range(per)]
    assert want[1, 2] == 0x7C00 and want[2, 0] == 0x4202  # overflow to inf; the tie 3 + 3 * 2**-10, to even
    assert outs[0][0] - ins[0][0] == 2 + 5  # docs/weights.md: 2 + S cycles from a beat's acceptance, S = 5 (default)
    _held(trace, labels, wb.W4_O_READY_LOW)
    assert not any(trace["i.ready"][t] for t in wb.W4_O_READY_LOW)


def test_bfp_encode_trace_is_right(traces):
    from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
    trace, _ = traces["bfp_encode"]
    per = wb.BFP_BLOCK // wb.BFP_LANES
    ins = _transfers(trace, "i.payload", "i.valid", "i.ready")
    assert [v for _, v in ins] == [f"{b}{j}" for b in "ABC" for j in range(per)]
    bits = FP32.encode(np.array(wb.BFP_BLOCKS, dtype=np.float64)).reshape(-1)
    scheme = MSFP(man_bits=wb.BFP_MAN_BITS, block_size=wb.BFP_BLOCK, rounding="rne")
    codes, scales = msfp_encode_bits(scheme, bits, "fp32")
    codes, scales = codes.reshape(len(wb.BFP_BLOCKS), wb.BFP_BLOCK), scales.reshape(-1)
    labels = ("o.codes", "o.scale")
    outs = _beats(trace, labels, "o.valid", "o.ready")
    assert [v for _, v in outs] == [(_pack(c, wb.BFP_MAN_BITS + 1), int(s)) for c, s in zip(codes, scales)]
    assert [int(s) for s in scales] == [127 + 4, 127, 0xFF] and codes[1, 4] == 7  # as the foot says
    # docs/bfp.md: B/N + 3 + S cycles from a block's last beat (4 lanes: no tree register), S = 2 (default)
    assert trace["o.valid"].index(1) - ins[per - 1][0] == per + 3 + 2
    _held(trace, labels, wb.BFP_O_READY_LOW)
