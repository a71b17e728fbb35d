"""The quire: a two's-complement fixed-point accumulator that holds sums of posit products exactly, the
placement of a product (or a posit) at its absolute position in it, and the rounding of a quire into a posit.

A posit(n, es) value is a multiple of minpos = 2**-ms (ms = (n - 2) * 2**es, its largest scale), so a product
of two is a multiple of 2**-2ms and at most maxpos**2 = 2**2ms in magnitude. A quire whose least significant
bit weighs ``2**lo`` (lo = -2ms, lower when an addend of a wider posit joins the sum) holds every such sum as an
integer; its width follows from the largest sum it must hold (:func:`quire_bits`).
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Posit
from fmtforge.golden.validate import check_choice, check_int

from ..formats.posit import PositPack, _leading_zeros
from ..formats.raw import RawShape
from ..pipeline import NO_CUTS

__all__ = ["QUIRES", "SEGMENT", "STANDARD_TERMS", "QuireGeometry", "QuireRound", "place", "quire_geometry", "segments"]

#: The quire sizes: ``standard`` (the Posit Standard 2022: 16n bits for es = 2, exact for 2**31 - 1 products)
#: or ``exact`` (the narrowest two's-complement width exact for ``max_terms`` products).
QUIRES = ("standard", "exact")
#: Products the standard's quire sums exactly (its 31 carry-guard bits).
STANDARD_TERMS = (1 << 31) - 1


def max_scale(fmt):
    """The largest scale of posit ``fmt``: maxpos = 2**max_scale, minpos = 2**-max_scale."""
    return (fmt.n - 2) << fmt.es


@dataclass(frozen=True)
class QuireGeometry:
    """Where a quire sits: bit ``i`` weighs ``2**(lo + i)``, ``width`` bits of two's complement; ``terms``
    products (of two posit(n, es)) plus the addend (when there is one) sum exactly in it."""

    lo: int
    width: int
    terms: int

    @property
    def hi(self):
        """The weight of the sign bit: the quire holds values in ``[-2**hi, 2**hi)``, steps of ``2**lo``."""
        return self.lo + self.width - 1


def quire_geometry(fmt, out_fmt=None, *, quire="standard", max_terms=STANDARD_TERMS, addend=False):
    """The quire of dot products of posit ``fmt`` pairs (plus, with ``addend``, one posit ``out_fmt``).

    Its least significant bit weighs ``2**lo``, ``lo = -2 ms`` (``ms`` = :func:`max_scale` of ``fmt``), or
    ``-ms_out`` when an addend's minpos lies lower. Its width is the smallest that holds ``+-M`` as a
    two's-complement integer of steps ``2**lo``, ``M = T * 2**(2 ms) (+ 2**ms_out with an addend)``: ``width =
    bit_length(M / 2**lo) + 1``, with ``T = 2**31 - 1`` for the ``standard`` quire (4 ms + 32 bits without an
    addend: 16n for es = 2, the 2022 standard's sign, 31 carry-guard bits and 16(n - 2) bits spanning minpos**2
    .. maxpos**2) and ``T = max_terms`` for ``exact`` (4 ms + bit_length(max_terms) + 1 bits).
    """
    quire = check_choice("quire", quire, QUIRES)
    terms = STANDARD_TERMS if quire == "standard" else check_int("max_terms", max_terms, 1, STANDARD_TERMS)
    ms = max_scale(fmt)
    lo = -2 * ms
    top = terms << (2 * ms - lo)
    if addend:
        ms_out = max_scale(out_fmt)
        lo = min(lo, -ms_out)
        top = (terms << (2 * ms - lo)) + (1 << (ms_out - lo))
    return QuireGeometry(lo=lo, width=top.bit_length() + 1, terms=terms)


#: The longest carry chain of the quire's adders: wider quires are cut into segments (:func:`segments`).
SEGMENT = 64


def segments(width, longest=SEGMENT):
    """``[(lo, hi)]``: a ``width``-bit word cut into the fewest segments of at most ``longest`` bits, as equal
    as can be, least significant first."""
    G = -(-width // longest)
    S = -(-width // G)
    return [(a, min(a + S, width)) for a in range(0, width, S)]


def _frac_bits(fmt):
    return max(fmt.n - 3 - fmt.es, 0)


def place(m, value, shift, drop, width, name):
    """``value`` (signed) times ``2**shift`` (``shift`` unsigned), then its low ``drop`` bits removed (``drop``
    < 0: ``-drop`` zero bits put below), as a ``width``-bit two's-complement word (modulo ``2**width``).

    A left shifter in stages of 1, 2, 4 ... whose words grow only as far as the shift so far can reach and
    stop at the quire's top, so a narrow product costs what its reach costs, not ``width`` bits per stage.
    The bits removed must be zero: a posit product's least significant set bit never lies below the quire's.
    """
    top = width + drop  # bits of the shifted value that reach the quire
    cur = value
    for j in range(len(shift)):
        if j == len(shift) - 1:  # the last step straight into the output (a named word would be half unread)
            cur = Mux(shift[j], cur << (1 << j), cur)[:top].as_signed()
            break
        w = min(len(cur) + (1 << j), top)
        nxt = Signal(signed(w), name=f"{name}_shl{j}")
        m.d.comb += nxt.eq(Mux(shift[j], cur << (1 << j), cur))
        cur = nxt
    out = Signal(signed(width), name=name)
    if drop >= 0:
        m.d.comb += out.eq(cur[drop:].as_signed() if len(cur) > drop else 0)
    else:
        m.d.comb += out.eq(Cat(Const(0, -drop), cur).as_signed())
    return out


def posit_place(m, raw, fmt, lo, width, name):
    """The posit ``raw`` (an unpacked posit of ``fmt``: ``sig`` with the hidden bit on top, ``exp`` = scale)
    at its absolute position in a quire (``lo``, ``width``), two's complement; zero and NaR give 0."""
    F = _frac_bits(fmt)
    ms = max_scale(fmt)
    sig = Mux(raw.is_zero | raw.is_nan, 0, raw.sig)
    v = Signal(signed(F + 3), name=f"{name}_v")
    m.d.comb += v.eq(Mux(raw.sign, -sig, sig))
    sh = Signal(range(2 * ms + 1), name=f"{name}_sh")
    m.d.comb += sh.eq(raw.exp + ms)
    # the value's bit 0 weighs 2**(scale - F), scale = sh - ms: quire index = shifted index - (ms + F + lo)
    return place(m, v, sh, ms + F + lo, width, name)


