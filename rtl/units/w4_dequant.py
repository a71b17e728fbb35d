"""4-bit weight dequantizer: int4 / uint4 / uint3 codes (minus a zero point) or NF4 levels, times the group's
fp16 / bf16 / fp32 scale, rounded once to fp16 or bf16, as ``golden.block.weights.dequantize_bits``.

The lanes (:mod:`.w4_lane`): the scale unpacked and normalised once for all lanes; per lane the code's value,
the product of the two normalised factors written exactly as a wide float, and the converter's narrowing
round-and-pack (RNE, IEEE overflow or saturation, subnormals), with ``stages`` registers at the lane's cut
points. See docs/weights.md for the protocol, the payload layout and the latency.
"""

import numpy as np
from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden.block.weights import CODE_TYPES, ZERO_MODES
from fmtforge.golden.validate import check_int

from ..pipeline import Cuts, Pipeline, place
from .registry import Option, Unit, register
from .w4_lane import (CUT_POINTS, MAX_STAGES, OUT_FORMATS, SCALE_FORMATS, W4Core, W4Lane, W4Scale, check_w4,
                      scale_shape)

__all__ = ["CUT_POINTS", "MAX_STAGES", "OUT_FORMATS", "SCALE_FORMATS", "W4Core", "W4Dequantize", "W4Lane",
           "W4Scale", "check_w4", "cut_plan", "scale_shape", "w4_name"]

#: The stages of the registry's default: every cut point (measured, docs/weights.md: 4 stages gave 139 MHz on ECP5
#: for GPTQ asymmetric, seed 1; 5 give 148-163 MHz, median of seeds 1-3, for the integer codes)
DEFAULT_STAGES = 5


def cut_plan(codes, stages):
    """The cut points (of :data:`CUT_POINTS`) that hold the ``stages`` lane registers: those that cut the
    estimated path (logic levels: the scale's normalisation beside the code's operand, the multiplier, the F
    pattern, the narrowing pack's three parts) into nearly equal parts (``rtl.pipeline.place``)."""
    check_int("stages", stages, 0, MAX_STAGES)
    mul = 10 if codes == "nf4" else 4  # a 24 x 24 product against an 11 x 4 one (carry chains)
    levels = (5, mul, 3, 3, 3)
    points, pos = [], 0
    for name, lv in zip(CUT_POINTS, levels):
        pos += lv
        points.append((name, pos))
    chosen, extra = place(points, pos + 3, stages)
    assert not extra
    return tuple(p for p in CUT_POINTS if p in chosen)


def w4_name(lanes, group, codes="uint4", zero="none", scale="fp16", out="fp16", saturate=False, stages=0):
    """Verilog module name: ``w4_dequantize_uint4_zgroup_fp16_to_fp16_g128_l8`` (+ ``_sat``, + ``_s<stages>``
    with lane registers)."""
    name = lambda f: getattr(f, "name", f)  # noqa: E731
    return (f"w4_dequantize_{codes}_z{zero}_{name(scale)}_to_{name(out)}_g{group}_l{lanes}"
            + ("_sat" if saturate else "") + (f"_s{stages}" if stages else ""))


class W4Dequantize(wiring.Component):
    """Streaming weight dequantizer: ``lanes`` codes per beat, one scale (and zero point) per group of
    ``group`` codes, results rounded once (RNE) from the exact products.

    Parameters
    ----------
    lanes : int, 1..64 -- codes per beat
    group : int, 1..4096, a multiple of ``lanes`` -- codes per scale (GPTQ/AWQ 32, 64, 128; q3f16 40; NF4 64)
    codes, zero, scale, out, saturate : as :class:`W4Lane`
    stages : int, 0..5 -- registers inside the lanes (at the :func:`cut_plan` points)

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload from bit 0 up: ``codes`` (lanes x bits, lane 0 lowest),
        ``scale`` (scale bits), ``zero`` (bits, zero="group" only). A group is ``group // lanes`` beats; the
        unit counts them, and reads ``scale`` (and ``zero``) on the group's first beat only: on the other
        beats those fields are ignored.
    o : Out(stream.Signature(out_layout)), payload: ``data`` (lanes x out bits, lane 0 lowest), ``last``
        (1 on the group's last beat).

    Timing: ``i.ready = ~o.valid | o.ready`` (all registers advance together); one beat per cycle; results
    ``2 + stages`` cycles after their beat is accepted (input register, the lane registers, output register).
    The scale is unpacked and normalised once for all lanes (:class:`W4Scale`). Every option is required (the
    registry holds the defaults).
    """

    def __init__(self, *, lanes, group, codes, zero, scale, out, saturate, stages):
        self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate = check_w4(
            codes, zero, scale, out, saturate, lanes=lanes, group=group, stages=stages)
        self.lanes, self.group, self.stages = lanes, group, stages
        self.points = cut_plan(codes, stages)
        self.lane_args = dict(codes=codes, zero=zero, scale=scale, out=out, saturate=saturate)
        self.bits = CODE_TYPES[codes][0]
        fields = {"codes": data.ArrayLayout(self.bits, lanes), "scale": self.scale_fmt.width}
        if zero == "group":
            fields["zero"] = self.bits
        self.in_layout = data.StructLayout(fields)
        self.out_layout = data.StructLayout({"data": data.ArrayLayout(self.out_fmt.width, lanes), "last": 1})
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return w4_name(self.lanes, self.group, self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate,
                       self.stages)

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        beat = self.i.payload
        n = self.group // self.lanes
        count = Signal(range(n), name="beat_in_group")
        first, last = count == 0, count == n - 1
        group_zero = self.zero == "group"
        held = Signal(self.scale_fmt.width, name="scale_held")
        held_zero = Signal(self.bits, name="zero_held") if group_zero else None
        with m.If(self.i.valid & advance):
            m.d.sync += count.eq(Mux(last, 0, count + 1))
            with m.If(first):
                m.d.sync += held.eq(beat.scale)
                if group_zero:
                    m.d.sync += held_zero.eq(beat.zero)
        regs = Pipeline(m, advance)
        valid = regs.reg(self.i.valid, "in_valid")
        codes = regs.reg(beat.codes, "in_codes")
        zero = regs.reg(Mux(first, beat.zero, held_zero), "in_zero") if group_zero else None
        is_last = regs.reg(last, "in_last")
        # the scale once for every lane, its input register half way through its normalisation, and
        # registered once more (for every lane) at the lanes' "operand" cut
        m.submodules.scale = shared = W4Scale(self.scale_fmt)
        shared.cuts = Cuts({"half"}, en=advance)
        m.d.comb += shared.i.eq(Mux(first, beat.scale, held))
        norm, sig3 = Cuts(set(self.points) & {"operand"}, en=advance).at(m, "operand", shared.o, shared.sig3)
        # valid and last travel beside the lane registers, one register per stage
        for k in range(self.stages):
            valid, is_last = regs.reg(valid, f"lane_valid{k}"), regs.reg(is_last, f"lane_last{k}")
        result = Signal(self.out_layout)
        for k in range(self.lanes):
            m.submodules[f"lane{k}"] = lane = W4Core(**self.lane_args)
            lane.set_cuts(self.points, advance)
            m.d.comb += [lane.i.code.eq(codes[k]), lane.i.scale.eq(norm), result.data[k].eq(lane.o)]
            m.d.comb += lane.i.sig3.eq(sig3)
            if group_zero:
                m.d.comb += lane.i.zero.eq(zero)
        m.d.comb += result.last.eq(is_last)
        regs.load((self.o.payload, result), (self.o.valid, valid))
        return m


