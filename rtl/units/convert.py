"""Format converters: the source family's unpack, a normaliser where needed, the destination's pack.

No converter is written per pair: a new format family adds an unpack and a pack.
"""

from amaranth import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden import MODES, Minifloat
from fmtforge.golden.formats.convert import check_flush
from fmtforge.golden.formats.rounding import TININESS, check_tininess
from fmtforge.golden.validate import check_bool, check_choice, check_int

from ..formats import DEST_KINDS, SOURCE_KINDS, levels_of, needs_normalize, pack_for, unpack_for
from ..formats.minifloat import MinifloatUnpack
from ..formats.raw import Normalize
from ..formats.rounding import FLAGS_WIDTH, rounding_ports
from ..pipeline import Cuts, Pipeline, place
from .registry import Option, Unit, register

__all__ = ["ConvertCore", "Converter", "PipelinedConverter", "converter_name", "make_converter"]


def converter_name(src, dst, rounding="rne", saturate=False, flags=False, stages=0, ftz=False, daz=False,
                   tininess="after"):
    """The Verilog module name of a converter: its parameters, spelled out (tininess only when not the
    default, ``after``)."""
    return (f"convert_{src.name}_to_{dst.name}_{rounding}" + ("_sat" if saturate else "")
            + ("_ftz" if ftz else "") + ("_daz" if daz else "")
            + ("" if tininess == "after" else f"_tiny_{tininess}")
            + ("_flags" if flags else "") + (f"_s{stages}" if stages else ""))


def _check(src, dst, rounding, saturate, rand_bits, ftz=False, daz=False, tininess="after"):
    src, dst = golden.lookup(src), golden.lookup(dst)
    check_flush(src, dst, ftz, daz)
    check_tininess(tininess)
    check_choice("rounding", rounding, MODES)
    check_bool("saturate", saturate)
    check_int("rand_bits", rand_bits, 1, 32)
    if dst.kind not in DEST_KINDS:
        raise ValueError(f"dst: {dst.name} ({dst.kind}) cannot be converted to yet; destinations are floats, "
                         "posits and integers")
    if src.kind not in SOURCE_KINDS:
        raise ValueError(f"src: {src.name} ({src.kind}) cannot be converted from yet; sources are floats, "
                         "posits, integers and nf4")
    return src, dst


def _datapath(src, dst, rounding, saturate, flags, rand_bits, ftz=False, daz=False, tininess="after"):
    """(unpack, normalize or None, pack) for a conversion (``ftz``/``daz``: float formats only, checked;
    ``tininess``: the UF rule of the packs that raise UF)."""
    unpack = MinifloatUnpack(src, daz=True) if daz and isinstance(src, Minifloat) else unpack_for(src)
    shape = unpack.shape
    normalize = Normalize(shape) if needs_normalize(shape, dst) else None
    if normalize is not None:
        shape = normalize.shape
    extra = dict(ftz=True) if ftz else {}
    pack = pack_for(dst, shape, rounding=rounding, saturate=saturate, rand_bits=rand_bits, flags=flags,
                    tininess=tininess, **extra)
    return unpack, normalize, pack


#: Estimated logic levels of the normaliser (the family components' are their families': rtl.formats.FAMILIES)
NORMALIZE_LEVELS = 6


def _stage_plan(parts, stages):
    """Where ``stages`` registers go along ``parts`` (``(name, component or None)`` in path order): the cut
    points of every component (its ``levels``) and the boundaries between components, chosen to cut the
    estimated path into nearly equal parts. Returns ``({name: inner points}, {names with a register after
    them}, registers left for the output)``."""
    parts = [(name, c) for name, c in parts if c is not None]
    points, pos = [], 0
    for k, (name, comp) in enumerate(parts):
        total, inner = (NORMALIZE_LEVELS, []) if isinstance(comp, Normalize) else levels_of(comp)
        points += [((name, point), pos + level) for point, level in inner]
        pos += total
        if k < len(parts) - 1:
            points.append(((name, None), pos))
    chosen, extra = place(points, pos, stages)
    inner = {name: {p for c, p in chosen if c == name and p is not None} for name, _ in parts}
    return inner, {c for c, p in chosen if p is None}, extra


