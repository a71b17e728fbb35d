"""Integer-only requantization (gemmlowp / TFLite) in hardware, bit for bit as ``golden.quant.requantize``.

``q = clamp(y + zero_point, qmin, qmax)`` with ``y`` the int32 accumulator rescaled by
``M = M0 * 2**(shift - 31)``:

- ``"gemmlowp"``: ``y = RoundingDivideByPOT(SRDHM(wrap32(acc << max(shift, 0)), M0), max(-shift, 0))``;
- ``"single"``:   ``y = wrap32((acc * M0 + 2**(30 - shift)) >> (31 - shift))``.

``wrap32`` is two's complement wrap-around (``golden.quant.requantize``'s default ``overflow="wrap"``).
"""

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden.quant import INT32_MAX, INT32_MIN, int_format
from fmtforge.golden.validate import check_choice, check_int

from ..pipeline import Pipeline

__all__ = ["M0_SHAPE", "MODES", "SHIFT_SHAPE", "RequantCore", "Requantize", "SRDHM", "int_shape", "requant_layout",
           "requant_name"]

#: Requantization modes of the hardware (``golden.quant.MODES`` minus the float reference "float-rne").
MODES = ("gemmlowp", "single")
#: ``M0`` is a non-negative int32 (``golden.quant.requantize`` takes 0..2**31-1): 31 unsigned bits.
M0_SHAPE = unsigned(31)
#: ``shift`` is -31..30.
SHIFT_SHAPE = signed(6)


def int_shape(dtype):
    """The Amaranth shape of the golden integer format named ``dtype`` (``signed(8)`` for "int8")."""
    fmt = int_format(dtype)
    return signed(fmt.bits) if fmt.signed else unsigned(fmt.bits)


def requant_layout(acc_bits=32, out_type="int8"):
    """The requantizer's input payload, from bit 0 up: ``acc``, ``m0``, ``shift``, ``zero_point``, ``qmin``,
    ``qmax``."""
    out = int_shape(out_type)
    return data.StructLayout({"acc": signed(acc_bits), "m0": M0_SHAPE, "shift": SHIFT_SHAPE,
                              "zero_point": out, "qmin": out, "qmax": out})


def requant_name(acc_bits=32, out_type="int8", mode="gemmlowp"):
    """Verilog module name of a :class:`Requantize`: ``requant_acc32_int8_gemmlowp``."""
    return f"requant_acc{acc_bits}_{out_type}_{mode}"


def _shift(value, amount, width, left):
    """``value`` shifted by the unsigned ``amount``, as a log shifter of constant shifts (Mux per bit of
    ``amount``); the result keeps the low ``width`` bits (left: zeros in; right: arithmetic for a signed
    ``value``). Written out so that the Verilog carries no variable shift whose width must be truncated."""
    signed_value = value.shape().signed
    for k, bit in enumerate(amount):
        n = 1 << k
        if left:  # bits above `width` never come back down: drop them at every step
            value = Mux(bit, value.shift_left(n)[:width], value[:width])
        else:
            value = Mux(bit, value.shift_right(n), value)
        if signed_value:
            value = value.as_signed()
    return value[:width].as_signed() if signed_value else value[:width]


