"""Timing diagrams of the stream units, made from real simulation traces (Amaranth's simulator), as WaveDrom JSON.

Each ``trace_*`` function drives one unit with a short scripted stimulus (gaps in ``i.valid``, ``o.ready`` held
low) and records, per cycle, what the ports hold just before the rising edge that ends the cycle (a beat moves at
that edge when valid and ready are both 1). :func:`wavedrom` turns a trace into WaveDrom's JSON;
``python -m fmtforge.verif.support.waves`` (``make waves``) writes docs/waves/<unit>.json and, with yowasp-wavedrom
(the test extra), the SVG rendered from it. verif/tests/rtl/test_waves.py re-simulates and checks that the
committed JSON equals the trace, and checks the trace itself against golden and the units' latencies. The block
units' traces (mx-quantize, mx-dequantize, w4-dequantize, bfp-encode) are in blocks.py, the dot-product units'
(dot, posit-dot, mx-dot) in dots.py; ``TRACES`` holds all.
"""

import argparse
import sys
from pathlib import Path

from fmtforge.verif.support.waves.core import _run, dumps, wavedrom
from fmtforge.verif.support.waves.blocks import trace_bfp_encode, trace_mx_dequantize, trace_mx_quantize, trace_w4_dequantize
from fmtforge.verif.support.waves.dots import trace_dot, trace_mx_dot, trace_posit_dot

__all__ = ["TRACES", "dumps", "trace_bfp_encode", "trace_convert", "trace_mx_dequantize", "trace_mx_quantize",
           "trace_posit_decode", "trace_qmac", "trace_w4_dequantize", "wavedrom", "write_waves"]

DOCS = Path(__file__).resolve().parents[3] / "docs" / "waves"


def _valid(stream, field=None):
    """A probe of a stream's payload (or one field of it): its value when valid, else None."""
    def get(ctx):
        if not ctx.get(stream.valid):
            return None
        p = ctx.get(stream.payload)
        return int(getattr(p, field) if field else p)
    return get


# -- qmac --------------------------------------------------------------------------------------------------
QMAC_BEATS = [  # (a lanes, w lanes, last): P = two beats, Q and R one each
    ([3, 1], [10, 20], 0), ([2, -4], [7, 5], 1), ([100, 100], [100, 100], 1), ([-6, 5], [9, 2], 1)]
QMAC_GAPS = (2,)  # i.valid low in this cycle; it is high otherwise until every beat is in
QMAC_O_READY_LOW = (12, 13)  # the consumer holds o.ready low here


def trace_qmac():
    from fmtforge.rtl.units import UNITS
    unit = UNITS["qmac"].configure(lanes=2)
    dut = unit.create()
    beats = list(QMAC_BEATS)
    state = {"k": 0}

    def drive(ctx, cycle):
        for port, v in (("za", 0), ("zw", 0), ("z3", 0), ("qmin", -128), ("qmax", 127), ("bias", 0),
                        ("m0", 1 << 30), ("shift", -4)):
            ctx.set(getattr(dut, port), v)
        k = state["k"]
        valid = cycle not in QMAC_GAPS and k < len(beats)
        if valid:
            a, w, last = beats[k]
            ctx.set(dut.i.payload, dut.in_layout.const({"a": a, "w": w, "last": last}))
        ctx.set(dut.i.valid, int(valid))
        ctx.set(dut.o.ready, int(cycle not in QMAC_O_READY_LOW))
        if valid and ctx.get(dut.i.ready):
            state["k"] += 1  # this beat moves at the coming edge

    probes = [("i.valid", lambda c: c.get(dut.i.valid)), ("i.ready", lambda c: c.get(dut.i.ready)),
              ("i.last", _valid(dut.i, "last")), ("o.valid", lambda c: c.get(dut.o.valid)),
              ("o.ready", lambda c: c.get(dut.o.ready)), ("o.payload", _valid(dut.o))]
    trace = _run(dut, 22, drive, probes)
    return trace, wavedrom(trace, buses=("o.payload",), handshake={"o.payload": ("o.valid", "o.ready")}, head=f"{dut.name}: latency {unit.latency} from the last beat",
                           foot="M = 2**-5 (m0 = 2**30, shift = -4); dot products P (2 beats), Q, R; o.ready low "
                                "in cycles 12-13")


# -- pipelined converter -----------------------------------------------------------------------------------
CONVERT_IN = [0x3f800000, 0x3f808000, 0x3f818000, 0x7f800001, 0x00000001, 0xc0490fdb]
CONVERT_GAPS = (2,)
CONVERT_CYCLES = 14
CONVERT_O_READY_LOW = (5, 6)


