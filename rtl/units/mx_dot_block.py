"""The mx-dot unit's per-block accumulation (``accumulate="block"``): ``acc = round(acc + Dot)`` into fp32 with
a narrow floating-point adder instead of a fixed-point word over every scale.

A block dot is an exact signed integer ``word`` (the block accumulator, ``B`` magnitude bits) times
``2**(blk.lsb + x - 254)``; the running sum is an fp32 value, a 24-bit significand times ``2**(off - 149)``.
Their exact sum is rounded once into fp32, as ``golden.arith.mx_dot`` does, through a window of
``W = B + 24 + 2`` bits:

- Positions are counted from ``P0 = min(-149, blk.lsb - 254)``, the lowest bit either operand can have. Each
  operand's word (24 or ``B`` bits) has a *top* (its highest bit + 1). The window's top ``T`` is the higher top
  of the two operands that are not zero; both are placed with their top at ``T`` and shifted down by ``T`` minus
  their own top (one of the two shifts is 0). Bits shifted out below the window are ORed into the window's last
  bit (the *jam*, as an IEEE adder's sticky bit).
- Why ``W`` bits suffice (the bound the tests exercise with huge + tiny sums): bits are lost only from the lower
  operand, and only when its top is at least ``W - 24 = B + 2`` (fp32 lower) or ``W - B = 26`` (block dot lower)
  positions below the other operand's top. Then the other, nonzero, operand is at least 2**3 (resp. 2**2) times
  larger than all the lost operand, the sum's leading bit lies at most one position below the higher operand's
  last possible leading bit, and fp32's rounding position and its half-way position lie at least 2 window bits
  above the jam bit. Every rounding boundary and half-way point is then a multiple of 2 window bits, while the
  jammed operand is odd (strictly between the two multiples around its exact value): the rounding decision,
  inexactness and tininess are those of the exact sum.

The sum's magnitude (``W + 1`` bits, its top at scale ``T + P0``) goes through the existing ``Normalize`` and
fp32's round-and-pack, as :func:`.dot_acc.round_fixed` does for a fixed-point word.
"""

from amaranth import Cat, Const, Mux, Signal, signed

from ..formats.raw import RawShape
from .dot_acc import _Fixed, round_word

__all__ = ["block_window", "block_add"]

SCALE_BIAS = 254
FP32_LSB, FP32_SIG = -149, 24


def block_window(blk_geo):
    """``(P0, B, W)``: the lowest position, the block dot's magnitude bits, the window's bits."""
    B = blk_geo.width - 1
    return min(FP32_LSB, blk_geo.lsb - SCALE_BIAS), B, B + FP32_SIG + 2


def _shift_right_jam(m, value, amount, width, name):
    """``value`` (``width`` bits) shifted right by ``amount`` (unsigned signal) with every bit shifted out ORed
    into bit 0 (an amount of ``width`` or more leaves only the jam)."""
    x = value
    lost = Const(0)
    stages = max(width.bit_length(), 1)
    for k in range(min(len(amount), stages)):
        step = 1 << k
        out = x[step:] if step < width else Const(0, 1)
        gone = x[:min(step, width)] != 0
        lost = Mux(amount[k], lost | gone, lost)
        x = Mux(amount[k], out, x)
    over = amount[stages:] != 0 if len(amount) > stages else Const(0)
    y = Signal(width, name=f"{name}_al")
    kept = Signal(width, name=f"{name}_kept")
    jam = Signal(name=f"{name}_jam")
    m.d.comb += [kept.eq(Mux(over, 0, x)), jam.eq(lost | (over & (value != 0))),
                 y.eq(Cat(kept[0] | jam, kept[1:]))]
    return y


def block_add(m, at, word, x, blk_geo, out, *, rounding, specials, name):
    """``round(A + word * 2**(blk_geo.lsb + x - 254))`` into fp32 ``out``: ``at`` the fp32 operand's
    :class:`~.dot_terms.Term` (specials cleared to a zero significand), ``word`` the block dot (``signed``, of
    :class:`~.dot_acc.Geometry` ``blk_geo``), ``x`` = X_A + X_B (0..508), ``specials`` the sum's
    :data:`~.dot_terms.SPECIALS`. Returns ``(bits, flags)`` as :func:`.dot_acc.round_fixed`."""
    P0, B, W = block_window(blk_geo)
    a_base = FP32_LSB - P0  # position of the fp32 significand's bit 0 at offset 0
    d_base = blk_geo.lsb - SCALE_BIAS - P0  # position of the block word's bit 0 at x = 0
    top_max = max(a_base + 253 + FP32_SIG, d_base + 2 * SCALE_BIAS + B)  # fp32's offsets: 0..253
    pos = range(top_max + 1)
    ta, td, t = Signal(pos, name=f"{name}_ta"), Signal(pos, name=f"{name}_td"), Signal(pos, name=f"{name}_top")
    a_top = Signal(name=f"{name}_a_top")
    mag_d = Signal(B, name=f"{name}_dmag")
    neg_d = word[-1]
    zero_a, zero_d = at.sig == 0, word == 0
    m.d.comb += [
        ta.eq(at.off + (a_base + FP32_SIG)),
        td.eq(x + (d_base + B)),
        mag_d.eq(Mux(neg_d, -word, word)[:B]),
        # the window's top: the higher top of the nonzero operands (a zero operand may lie anywhere)
        a_top.eq(zero_d | (~zero_a & (ta >= td))),
        t.eq(Mux(a_top, ta, td)),
    ]
    sh_a, sh_d = Signal(pos, name=f"{name}_sha"), Signal(pos, name=f"{name}_shd")
    m.d.comb += [sh_a.eq(Mux(a_top, 0, t - ta)), sh_d.eq(Mux(a_top, t - td, 0))]
    win_a = _shift_right_jam(m, Cat(Const(0, W - FP32_SIG), at.sig), sh_a, W, f"{name}_a")
    win_d = _shift_right_jam(m, Cat(Const(0, W - B), mag_d), sh_d, W, f"{name}_d")
    total = Signal(signed(W + 2), name=f"{name}_sum")
    m.d.comb += total.eq(Mux(at.sign, -win_a, win_a) + Mux(neg_d, -win_d, win_d))
    return _round(m, total, t, P0, top_max, W, out, rounding, specials, name)


def _round(m, total, t, P0, top_max, W, out, rounding, specials, name):
    """The sum's magnitude (``W + 1`` bits, its top bit at scale ``t + P0``) rounded into ``out``."""
    lo, hi = P0, top_max + P0
    shape = RawShape(sig_width=W + 1, exp_min=lo, exp_max=hi, bias=0, fmt=_Fixed(), unnorm_scale_max=hi)
    return round_word(m, total, W + 1, t + P0, shape, out, rounding=rounding, specials=specials, name=name)
