"""Many converters, from sources of any width, in one batch-lane unit: one Verilator build and one Icarus
compile check dozens of conversions.

:class:`MultiBundle` feeds its shared input ``i`` (as wide as the widest source) to every converter, each
reading its source's low bits, and packs every converter's flags (5 bits) and result into ``o`` (at most 128
bits: the batch lane's limit, which :func:`bundles` respects when it splits a list of conversions).
:func:`check` simulates a bundle and compares every converter with ``golden.convert_flags`` on the inputs it saw,
with the batch lane's mismatch report (input, expected and obtained values in hex, flags, rand, the command).
"""

import numpy as np
from amaranth import Cat, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.rtl.formats.rounding import FLAGS_WIDTH
from fmtforge.rtl.units.convert import ConvertCore

from fmtforge.verif.support.batch import lane as batch
from fmtforge.verif.support.batch.icarus import simulate_icarus

__all__ = ["MAX_WIDTH", "MultiBundle", "bundles", "check", "conv_label"]

MAX_WIDTH = 128


def conv_label(c):
    src, dst, rounding, saturate = c
    return f"{src}->{dst}-{rounding}" + ("-sat" if saturate else "")


class MultiBundle(wiring.Component):
    """Converters ``(src, dst, rounding, saturate)`` side by side, every one with its flags port.

    Ports: ``i`` (the widest source's width; a narrower source reads the low bits), ``rand`` (``rand_bits``,
    shared by the stochastic converters) and ``o``: per converter in order its flags then its result, bit 0 up.
    """

    def __init__(self, convs, rand_bits=8):
        self.convs = [tuple(c) for c in convs]
        self.rand_bits = rand_bits
        self.cores = [ConvertCore(s, d, rounding=r, saturate=sat, flags=True, rand_bits=rand_bits)
                      for s, d, r, sat in self.convs]
        width = sum(FLAGS_WIDTH + core.dst.width for core in self.cores)
        if width > MAX_WIDTH:
            raise ValueError(f"a bundle's outputs take {width} bits; the batch lane handles {MAX_WIDTH}")
        in_width = max(core.src.width for core in self.cores)
        ports = {"i": In(in_width), "o": Out(width)}
        if any(core.rounding == "stochastic" for core in self.cores):
            ports["rand"] = In(rand_bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        outs = []
        for k, core in enumerate(self.cores):
            m.submodules[f"c{k}"] = core
            m.d.comb += core.i.eq(self.i[:core.src.width])
            if core.rounding == "stochastic":
                m.d.comb += core.rand.eq(self.rand)
            outs += [core.flags, core.o]
        m.d.comb += self.o.eq(Cat(*outs))
        return m


def bundles(convs, limit=MAX_WIDTH):
    """``convs`` split, in order, into lists whose outputs fit ``limit`` bits."""
    out, cur, used = [], [], 0
    for c in convs:
        w = FLAGS_WIDTH + golden.lookup(c[1]).width
        if cur and used + w > limit:
            out.append(cur)
            cur, used = [], 0
        cur.append(c)
        used += w
    return out + ([cur] if cur else [])


def _fields(o, offset, width):
    """Bits ``offset .. offset + width - 1`` of every output word (uint64, or Python ints beyond 64 bits)."""
    if o.dtype != object:
        return (o.astype(np.uint64) >> np.uint64(offset)) & np.uint64((1 << width) - 1)
    mask = (1 << width) - 1
    return np.fromiter(((int(v) >> offset) & mask for v in o), dtype=np.uint64, count=len(o))


def check(convs, xs, sim, rng, name, rand_bits=8):
    """Simulate the bundle of ``convs`` on ``sim`` ("verilator" or "icarus") over ``xs`` (input patterns of
    the widest source) and compare each converter with golden, bits and flags."""
    from fmtforge.rtl.flow.verilog import to_verilog
    top = MultiBundle(convs, rand_bits)
    unit = (to_verilog(top, name), name)
    stochastic = "rand" in top.signature.members
    rand = rng.integers(0, 1 << rand_bits, len(xs), dtype=np.uint64) if stochastic else None
    o, _ = (batch.simulate if sim == "verilator" else simulate_icarus)(unit, xs, rand=rand)
    offset = 0
    for core, (src, dst, rounding, saturate) in zip(top.cores, top.convs):
        s, d = core.src, core.dst
        x = xs & np.uint64((1 << s.width) - 1)
        kw = {"rand": rand, "rand_bits": rand_bits} if rounding == "stochastic" else {}
        want = golden.convert_flags(x.astype(s.dtype), s, d, rounding, saturate, **kw)
        got_f = _fields(o, offset, FLAGS_WIDTH).astype(np.uint8)
        got_o = _fields(o, offset + FLAGS_WIDTH, d.width).astype(d.dtype)
        offset += FLAGS_WIDTH + d.width
        batch.assert_equal((got_o, got_f), (want[0].astype(d.dtype), want[1]), inputs=x, unit=name, src=s,
                           dst=d, rand=kw.get("rand"), label=f"{sim}, {conv_label((src, dst, rounding, saturate))}")
