"""4-bit weight dequantizer: int4 / uint4 / uint3 codes (minus a zero point) or NF4 levels, times the group's
fp16 / bf16 / fp32 scale, rounded once to fp16 or bf16, as ``golden.block.weights.dequantize_bits``.

Per lane the datapath is the converter's, with one multiplier in front: unpack the scale (the float unpack),
form the exact product as a raw value (sign XOR, significand product, exponent offset), normalise, and
round-and-pack into the destination (the float pack: RNE, IEEE overflow or saturation, subnormals). See
docs/weights.md for the protocol and the payload layout.
"""

import numpy as np
from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block.weights import CODE_TYPES, ZERO_MODES
from fmtforge.golden.validate import check_bool, check_choice, check_int

from ..formats.codebook import CodebookUnpack
from ..formats.minifloat import MinifloatPack, MinifloatUnpack
from ..formats.raw import Normalize, RawShape, raw_layout
from ..pipeline import Pipeline
from .registry import Option, Unit, register

__all__ = ["OUT_FORMATS", "SCALE_FORMATS", "W4Dequantize", "W4Lane", "check_w4", "w4_name"]

SCALE_FORMATS = ("fp16", "bf16", "fp32")
OUT_FORMATS = ("fp16", "bf16")


def check_w4(codes, zero, scale, out, saturate, *, lanes=1, group=1):
    """Validated ``(codes, zero, scale format, out format, saturate)``; ValueError naming the parameter.
    (Called before a component is made: one whose constructor raises warns when collected.)"""
    check_int("lanes", lanes, 1, 64)
    check_int("group", group, 1, 4096)
    if group % lanes:
        raise ValueError(f"group must be a multiple of lanes ({lanes}), not {group}")
    check_choice("codes", codes, tuple(CODE_TYPES))
    check_choice("zero", zero, ZERO_MODES)
    check_choice("scale", getattr(scale, "name", scale), SCALE_FORMATS)
    check_choice("out", getattr(out, "name", out), OUT_FORMATS)
    check_bool("saturate", saturate)
    if codes in ("int4", "nf4") and zero != "none":
        raise ValueError(f"zero must be none for {codes} codes (they carry their own sign), not {zero!r}")
    return codes, zero, golden.lookup(scale), golden.lookup(out), saturate


def w4_name(lanes, group, codes="uint4", zero="none", scale="fp16", out="fp16", saturate=False):
    """Verilog module name: ``w4_dequantize_uint4_zgroup_fp16_to_fp16_g128_l8`` (+ ``_sat``)."""
    name = lambda f: getattr(f, "name", f)  # noqa: E731
    return (f"w4_dequantize_{codes}_z{zero}_{name(scale)}_to_{name(out)}_g{group}_l{lanes}"
            + ("_sat" if saturate else ""))


class W4Lane(wiring.Component):
    """One lane, combinational: ``i`` = {code, zero (with zero="group"), scale} -> ``o`` (out bits).

    Parameters
    ----------
    codes : "uint4", "int4", "uint3" or "nf4"
    zero : "none", "group", "gptq" (Z = 2**(bits-1)) or "mlc" (Z = 2**(bits-1) - 1)
    scale : "fp16", "bf16" or "fp32"
    out : "fp16" or "bf16"
    saturate : bool -- overflow and infinite scales give +-max instead of +-inf

    Ports
    -----
    i : In(StructLayout): ``code`` (bits), ``zero`` (bits, zero="group" only), ``scale`` (scale bits), LSB first
    o : Out(out.width)
    """

    def __init__(self, *, codes, zero, scale, out, saturate):
        self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate = check_w4(codes, zero, scale, out,
                                                                                     saturate)
        self.bits = CODE_TYPES[codes][0]
        fields = {"code": self.bits}
        if zero == "group":
            fields["zero"] = self.bits
        fields["scale"] = self.scale_fmt.width
        self.in_layout = data.StructLayout(fields)
        super().__init__({"i": In(self.in_layout), "o": Out(self.out_fmt.width)})

    @property
    def name(self):
        return (f"w4_lane_{self.codes}_z{self.zero}_{self.scale_fmt.name}_to_{self.out_fmt.name}"
                + ("_sat" if self.saturate else ""))

    def _operand(self, m):
        """(sign, magnitude, is_zero, exponent offset, offset range) of the code's value."""
        b, code = self.bits, self.i.code
        if self.codes == "nf4":
            m.submodules.level = lv = CodebookUnpack(golden.lookup("nf4"))
            m.d.comb += lv.i.eq(code)
            # level = sig * 2**(exp - S + 1); the product's top position adds one (two [1, 2) significands)
            return lv.o.sign, lv.o.sig, lv.o.is_zero, lv.o.exp + 1, (lv.shape.exp_min + 1, lv.shape.exp_max + 1)
        if self.codes == "int4":
            d = code.as_signed()
        else:
            z = {"none": 0, "gptq": 1 << (b - 1), "mlc": (1 << (b - 1)) - 1}.get(self.zero)
            d = code - (self.i.zero if z is None else z)
        diff = Signal(range(-(1 << b) + 1, 1 << b), name="diff")
        mag = Signal(b, name="mag")
        m.d.comb += [diff.eq(d), mag.eq(Mux(diff < 0, -diff, diff))]
        # |d| < 2**b: value = mag * 2**0, whose top position is b - 1 above the product's last bit
        return diff < 0, mag, diff == 0, b, (b, b)

    def elaborate(self, platform):
        m = Module()
        sfmt = self.scale_fmt
        m.submodules.scale = su = MinifloatUnpack(sfmt)
        m.d.comb += su.i.eq(self.i.scale)
        s = su.o
        dsign, mag, dzero, offset, (off_lo, off_hi) = self._operand(m)
        Ws, Wm = su.shape.sig_width, len(mag)
        P = Ws + Wm
        # product raw form: sig = s.sig * mag (P bits), exponent field of the scale (subnormal rule applied)
        # plus the offset, the scale's bias: value = sig * 2**(exp - bias - P + 1)
        # (fmt: an integer format, so the pack sees no NaN payload: a NaN result is the quiet NaN)
        all_e = (1 << sfmt.exp_bits) - 1
        shape = RawShape(sig_width=P, exp_min=1 + off_lo, exp_max=all_e + off_hi, bias=sfmt.bias,
                         fmt=golden.lookup("uint4"), unnorm_scale_max=all_e + off_hi - sfmt.bias)
        prod = Signal(raw_layout(shape), name="prod")
        nan = s.is_nan | (s.is_inf & dzero)
        m.d.comb += [
            prod.sig.eq(s.sig * mag),
            prod.exp.eq(Mux(s.exp == 0, 1, s.exp) + offset),
            prod.is_nan.eq(nan),
            prod.is_inf.eq(s.is_inf & ~dzero),
            prod.is_zero.eq((s.is_zero | dzero) & ~s.is_nan & ~s.is_inf),
            prod.sign.eq(Mux(nan, 0, s.sign ^ dsign)),  # NaN: the positive quiet NaN
        ]
        m.submodules.normalize = norm = Normalize(shape)
        m.submodules.pack = pack = MinifloatPack(self.out_fmt, norm.shape, rounding="rne", saturate=self.saturate,
                                                 flags=False)
        m.d.comb += [norm.i.eq(prod), pack.i.eq(norm.o), self.o.eq(pack.o)]
        return m


