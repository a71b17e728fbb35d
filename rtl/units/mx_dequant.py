"""mx-dequantize: MX (E8M0 scale) or NVFP4 (E4M3 scale, fp32 tensor scale) blocks in, fp32 or bf16 out.

Bit for bit ``golden.block.dequantize_to(t, dst)``: the exact product rounded once (ties to even) into the
destination, with its overflow (+-inf) and underflow (subnormals, +-0) rules; every NaN is the destination's
positive quiet NaN. docs/mx.md has the ports and the latency.
"""

import numpy as np
from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block.mx import ELEMENTS
from fmtforge.golden.validate import check_choice, check_int

from ..formats import pack_for
from ..formats.raw import RawShape, raw_layout
from .mx_lane import ScaledConvert, _normalized
from ..pipeline import Cuts, Pipeline
from .mx_quant import ELEMENT_OPTION, LANES_OPTION
from .registry import Option, Unit, register

__all__ = ["DESTINATIONS", "MXDequantize", "SCHEMES", "mx_dequantize_name"]

DESTINATIONS = ("fp32", "bf16")
SCHEMES = ("mx", "nvfp4")
E8M0_NAN = 0xFF
#: The register points of the datapath, in path order (``stages`` of them, from the first): the input beat, the
#: lanes' normalised operands, the exact scaled values before the round-and-pack
POINTS = ("in", "norm", "scaled")


def mx_dequantize_name(scheme, element, dst, lanes, stages=0):
    what = "nvfp4" if scheme == "nvfp4" else f"mx_{element}"
    return f"mx_dequantize_{what}_to_{dst}_l{lanes}" + (f"_s{stages}" if stages else "")


def qnan_bits(fmt):
    return ((1 << fmt.exp_bits) - 1) << fmt.man_bits | 1 << (fmt.man_bits - 1)


