"""mx-dequantize: MX (E8M0 scale) or NVFP4 (E4M3 scale, fp32 tensor scale) blocks in, fp32 or bf16 out.

Bit for bit ``golden.block.dequantize_to(t, dst)``: the exact product rounded once (ties to even) into the
destination, with its overflow (+-inf) and underflow (subnormals, +-0) rules; every NaN is the destination's
positive quiet NaN. docs/mx.md has the ports and the latency.
"""

import numpy as np
from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block.mx import ELEMENTS
from fmtforge.golden.validate import check_choice, check_int

from ..formats import pack_for
from ..formats.raw import RawShape, raw_layout
from .mx_lane import ScaledConvert, _normalized
from ..pipeline import Pipeline
from .mx_quant import ELEMENT_OPTION, LANES_OPTION
from .registry import Option, Unit, register

__all__ = ["DESTINATIONS", "MXDequantize", "SCHEMES", "mx_dequantize_name"]

DESTINATIONS = ("fp32", "bf16")
SCHEMES = ("mx", "nvfp4")
E8M0_NAN = 0xFF


def mx_dequantize_name(scheme, element, dst, lanes):
    what = "nvfp4" if scheme == "nvfp4" else f"mx_{element}"
    return f"mx_dequantize_{what}_to_{dst}_l{lanes}"


def qnan_bits(fmt):
    return ((1 << fmt.exp_bits) - 1) << fmt.man_bits | 1 << (fmt.man_bits - 1)


class MXDequantize(wiring.Component):
    """Block-scaled elements times their scale, rounded into ``dst``; one beat per cycle, latency 1.

    Parameters
    ----------
    scheme : str, "mx" or "nvfp4"
    element : str -- an MX element (``golden.block.mx.ELEMENTS``); NVFP4's is fp4_e2m1
    dst : str, "fp32" or "bf16"
    lanes : int, 1..64 -- elements per beat

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

    def __init__(self, *, scheme, element, dst, lanes):
        try:
            self._setup(scheme=scheme, element=element, dst=dst, lanes=lanes)
        except Exception:  # refused options: the half-built component must not warn UnusedElaboratable later
            self._MustUse__silence = True
            raise

    def _setup(self, *, scheme, element, dst, lanes):
        self.scheme = check_choice("scheme", scheme, SCHEMES)
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
        return mx_dequantize_name(self.scheme, self.element, self.dst.name, self.lanes)

    def _mx_lanes(self, m, codes, scale):
        shift = -golden.block.MX(element=self.element).int_frac_bits
        out = []
        for k in range(self.lanes):
            lane = ScaledConvert(self.elem, self.dst, offset_range=(-127, 128), shift=shift)
            m.submodules[f"lane{k}"] = lane
            m.d.comb += [lane.i.eq(codes[k]), lane.offset.eq(scale - 127)]
            out.append(Mux(lane.is_nan | (scale == E8M0_NAN), qnan_bits(self.dst), lane.o))
        return out

    def _nvfp4_lanes(self, m, codes, scale):
        """e2m1 * (e4m3 * fp32), the products exact (2 x 4 x 24 significant bits), then one rounding."""
        s, s_shape = _normalized(m, golden.lookup("fp8_e4m3"), scale, "scale")
        t, t_shape = _normalized(m, golden.lookup("fp32"), self.tensor_scale, "tensor")
        d_sig = Signal(s_shape.sig_width + t_shape.sig_width, name="d_sig")
        m.d.comb += d_sig.eq(s.sig * t.sig)
        lo = s_shape.exp_min - s_shape.bias + t_shape.exp_min - t_shape.bias
        hi = s_shape.exp_max - s_shape.bias + t_shape.exp_max - t_shape.bias
        out = []
        for k in range(self.lanes):
            e, e_shape = _normalized(m, self.elem, codes[k], f"e{k}")
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
            pack = pack_for(self.dst, shape, rounding="rne", saturate=False, flags=False)
            m.submodules[f"pack{k}"] = pack
            m.d.comb += pack.i.eq(raw)
            out.append(Mux(raw.is_nan, qnan_bits(self.dst), pack.o))
        return out

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        beat = self.i.payload
        codes = [beat.codes[k] for k in range(self.lanes)]
        if self.scheme == "nvfp4":
            values = self._nvfp4_lanes(m, codes, beat.scale)
        else:
            values = self._mx_lanes(m, codes, beat.scale)
        result = Signal(self.out_layout)
        m.d.comb += [result.data.eq(Cat(*values)), result.last.eq(beat.last)]
        Pipeline(m, advance).load((self.o.payload, result), (self.o.valid, self.i.valid))
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
    ),
    examples=(dict(), dict(scheme="nvfp4", dst="bf16", lanes=8)),
    docs="docs/mx.md",
    model=_model,
    latency=lambda o: 1,
    latency_from="a beat accepted on i to its result valid on o",
    streams=lambda o: {"i": ("codes", "scale", "last"), "o": ("data", "last")},
    fuzz={"scheme": SCHEMES, "element": ("fp8_e5m2", "fp6_e2m3", "fp4_e2m1"), "dst": DESTINATIONS,
          "lanes": (1, 2, 4)},
))
