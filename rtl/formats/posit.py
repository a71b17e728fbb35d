"""Posit decoder (unpack) and encoder (round-and-pack), for any posit(n, es) of ``golden.Posit``."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Posit

from .raw import RawShape, raw_layout, scale_of, signaling_nan
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


class PositUnpack(wiring.Component):
    """Posit bits -> raw form: sign, NaR (as is_nan), zero, scale = k * 2**es + e, and the significand with the
    hidden bit explicit and the fraction left-aligned below it (``sig_width = max(n - 3 - es, 0) + 1``).

    The regime's run length is found by a leading-run count merged with the shifter that removes it:
    log2(n) stages, each shifting by a power of two when the top bits still all equal the run's bit.
    """

    def __init__(self, fmt):
        self.fmt = _check(fmt)
        self.shape = posit_shape(fmt)
        super().__init__({"i": In(fmt.n), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        n, es = self.fmt.n, self.fmt.es
        F = _frac_bits(self.fmt)
        x = self.i
        sign = x[-1]
        mag = Signal(n)
        m.d.comb += mag.eq(Mux(sign, -x, x))
        body = mag[:n - 1]
        r0 = body[-1]
        # shift the body left past its regime run: stages of 2**j while the top 2**j bits all equal r0
        b = body
        run_parts = []
        W = n - 1
        k = 1 << (W.bit_length() - 1)  # stages 2**j down to 1 sum to >= W: a run may fill the body
        while k >= 1:
            kk = min(k, W)
            same = Signal(name=f"run_{k}")
            m.d.comb += same.eq(b[W - kk:] == Mux(r0, (1 << kk) - 1, 0))
            run_parts.append((same, kk))
            b = Mux(same, b << kk, b)[:W]
            k //= 2
        total = sum(w for _, w in run_parts)
        run = Signal(range(total + 1))
        m.d.comb += run.eq(Cat(*[same for same, _ in reversed(run_parts)]) if all(
            w == 1 << j for j, (_, w) in enumerate(reversed(run_parts))) else sum(s * w for s, w in run_parts))
        if total > W:  # the stages can count past the body only when W is not 2**j - 1
            run_c = Signal(range(W + 1))
            m.d.comb += run_c.eq(Mux(run > W, W, run))
        else:
            run_c = run
        rest = (b << 1)[:W]  # drop the terminating bit
        # k = run - 1 for a run of ones, -run = ~(run - 1) for a run of zeros
        km1 = Signal(signed(max(W.bit_length(), 1) + 2))
        m.d.comb += km1.eq(run_c - 1)
        regime = Signal.like(km1)
        m.d.comb += regime.eq(Mux(r0, km1, ~km1))
        e = Cat(Const(0, es), rest)[W:] if es else Const(0, 0)  # exponent bits cut off at the end read 0
        frac = rest[W - es - F:W - es] if F else Const(0, 0)
        nar = x == (1 << (n - 1))
        zero = x == 0
        m.d.comb += [
            self.o.sign.eq(sign & ~nar),
            self.o.is_nan.eq(nar),
            self.o.is_zero.eq(zero),
            self.o.exp.eq(Cat(e, regime) if es else regime),  # k * 2**es + e, e < 2**es: no adder
            self.o.sig.eq(Cat(frac, Const(1, 1))),
        ]
        return m


class PositPack(wiring.Component):
    """Raw form (normalised) -> posit bits, rounded on the bit string as the 2022 standard says: ties to the
    even pattern; never to zero or NaR (below minpos: +-minpos; above maxpos: +-maxpos). NaN gives NaR; +-inf
    gives NaR (NV), or +-maxpos with ``saturate``; a signaling NaN raises NV. Equal to ``golden.Posit.encode_raw`` (bits and flags).

    The bit string is built as (regime bits, exponent, fraction) by one shift: the word
    ``[r, ~r, e, fraction]`` shifted right by the run length, filling with ``r`` (1 for k >= 0).
    """

    def __init__(self, fmt, shape, *, rounding="rne", saturate=False, rand_bits=16, flags=True):
        self.fmt = _check(fmt)
        if not shape.normalized:
            raise ValueError(f"PositPack({fmt.name}) needs a normalised raw input (put a Normalize first)")
        self.shape, self.rounding, self.saturate, self.rand_bits = shape, rounding, saturate, rand_bits
        super().__init__(rounding_ports(raw_layout(shape), fmt.n, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    def elaborate(self, platform):
        m = Module()
        fmt, shape, raw = self.fmt, self.shape, self.i
        n, es = fmt.n, fmt.es
        S = shape.sig_width
        max_scale = (n - 2) << es
        scale = scale_of(m, raw, shape)
        big = Signal()
        small = Signal()
        m.d.comb += [big.eq(scale >= max_scale), small.eq(scale < -max_scale)]
        # within range: k in [-(n-2), n-3], e in [0, 2**es)
        sc = Signal(signed(max(max_scale.bit_length() + 2, len(scale))))
        m.d.comb += sc.eq(Mux(big, max_scale - 1, Mux(small, -max_scale, scale)))
        k = sc >> es  # arithmetic: floor
        e = sc[:es] if es else Const(0, 0)
        r = ~sc[-1]  # k >= 0
        run = Signal(range(n))  # regime bits before the terminator, less one: shift amount
        m.d.comb += run.eq(Mux(r, k, -k - 1))
        R = self.rand_bits if self.rounding == "stochastic" else 0
        frac = raw.sig[:S - 1]
        # word: r, ~r, e, fraction, then n + R zero bits so that nothing falls off the end
        pad = n + R
        word = Cat(Const(0, pad), frac, e, ~r, r)
        W = len(word)
        shifted = Signal(W)
        fill = Signal(W)
        ones = Const((1 << W) - 1, W)
        m.d.comb += [fill.eq(Mux(r, ~(ones >> run), 0)), shifted.eq((word >> run) | fill)]
        # body: the n-1 bits after the sign, taken from the top of the word
        body = shifted[W - (n - 1):]
        rbit = shifted[W - n]
        rest = shifted[:W - n]
        sticky = Signal()
        m.d.comb += sticky.eq(rest != 0)
        frac_t = shifted[W - n - R + 1:W - n + 1] if R else None  # the top R discarded bits, round bit first
        inc = round_increment(m, self.rounding, sign=raw.sign, lsb=body[0], rbit=rbit, sticky=sticky,
                              frac=frac_t, rand=getattr(self, "rand", None))
        mag = Signal(n - 1)
        maxpos = (1 << (n - 1)) - 1
        with m.If(big):
            m.d.comb += mag.eq(maxpos)
        with m.Elif(small):
            m.d.comb += mag.eq(1)
        with m.Else():
            m.d.comb += mag.eq(body + inc)
        finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
        o = Signal(n)
        nar = Const(1 << (n - 1), n)
        with m.If(raw.is_nan | (raw.is_inf & (not self.saturate))):
            m.d.comb += o.eq(nar)
        with m.Elif(raw.is_zero):
            m.d.comb += o.eq(0)
        with m.Else():
            mag_any = Mux(raw.is_inf, maxpos, mag)
            m.d.comb += o.eq(Mux(raw.sign, -Cat(mag_any, Const(0, 1)), Cat(mag_any, Const(0, 1))))
        m.d.comb += self.o.eq(o)
        if hasattr(self, "flags"):
            exact_max = Signal()
            m.d.comb += exact_max.eq((scale == max_scale) & (raw.sig[:S - 1] == 0))
            inexact = Mux(big, ~exact_max, Mux(small, 1, rbit | sticky))
            m.d.comb += self.flags.eq(flags_word(nx=finite & inexact, uf=0, of=0,
                                                 nv=raw.is_inf | signaling_nan(raw, shape)))
        return m
