"""A format converter: the source's unpack composed with the destination's round-and-pack."""

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import golden
from golden import MODES

from .minifloat import MinifloatPack, MinifloatUnpack

__all__ = ["Converter", "converter_name"]


def converter_name(src, dst, rounding="rne", saturate=False, flags=False):
    """The Verilog module name of a converter: its parameters, spelled out."""
    return (f"convert_{src.name}_to_{dst.name}_{rounding}" + ("_sat" if saturate else "")
            + ("_flags" if flags else ""))


class Converter(wiring.Component):
    """Combinational converter from ``src`` to ``dst`` bits, equal to ``golden.convert`` bit for bit.

    Parameters
    ----------
    src, dst : str or golden.Format
    rounding : str, one of golden.MODES
    saturate : bool
        Overflow and infinities give +-max instead of the format's overflow value.
    flags : bool
        Add the ``flags`` port.
    rand_bits : int
        Width of ``rand`` with stochastic rounding.

    Ports
    -----
    i : In(src.width)
    o : Out(dst.width)
    flags : Out(4), with flags=True -- NV, OF, UF, NX from bit 0 up
    rand : In(rand_bits), with rounding="stochastic"
    """

    def __init__(self, src, dst, *, rounding="rne", saturate=False, flags=False, rand_bits=16):
        self.src, self.dst = golden.lookup(src), golden.lookup(dst)
        if rounding not in MODES:
            raise ValueError(f"rounding must be one of {', '.join(MODES)}, not {rounding!r}")
        if not isinstance(saturate, bool):
            raise ValueError(f"saturate must be True or False, not {saturate!r}")
        if not isinstance(rand_bits, int) or isinstance(rand_bits, bool) or not 1 <= rand_bits <= 32:
            raise ValueError(f"rand_bits must be an integer in 1..32, not {rand_bits!r}")
        self.rounding, self.saturate, self.with_flags, self.rand_bits = rounding, saturate, flags, rand_bits
        self._unpack = MinifloatUnpack(self.src)
        self._pack = MinifloatPack(self.dst, self._unpack.shape, rounding=rounding, saturate=saturate,
                                   rand_bits=rand_bits, flags=flags)
        ports = {"i": In(self.src.width), "o": Out(self.dst.width)}
        if flags:
            ports["flags"] = Out(4)
        if rounding == "stochastic":
            ports["rand"] = In(rand_bits)
        super().__init__(ports)

    @property
    def name(self):
        return converter_name(self.src, self.dst, self.rounding, self.saturate, self.with_flags)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = unpack = self._unpack
        m.submodules.pack = pack = self._pack
        m.d.comb += [
            unpack.i.eq(self.i),
            pack.i.eq(unpack.o),
            self.o.eq(pack.o),
        ]
        if self.with_flags:
            m.d.comb += self.flags.eq(pack.flags)
        if self.rounding == "stochastic":
            m.d.comb += pack.rand.eq(self.rand)
        return m
