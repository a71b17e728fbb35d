"""Round-and-pack of a wider IEEE-style float into a narrower one, decided from the source's exponent field.

When the raw input is the source's own fields (``MinifloatPack.narrowing``: fp32 -> fp8, fp32 -> fp16,
fp16 -> fp8, ...), the source exponent field ``E`` alone says what happens, by comparisons with constants:

* ``E >= c`` (``c``: the field of the destination's smallest normal): normal; the destination's exponent
  field is ``E - (c - 1)`` taken modulo ``2**exp_bits`` (a constant subtraction on the low bits only: fp32 ->
  E4M3 or E5M2 is a single inverted bit), no denormalising shift;
* ``c - f - 1 <= E < c``: subnormal, shifted right by ``d = c - E`` in ``1 .. f + 1`` (``f``: the
  destination's fraction bits), computed modulo a few bits: a shifter of ``f + 2`` positions, not one as
  wide as the exponent range;
* ``E < c - f - 1`` (the source's own subnormals and zero included): below half the smallest subnormal, all
  of it sticky;
* ``E > c - 1 + max_biased``: overflow outright; at ``E = c - 1 + max_biased`` overflow is the truncated
  fraction above the largest one, or equal to it and rounding up (not a compare after the adder).

The significand is first cut as in the general path: the result's bits, the rounding bits and one sticky bit
for everything below (one OR tree, shared by every rounding position). Overflow and tininess come from the
class above, beside the rounding carry chain instead of after it.
"""

from amaranth import Cat, Const, Module, Mux, Signal

from .rounding import round_increment

__all__ = ["elaborate_narrow"]


def elaborate_narrow(pack):
    """The body of ``pack`` (a MinifloatPack whose input passes ``MinifloatPack.narrowing``)."""
    m = Module()
    fmt, shape, raw = pack.fmt, pack.shape, pack.i
    f, k = fmt.frac_bits, fmt.exp_bits
    S = shape.sig_width
    R = pack.rand_bits if pack.rounding == "stochastic" else 0
    G = max(R, 1) + 1  # rounding bits, then one sticky bit
    P = S - 1 - f
    t = Signal(f + 1 + G)
    m.d.comb += t.eq(Cat(raw.sig[:P - G + 1] != 0, raw.sig[P - G + 1:]))
    W = f + 1 + G

    E = raw.exp.as_unsigned()[:shape.fmt.exp_bits]
    c = shape.bias + fmt.emin
    e_top = c - 1 + fmt.max_biased
    normal = Signal()
    sub = Signal()
    big = Signal()
    m.d.comb += [normal.eq(E >= c), sub.eq((E >= c - f - 1) & (E < c)), big.eq(E > e_top)]

    # the subnormal shift, 1 .. f + 1, from the low bits of E
    db = (f + 1).bit_length()
    d = Signal(db)
    m.d.comb += d.eq(Mux(sub, (Const(c % (1 << db), db) - E[:db])[:db], 0))
    ts = Signal(W)
    lost = Signal()
    ones = Const((1 << W) - 1, W)
    with m.If(normal | sub):
        m.d.comb += [ts.eq(t >> d), lost.eq((t & ~(ones << d)[:W]) != 0)]
    with m.Else():  # below half the smallest subnormal: all sticky (nothing for a zero)
        m.d.comb += [ts.eq(0), lost.eq(t != 0)]
    kept = ts[G:]
    rbit = ts[G - 1]
    sticky = Signal()
    m.d.comb += sticky.eq((ts[:G - 1] != 0) | lost)
    frac_t = ts[G - R:G] if R else None

    e_field = Signal(k)
    m.d.comb += e_field.eq(Mux(normal, (E - (c - 1))[:k], 0))
    enc_w = k + f + 1
    enc = Signal(enc_w)
    m.d.comb += enc.eq(Cat(kept[:f], e_field))
    inc = round_increment(m, pack.rounding, sign=raw.sign, lsb=enc[0], rbit=rbit, sticky=sticky,
                          frac=frac_t, rand=getattr(pack, "rand", None))
    rounded = Signal(enc_w)
    m.d.comb += rounded.eq((enc + inc)[:enc_w])

    finite = ~(raw.is_nan | raw.is_inf | raw.is_zero)
    top_frac = kept[:f]
    at_top = Signal()
    m.d.comb += at_top.eq(E == e_top)
    over_top = (top_frac > fmt.max_frac) | ((top_frac == fmt.max_frac) & inc) if f else inc
    over = Signal()
    tiny = Signal()
    m.d.comb += [over.eq(finite & (big | (at_top & over_top))),
                 tiny.eq(finite & ~normal & (rounded[f:] == 0))]
    pb = shape.payload_bits
    pack._assemble(m, rounded, rbit | sticky, payload=raw.sig[:pb] if pb else Const(0, 1), payload_bits=pb,
                   over=over, tiny=tiny)
    return m
