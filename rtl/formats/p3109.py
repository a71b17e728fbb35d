"""Unpack and round-and-pack components for IEEE P3109 formats (every ``golden.P3109``).

Both wrap the specials-free minifloat of the same fields (``fmt.inner``: its unpack and its pack do every
bit of decoding and rounding) and put P3109's codes on top, as ``golden.P3109`` does: the NaN code (the sign-only
pattern, or all ones unsigned), the infinities at the top codes (extended domain), no negative zero, the
largest finite value one or two codes below the top, and for unsigned formats the negative values below the
range. Kept apart from the minifloat components so that those stay P3109-free.
"""

import dataclasses

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import OF, P3109

from .minifloat import MinifloatPack, MinifloatUnpack
from .raw import raw_layout, signaling_nan
from .rounding import flags_word, rounding_ports

__all__ = ["P3109Pack", "P3109Unpack"]


def _check(fmt):
    if not isinstance(fmt, P3109):
        raise TypeError(f"fmt must be a golden.P3109, not {fmt!r}")
    return fmt


class P3109Unpack(wiring.Component):
    """P3109 bits -> raw form: the inner minifloat's unpack (an unsigned pattern gets a 0 sign bit), with the NaN
    and infinity codes marked."""

    def __init__(self, fmt):
        self.fmt = _check(fmt)
        self._inner = MinifloatUnpack(fmt.inner)
        self.shape = dataclasses.replace(self._inner.shape, fmt=fmt)
        super().__init__({"i": In(fmt.width), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        fmt = self.fmt
        m.submodules.inner = inner = self._inner
        m.d.comb += inner.i.eq(self.i if fmt.signed else Cat(self.i, Const(0, 1)))
        mag = self.i[:fmt.mag_bits]
        nan = self.i == fmt.nan_code
        inf = (mag == fmt.inf_code) & ~nan if fmt.extended else Const(0)
        m.d.comb += [
            self.o.sig.eq(Mux(inf, 0, inner.o.sig)),
            self.o.exp.eq(inner.o.exp),
            self.o.sign.eq(inner.o.sign),
            self.o.is_zero.eq(inner.o.is_zero & ~nan),
            self.o.is_inf.eq(inf),
            self.o.is_nan.eq(nan),
        ]
        return m


class P3109Pack(wiring.Component):
    """Raw form -> P3109 bits, rounded by ``rounding``: exactly ``golden.P3109.encode_raw`` (bits and flags).

    ``saturate`` is P3109's SatFinite; without it, SatNone (see golden.P3109); ``tininess`` is UF's rule, as
    the inner minifloat pack's. Ports as every pack: ``i``, ``o``, ``flags`` (with flags=True), ``rand``
    (stochastic rounding).
    """

    def __init__(self, fmt, shape, *, rounding="rne", saturate=False, rand_bits=16, flags=True, tininess="after"):
        self.fmt = _check(fmt)
        self.shape = shape
        self.rounding = rounding
        self.saturate = saturate
        self.tininess = tininess
        self._inner = MinifloatPack(fmt.inner, shape, rounding=rounding, saturate=False, rand_bits=rand_bits,
                                    flags=True, tininess=tininess)
        super().__init__(rounding_ports(raw_layout(shape), fmt.width, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    @staticmethod
    def inner_of(fmt):
        """The minifloat whose pack rounds for ``fmt`` (what a Normalize in front must suit)."""
        return fmt.inner

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self.fmt, self.i
        m.submodules.inner = inner = self._inner
        m.d.comb += inner.i.eq(raw)
        if self.rounding == "stochastic":
            m.d.comb += inner.rand.eq(self.rand)
        W = fmt.mag_bits
        mag = inner.o[:W]
        fl = inner.flags
        finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
        over = Signal()
        m.d.comb += over.eq(finite & ((mag > fmt.max_code) | fl[OF.bit_length() - 1]))
        toward_zero = {"rtz": Const(1), "rdn": ~raw.sign, "rup": raw.sign}.get(self.rounding, Const(0))
        to_max = over & (toward_zero | self.saturate)
        ovf = fmt.inf_code if fmt.extended else fmt.nan_code
        out = Signal(fmt.width)  # the magnitude's code (signed: sign added below)
        nv = Signal()
        with m.If(raw.is_nan):
            m.d.comb += out.eq(fmt.nan_code)
        with m.Elif(raw.is_inf):
            m.d.comb += out.eq(fmt.max_code if self.saturate else ovf)
            if not fmt.extended and not self.saturate:
                m.d.comb += nv.eq(1)
        with m.Elif(over):
            m.d.comb += out.eq(Mux(to_max, fmt.max_code, ovf))
        with m.Elif(finite):
            m.d.comb += out.eq(mag)
        o = Signal(fmt.width)
        below = Signal()
        if fmt.signed:
            m.d.comb += o.eq(Mux(raw.sign & (out != 0) & ~raw.is_nan, out | (1 << (fmt.k - 1)), out))
        else:
            clamp0 = self.saturate or self.rounding in ("rtz", "rup")
            neg_inf = raw.sign & raw.is_inf
            m.d.comb += below.eq(raw.sign & finite & (mag != 0))
            m.d.comb += o.eq(Mux(below, 0 if clamp0 else fmt.nan_code,
                                 Mux(neg_inf, 0 if self.saturate else fmt.nan_code, out)))
            m.d.comb += nv.eq(below | neg_inf | (raw.is_inf & (not fmt.extended) & (not self.saturate)))
        m.d.comb += self.o.eq(o)
        if hasattr(self, "flags"):
            snan = signaling_nan(raw, self.shape)
            nx = Mux(below | ~finite, 0, fl[0] | over)
            uf = Mux(below | ~finite | over, 0, fl[1])
            m.d.comb += self.flags.eq(flags_word(nx=nx, uf=uf, of=over & ~below, nv=nv | snan))
        return m