class SRDHM(wiring.Component):
    """gemmlowp SaturatingRoundingDoublingHighMul of two int32, two register stages (latency 2).

    ``o = INT32_MAX`` when ``a == b == INT32_MIN``, else ``floor((a*b + 2**30) / 2**31)``, which is gemmlowp's
    ``(a*b + nudge) / 2**31`` with C truncating division and ``nudge = 2**30`` or ``1 - 2**30`` by the sign of
    ``a*b`` (ties toward +inf), as ``golden.quant.srdhm``. Stage 1 registers the 32x32 product and the
    saturation case, stage 2 the rounded high word.

    Ports
    -----
    a, b : In(signed(32))
    en : In(1) -- both stages load when high (a pipeline's advance)
    o : Out(signed(32)) -- the result for the ``a``, ``b`` of two enabled cycles before
    """

    def __init__(self, *, registered=True):
        self.registered = registered
        super().__init__({"a": In(signed(32)), "b": In(signed(32)), "en": In(1), "o": Out(signed(32))})

    def elaborate(self, platform):
        m = Module()
        # a*b in 63 bits: only the saturating case 2**62 does not fit, and its product is not used
        regs = Pipeline(m, self.en, registered=self.registered)
        prod = regs.reg(self.a * self.b, "srdhm_prod", signed(63))
        sat = regs.reg((self.a == INT32_MIN) & (self.b == INT32_MIN), "srdhm_sat")
        # Otherwise |prod| < 2**62: prod + 2**30 fits in 63 bits, and bits 31..62 are
        # floor((prod + 2**30) / 2**31), an int32.
        high = (prod + (1 << 30))[31:63]
        regs.load((self.o, Mux(sat, INT32_MAX, high)))
        return m


