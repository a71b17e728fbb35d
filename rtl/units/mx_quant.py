"""mx-quantize: a stream of fp32 or bf16 elements in, OCP MX blocks (E8M0 scale + element codes) out.

Bit for bit ``golden.block.MX(element, block_size).quantize(x, scale_mode=...)``. docs/mx.md has the ports,
the payload layouts, the protocol and the latency.
"""

from fractions import Fraction

import numpy as np
from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block import MX, SCALE_MODES
from fmtforge.golden.block.mx import ELEMENTS
from fmtforge.golden.block.nvfp4 import NVFP4_SCALE_ROUNDING
from fmtforge.golden.validate import check_choice, check_int

from .max_tree import max_tree
from .mx_lane import ScaledConvert
from .nvfp4_lane import SCALE_POINTS, nvfp4_lanes, nvfp4_scale
from ..pipeline import Cuts, Pipeline
from .block_buffer import BlockBuffer, banks_for
from .registry import Option, Unit, register

__all__ = ["BLOCK_SIZES", "MXQuantize", "SCHEMES", "SOURCES", "check_lanes", "mx_quantize_name"]

SOURCES = ("fp32", "bf16")
BLOCK_SIZES = (16, 32, 64)
SCHEMES = ("mx", "nvfp4")
E8M0_NAN = 0xFF
#: The register points of the path from the block RAM's read (a register already) to the output register, in
#: path order: the read word again (before the lanes), the lanes' normalised source value, the lanes' scaled
#: exponent (before the rounding); MX_POINTS[stages] are the ones used
POINTS = ("read", "norm", "scaled")
LANE_POINTS = POINTS[1:]
MX_POINTS = ((), ("read",), ("read", "scaled"), ("read", "norm", "scaled"))
#: NVFP4's points: the read word, the lanes' normalised operands (element, S s), then the lanes' dividers
#: (``RatioPack``'s points), chosen by the number of stages
NVFP4_POINTS = ((), ("read",), ("read", "norm"), ("read", "norm", "step2"), ("read", "norm", "step3", "quotient"),
                ("read", "norm", "step3", "step1", "quotient"))
#: Cycles from a block's last beat accepted to the first cycle its first word may be read: the beat's key
#: register, the block-key register, the scale register (NVFP4: and the divider's five registers)
SCALE_WAIT = {"mx": 3, "nvfp4": 3 + 1 + len(SCALE_POINTS)}


def check_lanes(lanes, block_size):
    check_int("lanes", lanes, 1, block_size)
    if block_size % lanes:
        divisors = [str(d) for d in range(1, block_size + 1) if block_size % d == 0]
        raise ValueError(f"lanes must divide the block size {block_size} (one of {', '.join(divisors)}), "
                         f"not {lanes}")
    return lanes


def check_block_size(block_size):
    if block_size not in BLOCK_SIZES:
        raise ValueError(f"block_size must be one of {', '.join(map(str, BLOCK_SIZES))}, not {block_size!r}")
    return block_size


def mx_quantize_name(src, element, block_size, lanes, scale_mode, scheme="mx", stages=0):
    tail = f"_s{stages}" if stages else ""
    if scheme == "nvfp4":
        return f"mx_quantize_{src}_to_nvfp4_l{lanes}_{scale_mode}{tail}"
    return f"mx_quantize_{src}_to_{element}_k{block_size}_l{lanes}_{scale_mode}{tail}"


def default_stages(scheme):
    return 5 if scheme == "nvfp4" else 3


def quantize_latency(scheme, stages):
    """Cycles from a block's last beat accepted to its first output beat (nothing else held, nothing stalling):
    the scale's wait, the block RAM's read, ``stages`` registers (None: the scheme's default), the output
    register."""
    return SCALE_WAIT[scheme] + 1 + (default_stages(scheme) if stages is None else stages) + 1


