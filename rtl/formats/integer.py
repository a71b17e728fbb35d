"""Unpack and round-and-pack components for integers (every ``golden.Integer``)."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Integer

from .raw import RawShape, raw_layout, scale_of
from .rounding import flags_word, round_increment, rounding_ports

__all__ = ["IntegerUnpack", "IntegerPack"]


def _check(fmt):
    if not isinstance(fmt, Integer):
        raise TypeError(f"fmt must be a golden.Integer, not {fmt!r}")
    return fmt


class IntegerUnpack(wiring.Component):
    """Integer bits -> raw form: the magnitude as the significand (not normalised), scale bits - 1 - frac_bits."""

    def __init__(self, fmt):
        self.fmt = _check(fmt)
        B = fmt.bits
        top = B - 1 - fmt.frac_bits  # the scale of the significand's top bit
        self.shape = RawShape(sig_width=B, exp_min=top, exp_max=top, bias=0, fmt=fmt, unnorm_scale_max=top)
        super().__init__({"i": In(B), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        B = self.fmt.bits
        neg = self.i[-1] if self.fmt.signed else Const(0)
        m.d.comb += [
            self.o.sign.eq(neg),
            self.o.sig.eq(Mux(neg, -self.i, self.i)),  # -(-2**(B-1)) is 2**(B-1): fits B unsigned bits
            self.o.exp.eq(B - 1 - self.fmt.frac_bits),
            self.o.is_zero.eq(self.i == 0),
        ]
        return m


class IntegerPack(wiring.Component):
    """Raw form -> integer bits: round by the mode, then saturate (NV when it must), as ``golden.Integer``.

    NaN gives 0 and +-inf the ends of the range, with NV. Flags: NX and NV (OF and UF stay 0). A fixed binary
    point (``frac_bits``) only moves the scale the rounding position is read from; ``symmetric`` narrows the
    negative end to ``-max_int``.
    """

    def __init__(self, fmt, shape, *, rounding="rne", rand_bits=16, flags=True):
        self.fmt = _check(fmt)
        self.shape = shape
        self.rounding = rounding
        self.rand_bits = rand_bits
        super().__init__(rounding_ports(raw_layout(shape), fmt.bits, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    def elaborate(self, platform):
        m = Module()
        fmt, shape, raw = self.fmt, self.shape, self.i
        B, S = fmt.bits, shape.sig_width
        R = self.rand_bits if self.rounding == "stochastic" else 0
        G = max(R, 2)
        # vt = sig * 2**(G + B + T): shifting it right by a = (B - 1 + T) - scale leaves the integer part in
        # bits D.. (B of them, and T more above for overflow) and the fraction's first G bits below D.
        # T > 0 only when the significand may carry leading zeros at scales >= B (an integer source wider
        # than the destination): then overflow is read from the bits above, not from the scale.
        F = fmt.frac_bits
        wide_unnorm = not shape.normalized and shape.unnorm_scale_max + F >= B
        T = max(0, shape.scale_max + F - (B - 1)) if wide_unnorm else 0
        if T > 64:
            raise ValueError("IntegerPack: a wide unnormalised raw input needs a Normalize first")
        scale = scale_of(m, raw, shape)
        if fmt.frac_bits:  # the scale of q = value * 2**frac_bits
            q_scale = Signal(signed(len(scale) + fmt.frac_bits.bit_length() + 1))
            m.d.comb += q_scale.eq(scale + fmt.frac_bits)
            scale = q_scale
        if T:
            W = S + G + B + T
            D = S + G
            v = Cat(Const(0, G + B + T), raw.sig)
        else:
            # Cut the significand to B integer bits (at the largest scale, B - 1), the rounding bits and one
            # sticky bit for everything lower: the shifter is then only B + G bits wide.
            G = max(R, 1) + 1
            P = S - B
            v = Cat(raw.sig[:P - G + 1] != 0, raw.sig[P - G + 1:]) if P >= G else Cat(Const(0, G - P), raw.sig)
            W = B + G
            D = G
        a = Signal(range(W + 1))
        m.d.comb += a.eq(Mux(scale >= B - 1 + T, 0, Mux(scale < B - 1 + T - W, W,
                                                          (B - 1 + T - scale).as_unsigned())))
        vs = Signal(W)
        lost = Signal()
        ones = Const((1 << W) - 1, W)
        m.d.comb += [vs.eq(v >> a), lost.eq((v & ~(ones << a)[:W]) != 0)]
        huge = Signal()
        m.d.comb += huge.eq((vs[D + B:] != 0) if T else (scale >= B))
        kept = vs[D:D + B]
        rbit = vs[D - 1]
        sticky = Signal()
        m.d.comb += sticky.eq((vs[:D - 1] != 0) | lost)
        inc = round_increment(m, self.rounding, sign=raw.sign, lsb=kept[0], rbit=rbit, sticky=sticky,
                              frac=vs[D - R:D] if R else None, rand=getattr(self, "rand", None))
        mag = Signal(B + 1)
        m.d.comb += mag.eq(kept + inc)
        lo_mag = -fmt.min_int  # largest negative magnitude
        hi_mag = fmt.max_int
        finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
        oor = Signal()
        m.d.comb += oor.eq(finite & (huge | Mux(raw.sign, mag > lo_mag, mag > hi_mag)))
        lo_bits = Const((1 << B) + fmt.min_int if fmt.signed else 0, B)
        hi_bits = Const(hi_mag, B)
        o = Signal(B)
        with m.If(raw.is_nan | raw.is_zero):
            m.d.comb += o.eq(0)
        with m.Elif(raw.is_inf | oor):
            m.d.comb += o.eq(Mux(raw.sign, lo_bits, hi_bits))
        with m.Else():
            m.d.comb += o.eq(Mux(raw.sign, -mag, mag))
        m.d.comb += self.o.eq(o)
        if hasattr(self, "flags"):
            nv = raw.is_nan | raw.is_inf | oor
            nx = finite & (rbit | sticky) & ~oor
            m.d.comb += self.flags.eq(flags_word(nx=nx, uf=0, of=0, nv=nv))
        return m
