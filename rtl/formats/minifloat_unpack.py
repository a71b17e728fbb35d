"""The unpack component of IEEE-style floats (every ``golden.Minifloat``): bits -> the raw form."""

from amaranth import Cat, Const, Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Minifloat

from .raw import RawShape, raw_layout

__all__ = ["MinifloatUnpack"]


def _check_minifloat(fmt, what):
    if not isinstance(fmt, Minifloat):
        raise TypeError(f"{what} must be a golden.Minifloat, not {fmt!r}")
    return fmt


class MinifloatUnpack(wiring.Component):
    """Bits of a float -> raw form, with subnormals left unnormalised (exponent field 0, hidden bit 0).

    With ``daz`` (denormals are zero) subnormal patterns read as zeros of their sign (+0 in fnuz formats,
    which have no -0), as ``golden.convert(..., daz=True)``; the raw form then holds no unnormalised
    significand.

    Ports
    -----
    i : In(fmt.width)
    o : Out(raw_layout(self.shape))
    """

    def __init__(self, fmt, *, daz=False):
        self.fmt = _check_minifloat(fmt, "fmt")
        self.daz = daz = daz and fmt.subnormals
        f = fmt.frac_bits
        self.shape = RawShape(sig_width=f + 1, exp_min=0, exp_max=(1 << fmt.exp_bits) - 1, bias=fmt.bias,
                              fmt=fmt, unnorm_scale_max=fmt.emin if fmt.subnormals and not daz else None,
                              ieee_subnormals=True)
        super().__init__({"i": In(fmt.width), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        fmt, f = self.fmt, self.fmt.frac_bits
        frac = self.i[:f]
        expf = self.i[fmt.man_bits:fmt.man_bits + fmt.exp_bits]
        sign = self.i[-1]
        all_e = (1 << fmt.exp_bits) - 1
        sub = expf == 0
        m.d.comb += [
            self.o.sign.eq(sign),
            self.o.exp.eq(expf),
        ]
        if fmt.explicit_integer:
            # x87: an integer bit that contradicts the exponent is an invalid encoding, read as NaN (with a
            # payload only when the exponent is all ones, as golden keeps it).
            hidden = self.i[f]
            bad = hidden == sub
            frac = Mux(bad & (expf != all_e), 0, frac)
            frac = Cat(frac[:f - 1], frac[f - 1] & ~bad)  # quiet bit clear: invalid encodings signal
        else:
            hidden = ~sub
            bad = Const(0)
        if fmt.subnormals and not self.daz:
            m.d.comb += self.o.sig.eq(Cat(frac, hidden))
            zero = sub & (frac == 0)
        elif self.daz:  # every exponent-0 pattern but an x87 pseudo-denormal (a NaN) is a zero
            m.d.comb += self.o.sig.eq(Mux(sub, 0, Cat(frac, hidden)))
            zero = sub & ~bad
            if fmt.specials == "fnuz":
                m.d.comb += self.o.sign.eq(sign & ~sub)  # fnuz has no -0 (0x80.. is its NaN)
        else:
            m.d.comb += self.o.sig.eq(Mux(sub, 0, Cat(frac, hidden)))
            zero = sub
        if fmt.specials == "ieee":
            top = expf == all_e
            nan = (top & (frac != 0)) | bad
            inf = top & (frac == 0) & ~bad
        elif fmt.specials == "fn":
            nan = (expf == all_e) & (frac == (1 << f) - 1)
            inf = Const(0)
        elif fmt.specials == "fnuz":
            nan = sign & (self.i[:-1] == 0)
            inf = Const(0)
        else:
            nan = inf = Const(0)
        m.d.comb += [
            self.o.is_nan.eq(nan),
            self.o.is_inf.eq(inf),
            self.o.is_zero.eq(zero & ~nan),
        ]
        return m
