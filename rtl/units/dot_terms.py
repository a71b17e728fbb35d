"""The terms of a dot product: exact raw products, placed at their absolute position in a fixed-point word.

A raw value (``rtl.formats.raw``) of shape ``s`` is ``sig * 2**(scale - sig_width + 1)``. Its *offset* is how
far its significand's last bit sits above the lowest one the shape can hold (``scale - s.scale_min``), so a
term's fixed-point word is ``sig << offset`` with the word's bit 0 at ``2**lsb(s)``. A product of two raw
values is again such a term: the significands multiply, the offsets add. Nothing is rounded or normalised:
subnormal and integer significands are placed as they are.
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Mux, Signal

from ..formats.raw import signaling_nan

__all__ = ["SPECIALS", "Term", "TermShape", "combine_specials", "merge_specials", "place", "product", "raw_term", "term_shape"]


@dataclass(frozen=True)
class TermShape:
    """What a term can hold: ``sig_width`` significand bits, offsets ``0..off_max``, bit 0 of the significand
    at ``2**lsb``; ``msb``: every finite magnitude is below ``2**msb``."""

    sig_width: int
    off_max: int
    lsb: int
    msb: int

    @property
    def width(self):
        """Bits of the placed magnitude (``sig << offset``)."""
        return self.msb - self.lsb


@dataclass
class Term:
    """A term's signals: ``sig`` (unsigned, 0 unless finite), ``off`` (unsigned), ``sign``, and its class
    bits ``zero``, ``nan``, ``inf``, and ``nv`` (the invalid operations that made it: inf * 0, a signalling
    NaN operand)."""

    sig: object
    off: object
    sign: object
    zero: object
    nan: object
    inf: object
    nv: object


def _finite_max_scale(shape):
    """The largest scale of a finite value of a raw shape (an IEEE format's all-ones exponent is inf/NaN)."""
    fmt = shape.fmt
    top = shape.scale_max
    if getattr(fmt, "specials", None) == "ieee":
        top -= 1
    return top


def term_shape(shape):
    """The :class:`TermShape` of a raw value of ``shape``."""
    lo = shape.scale_min - shape.sig_width + 1
    hi = _finite_max_scale(shape) + 1
    return TermShape(sig_width=shape.sig_width, off_max=hi - 1 - shape.scale_min, lsb=lo, msb=hi)


def raw_term(m, raw, shape, name):
    """A raw value of ``shape`` as a :class:`Term` (its offset from the exponent field; specials kept as
    classes with the significand cleared)."""
    ts = term_shape(shape)
    exp = Mux(raw.exp == 0, 1, raw.exp) if shape.ieee_subnormals else raw.exp
    base = shape.scale_min + shape.bias  # the exponent field of the lowest scale
    off = Signal(range(ts.off_max + 1), name=f"{name}_off")
    sig = Signal(shape.sig_width, name=f"{name}_sig")
    special = raw.is_nan | raw.is_inf
    diff = Signal(len(raw.exp) + 1, name=f"{name}_diff")  # full width: every bit driven
    # an offset past the finite range only comes with inf/NaN (their significand is cleared anyway)
    m.d.comb += [diff.eq(exp - base), off.eq(Mux(special, 0, diff[:len(off)])), sig.eq(Mux(special, 0, raw.sig))]
    return Term(sig=sig, off=off, sign=raw.sign, zero=raw.is_zero, nan=raw.is_nan, inf=raw.is_inf,
                nv=signaling_nan(raw, shape))


def product(m, ta, sa, tb, sb, name):
    """The exact product of two :class:`Term` s of shapes ``sa``, ``sb`` (TermShape): returns
    ``(Term, TermShape)``. inf * 0 is NaN with NV; a NaN operand gives NaN (NV when it signals)."""
    shape = TermShape(sig_width=sa.sig_width + sb.sig_width, off_max=sa.off_max + sb.off_max,
                      lsb=sa.lsb + sb.lsb, msb=sa.msb + sb.msb)
    sig = Signal(shape.sig_width, name=f"{name}_sig")
    off = Signal(range(shape.off_max + 1), name=f"{name}_off")
    inf0 = (ta.inf & tb.zero) | (ta.zero & tb.inf)
    nan = Signal(name=f"{name}_nan")
    m.d.comb += [sig.eq(ta.sig * tb.sig), off.eq(ta.off + tb.off), nan.eq(ta.nan | tb.nan | inf0)]
    term = Term(sig=sig, off=off, sign=ta.sign ^ tb.sign, zero=(ta.zero | tb.zero) & ~nan,
                nan=nan, inf=(ta.inf | tb.inf) & ~nan, nv=ta.nv | tb.nv | inf0)
    return term, shape


def shift_left(value, amount, width):
    """``value << amount`` (``amount`` a signal) cut to ``width`` bits, as a barrel shifter of constant shifts
    (each stage a mux: no variable-shift operator, whose width Verilog's rules widen)."""
    x = value[:width] if len(value) >= width else value.as_unsigned()
    x = x if len(x) == width else Cat(x, Const(0, width - len(x)))
    for k in range(len(amount)):
        step = 1 << k
        x = Mux(amount[k], Cat(Const(0, min(step, width)), x[:max(width - step, 0)])[:width], x)
    return x


def place(term, shape, lsb, width):
    """``term`` as a ``signed(width)`` two's-complement word whose bit 0 weighs ``2**lsb`` (``lsb`` <= the
    term's own). The word must be wide enough for the term (the caller sizes it)."""
    up = shape.lsb - lsb
    assert up >= 0 and shape.msb - lsb < width, (shape, lsb, width)
    # the value's own position above the shape's lsb, then the shape's above the word's
    mag = shift_left(term.sig, term.off, width - 1)
    mag = Cat(Const(0, up), mag)[:width - 1] if up else mag
    return Mux(term.sign, -mag, mag).as_signed()[:width].as_signed()


#: The class bits a sum carries beside its fixed-point word: NaN seen, +inf seen, -inf seen, an invalid
#: operation seen (ORed), every term a -0, every term a +0 (ANDed: the sign of an exact zero, IEEE 754 6.3).
SPECIALS = ("nan", "pinf", "ninf", "nv", "negz", "posz")


def combine_specials(terms):
    """The :data:`SPECIALS` of a sum of ``terms``."""
    out = [Const(0), Const(0), Const(0), Const(0), Const(1), Const(1)]
    for t in terms:
        out = merge_specials(out, [t.nan, t.inf & ~t.sign, t.inf & t.sign, t.nv, t.zero & t.sign,
                                   t.zero & ~t.sign])
    return out


def merge_specials(x, y):
    """The :data:`SPECIALS` of the sum of two sums with specials ``x`` and ``y``."""
    return [p | q for p, q in zip(x[:4], y[:4])] + [p & q for p, q in zip(x[4:], y[4:])]