def _build(lanes, group, codes, zero, scale, out, saturate, stages):
    check_w4(codes, zero, scale, out, saturate, lanes=lanes, group=group, stages=stages)  # before the component
    return W4Dequantize(lanes=lanes, group=group, codes=codes, zero=zero, scale=scale, out=out, saturate=saturate,
                        stages=stages)


def _model(options, codes, scales, zeros=None):
    """``out`` patterns (groups, group) of ``codes`` (groups, group) with one ``scale`` pattern per group
    (``scales`` (groups,)) and, with zero="group", one zero point per group: ``golden.block.weights.
    dequantize_bits``, the exact product rounded once."""
    from fmtforge.golden.block.weights import dequantize_bits
    o = options
    scales = np.asarray(scales)
    return dequantize_bits(np.asarray(codes), scales[:, None], group_size=o["group"], codes_type=o["codes"],
                           zero=o["zero"], zero_points=None if zeros is None else np.asarray(zeros)[:, None],
                           scale_format=o["scale"], out_format=o["out"], saturate=o["saturate"])


register(Unit(
    name="w4-dequantize",
    summary="4-bit weights (int4/uint4/uint3 minus a zero point, or NF4) times the group's scale -> fp16/bf16, "
            "rounded once, streaming",
    description="value = RNE((q - Z) * S) (or NF4 level * absmax) from the exact product, as "
                "golden.block.weights.dequantize_bits: GPTQ/AWQ W4A16, MLC q4f16/q3f16, bitsandbytes NF4. "
                "N codes per beat; the group's scale (and zero point) is read on its first beat.",
    build=_build,
    options=(
        Option("lanes", "int", "codes per beat", 8, range=(1, 64), metavar="N"),
        Option("group", "int", "codes per scale, a multiple of lanes (32, 64, 128; q3f16 40)", 128,
               range=(1, 4096), metavar="G"),
        Option("codes", "choice", "code type", "uint4", choices=tuple(CODE_TYPES), metavar="C"),
        Option("zero", "choice", "zero point: none, group (one per group, on the stream), gptq (2**(bits-1)), "
               "mlc (2**(bits-1) - 1)", "none", choices=ZERO_MODES, metavar="Z"),
        Option("scale", "choice", "scale format", "fp16", choices=SCALE_FORMATS, metavar="F"),
        Option("out", "choice", "result format", "fp16", choices=OUT_FORMATS, metavar="F"),
        Option("saturate", "bool", "overflow and infinite scales give +-max, not +-inf", False),
        Option("stages", "int", "registers inside the lanes (latency 2 + stages)", DEFAULT_STAGES,
               range=(0, MAX_STAGES), metavar="S"),
    ),
    examples=(
        dict(lanes=8, group=128, codes="uint4", zero="group"),
        dict(lanes=8, group=32, codes="int4", scale="bf16", out="bf16"),
        dict(lanes=4, group=64, codes="nf4", scale="fp32", out="bf16"),
    ),
    docs="docs/weights.md",
    model=_model,
    latency=lambda o: 2 + o["stages"],
    latency_from="a beat accepted on i to its results valid on o",
    streams=lambda o: {"i": ("codes", "scale") + (("zero",) if o["zero"] == "group" else ()), "o": ("data", "last")},
    # int4 / nf4 with a zero point: refusals
    fuzz={"lanes": (1, 2, 4), "group": (8, 16), "codes": ("uint4", "int4", "uint3", "nf4"), "zero": ZERO_MODES,
          "scale": SCALE_FORMATS, "out": OUT_FORMATS, "stages": tuple(range(MAX_STAGES + 1))},
))