class QuireRound(wiring.Component):
    """A quire (two's complement, bit 0 weighing ``2**lo``) -> posit ``fmt`` (``o``), rounded once through
    :class:`fmtforge.rtl.formats.posit.PositPack` (to nearest, ties to the even pattern, never to zero or NaR);
    ``nar`` gives NaR.

    No negation of the whole quire. The first bit from the top that differs from the sign bit is found by a
    leading-zero count; a window of ``T`` bits ending one bit above it is ``floor(q / 2**p)`` exactly (``p``
    its lowest bit's index). For q < 0 with ``r`` = the bit below the window and ``z`` = whether every bit
    below it is zero, ``|q| = (~window + (r == 0 and z)) * 2**p + (2**p - low)``: the magnitude's window is
    ``window ^ s`` plus one increment, its round bit ``r ^ (s & ~z)`` and its sticky bit ``~z`` -- the bits
    below ``p`` hold ``2**p - low``. ``z`` compares the trailing-zero count with ``p``. The magnitude's leading
    one is then at the window's top bit or the one below (a one-bit normalisation).
    """

    cuts = NO_CUTS

    def __init__(self, fmt, *, lo, width):
        if not isinstance(fmt, Posit):
            raise TypeError(f"fmt must be a golden.Posit, not {fmt!r}")
        self.fmt, self.lo, self.width = fmt, lo, width
        # window bits: the hidden bit, every fraction bit the pack can keep and one more, so that after the
        # one-bit normalisation the round bit below the window is still at or below the pack's round position
        # and the sticky bit below it
        self.T = _frac_bits(fmt) + 2
        self.shape = RawShape(sig_width=self.T + 2, exp_min=lo - 1, exp_max=lo + width - 1, bias=0, fmt=fmt)
        self._pack = PositPack(fmt, self.shape, flags=False)
        super().__init__({"q": In(width), "nar": In(1), "o": Out(fmt.n)})

    @property
    def points(self):
        """Cut points in path order, ``(name, estimated levels before it)``: after the counts, after the
        window shift, then the pack's own."""
        L = (self.width + self.T).bit_length()
        total, pack = self._pack.levels
        return ([("counts", L + 1), ("window", 2 * L + 1)]
                + [(f"pack_{k}", 2 * L + 4 + lv) for k, lv in pack]), 2 * L + 4 + total

    def set_cuts(self, cuts):
        """Registers at the chosen cut points (a :class:`fmtforge.rtl.pipeline.Cuts`), here and in the pack."""
        self.cuts = cuts
        from ..pipeline import Cuts
        self._pack.cuts = Cuts({p[5:] for p in cuts.points if p.startswith("pack_")}, cuts.en,
                               registered=cuts.registered)

    def elaborate(self, platform):
        m = Module()
        W, T = self.width, self.T
        q = self.q
        s = q[W - 1]
        # q * 2**T: the window then never reaches below bit 0 (q = -1 has its magnitude's one at weight lo)
        qx = Cat(Const(0, T), q)
        X = W + T
        P = 1 << (X - 1).bit_length()
        diff = [qx[i] ^ s for i in reversed(range(X - 1))] + [Const(1, 1)] * (P - (X - 1))
        lz_bits, zeros = _leading_zeros(m, diff)
        lz = Signal(len(lz_bits), name="lz")
        m.d.comb += lz.eq(Cat(*lz_bits))
        zero = Signal(name="q_zero")
        m.d.comb += zero.eq(~s & zeros(X - 1))
        # trailing zeros of q (all of them for q = 0, which is flagged apart)
        Pq = 1 << max(W - 1, 1).bit_length()
        tz_bits, _ = _leading_zeros(m, [q[i] for i in range(W)] + [Const(1, 1)] * (Pq - W))
        tz = Signal(len(tz_bits), name="tz")
        m.d.comb += tz.eq(Cat(*tz_bits))
        live = lambda point, *v: self.cuts.at(m, point, *v)  # noqa: E731
        qx, lz, tz, s, zero, nar = live("counts", qx, lz, tz, s, zero, self.nar)
        # the window's lowest bit p = W - lz (1 <= p <= W for q != 0); bits below p - 1 nonzero: tz + T < p - 1
        below = Signal(name="below_nonzero")
        m.d.comb += below.eq(tz + lz + T + 1 < W)
        # left shift by lz keeping the top T + 1 bits (window and round bit): the largest step first, each
        # stage keeping only the bits the remaining steps can still bring to the top
        keep = T + 1
        cur = qx
        for j in reversed(range(len(lz))):
            step = 1 << j
            w = min(len(cur), keep + step - 1)
            nxt = Signal(w, name=f"win_shl{j}")
            shifted = Cat(Const(0, step), cur)[len(cur) - w:len(cur)]  # cur's bits [len - w - step, len - step)
            m.d.comb += nxt.eq(Mux(lz[j], shifted, cur[len(cur) - w:]))
            cur = nxt
        window, rq = cur[1:keep], cur[0]
        window, rq, below, lz, s, zero, nar = live("window", window, rq, below, lz, s, zero, nar)
        z = ~rq & ~below
        mag = Signal(T, name="mag")
        m.d.comb += mag.eq((window ^ Cat(*[s] * T)) + (s & z))
        rbit = rq ^ (s & below)
        top = mag[T - 1]
        sig = Mux(top, Cat(below, rbit, mag), Cat(Const(0, 1), below, rbit, mag[:T - 1]))
        raw = self._pack.i
        m.submodules.pack = self._pack
        m.d.comb += [
            raw.sig.eq(sig),
            raw.exp.eq(self.lo + W - 1 - lz - ~top),
            raw.sign.eq(s),
            raw.is_zero.eq(zero),
            raw.is_inf.eq(0),
            raw.is_nan.eq(nar),
            self.o.eq(self._pack.o),
        ]
        return m
