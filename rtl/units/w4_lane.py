"""The lanes of the 4-bit weight dequantizer (:mod:`.w4_dequant`): the group scale's shared unpack and
normalisation (:class:`W4Scale`), one lane after it (:class:`W4Core`: the code's value, the product of two
normalised factors written exactly as a wide float, the converter's narrowing round-and-pack), and both
together, combinational (:class:`W4Lane`, for the batch lane). See docs/weights.md.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block.weights import CODE_TYPES, ZERO_MODES
from fmtforge.golden.validate import check_bool, check_choice, check_int

from ..formats.codebook import CodebookUnpack
from ..formats.minifloat import MinifloatPack, MinifloatUnpack
from ..formats.raw import RawShape, raw_layout
from ..pipeline import NO_CUTS, Cuts

__all__ = ["CUT_POINTS", "MAX_STAGES", "OUT_FORMATS", "SCALE_FORMATS", "W4Core", "W4Lane", "W4Scale", "check_w4",
           "scale_shape"]

SCALE_FORMATS = ("fp16", "bf16", "fp32")
OUT_FORMATS = ("fp16", "bf16")
#: Where the lane's registers may go, in path order (W4Core), and the most registers the lane takes
CUT_POINTS = ("operand", "product", "fields", "classify", "round")
MAX_STAGES = len(CUT_POINTS)


def check_w4(codes, zero, scale, out, saturate, *, lanes=1, group=1, stages=0):
    """Validated ``(codes, zero, scale format, out format, saturate)``; ValueError naming the parameter.
    (Called before a component is made: one whose constructor raises warns when collected.)"""
    check_int("lanes", lanes, 1, 64)
    check_int("stages", stages, 0, MAX_STAGES)
    check_int("group", group, 1, 4096)
    if group % lanes:
        raise ValueError(f"group must be a multiple of lanes ({lanes}), not {group}")
    check_choice("codes", codes, tuple(CODE_TYPES))
    check_choice("zero", zero, ZERO_MODES)
    check_choice("scale", getattr(scale, "name", scale), SCALE_FORMATS)
    check_choice("out", getattr(out, "name", out), OUT_FORMATS)
    check_bool("saturate", saturate)
    if codes in ("int4", "nf4") and zero != "none":
        raise ValueError(f"zero must be none for {codes} codes (they carry their own sign), not {zero!r}")
    return codes, zero, golden.lookup(scale), golden.lookup(out), saturate


def scale_shape(scale_fmt):
    """The raw shape :class:`W4Scale` gives (``Normalize``'s of the float unpack's), without building them."""
    f = scale_fmt.frac_bits
    S = f + 1
    exp_min = scale_fmt.emin - (S - 1) + scale_fmt.bias  # the smallest subnormal's leading one, normalised
    return RawShape(sig_width=S, exp_min=min(exp_min, 0), exp_max=(1 << scale_fmt.exp_bits) - 1,
                    bias=scale_fmt.bias, fmt=scale_fmt)


class W4Scale(wiring.Component):
    """The group's scale, unpacked and normalised once for every lane: ``i`` (scale bits) -> ``o`` (raw form
    whose significand has its top bit set unless the scale is zero or special; subnormal scales too).

    The normalisation is ``Normalize``'s (shift by 2**k while the top 2**k bits are zero, largest k first) with
    one cut point, ``half``, after the first half of its shift levels: the unit registers it there, so that
    the input register sits in the middle of the scale's path (the group scale's mux and the first shifts
    before it, the last shifts and the exponent's subtraction after it)."""

    cuts = NO_CUTS

    def __init__(self, scale_fmt):
        self.fmt = scale_fmt
        self._unpack = MinifloatUnpack(scale_fmt)
        self.shape = scale_shape(scale_fmt)
        super().__init__({"i": In(scale_fmt.width), "o": Out(raw_layout(self.shape)),
                          "sig3": Out(self.shape.sig_width + 2)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpack = unpack = self._unpack
        m.d.comb += unpack.i.eq(self.i)
        u = unpack.o
        S = len(u.sig)
        exp = Signal(self.shape.exp_shape, name="exp_in")
        m.d.comb += exp.eq(Mux(u.exp == 0, 1, u.exp))
        steps = []
        k = 1 << ((S - 1).bit_length() - 1)
        while k >= 1:
            steps.append(k)
            k //= 2
        sig, lz = u.sig, Const(0, range(S))
        flags = (u.sign, u.is_nan, u.is_inf, u.is_zero)
        for j, k in enumerate(steps):
            if j == (len(steps) + 1) // 2:
                sig, lz, exp, *flags = self.cuts.at(m, "half", sig, lz, exp, *flags)
            top_zero = Signal(name=f"zero_top_{k}")
            shifted = Signal(S, name=f"sig_shl_{k}")
            nlz = Signal(range(S), name=f"lz_{k}")
            m.d.comb += [top_zero.eq(sig[S - k:] == 0), shifted.eq(Mux(top_zero, sig << k, sig)),
                         nlz.eq(lz + Mux(top_zero, k, 0))]
            sig, lz = shifted, nlz
        sign, is_nan, is_inf, is_zero = flags
        m.d.comb += [self.o.sign.eq(sign), self.o.is_nan.eq(is_nan), self.o.is_inf.eq(is_inf),
                     self.o.is_zero.eq(is_zero), self.o.sig.eq(sig), self.o.exp.eq(exp - lz),
                     self.sig3.eq(sig + (sig << 1))]  # 3 x the significand, for the lanes' radix-4 products
        return m


class W4Core(wiring.Component):
    """One lane after the shared scale: ``i`` = {code, zero (zero="group"), scale (normalised raw form, as
    :class:`W4Scale` gives it)} -> ``o`` (out bits).

    Both factors arrive normalised (the code value by a 3-level leading-zero count of its magnitude, or the
    NF4 level's normalised table entry), so their product lies in [1, 4) and needs a one-bit normalisation
    only: it is then written exactly as a pattern of a wide IEEE-style float F (``self.wide``: enough exponent
    range that no product is subnormal, enough fraction bits for every product), and rounded into ``out`` by
    the converter's own narrowing round-and-pack (decided from F's exponent field against constants). Cut
    points in path order, where a pipelined unit puts registers (``cuts``, loaded on the unit's enable):
    ``operand`` (after the code's sign, magnitude and shift), ``product``, ``fields`` (the F pattern), then the
    pack's ``classify`` and ``round``.
    """

    cuts = NO_CUTS

    def __init__(self, *, codes, zero, scale, out, saturate):
        self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate = check_w4(codes, zero, scale, out,
                                                                                     saturate)
        self.bits = b = CODE_TYPES[codes][0]
        self.scale_shape = sshape = scale_shape(self.scale_fmt)
        if codes == "nf4":
            self._level = CodebookUnpack(golden.lookup("nf4"))
            level = self._level.shape
            self.op_width, self.op_range = level.sig_width, (level.exp_min, level.exp_max)
        else:
            self.op_width, self.op_range = b, (0, b - 1)  # |q - Z| < 2**b, its leading one at 0 .. b - 1
        Ws, f = sshape.sig_width, self.out_fmt.frac_bits
        # exponents (of the leading one) the exact product can have: scale's, plus the operand's, plus one
        lo = sshape.exp_min - sshape.bias + self.op_range[0]
        hi = ((1 << self.scale_fmt.exp_bits) - 2) - sshape.bias + self.op_range[1] + 1
        # F: every product normal; below out's smallest normal by more than its fraction plus the rounding and
        # sticky bits (the narrowing pack's condition); every product bit kept (padded for the same condition)
        bias = max(1 - lo, f + 3 - self.out_fmt.emin)
        man = max(Ws + self.op_width - 1, f + 2)
        self.wide = golden.minifloat(exp_bits=(hi + bias + 1).bit_length(), man_bits=man, bias=bias)
        self._unpack = MinifloatUnpack(self.wide)
        self._pack = MinifloatPack(self.out_fmt, self._unpack.shape, rounding="rne", saturate=saturate,
                                   flags=False)
        assert MinifloatPack.narrowing(self._unpack.shape, self.out_fmt, 1)
        fields = {"code": b}
        if zero == "group":
            fields["zero"] = b
        fields["scale"] = raw_layout(sshape)
        fields["sig3"] = sshape.sig_width + 2
        self.in_layout = data.StructLayout(fields)
        super().__init__({"i": In(self.in_layout), "o": Out(self.out_fmt.width)})

    def set_cuts(self, points, en):
        """Registers at the cut ``points`` (of :data:`CUT_POINTS`), loaded when ``en`` is high."""
        self.cuts = Cuts(points, en=en)
        self._pack.cuts = Cuts(set(points) & {"classify", "round"}, en=en)

    def _operand(self, m):
        """(sign, normalised magnitude, exponent of its leading one, is zero) of the code's value."""
        b, code = self.bits, self.i.code
        if self.codes == "nf4":
            m.submodules.level = lv = self._level
            m.d.comb += lv.i.eq(code)
            return lv.o.sign, lv.o.sig, lv.o.exp, lv.o.is_zero
        if self.codes == "int4":
            d = code.as_signed()
        else:
            z = {"none": 0, "gptq": 1 << (b - 1), "mlc": (1 << (b - 1)) - 1}.get(self.zero)
            d = code - (self.i.zero if z is None else z)
        diff = Signal(range(-(1 << b) + 1, 1 << b), name="diff")
        mag = Signal(b, name="mag")
        m.d.comb += [diff.eq(d), mag.eq(Mux(diff < 0, -diff, diff))]
        # the leading one of a b-bit magnitude: a priority choice over b bits (a function of the code bits)
        norm = Signal(b, name="mag_norm")
        top = Signal(range(b), name="mag_top")
        for k in range(b):  # the highest set bit wins (last assignment)
            with m.If(mag[k]):
                m.d.comb += [norm.eq(mag << (b - 1 - k)), top.eq(k)]
        return diff < 0, norm, top, diff == 0

    def elaborate(self, platform):
        m = Module()
        s = self.i.scale
        dsign, mag, top, dzero = self.cuts.at(m, "operand", *self._operand(m))
        Ws, Wm = len(s.sig), len(mag)
        prod = Signal(Ws + Wm, name="prod")
        # the operand (its top bit set; a zero value's product is never used) in radix-4 digits, each choosing
        # 0, 1, 2 or 3 times the scale's significand (3x once for all lanes: W4Scale.sig3), the rows added in a
        # balanced tree: LUT logic, half the rows of a binary array (a 24 x 24 `*` is 1565 LUT4 on iCE40), and
        # no DSP block whose unregistered delay would set the clock
        sig, sig3 = s.sig, self.i.sig3

        def times(d):
            return Mux(d[1], Mux(d[0], sig3, sig << 1), Mux(d[0], sig, 0))
        at = Wm - 2 + (Wm & 1)  # the top digit's position: 2 or 3 (two bits), 1 (one bit)
        hi = Mux(mag[Wm - 2], sig3, sig << 1) if Wm % 2 == 0 else sig
        rows = [hi << at] + [times(mag[j:j + 2]) << j for j in range(0, at, 2)]
        while len(rows) > 1:
            rows = [rows[k] + rows[k + 1] for k in range(0, len(rows) - 1, 2)] + rows[len(rows) & ~1:]
        m.d.comb += prod.eq(rows[0])
        sbias = self.scale_shape.bias
        prod, sexp, ssign, snan, sinf, szero, dsign, top, dzero = self.cuts.at(
            m, "product", prod, s.exp, s.sign, s.is_nan, s.is_inf, s.is_zero, dsign, top, dzero)
        # the product in [2**(P-2), 2**P): its leading one at P - 1 (carry) or P - 2
        P, F = Ws + Wm, self.wide
        carry = prod[-1]
        frac = Signal(F.frac_bits, name="frac")
        m.d.comb += frac.eq(Mux(carry, prod[:P - 1], Cat(Const(0, 1), prod[:P - 2])) << (F.frac_bits - (P - 1)))
        field = Signal(F.exp_bits, name="field")
        m.d.comb += field.eq(sexp + top + carry + (F.bias - sbias))
        all_e = (1 << F.exp_bits) - 1
        pattern = Signal(F.width, name="wide")
        nan = snan | (sinf & dzero)
        sign = ssign ^ dsign
        with m.If(nan):  # the positive quiet NaN, no payload
            m.d.comb += pattern.eq(Cat(Const(1 << (F.frac_bits - 1), F.frac_bits), Const(all_e, F.exp_bits), 0))
        with m.Elif(sinf):
            m.d.comb += pattern.eq(Cat(Const(0, F.frac_bits), Const(all_e, F.exp_bits), sign))
        with m.Elif(szero | dzero):
            m.d.comb += pattern.eq(Cat(Const(0, F.frac_bits + F.exp_bits), sign))
        with m.Else():
            m.d.comb += pattern.eq(Cat(frac, field, sign))
        (pattern,) = self.cuts.at(m, "fields", pattern)
        m.submodules.unpack = unpack = self._unpack
        m.submodules.pack = pack = self._pack
        m.d.comb += [unpack.i.eq(pattern), pack.i.eq(unpack.o), self.o.eq(pack.o)]
        return m


class W4Lane(wiring.Component):
    """One lane, combinational: ``i`` = {code, zero (with zero="group"), scale} -> ``o`` (out bits): the
    shared scale path (:class:`W4Scale`) and one :class:`W4Core`, as the unit wires them, with no registers.

    Parameters
    ----------
    codes : "uint4", "int4", "uint3" or "nf4"
    zero : "none", "group", "gptq" (Z = 2**(bits-1)) or "mlc" (Z = 2**(bits-1) - 1)
    scale : "fp16", "bf16" or "fp32"
    out : "fp16" or "bf16"
    saturate : bool -- overflow and infinite scales give +-max instead of +-inf

    Ports
    -----
    i : In(StructLayout): ``code`` (bits), ``zero`` (bits, zero="group" only), ``scale`` (scale bits), LSB first
    o : Out(out.width)
    """

    def __init__(self, *, codes, zero, scale, out, saturate):
        self.codes, self.zero, self.scale_fmt, self.out_fmt, self.saturate = check_w4(codes, zero, scale, out,
                                                                                     saturate)
        self.bits = CODE_TYPES[codes][0]
        self.lane_args = dict(codes=codes, zero=zero, scale=scale, out=out, saturate=saturate)
        fields = {"code": self.bits}
        if zero == "group":
            fields["zero"] = self.bits
        fields["scale"] = self.scale_fmt.width
        self.in_layout = data.StructLayout(fields)
        super().__init__({"i": In(self.in_layout), "o": Out(self.out_fmt.width)})

    @property
    def name(self):
        return (f"w4_lane_{self.codes}_z{self.zero}_{self.scale_fmt.name}_to_{self.out_fmt.name}"
                + ("_sat" if self.saturate else ""))

    def elaborate(self, platform):
        m = Module()
        m.submodules.scale = scale = W4Scale(self.scale_fmt)
        m.submodules.core = core = W4Core(**self.lane_args)
        m.d.comb += core.i.sig3.eq(scale.sig3)
        m.d.comb += [scale.i.eq(self.i.scale), core.i.scale.eq(scale.o), core.i.code.eq(self.i.code),
                     self.o.eq(core.o)]
        if self.zero == "group":
            m.d.comb += core.i.zero.eq(self.i.zero)
        return m