class Requantize(wiring.Component):
    """Rescale an accumulator by ``M0 * 2**(shift - 31)``, add the zero point, clamp, as
    ``golden.quant.requantize(acc, M0, shift, zero_point, qmin, qmax, mode)`` (``overflow="wrap"``).

    Every parameter travels with its accumulator in the input payload, so each result may use its own
    (per-channel ``M0``/``shift``, several tensors through one unit).

    Parameters
    ----------
    acc_bits : int, 16..32
        Width of the signed accumulator; it is sign-extended to int32 (as ``golden.quant.qmatmul`` does).
    out_type : str
        Output format: "int8", "uint8" (also "int4", "uint4", "int16", "int32"). ``zero_point``, ``qmin``,
        ``qmax`` and the result have its shape.
    mode : str
        "gemmlowp" (two roundings: SRDHM ties toward +inf, then RoundingDivideByPOT ties away from zero) or
        "single" (one rounding, ties toward +inf).

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload fields from bit 0 up: ``acc`` signed(acc_bits),
        ``m0`` unsigned(31), ``shift`` signed(6) (-31..30), ``zero_point``, ``qmin``, ``qmax`` (out_type).
        ``qmin <= zero_point <= qmax`` as golden requires (the clamp is ``min(max(v, qmin), qmax)``,
        numpy's ``clip``). ``shift`` outside -31..30 gives an unspecified result.
    o : Out(stream.Signature(out shape)) -- the result.

    Five register stages (latency 5 in both modes), all advancing together when the output register is free
    or read (``~o.valid | o.ready``, which is also ``i.ready``): 1 pre-shift, 2 the 32x31 multiply, 3 the
    first rounding (SRDHM's high word / adding the half), 4 the second (RoundingDivideByPOT / the shift),
    5 zero point and clamp.
    """

    def __init__(self, *, acc_bits=32, out_type="int8", mode="gemmlowp", registered=True):
        self.registered = registered
        self.acc_bits = check_int("acc_bits", acc_bits, 16, 32)
        self.out_type = out_type
        self.out_shape = int_shape(out_type)
        self.mode = check_choice("mode", mode, MODES)
        self.in_layout = requant_layout(acc_bits, out_type)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_shape))})

    @property
    def name(self):
        return requant_name(self.acc_bits, self.out_type, self.mode) + ("" if self.registered else "_comb")

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        p = self.i.payload
        out = data.StructLayout({"zero_point": self.out_shape, "qmin": self.out_shape, "qmax": self.out_shape})
        side = Signal(out)
        m.d.comb += [side.zero_point.eq(p.zero_point), side.qmin.eq(p.qmin), side.qmax.eq(p.qmax)]
        acc = Signal(signed(32))
        m.d.comb += acc.eq(p.acc)  # sign extension to int32

        regs = Pipeline(m, advance, registered=self.registered)

        def stage(k, valid, side, **values):
            values = regs.stage(f"rq{k}", **values)
            return regs.reg(valid, f"rq{k}_valid"), regs.reg(side, f"rq{k}_side", out), values

        # 1: gemmlowp shifts left before the multiply (wrapping to int32) and right after it; single only
        # needs the total right shift 31 - shift (1..62), kept as 30 - shift (the position of the half).
        if self.mode == "gemmlowp":
            up = Mux(p.shift > 0, p.shift, 0)[:5]
            down = Mux(p.shift < 0, -p.shift, 0)[:5]
            v1, s1, r1 = stage(1, self.i.valid, side, x=_shift(acc, up, 32, left=True), m0=p.m0, exp=down)
        else:
            v1, s1, r1 = stage(1, self.i.valid, side, x=acc, m0=p.m0, half_at=(30 - p.shift)[:6])

        if self.mode == "gemmlowp":
            # 2, 3: SaturatingRoundingDoublingHighMul
            m.submodules.srdhm = srdhm = SRDHM(registered=self.registered)
            m.d.comb += [srdhm.a.eq(r1["x"]), srdhm.b.eq(r1["m0"]), srdhm.en.eq(advance)]
            v2, s2, r2 = stage(2, v1, s1, exp=r1["exp"])
            v3, s3, r3 = stage(3, v2, s2, exp=r2["exp"])
            # 4: RoundingDivideByPOT(y, e): (y >> e) + ((y & mask) > (mask >> 1) + (y < 0))
            y, e = srdhm.o, r3["exp"]
            mask = Signal(32, name="rdbpot_mask")
            m.d.comb += mask.eq((Const(1, 33) << e) - 1)
            bump = (y.as_unsigned() & mask) > (mask >> 1) + y[31]
            v4, s4, r4 = stage(4, v3, s3, y=((y >> e) + bump)[:32].as_signed())
        else:
            # 2: the exact product; 3: plus 2**(30 - shift); 4: >> (31 - shift), wrapped to int32
            v2, s2, r2 = stage(2, v1, s1, prod=(r1["x"] * r1["m0"]).as_signed(), half_at=r1["half_at"])
            total = Signal(signed(64), name="single_total")
            m.d.comb += total.eq(r2["prod"] + (Const(1, 1) << r2["half_at"]))  # |prod| + 2**61 < 2**63
            v3, s3, r3 = stage(3, v2, s2, total=total, half_at=r2["half_at"])
            v4, s4, r4 = stage(4, v3, s3, y=_shift(r3["total"][1:].as_signed(), r3["half_at"], 32, left=False))

        # 5: zero point (exact, no int32 wrap) and clamp, into the output register
        summed = r4["y"] + s4.zero_point
        lower = Mux(summed < s4.qmin, s4.qmin, summed)
        clamped = Mux(lower > s4.qmax, s4.qmax, lower)
        if self.registered:
            with m.If(advance):
                m.d.sync += [self.o.valid.eq(v4), self.o.payload.eq(clamped)]
        else:
            m.d.comb += [self.o.valid.eq(v4), self.o.payload.eq(clamped)]
        return m


class RequantCore(wiring.Component):
    """The requantize datapath alone, combinational, on plain ports: ``i`` is :class:`Requantize`'s payload
    (``acc``, ``m0``, ``shift``, ``zero_point``, ``qmin``, ``qmax`` from bit 0 up) and ``o`` the result; the
    same logic as the pipelined unit with its registers made wires (for the batch lane and mutation scores).
    """

    def __init__(self, *, acc_bits=32, out_type="int8", mode="gemmlowp"):
        self._unit = Requantize(acc_bits=acc_bits, out_type=out_type, mode=mode, registered=False)
        self.in_layout = self._unit.in_layout
        super().__init__({"i": In(self.in_layout.size), "o": Out(self._unit.out_shape.width)})

    @property
    def name(self):
        return self._unit.name

    def elaborate(self, platform):
        m = Module()
        m.submodules.requant = rq = self._unit
        m.d.comb += [rq.i.payload.eq(self.i), rq.i.valid.eq(1), rq.o.ready.eq(1), self.o.eq(rq.o.payload)]
        return m
