"""The posit decoder unit: posit bits -> sign, NaR and zero flags, scale and significand."""

from amaranth import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Posit
from fmtforge.golden.validate import check_int

from ..formats.posit import PositUnpack, posit_shape
from ..pipeline import Cuts, Pipeline, place

__all__ = ["PositDecoder", "decoder_layout"]


def decoder_layout(fmt):
    """The decoder's output port ``o``, LSB first: ``sig`` (hidden bit on top), ``scale`` (signed), ``sign``,
    ``is_zero``, ``is_nar``."""
    shape = posit_shape(fmt)
    return data.StructLayout({"sig": shape.sig_width, "scale": shape.exp_shape, "sign": 1, "is_zero": 1,
                              "is_nar": 1})


class PositDecoder(wiring.Component):
    """The posit decoder as a unit: ``i`` (posit bits) -> ``o`` (``decoder_layout``): value =
    (-1)**sign * 2**scale * sig / 2**(width(sig) - 1), NaR and zero flagged. ``stages`` >= 1 puts registers
    inside the decoder, where they cut its path into nearly equal parts (up to three: after the leading-run
    count, halfway through the shifter, after it; more go at the output): latency ``stages``, ports
    ``clk``/``rst``, no handshake (one result per cycle)."""

    def __init__(self, fmt, *, stages=0):
        if not isinstance(fmt, Posit):
            raise TypeError(f"fmt must be a golden.Posit, not {fmt!r}")
        self.fmt = fmt
        self.stages = check_int("stages", stages, 0, 8)
        self._unpack = PositUnpack(self.fmt)
        # registers inside the decoder where they balance the path (after the leading-run count, in and after
        # the shifter); any more at the output
        total, points = self._unpack.levels
        chosen, self._out_regs = place(points, total, self.stages)
        self._unpack.cuts = Cuts(chosen)  # no handshake: every register loads every cycle
        super().__init__({"i": In(self.fmt.n), "o": Out(decoder_layout(self.fmt))})

    @property
    def name(self):
        return f"posit_decode_n{self.fmt.n}_es{self.fmt.es}" + (f"_s{self.stages}" if self.stages else "")

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = u = self._unpack
        m.d.comb += u.i.eq(self.i)
        out = Signal(decoder_layout(self.fmt))
        m.d.comb += [out.sig.eq(u.o.sig), out.scale.eq(u.o.exp), out.sign.eq(u.o.sign),
                     out.is_zero.eq(u.o.is_zero), out.is_nar.eq(u.o.is_nan)]
        regs = Pipeline(m)
        for k in range(self._out_regs):
            out = regs.reg(out, f"o_q{k}")
        m.d.comb += self.o.eq(out)
        return m
