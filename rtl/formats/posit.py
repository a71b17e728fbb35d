"""Posit decoder (unpack) and encoder (round-and-pack), for any posit(n, es) of ``golden.Posit``."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Posit

from ..pipeline import NO_CUTS

from .raw import RawShape, raw_layout, signaling_nan
from .rounding import flags_word, round_increment, rounding_ports

__all__ = ["PositUnpack", "PositPack", "posit_shape"]


def _check(fmt):
    if not isinstance(fmt, Posit):
        raise TypeError(f"fmt must be a golden.Posit, not {fmt!r}")
    return fmt


def _frac_bits(fmt):
    """Most fraction bits a posit(n, es) carries (a regime of two bits)."""
    return max(fmt.n - 3 - fmt.es, 0)


def posit_shape(fmt):
    """The raw shape a posit decodes to: scales from -(n-2)*2**es to (n-2)*2**es, normalised."""
    n, es = fmt.n, fmt.es
    return RawShape(sig_width=_frac_bits(fmt) + 1, exp_min=-(n - 2) << es, exp_max=(n - 2) << es, bias=0, fmt=fmt)


def _leading_zeros(m, bits):
    """The leading-zero count of ``bits`` (a list, most significant first, a power of two long, not all zero)
    as a list of signals, least significant first, by a tree of (all zero, count) pairs, log2 levels deep;
    and ``zeros(w)``: whether the first ``w`` bits are all zero (from the tree's nodes)."""
    nodes = {}

    def tree(lo, size):
        if size == 1:
            z, count = ~bits[lo], []
        else:
            zh, ch = tree(lo, size // 2)
            zl, cl = tree(lo + size // 2, size // 2)
            z = Signal(name=f"lz_zero_{lo}_{size}")
            m.d.comb += z.eq(zh & zl)
            count = [Mux(zh, b, a) for a, b in zip(ch, cl)] + [zh]
        nodes[lo, size] = z
        return z, count

    def zeros(w):  # w = the sum of its binary digits: aligned nodes from the top
        parts, lo = [], 0
        for j in reversed(range(w.bit_length())):
            if w >> j & 1:
                parts.append(nodes[lo, 1 << j])
                lo += 1 << j
        return Cat(*parts).all()

    return tree(0, len(bits))[1], zeros


class PositUnpack(wiring.Component):
    """Posit bits -> raw form: sign, NaR (as is_nan), zero, scale = k * 2**es + e, and the significand with the
    hidden bit explicit and the fraction left-aligned below it (``sig_width = max(n - 3 - es, 0) + 1``).

    No two's complement in front. The regime's run is the same in a pattern and in its negation's one's
    complement, so the run (of the bits after the first body bit equal to it) is counted on the pattern as it
    is, by a leading-run count merged with the shifter that removes it (log2(n) stages, each shifting by a power
    of two when the top bits still all equal the run's bit). A negative pattern ``x`` is ``-(~x + 1)``: its
    fields (exponent, fraction, zero-padded) after the regime, complemented and incremented, carry into the
    regime; so one incrementer over ``[fields ^ s, regime of ~x]`` gives the exponent, the fraction and the
    scale's carry of a negative posit at once.
    """

    cuts = NO_CUTS

    def __init__(self, fmt):
        self.fmt = _check(fmt)
        self.shape = posit_shape(fmt)
        super().__init__({"i": In(fmt.n), "o": Out(raw_layout(self.shape))})

    @property
    def levels(self):
        """Estimated logic levels, and the cut points (``(name, levels before it)``) where a pipelined unit
        may put registers: after the leading-run count, halfway through the shifter, after the shifter."""
        L = (self.fmt.n - 2).bit_length()  # the incrementer and its XORs: about 4 levels
        return L + 1 + L + 4, [("count", L + 1), ("shift_half", L + 1 + (L + 1) // 2), ("shift", 2 * L + 1)]

    def elaborate(self, platform):
        m = Module()
        n, es = self.fmt.n, self.fmt.es
        F = _frac_bits(self.fmt)
        x = self.i
        s = x[-1]
        r = x[n - 2]  # the first regime bit (of the pattern as it is)
        W = n - 2  # the bits after it
        # leading-run count: a tree over the bits that differ from r (padded with one such bit, so that the
        # count stops at W), then the shifter that removes the run, its largest step first
        P = 1 << W.bit_length()
        diff = [x[j] ^ r for j in reversed(range(W))] + [Const(1, 1)] * (P - W)
        count, zeros = _leading_zeros(m, diff)
        run = Cat(*count)
        body_zero = ~r & zeros(W)  # the pattern is 0 or NaR: all bits after the sign are zero
        # What follows the run's terminating bit: shifting the W bits left by the run and dropping the top one
        # (the terminator) is shifting the W - 1 bits below it.
        b = x[:W - 1] if W > 1 else Const(0, 0)
        live = lambda point, *v: self.cuts.at(m, point, *v)  # noqa: E731
        b, run, r, s, body_zero = live("count", b, run, r, s, body_zero)
        for idx, j in enumerate(reversed(range(len(run)))):
            if idx == (len(run) + 1) // 2:
                b, run, r, s, body_zero = live("shift_half", b, run, r, s, body_zero)
            if W > 1:
                b = Mux(run[j], b << (1 << j), b)[:W - 1]
        b, run, r, s, body_zero = live("shift", b, run, r, s, body_zero)
        rest = b  # zeros padded below
        Wr = max(W - 1, es)
        if Wr > len(rest):
            rest = Cat(Const(0, Wr - len(rest)), rest)
        rk = r ^ s  # the regime's bit of |x| (of ~x for a negative pattern)
        L = len(run)
        regime = Signal(signed(L + 1))
        m.d.comb += regime.eq(Cat(run ^ Cat(*[~rk] * L), ~rk))  # run, or ~run = -run - 1
        fields = Signal(Wr + len(regime))
        m.d.comb += fields.eq(Cat(rest ^ Cat(*[s] * Wr), regime) + s)  # [e, fraction] above, k * 2**es + e
        nar = Signal()
        zero = Signal()
        m.d.comb += [nar.eq(s & body_zero), zero.eq(~s & body_zero)]
        m.d.comb += [
            self.o.sign.eq(s & ~nar),
            self.o.is_nan.eq(nar),
            self.o.is_zero.eq(zero),
            self.o.exp.eq(fields[F:]),
            self.o.sig.eq(Cat(fields[:F], Const(1, 1))),
        ]
        return m


class PositPack(wiring.Component):
    """Raw form -> posit bits, rounded on the bit string as the 2022 standard says: ties to the even pattern;
    never to zero or NaR (below minpos: +-minpos; above maxpos: +-maxpos). NaN gives NaR; +-inf gives NaR (NV),
    or +-maxpos with ``saturate``; a signaling NaN raises NV. Equal to ``golden.Posit.encode_raw`` (bits and
    flags).

    The body (the n - 1 bits after the sign) is the word ``[r, ~r, e, fraction]`` (r = 1 for k >= 0) shifted
    right arithmetically by the run length (k, or -k - 1 = k ^ sign(k): no adder), its shifter stages ORing the
    bits they drop into the sticky bit; the fraction is cut to the bits that can reach the body and the round
    position first, the rest ORed into the sticky bit once. Out of range, the shift is n - 2 with the word
    [1, 0...] (the body all ones: maxpos) or [0, 1, 0...] (the body zero), and the increment is forced:
    minpos is zero plus one. One incrementer then rounds and negates: ``-(body + inc)`` is
    ``(body ^ s) + (s ^ inc)``, and NaR is the pattern of maxpos so treated with both set.

    Accepts unnormalised significands below its smallest scale (they all give minpos): an fp32 source needs no
    normaliser in front of posit8/16/32 (see :meth:`accepts`).
    """

    cuts = NO_CUTS

    def __init__(self, fmt, shape, *, rounding="rne", saturate=False, rand_bits=16, flags=True):
        self.fmt = _check(fmt)
        if not self.accepts(shape, fmt):
            raise ValueError(f"PositPack({fmt.name}) needs a normalised raw input (put a Normalize first)")
        self.shape, self.rounding, self.saturate, self.rand_bits = shape, rounding, saturate, rand_bits
        super().__init__(rounding_ports(raw_layout(shape), fmt.n, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    @staticmethod
    def accepts(shape, fmt):
        """Whether a raw value of ``shape`` can go straight into the pack of ``fmt``: normalised, or
        unnormalised only at scales below minpos's (where every nonzero value gives minpos)."""
        return shape.normalized or shape.unnorm_scale_max < -((fmt.n - 2) << fmt.es)

    @property
    def levels(self):
        """Estimated logic levels, and the cut points (``(name, levels before it)``) where a pipelined unit
        may put registers: before the shifter, halfway through it, after it (before the rounding)."""
        L = max((self.fmt.n - 2).bit_length(), 1)
        return 3 + L + 4, [("align", 3), ("shift_half", 3 + (L + 1) // 2), ("shift", 3 + L)]

    def elaborate(self, platform):
        m = Module()
        fmt, shape, raw = self.fmt, self.shape, self.i
        n, es = fmt.n, fmt.es
        S = shape.sig_width
        B = n - 1  # body bits
        max_scale = (n - 2) << es
        R = self.rand_bits if self.rounding == "stochastic" else 0
        G = max(R, 1)  # discarded bits kept explicit: the round bit (stochastic: the top R)
        # The scale is exp - bias: an IEEE subnormal's exponent field 0 (scale 1 - bias) lies below minpos
        # as 0 - bias does (accepts()), so no subnormal rule is needed.
        exp = raw.exp
        big = Signal()
        small = Signal()
        m.d.comb += [big.eq(exp >= max_scale + shape.bias), small.eq(exp < shape.bias - max_scale)]
        nar_out = raw.is_nan | (raw.is_inf & (not self.saturate))
        hi = Signal()
        clamp = Signal()
        # (a zero's exponent field is whatever its source left there: an integer's normaliser may leave it
        # above the range)
        m.d.comb += [hi.eq((big & ~raw.is_zero) | raw.is_nan | raw.is_inf), clamp.eq(hi | small | raw.is_zero)]
        rl = max((n - 2).bit_length(), 1)
        # wide enough for exp - bias, and for k below to have rl bits besides its sign: a narrow source's
        # scale (fp4, 8-bit posits) sign-extends into the whole run count
        sc = Signal(signed(max(len(exp), shape.bias.bit_length() + 1, es + rl) + 1))
        m.d.comb += sc.eq(exp - shape.bias)
        k = sc[es:]  # floor(scale / 2**es), signed
        run = Signal(rl)
        m.d.comb += run.eq(Mux(clamp, n - 2, k[:rl] ^ Cat(*[k[-1]] * rl)))  # k, or ~k = -k - 1 for k < 0
        r = Mux(clamp, hi, ~k[-1])
        keep = ~clamp
        frac = raw.sig[:S - 1]
        e = sc[:es] if es else Const(0, 0)
        full = Cat(frac, e)  # below the regime's two bits
        Ww = B + G
        if len(full) + 2 >= Ww:
            cut = len(full) + 2 - Ww
            sticky0 = full[:cut] != 0 if cut else Const(0, 1)
            low = full[cut:]
        else:
            sticky0 = Const(0, 1)
            low = Cat(Const(0, Ww - 2 - len(full)), full)
        word = Cat(low & Cat(*[keep] * len(low)), ~r, r)
        # what the rounding and the flags need besides the word: [sign, NaR out, clamp, hi, zero, inexact when
        # out of range (flags), the rounding's rand]
        flags = hasattr(self, "flags")
        side = Cat(raw.sign, nar_out, clamp, hi, raw.is_zero)
        if flags:
            finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
            exact_max = (exp == max_scale + shape.bias) & (frac == 0)
            side = Cat(side, finite, big | small, Mux(big, ~exact_max, 1), raw.is_inf | signaling_nan(raw, shape))
        rand = getattr(self, "rand", None)
        live = lambda point, *v: self.cuts.at(m, point, *v)  # noqa: E731
        word, run, dropped, side = live("align", word, run, sticky0, side)
        if rand is not None:
            (rand,) = live("align", rand)
        for j in range(rl):  # arithmetic right shift by run, smallest step first, dropped bits into sticky
            if j == (rl + 1) // 2:
                word, run, dropped, side = live("shift_half", word, run, dropped, side)
                if rand is not None:
                    (rand,) = live("shift_half", rand)
            a = 1 << j
            # each step a named signal: an expression tree would repeat the previous steps (exponential size)
            d_j, w_j = Signal(name=f"shift_dropped{j}"), Signal(len(word), name=f"shift_word{j}")
            m.d.comb += [d_j.eq(dropped | (run[j] & (word[:a] != 0))),
                         w_j.eq(Mux(run[j], Cat(word[a:], *[word[-1]] * a), word))]
            dropped, word = d_j, w_j
        word, dropped, side = live("shift", word, dropped, side)
        if rand is not None:
            (rand,) = live("shift", rand)
        sign, nar_out, clamp, hi, is_zero = side[:5]
        body = word[G:]
        rbit = word[G - 1]
        sticky = Signal()
        m.d.comb += sticky.eq((word[:G - 1] != 0) | dropped if G > 1 else dropped)
        inc = round_increment(m, self.rounding, sign=sign, lsb=body[0], rbit=rbit, sticky=sticky,
                              frac=word[:G] if R else None, rand=rand)
        s = Signal()
        inc_c = Signal()
        m.d.comb += [s.eq(sign | nar_out), inc_c.eq(Mux(clamp, Mux(hi, nar_out, ~is_zero), inc))]
        m.d.comb += self.o.eq(Cat(body ^ Cat(*[s] * B), s) + (s ^ inc_c))  # [body, 0] ^ s, plus s ^ inc
        if flags:
            finite, out_of_range, inexact_out, nv = side[5:9]
            inexact = Mux(out_of_range, inexact_out, rbit | sticky)
            m.d.comb += self.flags.eq(flags_word(nx=finite & inexact, uf=0, of=0, nv=nv))
        return m
