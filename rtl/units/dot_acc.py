"""The dot unit's fixed-point sums and their one rounding.

A sum is a ``signed(width)`` two's-complement word whose bit 0 weighs ``2**lsb``. :func:`geometry` sizes it
to hold every value a mode can reach; :func:`round_fixed` turns a word (and the specials that travelled beside
it) into the destination's bits through the existing :class:`~fmtforge.rtl.formats.raw.Normalize` and the
destination's round-and-pack: the sum is rounded there, once.
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Mux, Signal

from ..formats import pack_for
from ..formats.raw import Normalize, RawShape, raw_layout
from ..formats.rounding import round_increment

__all__ = ["Geometry", "geometry", "round_fixed", "round_word"]


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


def round_fixed(m, word, geo, out, *, rounding, specials, name, cut=None):
    """Round ``word`` (signed, :class:`Geometry` ``geo``) into ``out`` (a golden float) once.

    ``specials`` are the sum's :data:`~.dot_terms.SPECIALS` (+inf with -inf gives NaN with NV; an exact zero
    takes the sign IEEE 754 6.3 gives it). Returns ``(bits, flags)``: NX, OF from the pack, UF when the result
    is tiny after rounding (to ``out``'s precision with an unbounded exponent) and inexact, and NV. A NaN result
    is the destination's quiet NaN with sign 0. ``cut`` (a :class:`~fmtforge.rtl.pipeline.Pipeline`) puts a
    register between the normaliser and the pack.
    """
    mag_w = geo.width - 1  # |word| < 2**(width - 1): the geometry's bound
    top = geo.lsb + mag_w - 1  # the scale of the magnitude's top bit
    shape = RawShape(sig_width=mag_w, exp_min=top, exp_max=top, bias=0, fmt=_Fixed(), unnorm_scale_max=top)
    return round_word(m, word, mag_w, top, shape, out, rounding=rounding, specials=specials, name=name, cut=cut)


def round_word(m, word, mag_w, exp, shape, out, *, rounding, specials, name, cut=None):
    """:func:`round_fixed`'s rounding of a signed ``word`` whose magnitude's low ``mag_w`` bits have their top
    bit at scale ``exp`` (a constant or a signal; ``shape`` the raw shape that holds it): the specials and the
    exact-zero sign, then :class:`Normalize` and ``out``'s round-and-pack, UF by tininess after rounding. Shared
    by the dot unit's fixed-point sums and mx-dot's block adder."""
    nan, pinf, ninf, nv, negz, posz = specials
    raw = Signal(raw_layout(shape), name=f"{name}_raw")
    neg = word[-1]
    mag = Mux(neg, -word, word)[:mag_w]
    is_nan = nan | (pinf & ninf)
    is_inf = (pinf | ninf) & ~is_nan
    zero = Signal(name=f"{name}_zero")
    zero_sign = Mux(negz, 1, Mux(posz, 0, int(rounding == "rdn")))
    m.d.comb += [
        zero.eq(word == 0),
        raw.sig.eq(mag),
        raw.exp.eq(exp),
        raw.is_nan.eq(is_nan),
        raw.is_inf.eq(is_inf),
        raw.is_zero.eq(zero & ~is_nan & ~is_inf),
        raw.sign.eq(Mux(is_nan, 0, Mux(is_inf, ninf, Mux(zero, zero_sign, neg)))),
    ]
    nv = nv | (pinf & ninf & ~nan)
    norm = Normalize(shape)
    pack = pack_for(out, norm.shape, rounding=rounding, flags=True)
    m.submodules[f"{name}_normalize"] = norm
    m.submodules[f"{name}_pack"] = pack
    m.d.comb += norm.i.eq(raw)
    if cut is None:
        m.d.comb += pack.i.eq(norm.o)
    else:
        m.d.comb += pack.i.eq(cut.reg(norm.o, f"{name}_norm_q"))
        nv = cut.reg(nv, f"{name}_nv_q")
    uf = _tiny_after(m, pack.i, norm.shape, out, rounding, name) & pack.flags[0]
    flags = Signal(5, name=f"{name}_flags")
    m.d.comb += flags.eq(Cat(pack.flags[0], uf, pack.flags[2], Const(0, 1), nv))
    return pack.o, flags


def _tiny_after(m, raw, shape, out, rounding, name):
    """Whether a normalised nonzero finite ``raw`` is tiny after rounding (IEEE 754 7.5): below ``out``'s
    smallest normal once rounded to ``out``'s precision with an unbounded exponent. Only a value in the binade
    just below, whose top ``f + 1`` bits are all ones, can round up to the smallest normal."""
    f, emin, S = out.frac_bits, out.emin, shape.sig_width
    below = S - 1 - f  # bits below the kept ones
    finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
    if below >= 1:
        sticky = raw.sig[:below - 1] != 0 if below > 1 else Const(0)
        inc = round_increment(m, rounding, sign=raw.sign, lsb=Const(1), rbit=raw.sig[below - 1], sticky=sticky)
        carry = (raw.exp == emin - 1) & (raw.sig[below:] == (1 << (f + 1)) - 1) & inc
    else:
        carry = Const(0)
    tiny = Signal(name=f"{name}_tiny")
    m.d.comb += tiny.eq(finite & (raw.exp < emin) & ~carry)
    return tiny
