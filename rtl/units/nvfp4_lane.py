"""NVFP4's quantizer pieces: an exact quotient rounded into a format (restoring division to a few bits and a
sticky bit, then the format's round-and-pack), the block scale amax / (6 s) and the element v / (S s)."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden

from ..formats import pack_for
from ..formats.raw import RawShape, raw_layout
from ..pipeline import NO_CUTS, Cuts, Pipeline
from .mx_lane import _normalized

__all__ = ["E4M3_NAN", "RatioPack", "SCALE_POINTS", "normalized_product", "nvfp4_lanes", "nvfp4_scale"]

E4M3_NAN = 0x7F
#: The NVFP4 block-scale divider's registers (amax / (6 s): quotient bits 6..0), fixed: after the operands'
#: normalisation, after quotient bits 5, 3 and 1, before the round-and-pack
SCALE_POINTS = ("step5", "step3", "step1", "quotient")


class RatioPack(wiring.Component):
    """``num / den`` rounded into ``fmt`` by ``rounding`` (saturating): exact, as if the quotient were known to
    infinite precision.

    ``num`` is a normalised raw value of ``num_shape`` (its sign is the result's); ``den_sig`` a
    ``den_width``-bit significand with its top bit set and ``den_scale`` the scale of that bit (so den =
    den_sig * 2**(den_scale - den_width + 1)), with ``den_scale`` in ``den_range``. The quotient of the two
    significands, in (1/2, 2), is computed by restoring division to ``bits`` + 1 quotient bits plus a sticky
    bit (the remainder is not zero): enough that the pack's round and sticky bits are those of the exact
    quotient whenever ``bits`` exceeds ``fmt``'s significand bits by 2.

    A pipelined unit may set ``cuts`` (``rtl.pipeline.Cuts``) before elaboration: its points ``step{i}`` (after
    quotient bit ``i``, ``bits`` down to 0) and ``quotient`` (before the round-and-pack) hold registers; ``o``
    is then that many cycles behind the inputs.
    """

    cuts = NO_CUTS

    def __init__(self, num_shape, den_width, den_range, fmt, *, rounding="rne", bits=None):
        self.num_shape, self.den_width, self.den_range = num_shape, den_width, den_range
        self.fmt = golden.lookup(fmt)
        self.rounding = rounding
        self.bits = bits if bits is not None else self.fmt.frac_bits + 3
        lo, hi = den_range
        n_lo, n_hi = num_shape.exp_min - num_shape.bias, num_shape.exp_max - num_shape.bias
        self.q_shape = RawShape(sig_width=self.bits + 2, exp_min=n_lo - hi - 1, exp_max=n_hi - lo, bias=0,
                                fmt=self.fmt)
        scale_shape = RawShape(sig_width=1, exp_min=lo, exp_max=hi, bias=0, fmt=self.fmt).exp_shape
        super().__init__({"num": In(raw_layout(num_shape)), "den_sig": In(den_width), "den_scale": In(scale_shape),
                          "o": Out(self.fmt.width)})

    def elaborate(self, platform):
        m = Module()
        P, w = self.bits, max(self.num_shape.sig_width, self.den_width)
        n = Cat(Const(0, w - self.num_shape.sig_width), self.num.sig)  # both w bits, top bit set
        d = Cat(Const(0, w - self.den_width), self.den_sig)
        rem = Cat(Const(0, P), n)  # n * 2**P, below 2 * (d << P)
        # what the pack needs besides the quotient, carried through the cuts with it
        scale = Signal(self.q_shape.exp_shape, name="div_scale")
        m.d.comb += scale.eq(self.num.exp - self.num_shape.bias - self.den_scale)
        side = Cat(scale, self.num.sign, self.num.is_zero, self.num.is_inf, self.num.is_nan)
        quo = Const(0, 0)
        for i in range(P, -1, -1):
            t = Signal(w + P + 1, name=f"div_t{i}")
            m.d.comb += t.eq(d << i)
            bit = Signal(name=f"div_q{i}")
            nxt = Signal(w + P + 1, name=f"div_r{i}")
            m.d.comb += [bit.eq(rem >= t), nxt.eq(Mux(bit, rem - t, rem))]
            quo = Cat(bit, quo)  # quotient bits so far, the newest lowest
            rem, quo, d, side = self.cuts.at(m, f"step{i}", nxt, quo, d, side) if i else (nxt, quo, d, side)
        # quo: P + 1 bits, >= 2**(P - 1): its top or next bit is set
        sig = Cat(rem != 0, quo)  # (2 * quo + sticky) * 2**(scale - P - 1)
        sig, side = self.cuts.at(m, "quotient", sig, side)
        scale = side[:len(scale)].as_signed()
        sign, is_zero, is_inf, is_nan = (side[len(scale) + k] for k in range(4))
        raw = Signal(raw_layout(self.q_shape))
        top = sig[P + 1]
        m.d.comb += [
            raw.sig.eq(Mux(top, sig, sig << 1)), raw.exp.eq(scale - ~top), raw.sign.eq(sign),
            raw.is_zero.eq(is_zero), raw.is_inf.eq(is_inf), raw.is_nan.eq(is_nan),
        ]
        pack = pack_for(self.fmt, self.q_shape, rounding=self.rounding, saturate=True, flags=False)
        m.submodules.pack = pack
        m.d.comb += [pack.i.eq(raw), self.o.eq(pack.o)]
        return m


def normalized_product(m, a_sig, a_scale, b_sig, b_scale, name):
    """(significand with its top bit set, scale of that bit) of the product of two normalised significands
    (each with its top bit set; scale = the exponent of the top bit)."""
    W = len(a_sig) + len(b_sig)
    p = Signal(W, name=f"{name}_p")
    m.d.comb += p.eq(a_sig * b_sig)
    sig = Signal(W, name=f"{name}_sig")
    m.d.comb += sig.eq(Mux(p[W - 1], p, p << 1))
    return sig, a_scale + b_scale + p[W - 1]


# -- the quantizer's NVFP4 datapath (mx_quant.MXQuantize with scheme nvfp4) --------------------------------

def _den(m, ts, name):
    """The tensor scale, normalised: (significand, scale of its top bit, its shape)."""
    t, shape = _normalized(m, golden.lookup("fp32"), ts, name)
    return t, t.exp - shape.bias, shape

def nvfp4_scale(unit, m, amax_bits, tensor_scale, side):
    """UE4M3 code of amax / (6 s), rounded by scale_rounding and saturated; 0x7F for a NaN block. Pipelined
    (registers every cycle: the input side never stalls): the operands, then :data:`SCALE_POINTS`;
    returns the code and ``side`` delayed alongside."""
    amax, a_shape = _normalized(m, unit.src, Cat(amax_bits, Const(0, 1)), "amax")
    t, ts, t_shape = _den(m, tensor_scale, "ts_in")
    d3 = Signal(26, name="six_s")
    m.d.comb += d3.eq(t.sig * 3)  # 6 s = 3 t_sig * 2**(ts - 22)
    lo, hi = t_shape.exp_min - t_shape.bias + 2, t_shape.exp_max - t_shape.bias + 3
    div = RatioPack(a_shape, 26, (lo, hi), "fp8_e4m3", rounding=unit.scale_mode)
    div.cuts = Cuts(SCALE_POINTS)
    m.submodules.block_scale = div
    regs = Pipeline(m)
    side = regs.regs(*((v, f"scale_op_side{k}") for k, v in enumerate(side)))
    den_scale = Signal(div.den_scale.shape(), name="den_scale")
    m.d.comb += den_scale.eq(ts + 2 + d3[25])
    amax, den_sig, den_scale = regs.regs((amax, "scale_op_amax"), (Mux(d3[25], d3, d3 << 1), "scale_op_den"),
                                         (den_scale, "scale_op_den_scale"))
    m.d.comb += [div.num.eq(amax), div.den_sig.eq(den_sig), div.den_scale.eq(den_scale)]
    nan = amax.is_nan | amax.is_inf
    for k in range(len(SCALE_POINTS)):  # beside the divider's registers
        side = regs.regs(*((v, f"scale_q{k}_side{j}") for j, v in enumerate(side)))
        nan = regs.reg(nan, f"scale_q{k}_nan")
    code = Signal(8, name="scale_new")
    m.d.comb += code.eq(Mux(nan, E4M3_NAN, div.o))
    return code, side

def nvfp4_lanes(unit, m, words, rd, regs, cuts):
    """Each element / (S s), rounded to E2M1 (ties to even, clamped to 6); +-0 when S is 0. ``rd``: the
    block's fields beside ``words``; returns the codes and ``rd`` delayed by the lanes' ``cuts``."""
    scale, ts = rd["scale"], Cat(rd["ts"], Const(0, 1))
    e4m3 = golden.lookup("fp8_e4m3")
    sb, sb_shape = _normalized(m, e4m3, scale, "scale")
    t, t_scale, t_shape = _den(m, ts, "ts_out")
    d_sig, d_scale = normalized_product(m, sb.sig, sb.exp - sb_shape.bias, t.sig, t_scale, "d")
    lo = sb_shape.exp_min - sb_shape.bias + t_shape.exp_min - t_shape.bias
    hi = sb_shape.exp_max - sb_shape.bias + t_shape.exp_max - t_shape.bias + 1
    s_zero = sb.is_zero
    xs = [_normalized(m, unit.src, words[k], f"x{k}") for k in range(unit.lanes)]
    if "norm" in cuts.points:  # the operands, registered: each lane's element, the block's S s once
        rd = regs.stage("norm", **rd)
        d_sig, d_scale, s_zero = regs.regs((d_sig, "norm_d_sig"), (d_scale, "norm_d_scale"),
                                           (s_zero, "norm_s_zero"))
        xs = [(regs.reg(x, f"norm_x{k}"), shape) for k, (x, shape) in enumerate(xs)]
    div_cuts = Cuts(cuts.points - {"norm"}, en=cuts.en)
    signs = [x.sign for x, _ in xs]
    codes = []
    for k, (x, x_shape) in enumerate(xs):
        div = RatioPack(x_shape, len(d_sig), (lo, hi), "fp4_e2m1", rounding="rne")
        div.cuts = div_cuts
        m.submodules[f"lane{k}"] = div
        m.d.comb += [div.num.eq(x), div.den_sig.eq(d_sig), div.den_scale.eq(d_scale)]
        codes.append(div.o)
    for j in range(len(div_cuts.points)):  # beside the dividers' registers
        rd = regs.stage(f"div{j}", **rd)
        s_zero = regs.reg(s_zero, f"div{j}_s_zero")
        signs = [regs.reg(sg, f"div{j}_sign{k}") for k, sg in enumerate(signs)]
    nan_block = rd["scale"] == E4M3_NAN
    return [Mux(nan_block, 0, Mux(s_zero, sg << 3, c)) for sg, c in zip(signs, codes)], rd
