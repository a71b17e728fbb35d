"""One lane of the MX units: an element scaled by a power of two on the way in or out.

Both directions are the converter's pieces: the source family's unpack, a Normalize, an exponent offset added
to the raw form (the scale: exact, a power of two), then the destination family's round-and-pack.
"""

import numpy as np
from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden

from ..formats import pack_for, unpack_for
from ..formats.raw import Normalize, RawShape, raw_layout
from ..pipeline import NO_CUTS

__all__ = ["ScaledConvert"]


def _normalized(m, fmt, bits, name):
    """(raw signal, shape) of ``bits`` of ``fmt``, normalised."""
    unpack = unpack_for(fmt)
    m.submodules[f"{name}_unpack"] = unpack
    m.d.comb += unpack.i.eq(bits)
    if unpack.shape.normalized:
        return unpack.o, unpack.shape
    norm = Normalize(unpack.shape)
    m.submodules[f"{name}_norm"] = norm
    m.d.comb += norm.i.eq(unpack.o)
    return norm.o, norm.shape


def _sticky(m, raw, shape, dst):
    """``raw`` (normalised) cut to the bits that can reach ``dst``'s rounding: its precision, a guard and a round
    bit, then one sticky bit for everything below (the pack rounds exactly the same; fewer bits to register)."""
    keep = (dst.bits if dst.kind == "int" else dst.frac_bits + 1) + 2
    S = shape.sig_width
    if not shape.normalized or S <= keep + 1:
        return raw, shape
    small = RawShape(sig_width=keep + 1, exp_min=shape.exp_min, exp_max=shape.exp_max, bias=shape.bias,
                     fmt=shape.fmt)
    cut = Signal(raw_layout(small), name="src_cut")
    m.d.comb += [cut.sig.eq(Cat(raw.sig[:S - keep] != 0, raw.sig[S - keep:])), cut.exp.eq(raw.exp),
                 cut.sign.eq(raw.sign), cut.is_zero.eq(raw.is_zero), cut.is_inf.eq(raw.is_inf),
                 cut.is_nan.eq(raw.is_nan)]
    return cut, small