def trace_convert():
    from fmtforge.rtl.units import UNITS
    dut = UNITS["convert"].create(src="fp32", dst="bf16", stages=2)
    state = {"k": 0}

    def drive(ctx, cycle):
        k = state["k"]
        valid = cycle not in CONVERT_GAPS and k < len(CONVERT_IN)
        if valid:
            ctx.set(dut.i.payload, dut.in_layout.const({"data": CONVERT_IN[k]}))
        ctx.set(dut.i.valid, int(valid))
        ctx.set(dut.o.ready, int(cycle not in CONVERT_O_READY_LOW))
        if valid and ctx.get(dut.i.ready):
            state["k"] += 1

    probes = [("i.valid", lambda c: c.get(dut.i.valid)), ("i.ready", lambda c: c.get(dut.i.ready)),
              ("i.payload", _valid(dut.i, "data")), ("o.valid", lambda c: c.get(dut.o.valid)),
              ("o.ready", lambda c: c.get(dut.o.ready)), ("o.payload", _valid(dut.o, "data"))]
    trace = _run(dut, CONVERT_CYCLES, drive, probes)
    return trace, wavedrom(trace, buses=("i.payload", "o.payload"), hexwidth={"i.payload": 8, "o.payload": 4},
                           handshake={"i.payload": ("i.valid", "i.ready"), "o.payload": ("o.valid", "o.ready")},
                           head=f"{dut.name}: latency 2, all stages stall together",
                           foot="1.0, 1 + 2**-8 (a tie: to even), 1 + 3 * 2**-8 (a tie: up), sNaN, the smallest "
                                "subnormal, -pi; o.ready low in cycles 5-6")


# -- posit decoder -----------------------------------------------------------------------------------------
POSIT_IN = [0x4000, 0x4d00, 0x0001, 0x8000, 0x0000, 0xc000, 0x7fff]
POSIT_STAGES = 2


def trace_posit_decode():
    from fmtforge import golden
    from fmtforge.rtl.units.posit_decode import PositDecoder
    dut = PositDecoder(golden.lookup("posit16"), stages=POSIT_STAGES)

    def drive(ctx, cycle):
        ctx.set(dut.i, POSIT_IN[cycle] if cycle < len(POSIT_IN) else 0)

    def field(name):
        def get(ctx):
            o = ctx.get(dut.o)
            if name in ("sign", "scale", "sig") and (o.is_zero or o.is_nar):
                return None  # meaningful only when neither flag is set
            return int(getattr(o, name))
        return get

    probes = [("i", lambda c: c.get(dut.i))] + [(f"o.{f}", field(f)) for f in ("sign", "scale", "sig", "is_zero",
                                                                               "is_nar")]
    trace = _run(dut, len(POSIT_IN) + POSIT_STAGES, drive, probes)
    trace["i"][len(POSIT_IN):] = [None] * POSIT_STAGES
    for label in trace:
        if label.startswith("o."):
            trace[label][:POSIT_STAGES] = [None] * POSIT_STAGES  # the pipeline is filling
    return trace, wavedrom(trace, buses=("i", "o.scale", "o.sig"), hexwidth={"i": 4, "o.sig": 3},
                           head=f"{dut.name}: latency 2, no handshake (a result every cycle)",
                           foot="1, 3.25 = 2**1 * 1.625, minpos, NaR, 0, -1, maxpos (sig in hex, hidden bit on top)")


#: The block units' traces are in :mod:`fmtforge.verif.support.waves.blocks`.
TRACES = {"qmac": trace_qmac, "convert": trace_convert, "posit_decode": trace_posit_decode,
          "mx_quantize": trace_mx_quantize, "mx_dequantize": trace_mx_dequantize,
          "w4_dequantize": trace_w4_dequantize, "bfp_encode": trace_bfp_encode,
          "dot": trace_dot, "posit_dot": trace_posit_dot, "mx_dot": trace_mx_dot}


def write_waves(out_dir=DOCS, svg=True):
    """docs/waves/<unit>.json for every trace, and <unit>.svg when yowasp-wavedrom is installed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        from yowasp_wavedrom import render
    except ImportError:
        render = None
        if svg:
            print("yowasp-wavedrom is not installed: writing the JSON only (pip install yowasp-wavedrom)",
                  file=sys.stderr)
    for name, make in TRACES.items():
        _, diagram = make()
        (out / f"{name}.json").write_text(dumps(diagram))
        if svg and render is not None:
            (out / f"{name}.svg").write_text(render(diagram))
        print(f"wrote {out / name}.json" + (" and .svg" if svg and render else ""), file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description="WaveDrom diagrams of the stream units, from simulation")
    p.add_argument("--output-dir", default=str(DOCS))
    p.add_argument("--no-svg", action="store_true")
    args = p.parse_args(argv)
    write_waves(args.output_dir, svg=not args.no_svg)


if __name__ == "__main__":
    main()
