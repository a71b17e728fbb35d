"""A multi-cycle requantizer: the 32x31 multiply by ``M0`` done ``d`` bits of ``M0`` per cycle over ``cycles``
cycles, bit for bit as ``golden.quant.requantize`` (``overflow="wrap"``), a small stand-in for
:class:`fmtforge.rtl.units.requant.Requantize` when results are needed at most once every ``cycles`` cycles
(a dot product of ``K >= cycles * lanes``).

The multiply runs least significant digit first: ``acc <- (acc + x * digit) >> d``, ``digit`` the next ``d``
bits of ``M0 << pad`` (``d = ceil(31 / cycles)``, ``pad = d * cycles - 31``). After ``cycles`` steps ``acc`` is
``floor((acc0 + x * M0 * 2**pad) / 2**(d * cycles)) = floor((acc0 / 2**pad + x * M0) / 2**31)`` exactly, and the
digits shifted out are the product's low bits:

- ``"gemmlowp"``: ``x = wrap32(acc << max(shift, 0))`` and ``acc0 = 2**(30 + pad)``, the nudge of
  SaturatingRoundingDoublingHighMul: the last step gives ``floor((x * M0 + 2**30) / 2**31)`` (SRDHM's
  ``INT32_MIN * INT32_MIN`` case needs ``M0 = -2**31``, impossible here). RoundingDivideByPOT by
  ``e = max(-shift, 0)`` is then ``(y >> e) + bump`` with the round bit ``y[e - 1]`` and the sticky OR of the
  bits below it: ``bump = round & (sticky | y >= 0)`` (ties away from zero).
- ``"single"``: ``x = acc``, ``acc0 = 0``; the low digits are kept, so the whole product ``P = x * M0`` is
  known, and ``wrap32((P + 2**(k - 1)) >> k)`` with ``k = 31 - shift`` is ``wrap32((t >> 1) + t[0])`` for
  ``t = P >> (k - 1)``.

Stages: ``M`` (the multiply, ``cycles`` cycles, the last step written straight into ``P1``), ``P1`` (the
high word, with the low bits in single mode), ``P2`` (the right shift and rounding bit), ``P3`` (saturation to
a few bits more than the result), ``P4`` (plus the rounding bit), ``P5`` (the zero point added, and the
comparisons with the clamp's bounds), ``O`` (the clamp's choice: the output register). Each stage is at most
one short carry chain and a few LUTs, for the ECP5 at 150 MHz. Latency from an accumulator's valid on ``i``
to its result's on ``o``: ``cycles + 6`` (the pipelined Requantize: 5).
One accumulator is accepted every ``cycles`` cycles at most: ``i.ready = ~busy | (last step & advance)``,
where ``advance = ~o.valid | o.ready`` moves ``P1`` .. ``P5`` and ``O`` together.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden.validate import check_choice, check_int

from ..gates import ge_const
from .requant import MODES, _shift, int_shape, requant_layout, requant_name

__all__ = ["SeqRequantize", "digit_bits"]


def digit_bits(cycles):
    """Bits of ``M0`` multiplied per cycle: ``ceil(31 / cycles)``."""
    return -(-31 // cycles)


def _right_window(value, amount, width):
    """The low ``width`` bits of ``value >> amount`` (arithmetic for a signed ``value``; ``amount`` unsigned),
    as a log shifter whose levels, largest first, keep only the bits the later levels can still reach."""
    is_signed = value.shape().signed
    for k in reversed(range(len(amount))):
        n = 1 << k
        keep = min(len(value), width + n - 1)  # what the levels below k (shifts < n) still need
        value = Mux(amount[k], value >> n, value)[:keep]  # both operands of one signedness: extended alike
        if is_signed:
            value = value.as_signed()
    return value[:width]


class SeqRequantize(wiring.Component):
    """:class:`fmtforge.rtl.units.requant.Requantize`'s ports and results, ``cycles`` (2..32) cycles per
    accumulator instead of one; see the module docstring for the algorithm, the stages and the handshake.

    Ports as :class:`Requantize`: ``i`` (payload ``acc``, ``m0``, ``shift``, ``zero_point``, ``qmin``, ``qmax``,
    :func:`requant_layout`), ``o`` (the result). Latency ``cycles + 6`` from an accumulator's valid on ``i``
    (the requantizer idle) to its result's valid on ``o``: the edge that takes it, ``cycles - 1`` multiply steps, the last step into ``P1``, then ``P2``,
    ``P3``, ``P4``, ``P5``, ``O``. ``i.ready`` depends
    combinationally on ``o.ready`` (only on the last cycle of a multiply).
    """

    def __init__(self, *, cycles, acc_bits=32, out_type="int8", mode="gemmlowp"):
        self.cycles = check_int("cycles", cycles, 2, 32)
        self.acc_bits = check_int("acc_bits", acc_bits, 16, 32)
        self.out_type, self.out_shape = out_type, int_shape(out_type)
        self.mode = check_choice("mode", mode, MODES)
        self.d = digit_bits(cycles)
        self.pad = self.d * cycles - 31
        self.in_layout = requant_layout(acc_bits, out_type)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_shape))})

    @property
    def name(self):
        return requant_name(self.acc_bits, self.out_type, self.mode) + f"_c{self.cycles}"

    def elaborate(self, platform):
        m = Module()
        d, C, pad, single = self.d, self.cycles, self.pad, self.mode == "single"
        p = self.i.payload
        side_layout = data.StructLayout({"zero_point": self.out_shape, "qmin": self.out_shape,
                                         "qmax": self.out_shape})
        advance = Signal()  # P1, P2 and O move together
        m.d.comb += advance.eq(~self.o.valid | self.o.ready)

        # M: the multiply
        busy = Signal()
        count = Signal(range(C))
        x = Signal(signed(32))
        digits = Signal(d * C)  # M0 << pad, shifted down d bits per step
        acc = Signal(signed(33 + d))
        low = Signal(d * (C - 1))  # single: the digits shifted out so far (the product's low bits)
        ctl_shape = signed(6) if single else unsigned(5)
        ctl = Signal(ctl_shape)  # gemmlowp: e = max(-shift, 0); single: shift
        side = Signal(side_layout)
        total = Signal(signed(33 + d))
        term = sum(Mux(digits[j], x << j, 0) for j in range(d))  # x * digit, as d rows on the carry chains
        m.d.comb += total.eq(acc + term)
        step = total >> d
        # the last step, a register (set on the step before it) rather than a compare of the count: it gates
        # the ready that every stage in front of the requantizer advances on
        finishing = Signal()
        m.d.comb += self.i.ready.eq(~busy | (finishing & advance))

        with m.If(busy & ~finishing):
            m.d.sync += [acc.eq(step), digits.eq(digits >> d), count.eq(count + 1), finishing.eq(count == C - 2)]
            if single:
                m.d.sync += low.eq(Cat(low[d:], total[:d]) if len(low) > d else total[:d])
        with m.If(finishing & advance):
            m.d.sync += [busy.eq(0), finishing.eq(0)]
        with m.If(self.i.valid & self.i.ready):
            acc32 = Signal(signed(32))
            m.d.comb += acc32.eq(p.acc)  # sign extension to int32
            m.d.sync += [busy.eq(1), count.eq(0), finishing.eq(0), digits.eq(p.m0 << pad),
                         side.zero_point.eq(p.zero_point), side.qmin.eq(p.qmin), side.qmax.eq(p.qmax)]
            if single:
                m.d.sync += [x.eq(acc32), acc.eq(0), ctl.eq(p.shift)]
            else:
                up = Mux(p.shift > 0, p.shift, 0)[:5]
                m.d.sync += [x.eq(_shift(acc32, up, 32, left=True)), acc.eq(1 << (30 + pad)),
                             ctl.eq(Mux(p.shift < 0, -p.shift, 0)[:5])]

        # P1: the last step's result (and in single mode every low bit of the product)
        v1 = Signal()
        s1 = Signal(side_layout)
        c1 = Signal(ctl_shape)
        hi = Signal(signed(32)) if not single else Signal(signed(32 + d * C))
        below = Signal(30)  # gemmlowp: the bits of y under the round bit, as a mask (e <= 31)
        with m.If(advance):
            m.d.sync += [v1.eq(finishing), s1.eq(side), c1.eq(ctl)]
            if single:  # P * 2**pad: the high word above all d * C low bits
                m.d.sync += hi.eq(Cat(low, total[:d], step[:32]).as_signed())
            else:
                m.d.sync += [hi.eq(step[:32]), below.eq(Cat(ge_const(ctl, j + 2) for j in range(30)))]

        # P2: the right shift, its round bit and sticky bit (combined into the rounding bit in P3)
        v2 = Signal()
        s2 = Signal(side_layout)
        q = Signal(signed(32))
        rbit, sticky, neg = Signal(), Signal(), Signal()
        if single:
            # t = P >> (k - 1), k = 31 - shift: hi holds P * 2**pad, so shift by 30 - shift + pad (pad..61+pad)
            amount = Signal(range(62 + pad))
            m.d.comb += amount.eq(30 + pad - c1)
            t = _right_window(hi, amount, 33)
            y = ((t[1:33] + t[0])[:32]).as_signed()  # wrap32(floor(P / 2**k) + bit k-1)
            with m.If(advance):
                m.d.sync += q.eq(y)
        else:
            w = _right_window(Cat(Const(0, 1), hi).as_signed(), c1, 33)  # 2*y >> e: round bit at the bottom
            with m.If(advance):
                m.d.sync += [q.eq(w[1:33].as_signed()), rbit.eq(w[0]), sticky.eq((hi[:30] & below).any()),
                             neg.eq(hi[31])]
        with m.If(advance):
            m.d.sync += [v2.eq(v1), s2.eq(s1)]

        # P3: q saturated to W + 2 bits for a W-bit result (the clamp below comes out alike, since the zero
        # point and the range lie in -2**(W-1)..2**W - 1); the rounding bit travels beside it.
        W = self.out_shape.width
        if W + 2 < 32:
            top = q[W + 1:]
            over = top.any() & ~top.all()  # q outside -2**(W+1)..2**(W+1) - 1
            q = Mux(over, Mux(q[31], -(1 << (W + 1)), (1 << (W + 1)) - 1), q[:W + 2].as_signed())
        v3 = Signal()
        s3 = Signal(side_layout)
        q3 = Signal(q.shape())
        bump3 = Signal()
        with m.If(advance):
            # ties away from zero: a tie rounds up unless y < 0 (single mode: no bit, rounded in P2)
            m.d.sync += [v3.eq(v2), s3.eq(s2), q3.eq(q), bump3.eq(rbit & (sticky | ~neg))]

        # P4: plus the rounding bit; the clamp's bounds moved by the zero point, so that O compares y itself:
        # y + zp < qmin <=> y < qmin - zp.
        v4 = Signal()
        s4 = Signal(side_layout)
        y4 = Signal(signed(min(W + 3, 33)))
        lo4, hi4 = Signal(signed(W + 2)), Signal(signed(W + 2))
        with m.If(advance):
            m.d.sync += [v4.eq(v3), s4.eq(s3), y4.eq(q3 + bump3), lo4.eq(s3.qmin - s3.zero_point),
                         hi4.eq(s3.qmax - s3.zero_point)]

        # P5: the clamp's three candidates side by side: y below qmin - zp, above qmax - zp, and y + zp
        v5 = Signal()
        s5 = Signal(side_layout)
        lt5, gt5, sum5 = Signal(), Signal(), Signal(W)
        with m.If(advance):
            m.d.sync += [v5.eq(v4), s5.eq(s4), lt5.eq(y4 < lo4), gt5.eq(y4 > hi4),
                         sum5.eq((y4 + s4.zero_point)[:W])]

        # O: clamp(y + zp, qmin, qmax), chosen
        clamped = Mux(lt5, s5.qmin, Mux(gt5, s5.qmax, sum5))
        with m.If(advance):
            m.d.sync += [self.o.valid.eq(v5), self.o.payload.eq(clamped)]
        return m