class ScaledConvert(wiring.Component):
    """``i`` (bits of ``src``) times ``2**(offset + shift)`` rounded into ``dst`` (bits on ``o``).

    ``offset`` is a signed input in ``offset_range`` (inclusive); ``shift`` a constant. The pack rounds to
    nearest, ties to even (``saturate`` as the converter's option). ``is_nan`` is 1 when the source is a NaN.

    A pipelined unit may set ``cuts`` (``rtl.pipeline.Cuts``) before elaboration: its points ``norm`` (after
    the unpack and normaliser) and ``scaled`` (after the offset is added, before the round-and-pack) hold
    registers; ``o`` and ``is_nan`` are then that many cycles behind ``i``, and ``offset`` is read at the
    ``norm`` point (the caller delays it by the ``norm`` register when there is one: one copy for all lanes).

    Ports
    -----
    i : In(src.width)
    offset : In(signed)
    o : Out(dst.width)
    is_nan : Out(1)
    """

    cuts = NO_CUTS

    def __init__(self, src, dst, *, offset_range, shift=0, saturate=False):
        self.src, self.dst = golden.lookup(src), golden.lookup(dst)
        self.offset_range, self.shift, self.saturate = offset_range, shift, saturate
        lo, hi = offset_range
        self.offset_shape = signed(max(lo.bit_length(), hi.bit_length(), (-lo - 1).bit_length(),
                                       (-hi - 1).bit_length()) + 1)
        super().__init__({"i": In(self.src.width), "offset": In(self.offset_shape), "o": Out(self.dst.width),
                          "is_nan": Out(1)})

    def elaborate(self, platform):
        m = Module()
        raw, shape = _normalized(m, self.src, self.i, "src")
        raw, shape = _sticky(m, raw, shape, self.dst)
        raw, = self.cuts.at(m, "norm", raw)
        if self._element(shape):
            self._element_pack(m, raw, shape)
            return m
        lo, hi = self.offset_range
        scaled_shape = RawShape(sig_width=shape.sig_width, exp_min=shape.exp_min + lo + self.shift,
                                exp_max=shape.exp_max + hi + self.shift, bias=shape.bias, fmt=shape.fmt)
        scaled = Signal(raw_layout(scaled_shape))
        m.d.comb += [scaled.sig.eq(raw.sig), scaled.sign.eq(raw.sign), scaled.is_zero.eq(raw.is_zero),
                     scaled.is_inf.eq(raw.is_inf), scaled.is_nan.eq(raw.is_nan),
                     scaled.exp.eq(raw.exp + self.offset + self.shift)]
        scaled, = self.cuts.at(m, "scaled", scaled)
        pack = pack_for(self.dst, scaled_shape, rounding="rne", saturate=self.saturate, flags=False)
        m.submodules.pack = pack
        m.d.comb += [pack.i.eq(scaled), self.o.eq(pack.o), self.is_nan.eq(scaled.is_nan)]
        return m



    def _element(self, shape):
        """Whether the short path of :meth:`_element_pack` applies: a saturating float destination of a few
        bits (the MX elements) from a normalised value with a guard and a sticky bit to spare."""
        d = self.dst
        return (self.saturate and d.kind == "float" and d.subnormals and d.width <= 8 and shape.normalized
                and shape.sig_width >= d.frac_bits + 3)

    def _element_pack(self, m, raw, shape):
        """The round-and-pack of an MX quantizer's lane, short enough to pipeline: A = the scaled exponent above
        the element's smallest normal's; a shift only for the element's subnormals (at most f + 2 places), the
        increment by ties to even on the encoding {A + 1, fraction} (a carry moves to the next binade), then
        saturation at the largest finite code. NaN and inf sources are not handled: the quantizer's NaN block
        replaces their codes. ``cuts``' point ``scaled`` sits after the exponent arithmetic."""
        dst = self.dst
        f, p, K = dst.frac_bits, dst.frac_bits + 1, shape.sig_width
        R = K - p  # bits below the result's last one, for a normal result: guard, then sticky bits
        codes = np.arange(1 << (dst.width - 1))
        maxmag = int(codes[np.isfinite(dst.decode(codes))].max())
        span = (maxmag >> f) - 1  # the largest A of a normal value
        a = Signal(signed(max(len(raw.exp), len(self.offset)) + 3), name="elem_a")
        m.d.comb += a.eq(raw.exp + self.offset + (self.shift - shape.bias - dst.emin))
        neg, big = Signal(name="elem_sub"), Signal(name="elem_big")
        m.d.comb += [neg.eq(a < 0), big.eq(a > span)]
        d = Signal(range(p + 2), name="elem_shift")
        m.d.comb += d.eq(Mux(neg, Mux(a < -(p + 1), p + 1, -a), 0))
        field = Signal(range(span + 1), name="elem_field")
        m.d.comb += field.eq(Mux(neg | big, 0, a))
        sig, d, field, big, sign, zero = self.cuts.at(m, "scaled", raw.sig, d, field, big, raw.sign, raw.is_zero)
        t = Signal(K, name="elem_t")
        lost = Signal(name="elem_lost")
        m.d.comb += [t.eq(sig >> d), lost.eq((sig & ~(Const((1 << K) - 1, K) << d)[:K]) != 0)]
        mant, guard = t[R:], t[R - 1]
        sticky = lost | (t[:R - 1] != 0) if R > 1 else lost
        inc = guard & (sticky | mant[0])
        mag = Signal(len(field) + f + 2, name="elem_mag")
        m.d.comb += mag.eq((field << f) + mant + inc)
        out = Signal(dst.width - 1, name="elem_out")
        m.d.comb += out.eq(Mux(zero, 0, Mux(big | (mag > maxmag), maxmag, mag)))
        m.d.comb += [self.o.eq(Cat(out, sign)), self.is_nan.eq(0)]