class ConvertCore(wiring.Component):
    """The combinational datapath: ``i`` (source bits) -> ``o`` (destination bits), ``flags``, ``rand``."""

    def __init__(self, src, dst, *, rounding="rne", saturate=False, flags=False, rand_bits=16, ftz=False,
                 daz=False, tininess="after"):
        self.src, self.dst = _check(src, dst, rounding, saturate, rand_bits, ftz, daz, tininess)
        self.rounding, self.saturate, self.with_flags, self.rand_bits = rounding, saturate, flags, rand_bits
        self.ftz, self.daz, self.tininess = ftz, daz, tininess
        self._unpack, self._normalize, self._pack = _datapath(self.src, self.dst, rounding, saturate, flags,
                                                              rand_bits, ftz, daz, tininess)
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
    """Combinational converter from ``src`` to ``dst`` bits, equal to ``golden.convert`` bit for bit. Every
    option is required (their defaults live in the registry: ``UNITS["convert"].create(src=, dst=)``).

    Parameters
    ----------
    src, dst : str or golden.Format
        Sources: floats (every special-value policy, x87, cfloat8), posits, integers, nf4. Destinations:
        floats, posits and integers.
    rounding : str, one of golden.MODES
    saturate : bool
        Overflow and infinities give +-max instead of the format's overflow value.
    flags : bool
        Add the ``flags`` port.
    rand_bits : int, 1..32
        Width of ``rand`` with stochastic rounding.
    ftz, daz : bool
        Flush subnormal results to zero (raising UF and NX) / read subnormal inputs as zero (float
        destinations / sources only), as ``golden.convert(..., ftz=, daz=)``.
    tininess : str, ``after`` (default) or ``before``
        When an inexact float result raises UF (IEEE 754-2019 7.5): tininess after rounding (RISC-V, x86) or
        before (Arm), as ``golden.convert_flags(..., tininess=)``.

    Ports
    -----
    i : In(src.width)
    o : Out(dst.width)
    flags : Out(5), with flags=True -- NX, UF, OF, DZ (0), NV from bit 0 up (RISC-V fflags)
    rand : In(rand_bits), with rounding="stochastic"
    """

    def __init__(self, src, dst, *, rounding, saturate, flags, rand_bits, ftz, daz, tininess):
        super().__init__(src, dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits, ftz=ftz,
                         daz=daz, tininess=tininess)

    @property
    def name(self):
        return converter_name(self.src, self.dst, self.rounding, self.saturate, self.with_flags, ftz=self.ftz,
                              daz=self.daz, tininess=self.tininess)


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
    ``i.ready`` is that condition, so one result leaves per cycle when ``o.ready`` stays high. The registers
    sit where they cut the datapath into nearly equal parts (:func:`_stage_plan`: between unpack, normaliser
    and pack, and inside the components that declare cut points, such as the posit unpack and pack); any
    more than the datapath has points for go at the output.
    """

    def __init__(self, src, dst, *, stages, rounding, saturate, flags, rand_bits, ftz, daz, tininess):
        check_int("stages", stages, 1, 8)
        self.src, self.dst = _check(src, dst, rounding, saturate, rand_bits, ftz, daz, tininess)
        self.ftz, self.daz, self.tininess = ftz, daz, tininess
        self._unpack, self._normalize, self._pack = _datapath(self.src, self.dst, rounding, saturate, flags,
                                                              rand_bits, ftz, daz, tininess)
        self.stages = stages
        self.rounding, self.saturate, self.with_flags, self.rand_bits = rounding, saturate, flags, rand_bits
        self._advance = Signal()
        inner, self._after, self._out_regs = _stage_plan(
            [("unpack", self._unpack), ("normalize", self._normalize), ("pack", self._pack)], stages)
        for name, comp in (("unpack", self._unpack), ("normalize", self._normalize), ("pack", self._pack)):
            if inner.get(name):
                comp.cuts = Cuts(inner[name], en=self._advance)
        in_fields = {"data": self.src.width}
        if rounding == "stochastic":
            in_fields["rand"] = rand_bits
        out_fields = {"data": self.dst.width}
        if flags:
            out_fields["flags"] = FLAGS_WIDTH
        self.in_layout = data.StructLayout(in_fields)
        self.out_layout = data.StructLayout(out_fields)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return converter_name(self.src, self.dst, self.rounding, self.saturate, self.with_flags, self.stages,
                              ftz=self.ftz, daz=self.daz, tininess=self.tininess)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = unpack = self._unpack
        m.submodules.pack = pack = self._pack
        advance = self._advance
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        m.d.comb += unpack.i.eq(self.i.payload.data)
        regs = Pipeline(m, advance)
        rand = self.i.payload.rand if self.rounding == "stochastic" else None
        raw = unpack.o
        if "unpack" in self._after:
            raw = regs.reg(raw, "raw_q")
            rand = regs.reg(rand, "rand_q") if rand is not None else None
        if self._normalize is not None:
            m.submodules.normalize = norm = self._normalize
            m.d.comb += norm.i.eq(raw)
            raw = norm.o
            if "normalize" in self._after:
                raw = regs.reg(raw, "norm_q")
                rand = regs.reg(rand, "rand_nq") if rand is not None else None
        m.d.comb += pack.i.eq(raw)
        if rand is not None:
            m.d.comb += pack.rand.eq(rand)
        valid = self.i.valid
        for k in range(self.stages - self._out_regs):  # the valid bits beside the registers inside
            valid = regs.reg(valid, f"valid_q{k}")
        result = Signal(self.out_layout)
        m.d.comb += result.data.eq(pack.o)
        if self.with_flags:
            m.d.comb += result.flags.eq(pack.flags)
        for k in range(self._out_regs):
            if k == self._out_regs - 1:  # the last stage is the output port
                regs.load((self.o.payload, result), (self.o.valid, valid))
            else:
                result, valid = regs.regs((result, f"result_q{k}"), (valid, f"valid_oq{k}"))
        if not self._out_regs:
            m.d.comb += [self.o.payload.eq(result), self.o.valid.eq(valid)]
        return m


def make_converter(src, dst, *, rounding, saturate, flags, rand_bits, stages, ftz, daz, tininess):
    """A :class:`Converter` (stages=0) or a :class:`PipelinedConverter`: the ``convert`` unit's build, every
    option given (``UNITS["convert"].create(src=, dst=, ...)`` fills in the defaults)."""
    # Checked before the component exists: a component whose constructor raises is left half-built and warns
    # (UnusedElaboratable) when collected.
    src, dst = _check(src, dst, rounding, saturate, rand_bits, ftz, daz, tininess)
    if stages:
        return PipelinedConverter(src, dst, stages=stages, rounding=rounding, saturate=saturate, flags=flags,
                                  rand_bits=rand_bits, ftz=ftz, daz=daz, tininess=tininess)
    return Converter(src, dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits, ftz=ftz,
                     daz=daz, tininess=tininess)


def _model(options, bits, rand=None):
    """``(bits, flags)``: ``golden.convert_flags`` of ``bits`` (source patterns, numpy) with the configuration's
    rounding, saturation, ftz, daz and tininess rule; ``rand`` (``rand_bits`` wide) for stochastic rounding. ``flags`` is
    computed whether or not the unit has the port."""
    o = options
    kw = dict(rand=rand, rand_bits=o["rand_bits"]) if o["rounding"] == "stochastic" else {}
    return golden.convert_flags(bits, o["src"], o["dst"], o["rounding"], o["saturate"], ftz=o["ftz"], daz=o["daz"],
                                tininess=o["tininess"], **kw)


def _streams(options):
    if not options["stages"]:
        return {}
    return {"i": ("data",) + (("rand",) if options["rounding"] == "stochastic" else ()),
            "o": ("data",) + (("flags",) if options["flags"] else ())}


_STAGES = "0: combinational (ports i, o); N >= 1: pipelined, N register stages"

register(Unit(
    name="convert",
    summary="any-to-any format converter, equal to `golden.convert` bit for bit",
    description="Convert bits of one format to another, equal to golden.convert bit for bit (every rounding "
                "mode, saturation, IEEE flags). Formats: see `fmtforge list`; parametric names too.",
    build=make_converter,
    options=(
        Option("src", "format", "source format (see `fmtforge list`)", metavar="S"),
        Option("dst", "format", "destination format", metavar="D"),
        Option("rounding", "choice", "rounding mode", "rne", choices=MODES, metavar="M"),
        Option("saturate", "bool", "overflow and infinities give +-max", False),
        Option("flags", "bool", "add a 5-bit flags port in the RISC-V fflags layout (NX bit 0 .. NV bit 4)", False),
        Option("rand_bits", "int", "width of the rand port for stochastic rounding", 16, range=(1, 32),
               metavar="R"),
        Option("stages", "int", _STAGES + " behind valid/ready streams", 0, range=(0, 8), metavar="N"),
        Option("ftz", "bool", "flush to zero: results that would be subnormal give +-0, raising UF and NX "
               "(float destinations)", False),
        Option("daz", "bool", "denormals are zero: subnormal inputs read as +-0 (float sources)", False),
        Option("tininess", "choice", "UF's tininess rule (IEEE 754 7.5): after rounding (RISC-V, x86) or before "
               "(Arm)", "after", choices=TININESS, metavar="T"),
    ),
    examples=(
        dict(src="fp32", dst="bf16"),
        dict(src="bf16", dst="fp32"),
        dict(src="fp32", dst="fp8_e4m3", saturate=True),
        dict(src="fp32", dst="fp8_e5m2"),
        dict(src="fp16", dst="fp32"),
        dict(src="fp32", dst="int8"),
        dict(src="nf4", dst="bf16"),
        dict(src="fp32", dst="bf16", rounding="stochastic", flags=True, stages=2),
        dict(src="posit16", dst="fp32"),
        dict(src="fp32", dst="posit16"),
    ),
    model=_model,
    latency=lambda o: o["stages"] or None,
    latency_from="an input beat accepted on i to its result valid on o",
    streams=_streams,
    fuzz={"src": ("fp32", "bf16", "e3m4", "posit8", "int4", "nf4", "e2m1_none", "x87"),
          "dst": ("fp8_e4m3", "e5m10_b3", "posit12_es3", "uint8", "e1m0_none", "fp6_e3m2"),
          "rounding": MODES, "rand_bits": tuple(range(1, 33)), "stages": (0, 1, 2, 3), "tininess": TININESS},
))
