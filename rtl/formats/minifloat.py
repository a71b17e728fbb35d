"""The round-and-pack component of IEEE-style floats (every ``golden.Minifloat``); their unpack is in
:mod:`.minifloat_unpack` (re-exported here)."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring

from fmtforge.golden import Minifloat
from fmtforge.golden.formats.rounding import check_tininess

from ..pipeline import NO_CUTS
from .minifloat_unpack import MinifloatUnpack, _check_minifloat
from .raw import raw_layout, signaling_nan
from .rounding import flags_word, round_increment, round_up_below, rounding_ports

__all__ = ["MinifloatUnpack", "MinifloatPack"]


class MinifloatPack(wiring.Component):
    """Raw form -> bits of a float, rounded by ``rounding`` with the format's overflow and NaN rules.

    Computes exactly what ``golden.Minifloat.encode_raw`` computes (bits and flags).

    Parameters
    ----------
    fmt : golden.Minifloat
        Destination format.
    shape : RawShape
        What the raw input holds.
    rounding : str
        One of golden.MODES.
    saturate : bool
    rand_bits : int
        Width of the ``rand`` port (stochastic rounding only).
    ftz : bool
        Flush to zero: a result that would be subnormal (after rounding) is +-0, raising UF and NX.
    tininess : str, ``after`` or ``before``
        UF's tininess rule (IEEE 754-2019 7.5, golden.rounding; docs/flags.md): after rounding, one more
        rounding decision beside the delivered one (:meth:`_tiny`), no second adder but with stochastic rounding.

    Ports
    -----
    i : In(raw_layout(shape))
    o : Out(fmt.width)
    flags : Out(5), with flags=True  -- NX, UF, OF, DZ (0), NV from bit 0 up (golden.rounding)
    rand : In(rand_bits)  -- stochastic rounding only
    """

    cuts = NO_CUTS

    def __init__(self, fmt, shape, *, rounding="rne", saturate=False, rand_bits=16, flags=True, ftz=False,
                 tininess="after"):
        self.fmt = _check_minifloat(fmt, "fmt")
        self.ftz = ftz
        self.tininess = check_tininess(tininess)
        self.shape = shape
        self.rounding = rounding
        self.saturate = saturate
        self.rand_bits = rand_bits
        if not fmt.subnormals:
            raise ValueError(f"{fmt.name}: destinations that flush subnormals (subnormals=False) are not generated")
        if not (shape.normalized or self.aligned(shape, fmt) or shape.unnorm_scale_max <= fmt.emin):
            raise ValueError(f"MinifloatPack({fmt.name}) needs a normalised raw input from {shape.fmt.name} "
                             "(put a Normalize between unpack and pack)")
        super().__init__(rounding_ports(raw_layout(shape), fmt.width, flags=flags, rounding=rounding,
                                         rand_bits=rand_bits))

    @staticmethod
    def aligned(shape, fmt):
        """Whether the raw exponent field is already ``fmt``'s: the magnitude's encoding then rounds as an
        integer (the encoding is monotonic in the value), with no rebias and no shifter."""
        src = shape.fmt
        return (isinstance(src, Minifloat) and shape.ieee_subnormals and src.exp_bits == fmt.exp_bits
                and src.bias == fmt.bias and src.subnormals == fmt.subnormals)

    @staticmethod
    def narrowing(shape, fmt, rounding_bits):
        """Whether the raw input is an IEEE-style float's own fields (exponent field unchanged, subnormals
        unnormalised) with more fraction bits than ``fmt`` (``rounding_bits`` of them and a sticky bit to
        spare) and an exponent field that reaches at least ``fmt.frac_bits + rounding_bits`` binades below
        ``fmt``'s smallest normal: every case is then decided from the source's exponent field against constants (see
        :mod:`.minifloat_narrow`)."""
        src = shape.fmt
        return (isinstance(src, Minifloat) and shape.ieee_subnormals and not src.explicit_integer
                and not fmt.explicit_integer and shape.exp_min == 0
                and shape.sig_width - 1 - fmt.frac_bits >= rounding_bits + 1
                and shape.bias + fmt.emin >= fmt.frac_bits + rounding_bits + 1)

    @property
    def levels(self):
        """Estimated logic levels, and the cut points (``(name, levels before it)``) where a pipelined unit
        may put registers: the narrowing path has two (after the classification of the input, before the
        rounding adder); the other paths none."""
        R = self.rand_bits if self.rounding == "stochastic" else 0
        if not self.aligned(self.shape, self.fmt) and self.narrowing(self.shape, self.fmt, max(R, 1)):
            return 9, [("classify", 3), ("round", 6)]
        return 8, []

    def elaborate(self, platform):
        if self.aligned(self.shape, self.fmt):
            return self._elaborate_aligned()
        R = self.rand_bits if self.rounding == "stochastic" else 0
        if self.narrowing(self.shape, self.fmt, max(R, 1)):
            from .minifloat_narrow import elaborate_narrow
            return elaborate_narrow(self)
        return self._elaborate_general()

    def _elaborate_general(self):
        """Any raw input: denormalise below the destination's smallest normal, round at a fixed position,
        and form the encoding {exponent field, fraction}, which the round-up increments across binades.

        The significand is first cut to the result's f+1 bits, the rounding bits below them and one sticky
        bit standing for everything lower (the bits below the rounding position never come back up), so the
        denormalising shifter is only f+3 bits wide (f+2+R with stochastic rounding)."""
        m = Module()
        fmt, shape, raw = self.fmt, self.shape, self.i
        f, emin = fmt.frac_bits, fmt.emin
        S = shape.sig_width
        R = self.rand_bits if self.rounding == "stochastic" else 0
        G = max(R, 1) + 1  # below the result: R rounding bits (or just the round bit), then one sticky bit
        if self._after() and not shape.normalized and shape.unnorm_scale_max >= emin:
            G += 1  # an unnormalised value in the binade below 2**emin: its p-th bit is one below the round bit
        P = S - 1 - f  # significand bits below the result's last bit when no denormalising shift is needed
        if P >= G:
            t = Cat(raw.sig[:P - G + 1] != 0, raw.sig[P - G + 1:])
        else:
            t = Cat(Const(0, G - P), raw.sig)
        W = f + 1 + G
        # the raw exponent against the one of the destination's smallest normal, c (no scale arithmetic)
        exp = Signal(shape.exp_shape)
        m.d.comb += exp.eq(Mux(raw.exp == 0, 1, raw.exp) if shape.ieee_subnormals else raw.exp)
        c = shape.bias + emin
        dmax = max(emin - shape.scale_min, 0)
        if dmax:
            d = Signal(range(W + 1))
            m.d.comb += d.eq(Mux(exp < c - W, W, Mux(exp < c, (c - exp).as_unsigned(), 0)))
            ts = Signal(W)
            lost = Signal()
            ones = Const((1 << W) - 1, W)
            m.d.comb += [ts.eq(t >> d), lost.eq((t & ~(ones << d)[:W]) != 0)]
        else:
            ts, lost = t, Const(0)
        kept = ts[G:]
        rbit = ts[G - 1]
        sticky = Signal()
        m.d.comb += sticky.eq((ts[:G - 1] != 0) | lost)
        frac_t = ts[G - R:G] if R else None
        # exponent field of the truncated result: above the smallest normal it is exp - c + 1 (the hidden
        # bit is then always set); at or below it, the hidden bit itself (1: the smallest normal, 0: subnormal)
        e_hi = max(shape.scale_max - emin + 1, 1)
        e_field = Signal(range(e_hi + 1))
        m.d.comb += e_field.eq(Mux(exp > c, (exp - (c - 1)).as_unsigned(), kept[f]))
        enc_w = e_hi.bit_length() + f + 1
        enc = Signal(enc_w)
        m.d.comb += enc.eq(Cat(kept[:f], e_field))
        inc = round_increment(m, self.rounding, sign=raw.sign, lsb=enc[0], rbit=rbit, sticky=sticky,
                              frac=frac_t, rand=getattr(self, "rand", None))
        rounded = Signal(enc_w)
        m.d.comb += rounded.eq((enc + inc)[:enc_w])
        tiny = self._tiny(m, below=enc < (1 << f), rounded=rounded, lsb=ts[G - 1],
                          low=Cat(lost, ts[:G - 1]), R=R)
        pb = shape.payload_bits
        self._assemble(m, rounded, rbit | sticky, payload=raw.sig[:pb] if pb else Const(0, 1),
                       payload_bits=pb, tiny=tiny)
        return m

    def _after(self):
        """Whether UF needs tininess after rounding (flags asked for, tininess ``after``)."""
        return self.tininess == "after" and hasattr(self, "flags")

    def _tiny(self, m, *, below, rounded, lsb, low, R):
        """UF's tininess of a finite result whose value is below 2**emin when ``below``. After rounding, not
        when it rounds up to 2**emin at precision p (only from the binade just below, where its p-th bit is
        ``lsb``, the delivered round bit, with ``low`` the bits below it, LSB first): with fraction bits, when
        the delivered rounding carries (``rounded[f]``: its grid is coarser, rounding monotonic), ``lsb`` is
        1 and ``low`` rounds up; with none (p = 1), when ``lsb`` (the leading one) is set and ``low`` rounds up
        from an even exponent field."""
        f = self.fmt.frac_bits
        below_s = Signal()
        m.d.comb += below_s.eq(below & ~(self.i.is_nan | self.i.is_inf | self.i.is_zero))
        if not self._after():
            return below_s
        up = round_up_below(m, self.rounding, sign=self.i.sign, low=low, odd=bool(f),
                            rand=getattr(self, "rand", None) if R else None)
        tiny = Signal()
        m.d.comb += tiny.eq(below_s & ~((rounded[f] if f else 1) & lsb & up))
        return tiny

    def _elaborate_aligned(self):
        m = Module()
        fmt, shape, raw = self.fmt, self.shape, self.i
        f_d, f_s = fmt.frac_bits, shape.sig_width - 1
        e_bits = fmt.exp_bits
        mag = Cat(raw.sig[:f_s], raw.exp.as_unsigned()[:e_bits])  # the source magnitude's encoding
        enc_w = e_bits + f_d + 1  # one spare bit: a carry out of the top exponent
        enc = Signal(enc_w)
        rbit = Signal()
        sticky = Signal()
        frac_t = Signal(self.rand_bits)  # the discarded fraction's top bits, for stochastic rounding
        low = Const(0, 1)  # below the round bit (for tininess after rounding)
        if f_d >= f_s:
            m.d.comb += enc.eq(mag << (f_d - f_s))
        else:
            sh = f_s - f_d
            m.d.comb += [
                enc.eq(mag[sh:]),
                rbit.eq(mag[sh - 1]),
                sticky.eq(mag[:sh - 1] != 0) if sh > 1 else sticky.eq(0),
            ]
            R = self.rand_bits
            m.d.comb += frac_t.eq(mag[max(sh - R, 0):sh] << max(R - sh, 0))
            if sh > 1:
                low = Cat(Const(0, 1), mag[:sh - 1])  # a 0 under the bits: the sticky beyond them

        inc = round_increment(m, self.rounding, sign=raw.sign, lsb=enc[0], rbit=rbit, sticky=sticky,
                              frac=frac_t, rand=getattr(self, "rand", None))
        rounded = Signal(enc_w)
        m.d.comb += rounded.eq((enc + inc)[:enc_w])
        # the source's exponent field 0: below 2**emin (the leading one, in the binade below, is rbit)
        tiny = self._tiny(m, below=raw.exp == 0, rounded=rounded, lsb=rbit, low=low,
                          R=self.rand_bits if self.rounding == "stochastic" else 0)
        flushed = None
        if self.ftz:
            # the source's exponent field is the result's: from field 0 the result is subnormal (flushed: no
            # fraction bits) or, carried into the exponent, the smallest normal (no fraction bits either)
            low = raw.exp == 0
            flushed = Signal()
            m.d.comb += flushed.eq(low & ~rounded[f_d] & (rounded[:f_d] != 0))
            masked = Signal(enc_w)
            m.d.comb += masked.eq(Cat(rounded[:f_d] & ~low.replicate(f_d), rounded[f_d:]))
            rounded = masked
        pb = shape.payload_bits  # as the general path: only IEEE-style sources carry a NaN payload
        self._assemble(m, rounded, rbit | sticky, payload=raw.sig[:pb] if pb else Const(0, 1), payload_bits=pb,
                       flushed=flushed, tiny=tiny)
        return m

    def _assemble(self, m, rounded, inexact, *, payload, payload_bits, over=None, tiny=None, flushed=None):
        """Overflow, specials and flags around a rounded magnitude encoding ``rounded``; ``over`` (a finite
        result above max), when given, replaces the compare on ``rounded``; ``tiny`` is UF's tininess
        (:meth:`_tiny`; default: the delivered result below the smallest normal); ``flushed`` (ftz: a
        subnormal result that ``rounded`` already holds as zero) replaces the flush here, which flushes the
        delivered subnormal results."""
        fmt, raw = self.fmt, self.i
        f = fmt.frac_bits
        max_enc = (fmt.max_biased << f) | fmt.max_frac
        all_e = (1 << fmt.exp_bits) - 1
        finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
        over = finite & (rounded > max_enc) if over is None else over
        sub = finite & (rounded < (1 << f))  # the delivered result: subnormal or zero
        tiny = sub if tiny is None else tiny
        toward_zero = {"rtz": Const(1), "rdn": ~raw.sign, "rup": raw.sign}.get(self.rounding, Const(0))
        to_max = Signal()
        m.d.comb += to_max.eq(over & (toward_zero | self.saturate | (fmt.specials == "none")))
        W = fmt.exp_bits + f  # the magnitude's encoding, without a stored integer bit
        sign = Signal()
        mag = Signal(W)
        nv = Signal()
        m.d.comb += [sign.eq(raw.sign), mag.eq(rounded)]
        if flushed is None and not self.ftz:
            flushed = Const(0)
        elif flushed is None:  # ftz: a nonzero subnormal result, made zero
            flushed = Signal()
            m.d.comb += [flushed.eq(sub & (rounded != 0)), mag.eq(Mux(flushed, 0, rounded))]
        ovf_special = over & ~to_max  # the format's own overflow value: inf or NaN

        if fmt.specials == "ieee":
            # NaN: the payload MSB-aligned and truncated (or zero-extended), quiet bit set.
            if payload_bits == 0:
                nan_frac = Const(0, f)
            elif payload_bits >= f:
                nan_frac = payload[payload_bits - f:]
            else:
                nan_frac = Cat(Const(0, f - payload_bits), payload)
            nan_mag = Cat(nan_frac | (1 << (f - 1)), Const(all_e, fmt.exp_bits))
            inf_mag = Const(all_e << f, W)
            inf_in_mag = Const(max_enc if self.saturate else all_e << f, W)
            with m.If(raw.is_nan):
                m.d.comb += mag.eq(nan_mag)
            with m.Elif(raw.is_inf):
                m.d.comb += mag.eq(inf_in_mag)
            with m.Elif(raw.is_zero):
                m.d.comb += mag.eq(0)
            with m.Elif(to_max):
                m.d.comb += mag.eq(max_enc)
            with m.Elif(ovf_special):
                m.d.comb += mag.eq(inf_mag)
        else:
            sat_inf = raw.is_inf if (self.saturate or fmt.specials == "none") else Const(0)
            nan_out = raw.is_nan | (raw.is_inf & ~sat_inf) | ovf_special
            if fmt.specials == "none":
                m.d.comb += nv.eq(raw.is_nan | raw.is_inf)
            else:
                m.d.comb += nv.eq(raw.is_inf & ~sat_inf)
            if fmt.specials == "fn":
                nan_mag, nan_sign = Const((1 << W) - 1, W), raw.sign
            elif fmt.specials == "fnuz":
                nan_mag, nan_sign = Const(0, W), Const(1)
            else:  # no NaN at all: +0
                nan_mag, nan_sign = Const(0, W), Const(0)
            with m.If(raw.is_nan if fmt.specials == "none" else nan_out):
                m.d.comb += [mag.eq(nan_mag), sign.eq(nan_sign)]
            with m.Elif(sat_inf | to_max):
                m.d.comb += mag.eq(max_enc)
            with m.Elif(raw.is_zero):
                m.d.comb += mag.eq(0)
            if fmt.specials == "fnuz":
                with m.If(~nan_out & (mag == 0)):
                    m.d.comb += sign.eq(0)  # no negative zero
        if fmt.explicit_integer:
            expf = mag[f:]
            m.d.comb += self.o.eq(Cat(mag[:f], expf != 0, expf, sign))
        else:
            m.d.comb += self.o.eq(Cat(mag, sign))
        if hasattr(self, "flags"):
            snan = signaling_nan(raw, self.shape)
            m.d.comb += self.flags.eq(flags_word(nx=(finite & inexact) | over | flushed,
                                                 uf=(tiny & inexact) | flushed, of=over,
                                                 nv=nv | snan))
        return m