def resolve(scheme, element, block_size, scale_mode, scale_rounding):
    """(element, block_size, scale rule) of a scheme, the options it does not take rejected by name."""
    check_choice("scheme", scheme, SCHEMES)
    if scheme == "nvfp4":
        for name, value, want in (("element", element, "fp4_e2m1"), ("block_size", block_size, 16)):
            if value is not None and value != want:
                raise ValueError(f"{name} must be {want} with scheme nvfp4 (or left out), not {value!r}")
        if scale_mode is not None:
            raise ValueError("scale_mode applies to scheme mx; nvfp4 takes scale_rounding (rne, rup)")
        return "fp4_e2m1", 16, check_choice("scale_rounding", scale_rounding or "rne", NVFP4_SCALE_ROUNDING)
    if scale_rounding is not None:
        raise ValueError("scale_rounding applies to scheme nvfp4; mx takes scale_mode "
                         f"({', '.join(SCALE_MODES)})")
    return (element or "fp8_e4m3", 32 if block_size is None else block_size,
            check_choice("scale_mode", scale_mode or "floor", SCALE_MODES))


class MXQuantize(wiring.Component):
    """OCP MX quantizer: blocks of ``block_size`` elements of ``src`` -> an E8M0 scale and element codes.

    Parameters
    ----------
    element : str
        One of ``golden.block.mx.ELEMENTS`` (fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1, int8).
    src : str, "fp32" or "bf16"
    block_size : int, 16, 32 or 64
    lanes : int, dividing block_size -- elements per beat
    scale_mode : str, one of ``golden.block.SCALE_MODES`` ("floor": the spec; torchao's "ceil", "even",
        "rceil")

    Ports
    -----
    i : In(stream.Signature(in_layout)) -- payload ``data``: ``lanes`` elements, lane 0 in the low bits. A
        block is ``block_size // lanes`` consecutive beats (counted from reset; no ``last`` on the input).
    o : Out(stream.Signature(out_layout)) -- payload, from bit 0 up: ``codes`` (``lanes`` element codes,
        lane 0 lowest), ``scale`` (the block's E8M0 pattern, the same on each of its beats), ``last`` (1 on a
        block's final beat).

    Two block buffers: one fills while the other drains, so one beat per cycle both ways. ``i.ready`` is low
    only while both buffers hold blocks not yet sent, and never depends on ``o.ready`` combinationally. The
    first beat of a block is on ``o`` 2 cycles after its last input beat was accepted (when the previous block
    has left): ``UNITS["mx-quantize"].latency``. Every option is required (the registry holds the defaults;
    None: picked from the scheme).
    """

    def __init__(self, *, scheme, element, src, block_size, lanes, scale_mode, scale_rounding, stages):
        try:
            self._setup(scheme=scheme, element=element, src=src, block_size=block_size, lanes=lanes,
                        scale_mode=scale_mode, scale_rounding=scale_rounding, stages=stages)
        except Exception:  # refused options: the half-built component must not warn UnusedElaboratable later
            self._MustUse__silence = True
            raise

    def _setup(self, *, scheme, element, src, block_size, lanes, scale_mode, scale_rounding, stages):
        element, block_size, rule = resolve(scheme, element, block_size, scale_mode, scale_rounding)
        if stages is None:
            stages = default_stages(scheme)
        if scheme == "nvfp4":
            self.stages = check_int("stages", stages, 0, len(NVFP4_POINTS) - 1)
            self.cuts = frozenset(NVFP4_POINTS[stages])
        else:
            if stages >= len(MX_POINTS):
                raise ValueError(f"stages must be an integer in 0..{len(MX_POINTS) - 1} with scheme mx (nvfp4: "
                                 f"0..5), not {stages}")
            self.stages = check_int("stages", stages, 0, len(MX_POINTS) - 1)
            self.cuts = frozenset(MX_POINTS[stages])
        self.nvfp4 = scheme == "nvfp4"
        self.scheme_name = scheme
        self.scheme = MX(element=element, block_size=check_block_size(block_size))
        self.src = golden.lookup(check_choice("src", src, SOURCES))
        self.lanes = check_lanes(lanes, block_size)
        self.scale_mode = rule
        self.element, self.block_size = element, block_size
        self.elem = self.scheme.elem
        self.beats = block_size // lanes
        self.banks = banks_for(self.beats, SCALE_WAIT[scheme])
        self.in_layout = data.StructLayout({"data": data.ArrayLayout(self.src.width, lanes)})
        self.out_layout = data.StructLayout({"codes": data.ArrayLayout(self.elem.width, lanes), "scale": 8,
                                             "last": 1})
        ports = {"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))}
        if self.nvfp4:
            ports["tensor_scale"] = In(32)
        super().__init__(ports)

    @property
    def name(self):
        return mx_quantize_name(self.src.name, self.element, self.block_size, self.lanes, self.scale_mode,
                                self.scheme_name, self.stages)

    def _key(self, m, bits, k):
        """{round-up flag, exponent field} of one element: the max over a block gives amax's exponent field
        and the scale mode's flag of amax's fraction (each flag is monotonic in the fraction)."""
        F = self.src.man_bits
        if self.nvfp4:  # the magnitude itself: amax, exactly (inf and NaN above every finite value)
            key = Signal(self.src.width - 1, name=f"key{k}")
            m.d.comb += key.eq(bits[:-1])
            return key
        frac, expf = bits[:F], bits[F:F + 8]
        if self.scheme.emax_elem == 0:
            # INT8 (emax 0) is the only element whose scale can tell fp32 subnormals apart: a subnormal amax
            # >= 2**-127 is 1.f * 2**-127 with f the field shifted up by one; a smaller one gives -127 anyway.
            sub = expf == 0
            frac = Mux(sub, Cat(Const(0, 1), frac[:F - 1]), frac)
            keep = ~sub | bits[F - 1]
        else:
            keep = Const(1)
        mode, mb = self.scale_mode, self.scheme.elem_frac_bits
        if mode == "floor":
            flag = Const(0)
        elif mode == "ceil":
            flag = frac != 0
        elif mode == "even":
            flag = frac >= (1 << F) - (1 << (F - 1 - mb))
        else:
            top = Fraction(self.scheme.max_elem) / 2 ** self.scheme.emax_elem - 1
            t = top * (1 << F)
            assert t.denominator == 1
            flag = frac > int(t)
        key = Signal(9, name=f"key{k}")
        m.d.comb += key.eq(Mux(keep, Cat(flag, expf), 0))
        return key

    def _scale(self, m, key):
        """E8M0 pattern from the block's max key: exponent field + flag - emax_elem, clamped below at 0
        (2**-127), NaN (0xFF) for an inf/NaN element or beyond 2**127."""
        raw = Signal(signed(11), name="scale_raw")
        m.d.comb += raw.eq(key[1:] + key[0] - self.scheme.emax_elem)
        scale = Signal(8, name="scale_new")
        m.d.comb += scale.eq(Mux((key[1:] == 0xFF) | (raw > 254), E8M0_NAN, Mux(raw < 0, 0, raw[:8])))
        return scale

    def elaborate(self, platform):
        m = Module()
        L, nb = self.lanes, self.beats
        W = self.src.width * L
        side = 8 + (31 if self.nvfp4 else 0)  # the scale (NVFP4: and the tensor scale's magnitude)
        m.submodules.buffer = buf = BlockBuffer(width=W, beats=nb, banks=self.banks, side_width=side)
        KW = self.src.width - 1 if self.nvfp4 else 9

        # input side: write the beat into block RAM; its lanes' max key, registered, folds into the block's
        accept = Signal(name="accept")
        m.d.comb += [accept.eq(self.i.valid & buf.w_ready), self.i.ready.eq(buf.w_ready),
                     buf.w_data.eq(self.i.payload.data), buf.w_en.eq(accept)]
        beat = max_tree(m, [self._key(m, self.i.payload.data[k], k) for k in range(L)], "tree")
        k_key, k_valid, k_first, k_close = Pipeline(m).regs(
            (beat, "beat_key"), (accept, "beat_valid"), (buf.w_first, "beat_first"), (buf.w_close, "beat_close"))
        acc = Signal(KW, name="acc_key")
        total = Signal(KW, name="block_key_new")
        m.d.comb += total.eq(Mux(k_first | (acc < k_key), k_key, acc))
        with m.If(k_valid):
            m.d.sync += acc.eq(total)
        blk_valid, blk_key = Pipeline(m).regs((k_valid & k_close, "block_valid"), (total, "block_key"))
        # the block's scale, stored beside it in the buffer's side memory; the buffer may then read the block
        if self.nvfp4:  # the tensor scale's magnitude travels with the block (its sign bit is ignored: s > 0)
            ts_k = Pipeline(m).reg(self.tensor_scale[:31], "beat_ts")
            blk_ts = Pipeline(m).reg(ts_k, "block_ts")
            new_scale, (blk_valid, blk_ts) = nvfp4_scale(
                self, m, blk_key, Cat(blk_ts, Const(0, 1)), (blk_valid, blk_ts))
        else:
            new_scale = self._scale(m, blk_key)
        m.d.comb += [buf.done.eq(blk_valid), buf.s_data.eq(Cat(new_scale, blk_ts) if self.nvfp4 else new_scale)]

        # output side: a stall-all pipeline from the buffer's read to the output register
        advance = Signal(name="advance")
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), buf.r_en.eq(advance)]
        regs = Pipeline(m, advance)
        rd = regs.stage("rd", valid=buf.r_issue, last=buf.r_last)  # beside the word read on the same edge
        rd["scale"] = buf.r_side[:8]
        if self.nvfp4:
            rd["ts"] = buf.r_side[8:]
        word = buf.r_data
        if "read" in self.cuts:
            word = regs.reg(word, "word_q")
            rd = regs.stage("word", **rd)
        words = [word[k * self.src.width:(k + 1) * self.src.width] for k in range(L)]
        lane_cuts = Cuts(self.cuts - {"read"}, en=advance)
        if self.nvfp4:
            codes, rd = nvfp4_lanes(self, m, words, rd, regs, lane_cuts)
        else:
            rd_norm = rd
            for name in LANE_POINTS:  # the lanes' own registers: the block's fields keep pace beside them
                if name in lane_cuts.points:
                    rd = regs.stage(name, **rd)
                if name == "norm":
                    rd_norm = rd
            codes = self._mx_lanes(m, words, rd_norm, rd, lane_cuts)
        result = Signal(self.out_layout)
        m.d.comb += [result.codes.eq(Cat(*codes)), result.scale.eq(rd["scale"]), result.last.eq(rd["last"])]
        regs.load((self.o.payload, result), (self.o.valid, rd["valid"]))
        return m

    def _mx_lanes(self, m, words, rd_norm, rd_out, cuts):
        """Element codes of ``words`` scaled by their block's E8M0 scale: ``rd_norm`` the block's fields at the
        lanes' ``norm`` point (where they read the offset), ``rd_out`` at their output."""
        nan_block = rd_out["scale"] == E8M0_NAN
        shift = self.scheme.int_frac_bits
        offset = Signal(signed(9), name="offset")
        m.d.comb += offset.eq(127 - rd_norm["scale"])
        codes = []
        for k in range(self.lanes):
            lane = ScaledConvert(self.src, self.elem, offset_range=(-127, 127), shift=shift, saturate=True)
            lane.cuts = cuts
            m.submodules[f"lane{k}"] = lane
            m.d.comb += [lane.i.eq(words[k]), lane.offset.eq(offset)]
            code = lane.o
            if self.elem.kind == "int":  # symmetric range: -2**(bits-1) is never produced
                lowest = 1 << (self.elem.bits - 1)
                code = Mux(lane.o == lowest, lowest + 1, lane.o)
            codes.append(Mux(nan_block, 0, code))
        return codes


