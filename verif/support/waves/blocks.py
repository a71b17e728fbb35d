"""Timing diagrams of the block stream units (mx-quantize, mx-dequantize, w4-dequantize, bfp-encode), made like
those of :mod:`fmtforge.verif.support.waves.units` (whose ``TRACES`` holds them too): a short scripted stimulus, gaps
in ``i.valid``, ``o.ready`` held low, one row per port or payload field, values as they are just before the
rising edge that ends the cycle. Values in hex; a packed field (several lanes in one label) has lane 0 in its
rightmost digits.
"""

import numpy as np
from amaranth.lib import data

from fmtforge import golden
from fmtforge.verif.support.waves.core import _run, wavedrom

__all__ = ["BFP_BLOCKS", "MXD_BEATS", "MXQ_BLOCKS", "W4_GROUPS", "bfp_beats", "mxd_beats", "mxq_beats",
           "trace_bfp_encode", "trace_mx_dequantize", "trace_mx_quantize", "trace_w4_dequantize", "w4_beats"]


def _int(v):
    """The integer of a simulator value (a plain one, or a ``data.Const`` view of a layout)."""
    return v.as_value().value if isinstance(v, data.Const) else int(v)


def _pack(values, width):
    """One integer of ``values``, ``width`` bits each, the first lowest."""
    return sum(int(v) << (width * k) for k, v in enumerate(values))


def _fp32_beats(blocks, lanes):
    """Beats of ``lanes`` fp32 elements (one integer each, lane 0 lowest) of ``blocks`` (lists of floats)."""
    bits = [_fp32(block) for block in blocks]
    return [_pack(b[j:j + lanes], 32) for b in bits for j in range(0, len(b), lanes)]


def _fp32(values):
    """fp32 patterns of ``values`` (rounded to nearest even)."""
    return [int(b) for b in golden.lookup("fp32").encode(np.array(values, dtype=np.float64))]


def _stream(dut, payloads, gaps, o_ready_low):
    """``drive(ctx, cycle)`` offering ``payloads`` (integers) in order on ``dut.i``, ``i.valid`` low in the
    cycles ``gaps``, ``o.ready`` low in the cycles ``o_ready_low``."""
    layout = dut.i.payload.shape()
    state = {"k": 0}

    def drive(ctx, cycle):
        k = state["k"]
        valid = cycle not in gaps and k < len(payloads)
        if valid:
            ctx.set(dut.i.payload, data.Const(layout, payloads[k]))
        ctx.set(dut.i.valid, int(valid))
        ctx.set(dut.o.ready, int(cycle not in o_ready_low))
        if valid and ctx.get(dut.i.ready):
            state["k"] += 1  # this beat moves at the coming edge
    return drive


def _field(stream, get):
    """A probe of ``get(payload)`` (an integer) while ``stream`` is valid, else None."""
    def probe(ctx):
        if not ctx.get(stream.valid):
            return None
        return _int(get(ctx.get(stream.payload)))
    return probe


def _label(stream, payloads, names):
    """A probe naming the beat on ``stream`` (valid only): ``names[k]`` when the payload is ``payloads[k]``."""
    by_bits = dict(zip(payloads, names))
    assert len(by_bits) == len(payloads), "the beats must differ to be named by their bits"

    def probe(ctx):
        if not ctx.get(stream.valid):
            return None
        return by_bits.get(_int(ctx.get(stream.payload)), "?")
    return probe


def _handshakes(dut):
    return [("i.valid", lambda c: c.get(dut.i.valid)), ("i.ready", lambda c: c.get(dut.i.ready))]


def _o_handshake(dut):
    return [("o.valid", lambda c: c.get(dut.o.valid)), ("o.ready", lambda c: c.get(dut.o.ready))]


def _o_buses(labels):
    return {label: ("o.valid", "o.ready") for label in labels}


# -- mx-quantize -------------------------------------------------------------------------------------------
MXQ_LANES, MXQ_BLOCK = 4, 16
MXQ_BLOCKS = [  # two blocks of 16 fp32 values (as float64), 4 beats of 4 elements each
    # A: one outlier, 1024 = 2**10: scale 2**(10 - 8) (fp8_e4m3's emax is 8); the elements below 2**-4 (2**-6 *
    # 2**2) become subnormal codes, those up to 2**-8 (half the smallest subnormal, 2**-9 * 2**2) +-0
    [1024.0, 0.5, -3.0, 0.01, 20.0, -0.002, 7.0, 0.25, 100.0, -0.75, 0.004, 1.5, -64.0, 0.03, 2.0, -0.0],
    # B: amax 1.875, scale 2**-8 (floor): 1.875 * 256 = 480 saturates to 448; 1.0625 * 256 = 272 and 1.1875 *
    # 256 = 304 are ties (to even: 256, 320)
    [1.875, 1.0625, 1.1875, -0.5, 0.125, -1.0, 1.0, 0.0, -1.875, 0.75, 1.25, -0.0625, 0.3, -0.2, 1.5, 0.015625],
]
MXQ_GAPS = (2,)
MXQ_O_READY_LOW = (14, 15)
MXQ_CYCLES = 23