class MXDequantize(wiring.Component):
    """Block-scaled elements times their scale, rounded into ``dst``; one beat per cycle, latency 1 + stages.

    Parameters
    ----------
    scheme : str, "mx" or "nvfp4"
    element : str -- an MX element (``golden.block.mx.ELEMENTS``); NVFP4's is fp4_e2m1
    dst : str, "fp32" or "bf16"
    lanes : int, 1..64 -- elements per beat
    stages : int, 0..3 -- registers before the output register (:data:`POINTS`, from the first)

    Ports
    -----
    i : In(stream.Signature(in_layout)) -- payload from bit 0 up: ``codes`` (``lanes`` element codes, lane 0
        lowest), ``scale`` (8 bits: E8M0 for mx, E4M3 for nvfp4; it applies to every code of the beat),
        ``last`` (passed through: mx-quantize's output layout, so the two chain).
    o : Out(stream.Signature(out_layout)) -- ``data`` (``lanes`` values of ``dst``), ``last``.
    tensor_scale : In(32), nvfp4 only -- the per-tensor fp32 scale, read with every accepted beat.

    ``i.ready = ~o.valid | o.ready``: the output register holds a result until it is taken. Every option is
    required (the registry holds the defaults; element None: the scheme's).
    """

    def __init__(self, *, scheme, element, dst, lanes, stages):
        try:
            self._setup(scheme=scheme, element=element, dst=dst, lanes=lanes, stages=stages)
        except Exception:  # refused options: the half-built component must not warn UnusedElaboratable later
            self._MustUse__silence = True
            raise

    def _setup(self, *, scheme, element, dst, lanes, stages):
        self.scheme = check_choice("scheme", scheme, SCHEMES)
        self.stages = check_int("stages", stages, 0, len(POINTS))
        self.cuts = frozenset(POINTS[:stages])
        if element is None:
            element = "fp4_e2m1" if scheme == "nvfp4" else "fp8_e4m3"
        check_choice("element", element, ELEMENTS)
        if scheme == "nvfp4" and element != "fp4_e2m1":
            raise ValueError(f"element must be fp4_e2m1 with scheme nvfp4, not {element!r}")
        self.element, self.elem = element, golden.lookup(element)
        self.dst = golden.lookup(check_choice("dst", dst, DESTINATIONS))
        self.lanes = check_int("lanes", lanes, 1, 64)
        self.in_layout = data.StructLayout({"codes": data.ArrayLayout(self.elem.width, lanes), "scale": 8,
                                            "last": 1})
        self.out_layout = data.StructLayout({"data": data.ArrayLayout(self.dst.width, lanes), "last": 1})
        ports = {"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))}
        if scheme == "nvfp4":
            ports["tensor_scale"] = In(32)
        super().__init__(ports)

    @property
    def name(self):
        return mx_dequantize_name(self.scheme, self.element, self.dst.name, self.lanes, self.stages)

    def _mx_lanes(self, m, codes, side, regs, cuts):
        """``side``: the beat's scale and handshake fields; returns (values, ``side`` as delayed by the
        lanes' ``cuts``)."""
        shift = -golden.block.MX(element=self.element).int_frac_bits
        if "norm" in cuts.points:
            side = regs.stage("norm", **side)
        offset = Signal(signed(10), name="offset")
        m.d.comb += offset.eq(side["scale"] - 127)
        if "scaled" in cuts.points:
            side = regs.stage("scaled", **side)
        out = []
        for k in range(self.lanes):
            lane = ScaledConvert(self.elem, self.dst, offset_range=(-127, 128), shift=shift)
            lane.cuts = cuts
            m.submodules[f"lane{k}"] = lane
            m.d.comb += [lane.i.eq(codes[k]), lane.offset.eq(offset)]
            out.append(Mux(lane.is_nan | (side["scale"] == E8M0_NAN), qnan_bits(self.dst), lane.o))
        return out, side

    def _nvfp4_lanes(self, m, codes, side, regs, cuts):
        """e2m1 * (e4m3 * fp32), the products exact (2 x 4 x 24 significant bits), then one rounding."""
        s, s_shape = _normalized(m, golden.lookup("fp8_e4m3"), side["scale"], "scale")
        t, t_shape = _normalized(m, golden.lookup("fp32"), side["ts"], "tensor")
        d_sig = Signal(s_shape.sig_width + t_shape.sig_width, name="d_sig")
        m.d.comb += d_sig.eq(s.sig * t.sig)
        lo = s_shape.exp_min - s_shape.bias + t_shape.exp_min - t_shape.bias
        hi = s_shape.exp_max - s_shape.bias + t_shape.exp_max - t_shape.bias
        es = [_normalized(m, self.elem, codes[k], f"e{k}") for k in range(self.lanes)]
        if "norm" in cuts.points:  # the normalised operands and the block's product, registered
            side = regs.stage("norm", **side)
            s, t, d_sig = regs.regs((s, "norm_s"), (t, "norm_t"), (d_sig, "norm_d"))
            es = [(regs.reg(e, f"norm_e{k}"), shape) for k, (e, shape) in enumerate(es)]
        raws = []
        for k, (e, e_shape) in enumerate(es):
            S = e_shape.sig_width + d_sig.shape().width  # product bits; value p * 2**(scale sum - (S - 3))
            shape = RawShape(sig_width=S, exp_min=lo + e_shape.exp_min - e_shape.bias,
                             exp_max=hi + e_shape.exp_max - e_shape.bias + 2, bias=0, fmt=self.dst)
            p = Signal(S, name=f"p{k}")
            m.d.comb += p.eq(e.sig * d_sig)
            sc = Signal(shape.exp_shape, name=f"p{k}_scale")
            m.d.comb += sc.eq(e.exp - e_shape.bias + s.exp - s_shape.bias + t.exp - t_shape.bias)
            raw = Signal(raw_layout(shape), name=f"p{k}_raw")
            nan = e.is_nan | s.is_nan | t.is_nan
            zero = e.is_zero | s.is_zero | t.is_zero
            inf = e.is_inf | s.is_inf | t.is_inf
            m.d.comb += [
                raw.sig.eq(Mux(p[S - 1], p, Mux(p[S - 2], p << 1, p << 2))),
                raw.exp.eq(sc + Mux(p[S - 1], 2, Mux(p[S - 2], 1, 0))),
                raw.sign.eq(e.sign ^ s.sign ^ t.sign),
                raw.is_nan.eq(nan | (zero & inf)), raw.is_inf.eq(inf & ~zero & ~nan),
                raw.is_zero.eq(zero & ~inf & ~nan),
            ]
            raws.append((raw, shape))
        if "scaled" in cuts.points:
            side = regs.stage("scaled", **side)
            raws = [(regs.reg(raw, f"scaled_raw{k}"), shape) for k, (raw, shape) in enumerate(raws)]
        out = []
        for k, (raw, shape) in enumerate(raws):
            pack = pack_for(self.dst, shape, rounding="rne", saturate=False, flags=False)
            m.submodules[f"pack{k}"] = pack
            m.d.comb += pack.i.eq(raw)
            out.append(Mux(raw.is_nan, qnan_bits(self.dst), pack.o))
        return out, side

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        regs = Pipeline(m, advance)
        beat = self.i.payload
        codes = beat.codes
        side = dict(valid=self.i.valid, last=beat.last, scale=beat.scale)
        if self.scheme == "nvfp4":
            side["ts"] = self.tensor_scale
        if "in" in self.cuts:
            codes = regs.reg(codes, "in_codes")
            side = regs.stage("in", **side)
        codes = [codes[k] for k in range(self.lanes)]
        cuts = Cuts(self.cuts - {"in"}, en=advance)
        if self.scheme == "nvfp4":
            values, side = self._nvfp4_lanes(m, codes, side, regs, cuts)
        else:
            values, side = self._mx_lanes(m, codes, side, regs, cuts)
        result = Signal(self.out_layout)
        m.d.comb += [result.data.eq(Cat(*values)), result.last.eq(side["last"])]
        regs.load((self.o.payload, result), (self.o.valid, side["valid"]))
        return m


def _model(options, codes, scales, tensor_scale=None):
    """``dst`` patterns (shape of ``codes``) of beats ``codes`` (shape (beats, lanes)) times one scale per beat
    (``scales`` (beats,): E8M0, or E4M3 with the fp32 ``tensor_scale`` for nvfp4):
    ``golden.block.dequantize_to``, the exact products rounded once."""
    from fmtforge.golden import block
    codes, scales = np.asarray(codes, dtype=np.uint8), np.asarray(scales, dtype=np.uint8)
    n, L = codes.shape
    if options["scheme"] == "nvfp4":  # NVFP4 blocks are 16 codes: pad each beat to whole blocks
        reps = -(-L // 16)
        c = np.zeros((n, 16 * reps), np.uint8)
        c[:, :L] = codes
        t = block.NVFP4Tensor(block.NVFP4(), c.reshape(-1), np.repeat(scales, reps), tensor_scale=tensor_scale)
        return block.dequantize_to(t, options["dst"]).reshape(n, 16 * reps)[:, :L]
    element = options["element"] or "fp8_e4m3"
    t = block.BlockTensor(block.MX(element=element, block_size=L), codes.reshape(-1), scales)
    return block.dequantize_to(t, options["dst"]).reshape(n, L)


register(Unit(
    name="mx-dequantize",
    summary="OCP MX (E8M0) or NVFP4 (E4M3 x fp32) blocks -> fp32/bf16, exact products rounded once, L per beat",
    description="Element codes times their block's scale, rounded once (ties to even) into fp32 or bf16 with "
                "the destination's overflow and underflow rules, bit for bit golden.block.dequantize_to.",
    build=MXDequantize,
    options=(
        Option("scheme", "choice", "mx or nvfp4 (then a tensor_scale port)", "mx", choices=SCHEMES,
               metavar="S"),
        ELEMENT_OPTION,
        Option("dst", "choice", "destination format", "fp32", choices=DESTINATIONS, metavar="D"),
        LANES_OPTION,
        Option("stages", "int", "registers before the output register: 1 the input beat, 2 also the lanes' "
               "normalised operands, 3 also the scaled values before rounding (latency 1 + stages)", 3,
               range=(0, 3), metavar="N"),
    ),
    examples=(dict(), dict(scheme="nvfp4", dst="bf16", lanes=8)),
    docs="docs/mx.md",
    model=_model,
    latency=lambda o: 1 + o["stages"],
    latency_from="a beat accepted on i to its result valid on o",
    streams=lambda o: {"i": ("codes", "scale", "last"), "o": ("data", "last")},
    fuzz={"scheme": SCHEMES, "element": ("fp8_e5m2", "fp6_e2m3", "fp4_e2m1"), "dst": DESTINATIONS,
          "lanes": (1, 2, 4)},
))