def _model(options, bits, tensor_scale=None):
    """``(codes, scales)`` of blocks of ``src`` patterns ``bits`` (shape (blocks, block size)):
    ``golden.block.MX(element, block_size).quantize(values, scale_mode=)`` or, for nvfp4,
    ``golden.block.NVFP4().quantize(values, tensor_scale=, scale_rounding=)``; codes (blocks, block size),
    scales (blocks,)."""
    o = options
    element, block_size, rule = resolve(o["scheme"], o["element"], o["block_size"], o["scale_mode"],
                                        o["scale_rounding"])
    values = golden.lookup(o["src"]).decode(np.asarray(bits)).reshape(-1, block_size)
    if o["scheme"] == "nvfp4":
        from fmtforge.golden.block import NVFP4
        t = NVFP4().quantize(values, tensor_scale=tensor_scale, scale_rounding=rule)
    else:
        t = MX(element=element, block_size=block_size).quantize(values, scale_mode=rule)
    return np.asarray(t.codes).reshape(-1, block_size), np.asarray(t.scales).reshape(-1)


_SCHEME = Option("scheme", "choice", "mx (OCP MX v1.0: E8M0 scale) or nvfp4 (16 fp4_e2m1, E4M3 scale, fp32 tensor "
                 "scale port)", "mx", choices=SCHEMES, metavar="S")
