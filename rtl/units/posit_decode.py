"""The posit decoder unit: posit bits -> sign, NaR and zero flags, scale and significand."""

from amaranth import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

import numpy as np

from fmtforge import golden
from fmtforge.golden import Posit
from fmtforge.golden.validate import check_int

from ..formats.posit import PositUnpack, posit_shape
from ..pipeline import Cuts, Pipeline, place
from .registry import Option, Unit, register

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

    def __init__(self, fmt, *, stages):
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


def _build(n, es, stages):
    return PositDecoder(golden.posit(n, es), stages=stages)


def _model(options, bits):
    """``{"is_nar", "is_zero", "sign", "scale", "sig"}`` (numpy int64 arrays) of posit(n, es) patterns ``bits``,
    from ``golden.Posit.decode_raw``: value = (-1)**sign * 2**scale * sig / 2**(S - 1) with the significand
    normalised to the decoder's S = max(n - 3 - es, 0) + 1 bits (hidden bit on top). Where ``is_nar`` or
    ``is_zero``, ``sign``, ``scale`` and ``sig`` are 0 here and unspecified on the unit."""
    fmt = golden.posit(options["n"], options["es"])
    S = max(fmt.n - 3 - fmt.es, 0) + 1
    raw = fmt.decode_raw(np.asarray(bits))
    out = {k: [] for k in ("is_nar", "is_zero", "sign", "scale", "sig")}
    for c, s, e, g in zip(raw.cls, raw.sign, raw.exp, raw.sig):
        g, nar = int(g), c == golden.NAN
        finite = not nar and g != 0
        L = g.bit_length()
        for k, v in zip(out, (nar, g == 0 and not nar, finite and s, int(e) + L - 1 if finite else 0,
                              g << (S - L) if finite else 0)):
            out[k].append(int(v))
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


register(Unit(
    name="posit-decode",
    summary="posit(n, es) decoder: sign, NaR, zero, scale, significand",
    description="Decode posit(n, es) bits into a sign, NaR and zero flags, the scale k * 2**es + e (signed) "
                "and the significand (hidden bit on top, fraction left-aligned).",
    build=_build,
    options=(
        Option("n", "int", "posit width", range=(3, 64), metavar="N"),
        Option("es", "int", "exponent bits (2: the 2022 standard)", 2, range=(0, 4), metavar="ES"),
        Option("stages", "int", "output register stages (latency; ports clk, rst)", 0, range=(0, 8),
               metavar="N"),
    ),
    examples=(dict(n=16, es=2), dict(n=32, es=2)),
    model=_model,
    latency=lambda o: o["stages"] or None,
    latency_from="a pattern on i to its fields on o (no handshake: one result per cycle)",
    streams=lambda o: {},
    fuzz={"n": tuple(range(3, 21)), "es": (0, 1, 2, 3, 4), "stages": (0, 1, 2)},
))