class W4Dequantize(wiring.Component):
    """Streaming weight dequantizer: ``lanes`` codes per beat, one scale (and zero point) per group of
    ``group`` codes, results rounded once (RNE) from the exact products.

    Parameters
    ----------
    lanes : int, 1..64 -- codes per beat
    group : int, 1..4096, a multiple of ``lanes`` -- codes per scale (GPTQ/AWQ 32, 64, 128; q3f16 40; NF4 64)
    codes, zero, scale, out, saturate : as :class:`W4Lane`

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload from bit 0 up: ``codes`` (lanes x bits, lane 0 lowest),
        ``scale`` (scale bits), ``zero`` (bits, zero="group" only). A group is ``group // lanes`` beats; the
        unit counts them, and reads ``scale`` (and ``zero``) on the group's first beat only: on the other
        beats those fields are ignored.
    o : Out(stream.Signature(out_layout)), payload: ``data`` (lanes x out bits, lane 0 lowest), ``last``
        (1 on the group's last beat).

    Timing: ``i.ready = ~o.valid | o.ready`` (all registers advance together); one beat per cycle; results
    2 cycles after their beat is accepted (input register, output register). Every option is required (the
    registry holds the defaults).
    """

    def __init__(self, *, lanes, group, codes, zero, scale, out, saturate):
        self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate = check_w4(
            codes, zero, scale, out, saturate, lanes=lanes, group=group)
        self.lanes, self.group = lanes, group
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
        return w4_name(self.lanes, self.group, self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate)

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
        scale = regs.reg(Mux(first, beat.scale, held), "in_scale")
        zero = regs.reg(Mux(first, beat.zero, held_zero), "in_zero") if group_zero else None
        is_last = regs.reg(last, "in_last")
        result = Signal(self.out_layout)
        for k in range(self.lanes):
            m.submodules[f"lane{k}"] = lane = W4Lane(**self.lane_args)
            m.d.comb += [lane.i.code.eq(codes[k]), lane.i.scale.eq(scale), result.data[k].eq(lane.o)]
            if group_zero:
                m.d.comb += lane.i.zero.eq(zero)
        m.d.comb += result.last.eq(is_last)
        regs.load((self.o.payload, result), (self.o.valid, valid))
        return m


def _build(lanes, group, codes, zero, scale, out, saturate):
    check_w4(codes, zero, scale, out, saturate, lanes=lanes, group=group)  # before the component exists
    return W4Dequantize(lanes=lanes, group=group, codes=codes, zero=zero, scale=scale, out=out, saturate=saturate)


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
    ),
    examples=(
        dict(lanes=8, group=128, codes="uint4", zero="group"),
        dict(lanes=8, group=32, codes="int4", scale="bf16", out="bf16"),
        dict(lanes=4, group=64, codes="nf4", scale="fp32", out="bf16"),
    ),
    docs="docs/weights.md",
    model=_model,
    latency=lambda o: 2,
    latency_from="a beat accepted on i to its results valid on o",
    streams=lambda o: {"i": ("codes", "scale") + (("zero",) if o["zero"] == "group" else ()), "o": ("data", "last")},
    # int4 / nf4 with a zero point: refusals
    fuzz={"lanes": (1, 2, 4), "group": (8, 16), "codes": ("uint4", "int4", "uint3", "nf4"), "zero": ZERO_MODES,
          "scale": SCALE_FORMATS, "out": OUT_FORMATS},
))