def mxq_beats():
    """The input payloads: ``MXQ_BLOCK // MXQ_LANES`` beats per block, lane 0 lowest."""
    return _fp32_beats(MXQ_BLOCKS, MXQ_LANES)


def trace_mx_quantize():
    from fmtforge.rtl.units import UNITS
    unit = UNITS["mx-quantize"].configure(src="fp32", element="fp8_e4m3", block_size=MXQ_BLOCK, lanes=MXQ_LANES)
    dut = unit.create()
    beats = mxq_beats()
    names = [f"{b}{j}" for b in "AB" for j in range(MXQ_BLOCK // MXQ_LANES)]
    lanes = [(f"o.codes[{k}]", _field(dut.o, lambda p, k=k: p.codes[k])) for k in range(dut.lanes)]
    probes = _handshakes(dut) + [("i.payload", _label(dut.i, beats, names))] + _o_handshake(dut) + lanes + [
        ("o.scale", _field(dut.o, lambda p: p.scale)), ("o.last", _field(dut.o, lambda p: p.last))]
    trace = _run(dut, MXQ_CYCLES, _stream(dut, beats, MXQ_GAPS, MXQ_O_READY_LOW), probes)
    outs = [label for label, _ in lanes] + ["o.scale"]
    return trace, wavedrom(trace, buses=("i.payload", *outs), hexwidth={label: 2 for label in outs},
                           handshake={"i.payload": ("i.valid", "i.ready"), **_o_buses(outs)},
                           head=f"{dut.name}: latency {unit.latency} from a block's last beat",
                           foot="A: one outlier, 1024 (scale 0x81 = 2**2: elements under 2**-4 become subnormal "
                                "codes, -0.002 becomes -0); B: amax 1.875 (scale 0x77 = 2**-8: 480 saturates to "
                                "448, two ties to even); o.ready low in cycles 14-15")


# -- mx-dequantize -----------------------------------------------------------------------------------------
MXD_BEATS = [  # (fp8_e4m3 codes, E8M0 scale, last): each beat brings its scale; last passes through
    ([0x38, 0x7E, 0x01, 0xFF], 0x7F, 0), ([0xB8, 0x00, 0x80, 0x46], 0x7F, 1),  # X = 1: 1, 448, 2**-9, NaN ...
    ([0x38, 0x01, 0x08, 0xB0], 0x00, 0), ([0x7E, 0x00, 0x20, 0x02], 0x00, 1),  # X = 2**-127: fp32 subnormals
    ([0x38, 0x40, 0xC0, 0x30], 0xFE, 0), ([0x00, 0x7E, 0x80, 0x28], 0xFF, 1),  # 2**127: inf; 0xFF: NaN block
]
MXD_GAPS = (3,)
MXD_O_READY_LOW = (5, 6)
MXD_CYCLES = 14


def mxd_beats(layout):
    return [layout.const({"codes": c, "scale": s, "last": last}).as_value().value for c, s, last in MXD_BEATS]


def trace_mx_dequantize():
    from fmtforge.rtl.units import UNITS
    unit = UNITS["mx-dequantize"].configure(scheme="mx", element="fp8_e4m3", dst="fp32", lanes=4)
    dut = unit.create()
    lanes = [(f"o.data[{k}]", _field(dut.o, lambda p, k=k: p.data[k])) for k in range(dut.lanes)]
    probes = _handshakes(dut) + [("i.codes", _field(dut.i, lambda p: p.codes)),
                                 ("i.scale", _field(dut.i, lambda p: p.scale)),
                                 ("i.last", _field(dut.i, lambda p: p.last))] + _o_handshake(dut) + lanes + [
        ("o.last", _field(dut.o, lambda p: p.last))]
    trace = _run(dut, MXD_CYCLES, _stream(dut, mxd_beats(dut.in_layout), MXD_GAPS, MXD_O_READY_LOW), probes)
    outs = [label for label, _ in lanes]
    return trace, wavedrom(trace, buses=("i.codes", "i.scale", *outs),
                           hexwidth={"i.codes": 8, "i.scale": 2, **{label: 8 for label in outs}},
                           handshake={"i.codes": ("i.valid", "i.ready"), "i.scale": ("i.valid", "i.ready"),
                                      **_o_buses(outs)},
                           head=f"{dut.name}: latency {unit.latency}, i.ready = ~o.valid | o.ready",
                           foot="scale 0x7F (1): 1, 448, 2**-9, NaN, -1, 0, -0, 3.5; 0x00 (2**-127): fp32 "
                                "subnormals and one normal; 0xFE (2**127): 2**127, +-inf; 0xFF: a NaN block; "
                                "o.ready low in cycles 5-6", hscale=2)


# -- w4-dequantize -----------------------------------------------------------------------------------------
W4_LANES, W4_GROUP = 4, 8
W4_GROUPS = [  # (uint4 codes, fp16 scale, zero point) of three groups of 8 codes, 2 beats each
    ([0, 1, 7, 8, 9, 15, 4, 12], 0x3800, 8),   # (q - 8) * 0.5: exact
    ([0, 1, 2, 15, 3, 4, 1, 0], 0x7BFF, 0),    # q * 65504: overflow to inf from q = 2
    ([3, 1, 5, 15, 7, 2, 9, 11], 0x3C01, 0),   # q * (1 + 2**-10): q = 3 is a tie (to even: up), 15 rounds up
]
W4_JUNK = (0xDEAD, 0x5)  # scale and zero fields of each group's second beat: ignored by the unit
W4_GAPS = (2,)
W4_O_READY_LOW = (10, 11)
W4_CYCLES = 17


def w4_beats(layout):
    out = []
    for codes, scale, zero in W4_GROUPS:
        for j in range(0, W4_GROUP, W4_LANES):
            s, z = (scale, zero) if j == 0 else W4_JUNK
            out.append(layout.const({"codes": codes[j:j + W4_LANES], "scale": s, "zero": z})
                       .as_value().value)
    return out


def trace_w4_dequantize():
    from fmtforge.rtl.units import UNITS
    unit = UNITS["w4-dequantize"].configure(lanes=W4_LANES, group=W4_GROUP, codes="uint4", zero="group",
                                            scale="fp16", out="fp16")
    dut = unit.create()
    lanes = [(f"o.data[{k}]", _field(dut.o, lambda p, k=k: p.data[k])) for k in range(dut.lanes)]
    probes = _handshakes(dut) + [("i.codes", _field(dut.i, lambda p: p.codes)),
                                 ("i.scale", _field(dut.i, lambda p: p.scale)),
                                 ("i.zero", _field(dut.i, lambda p: p.zero))] + _o_handshake(dut) + lanes + [
        ("o.last", _field(dut.o, lambda p: p.last))]
    trace = _run(dut, W4_CYCLES, _stream(dut, w4_beats(dut.in_layout), W4_GAPS, W4_O_READY_LOW), probes)
    outs = [label for label, _ in lanes]
    ins = ("i.codes", "i.scale", "i.zero")
    return trace, wavedrom(trace, buses=(*ins, *outs),
                           hexwidth={"i.codes": 4, "i.scale": 4, "i.zero": 1, **{label: 4 for label in outs}},
                           handshake={**{label: ("i.valid", "i.ready") for label in ins}, **_o_buses(outs)},
                           head=f"{dut.name}: latency {unit.latency}, scale and zero read on a group's first beat",
                           foot="(q - 8) * 0.5; q * 65504 (inf from q = 2); q * (1 + 2**-10) (q = 3: a tie, to "
                                "even); dead / 5: ignored fields; o.ready low in cycles 10-11")


# -- bfp-encode --------------------------------------------------------------------------------------------
BFP_LANES, BFP_BLOCK, BFP_MAN_BITS = 4, 8, 3
BFP_BLOCKS = [  # three blocks of 8 fp32 values, 2 beats each
    [16.0, 1.0, -0.5, 3.0, 0.25, -7.0, 2.5, 0.1],            # one outlier: E = 4, magnitudes |x| / 4
    [1.0, 0.375, 0.625, 0.875, 1.875, -0.125, -1.25, 0.5],   # E = 0, magnitudes 4 |x|: ties, 7.5 saturates to 7
    [1.0, float("inf"), float("nan"), -2.0, 0.5, -0.0, 4.0, -float("inf")],  # not finite: scale 0xFF
]
BFP_GAPS = (1,)
BFP_O_READY_LOW = (11, 12)
BFP_CYCLES = 17


def bfp_beats():
    """The input payloads: ``BFP_BLOCK // BFP_LANES`` beats per block, lane 0 lowest."""
    return _fp32_beats(BFP_BLOCKS, BFP_LANES)


def trace_bfp_encode():
    from fmtforge.rtl.units import UNITS
    unit = UNITS["bfp-encode"].configure(lanes=BFP_LANES, block=BFP_BLOCK, src="fp32", man_bits=BFP_MAN_BITS,
                                         rounding="rne")
    dut = unit.create()
    beats = bfp_beats()
    names = [f"{b}{j}" for b in "ABC" for j in range(BFP_BLOCK // BFP_LANES)]
    probes = _handshakes(dut) + [("i.payload", _label(dut.i, beats, names))] + _o_handshake(dut) + [
        ("o.codes", _field(dut.o, lambda p: p.codes)), ("o.scale", _field(dut.o, lambda p: p.scale))]
    trace = _run(dut, BFP_CYCLES, _stream(dut, beats, BFP_GAPS, BFP_O_READY_LOW), probes)
    return trace, wavedrom(trace, buses=("i.payload", "o.codes", "o.scale"), hexwidth={"o.codes": 8, "o.scale": 2},
                           handshake={"i.payload": ("i.valid", "i.ready"), **_o_buses(("o.codes", "o.scale"))},
                           head=f"{dut.name}: latency {unit.latency} from a block's last beat, one output beat per block",
                           foot="codes: one hex digit per element (sign << 3 | magnitude), element 0 rightmost. A: "
                                "outlier 16 (E = 4); B: E = 0, ties to even, 1.875 saturates to 7; C: holds inf and "
                                "NaN (scale 0xFF); o.ready low in cycles 11-12", hscale=2)
