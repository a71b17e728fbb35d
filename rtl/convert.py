"""Format converters: the source family's unpack, a normaliser where needed, the destination's pack.

No converter is written per pair: a new format family adds an unpack and a pack.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

import golden
from golden import MODES, Codebook, Integer, Minifloat, Posit

from .codebook import CodebookUnpack
from .integer import IntegerPack, IntegerUnpack
from .minifloat import MinifloatPack, MinifloatUnpack
from .posit import PositPack, PositUnpack
from .raw import Normalize
from .rounding import rounding_ports

__all__ = ["Converter", "PipelinedConverter", "converter_name", "make_converter", "SOURCE_KINDS", "DEST_KINDS"]

SOURCE_KINDS = ("float", "int", "codebook", "posit")
DEST_KINDS = ("float", "int", "posit")


def converter_name(src, dst, rounding="rne", saturate=False, flags=False, stages=0):
    """The Verilog module name of a converter: its parameters, spelled out."""
    return (f"convert_{src.name}_to_{dst.name}_{rounding}" + ("_sat" if saturate else "")
            + ("_flags" if flags else "") + (f"_s{stages}" if stages else ""))


def _unpack(fmt):
    if isinstance(fmt, Minifloat):
        return MinifloatUnpack(fmt)
    if isinstance(fmt, Integer):
        return IntegerUnpack(fmt)
    if isinstance(fmt, Codebook):
        return CodebookUnpack(fmt)
    if isinstance(fmt, Posit):
        return PositUnpack(fmt)
    raise ValueError(f"src: {fmt.name} ({fmt.kind}) cannot be converted from yet; "
                     f"sources are floats, integers and nf4")


def _pack(fmt, shape, **kwargs):
    if isinstance(fmt, Minifloat):
        return MinifloatPack(fmt, shape, **kwargs)
    if isinstance(fmt, Integer):
        return IntegerPack(fmt, shape, **kwargs)
    if isinstance(fmt, Posit):
        return PositPack(fmt, shape, **kwargs)
    raise ValueError(f"dst: {fmt.name} ({fmt.kind}) cannot be converted to yet; destinations are floats and integers")


def _needs_normalize(shape, dst):
    if shape.normalized or isinstance(dst, Integer):
        return False
    if isinstance(dst, Posit):
        return True
    return not (MinifloatPack.aligned(shape, dst) or shape.unnorm_scale_max <= dst.emin)


def _check(src, dst, rounding, saturate, rand_bits):
    src, dst = golden.lookup(src), golden.lookup(dst)
    if rounding not in MODES:
        raise ValueError(f"rounding must be one of {', '.join(MODES)}, not {rounding!r}")
    if not isinstance(saturate, bool):
        raise ValueError(f"saturate must be True or False, not {saturate!r}")
    if isinstance(rand_bits, bool) or not isinstance(rand_bits, int) or not 1 <= rand_bits <= 32:
        raise ValueError(f"rand_bits must be an integer in 1..32, not {rand_bits!r}")
    if isinstance(dst, Codebook) or dst.kind not in DEST_KINDS:
        raise ValueError(f"dst: {dst.name} ({dst.kind}) cannot be converted to yet; destinations are floats, "
                         "posits and integers")
    if src.kind not in SOURCE_KINDS:
        raise ValueError(f"src: {src.name} ({src.kind}) cannot be converted from yet; sources are floats, "
                         "posits, integers and nf4")
    return src, dst


def _datapath(src, dst, rounding, saturate, flags, rand_bits):
    """(unpack, normalize or None, pack) for a conversion."""
    unpack = _unpack(src)
    shape = unpack.shape
    normalize = Normalize(shape) if _needs_normalize(shape, dst) else None
    if normalize is not None:
        shape = normalize.shape
    pack = _pack(dst, shape, rounding=rounding, saturate=saturate, rand_bits=rand_bits, flags=flags)
    return unpack, normalize, pack


class ConvertCore(wiring.Component):
    """The combinational datapath: ``i`` (source bits) -> ``o`` (destination bits), ``flags``, ``rand``."""

    def __init__(self, src, dst, *, rounding="rne", saturate=False, flags=False, rand_bits=16):
        self.src, self.dst = _check(src, dst, rounding, saturate, rand_bits)
        self.rounding, self.saturate, self.with_flags, self.rand_bits = rounding, saturate, flags, rand_bits
        self._unpack, self._normalize, self._pack = _datapath(self.src, self.dst, rounding, saturate, flags,
                                                              rand_bits)
        super().__init__(rounding_ports(self.src.width, self.dst.width, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = unpack = self._unpack
        m.submodules.pack = pack = self._pack
        m.d.comb += unpack.i.eq(self.i)
        if self._normalize is not None:
            m.submodules.normalize = norm = self._normalize
            m.d.comb += [norm.i.eq(unpack.o), pack.i.eq(norm.o)]
        else:
            m.d.comb += pack.i.eq(unpack.o)
        m.d.comb += self.o.eq(pack.o)
        if self.with_flags:
            m.d.comb += self.flags.eq(pack.flags)
        if self.rounding == "stochastic":
            m.d.comb += pack.rand.eq(self.rand)
        return m


class Converter(ConvertCore):
    """Combinational converter from ``src`` to ``dst`` bits, equal to ``golden.convert`` bit for bit.

    Parameters
    ----------
    src, dst : str or golden.Format
        Sources: floats (every special-value policy, x87, cfloat8), integers, nf4. Destinations: floats and
        integers.
    rounding : str, one of golden.MODES
    saturate : bool
        Overflow and infinities give +-max instead of the format's overflow value.
    flags : bool
        Add the ``flags`` port.
    rand_bits : int, 1..32
        Width of ``rand`` with stochastic rounding.

    Ports
    -----
    i : In(src.width)
    o : Out(dst.width)
    flags : Out(4), with flags=True -- NV, OF, UF, NX from bit 0 up
    rand : In(rand_bits), with rounding="stochastic"
    """

    @property
    def name(self):
        return converter_name(self.src, self.dst, self.rounding, self.saturate, self.with_flags)


class PipelinedConverter(wiring.Component):
    """The converter behind valid/ready streams, ``stages`` register stages deep (latency ``stages``).

    Ports
    -----
    i : In(stream.Signature(in_layout))  -- payload ``data`` (source bits) and, with stochastic rounding,
        ``rand`` above it
    o : Out(stream.Signature(out_layout)) -- payload ``data`` (destination bits) and, with flags, ``flags``
        above it
    (and the ``sync`` domain's ``clk`` and ``rst``)

    All stages advance together when the output register is free or being read (``~o.valid | o.ready``);
    ``i.ready`` is that condition, so one result leaves per cycle when ``o.ready`` stays high. With stages
    >= 2, the first register sits between unpack and pack (the raw form), the others at the output.
    """

    def __init__(self, src, dst, *, stages, rounding="rne", saturate=False, flags=False, rand_bits=16):
        if isinstance(stages, bool) or not isinstance(stages, int) or not 1 <= stages <= 8:
            raise ValueError(f"stages must be an integer in 1..8, not {stages!r}")
        self.src, self.dst = _check(src, dst, rounding, saturate, rand_bits)
        self._unpack, self._normalize, self._pack = _datapath(self.src, self.dst, rounding, saturate, flags,
                                                              rand_bits)
        self.stages = stages
        self.rounding, self.saturate, self.with_flags, self.rand_bits = rounding, saturate, flags, rand_bits
        in_fields = {"data": self.src.width}
        if rounding == "stochastic":
            in_fields["rand"] = rand_bits
        out_fields = {"data": self.dst.width}
        if flags:
            out_fields["flags"] = 4
        self.in_layout = data.StructLayout(in_fields)
        self.out_layout = data.StructLayout(out_fields)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return converter_name(self.src, self.dst, self.rounding, self.saturate, self.with_flags, self.stages)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = unpack = self._unpack
        m.submodules.pack = pack = self._pack
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        m.d.comb += unpack.i.eq(self.i.payload.data)
        raw = unpack.o
        if self._normalize is not None:
            m.submodules.normalize = norm = self._normalize
            m.d.comb += norm.i.eq(raw)
            raw = norm.o
        valid = self.i.valid
        rand = self.i.payload.rand if self.rounding == "stochastic" else None
        remaining = self.stages
        if self.stages >= 2:
            # first register on the raw form
            raw_q = Signal.like(raw, name="raw_q")
            valid_q = Signal(name="valid_q")
            with m.If(advance):
                m.d.sync += [raw_q.eq(raw), valid_q.eq(valid)]
            raw, valid = raw_q, valid_q
            if rand is not None:
                rand_q = Signal.like(rand, name="rand_q")
                with m.If(advance):
                    m.d.sync += rand_q.eq(rand)
                rand = rand_q
            remaining -= 1
        m.d.comb += pack.i.eq(raw)
        if rand is not None:
            m.d.comb += pack.rand.eq(rand)
        result = Signal(self.out_layout)
        m.d.comb += result.data.eq(pack.o)
        if self.with_flags:
            m.d.comb += result.flags.eq(pack.flags)
        for k in range(remaining):
            last = k == remaining - 1
            res_q = self.o.payload if last else Signal(self.out_layout, name=f"result_q{k}")
            val_q = self.o.valid if last else Signal(name=f"valid_q{k}")
            with m.If(advance):
                m.d.sync += [res_q.eq(result), val_q.eq(valid)]
            result, valid = res_q, val_q
        return m


def make_converter(src, dst, *, rounding="rne", saturate=False, flags=False, rand_bits=16, stages=0):
    """A :class:`Converter` (stages=0) or a :class:`PipelinedConverter`."""
    if stages:
        return PipelinedConverter(src, dst, stages=stages, rounding=rounding, saturate=saturate, flags=flags,
                                  rand_bits=rand_bits)
    return Converter(src, dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits)
