"""The dot unit's fixed-point sums and their one rounding.

A sum is a ``signed(width)`` two's-complement word whose bit 0 weighs ``2**lsb``. :func:`geometry` sizes it
to hold every value a mode can reach; :func:`round_fixed` turns a word (and the specials that travelled beside
it) into the destination's bits through the existing :class:`~fmtforge.rtl.formats.raw.Normalize` and the
destination's round-and-pack: the sum is rounded there, once.
"""

from dataclasses import dataclass

from amaranth import Mux, Signal

from ..formats import pack_for
from ..formats.raw import Normalize, RawShape, raw_layout

__all__ = ["Geometry", "geometry", "round_fixed"]


@dataclass(frozen=True)
class Geometry:
    """A fixed-point word: bit 0 weighs ``2**lsb``; ``width`` bits, two's complement."""

    lsb: int
    width: int

    @property
    def msb(self):
        """Every magnitude the word holds is below ``2**msb``."""
        return self.lsb + self.width - 1


def geometry(bounds):
    """The smallest word that holds a sum of terms: ``bounds`` is a list of ``(lsb, msb, count)``: ``count``
    terms whose bits lie at ``2**lsb`` and up and whose magnitudes are below ``2**msb``. The word's magnitude
    bound is the sum of the terms' bounds, plus a sign bit."""
    lsb = min(b[0] for b in bounds)
    total = sum(count << (msb - lsb) for _, msb, count in bounds)  # the bound, in units of 2**lsb
    return Geometry(lsb=lsb, width=(total - 1).bit_length() + 1)


@dataclass(frozen=True)
class _Fixed:
    """The "format" a fixed-point sum comes from (a raw shape names one; this one has no NaN payload)."""

    name: str = "fixed-point sum"


def round_fixed(m, word, geo, out, *, rounding, flags, nan, pinf, ninf, zero_sign, name, cut=None):
    """Round ``word`` (signed, :class:`Geometry` ``geo``) into ``out`` (a golden float) once.

    ``nan``, ``pinf``, ``ninf`` are the specials seen beside the sum (+inf with -inf gives NaN; the caller
    raises NV for it); ``zero_sign`` is the sign of an exact zero. Returns ``(bits, flags or None)``: the
    pack's own flags (NX, UF, OF). A NaN result is the destination's quiet NaN with sign 0. ``cut`` (a
    :class:`~fmtforge.rtl.pipeline.Pipeline`) puts a register between the normaliser and the pack.
    """
    mag_w = geo.width - 1  # |word| < 2**(width - 1): the geometry's bound
    top = geo.lsb + mag_w - 1  # the scale of the magnitude's top bit
    shape = RawShape(sig_width=mag_w, exp_min=top, exp_max=top, bias=0, fmt=_Fixed(), unnorm_scale_max=top)
    raw = Signal(raw_layout(shape), name=f"{name}_raw")
    neg = word[-1]
    mag = Mux(neg, -word, word)[:mag_w]
    is_nan = nan | (pinf & ninf)
    is_inf = (pinf | ninf) & ~is_nan
    zero = Signal(name=f"{name}_zero")
    m.d.comb += [
        zero.eq(word == 0),
        raw.sig.eq(mag),
        raw.exp.eq(top),
        raw.is_nan.eq(is_nan),
        raw.is_inf.eq(is_inf),
        raw.is_zero.eq(zero & ~is_nan & ~is_inf),
        raw.sign.eq(Mux(is_nan, 0, Mux(is_inf, ninf, Mux(zero, zero_sign, neg)))),
    ]
    norm = Normalize(shape)
    pack = pack_for(out, norm.shape, rounding=rounding, flags=flags)
    m.submodules[f"{name}_normalize"] = norm
    m.submodules[f"{name}_pack"] = pack
    m.d.comb += norm.i.eq(raw)
    m.d.comb += pack.i.eq(norm.o if cut is None else cut.reg(norm.o, f"{name}_norm_q"))
    return pack.o, (pack.flags if flags else None)