ELEMENT_OPTION = Option("element", "choice", "element format (default fp8_e4m3; nvfp4: fp4_e2m1)", None,
                        choices=ELEMENTS, metavar="E")
LANES_OPTION = Option("lanes", "int", "elements per beat", 4, range=(1, 64), metavar="L")

register(Unit(
    name="mx-quantize",
    summary="fp32/bf16 stream -> OCP MX blocks (E8M0 scale + elements) or NVFP4, buffered in block RAM, L per beat",
    description="Blocks of 16, 32 or 64 fp32 or bf16 elements -> a shared scale and element codes, bit for bit "
                "golden.block.MX.quantize (scale rule: the spec's floor, or torchao's ceil, even, rceil) or "
                "golden.block.NVFP4.quantize.",
    build=MXQuantize,
    options=(
        _SCHEME, ELEMENT_OPTION,
        Option("src", "choice", "source elements", "fp32", choices=SOURCES, metavar="F"),
        Option("block_size", "int", "elements per block: 16, 32 or 64 (default 32; nvfp4: 16)", None,
               range=(16, 64), metavar="K"),
        LANES_OPTION,
        Option("scale_mode", "choice", "mx scale rule (default floor: MX v1.0 6.3)", None, choices=SCALE_MODES,
               metavar="M"),
        Option("scale_rounding", "choice", "nvfp4 block-scale rounding to E4M3 (default rne)", None,
               choices=NVFP4_SCALE_ROUNDING, metavar="R"),
        Option("stages", "int", "registers from the block RAM to the output (default mx 3, nvfp4 5); mx: 1 the "
               "read word, 2 also the lanes' scaled exponents, 3 also their normalised values (latency 5 + "
               "stages); nvfp4 0..5 (latency 10 + stages)", None, range=(0, 5), metavar="N"),
    ),
    examples=(dict(), dict(scheme="nvfp4", lanes=4)),
    docs="docs/mx.md",
    model=_model,
    latency=lambda o: quantize_latency(o["scheme"], o["stages"]),
    latency_from="a block's last beat accepted on i to its first beat valid on o (the previous block gone)",
    streams=lambda o: {"i": ("data",), "o": ("codes", "scale", "last")},
    fuzz={"scheme": SCHEMES, "element": ("fp8_e4m3", "fp4_e2m1", "int8"), "src": SOURCES, "block_size": (16, 32),
          "lanes": (1, 2, 4), "scale_mode": SCALE_MODES},
))
