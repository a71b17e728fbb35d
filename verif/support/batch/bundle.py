"""Test harnesses: many converters from one source in one simulated module, so that one simulator build and
one sweep of the source's patterns check them all (Verilator builds are the slow part)."""


from amaranth import Cat, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.rtl.formats.rounding import FLAGS_WIDTH
from fmtforge.rtl.units.convert import ConvertCore


def conv_id(dst, rounding, saturate):
    """The short name of one converter of a bundle or of the regression's matrix: ``<dst>_<mode>[_sat]``."""
    return f"{dst}_{rounding}" + ("_sat" if saturate else "")


class Bundle(wiring.Component):
    """Converters from ``src`` to each configuration's destination, side by side.

    Ports: ``i`` (source bits, shared), ``rand`` (shared; each stochastic converter reads its low bits), and
    ``o``: for each configuration in order, its ``flags`` (5 bits) then its destination bits, from bit 0 up.
    """

    def __init__(self, src, configs):
        self.src = golden.lookup(src)
        self.configs = configs
        self.cores = [ConvertCore(self.src, c["dst"], rounding=c["rounding"], saturate=c["saturate"], flags=True,
                                  rand_bits=c.get("rand_bits", 16)) for c in configs]
        self.rand_bits = max([c.get("rand_bits", 16) for c in configs if c["rounding"] == "stochastic"] or [1])
        width = sum(FLAGS_WIDTH + core.dst.width for core in self.cores)
        super().__init__({"i": In(self.src.width), "rand": In(self.rand_bits), "o": Out(width)})
        # what it is, for the test suite's Verilog cache (fmtforge.rtl.flow.verilog_cache)
        self.verilog_key = f"bundle:{self.src.name}:{[sorted(c.items()) for c in configs]!r}"

    def elaborate(self, platform):
        m = Module()
        outs = []
        for k, core in enumerate(self.cores):
            m.submodules[f"c{k}"] = core
            m.d.comb += core.i.eq(self.i)
            if core.rounding == "stochastic":
                m.d.comb += core.rand.eq(self.rand[:core.rand_bits])
            outs += [core.flags, core.o]
        m.d.comb += self.o.eq(Cat(*outs))
        return m
