"""Round-and-pack of a wider IEEE-style float into a narrower one, decided from the source's exponent field.

When the raw input is the source's own fields (``MinifloatPack.narrowing``: fp32 -> fp8, fp32 -> fp16,
fp16 -> fp8, ...), the source exponent field ``E`` alone says what happens, by comparisons with constants:

* ``E >= c`` (``c``: the field of the destination's smallest normal): normal; the destination's exponent
  field is ``E - (c - 1)`` taken modulo ``2**exp_bits`` (a constant subtraction on the low bits only: fp32 ->
  E4M3 or E5M2 is a single inverted bit), no denormalising shift;
* ``c - f - R <= E < c`` (``R``: the rounding bits, 1 unless stochastic; ``f``: the destination's fraction
  bits): subnormal, shifted right by ``d = c - E`` in ``1 .. f + R``, computed modulo a few bits: a shifter
  of ``f + R + 1`` positions, not one as wide as the exponent range;
* below (the source's own subnormals and zero included): the hidden bit is past the rounding bits, all of
  it sticky;
* ``E > c - 1 + max_biased``: overflow outright; at ``E = c - 1 + max_biased`` overflow is the truncated
  fraction above the largest one, or equal to it and rounding up (not a compare after the adder).

The significand is first cut as in the general path: the result's bits, the rounding bits and one sticky bit
for everything below (one OR tree, shared by every rounding position). Overflow and tininess come from the
class above, beside the rounding carry chain instead of after it: before rounding a finite value is tiny when
``E < c``; after rounding (the default) also unless it rounds up to the smallest normal at the destination's
precision, which (``E = c - 1``, where the delivered rounding shifts by one) is the delivered carry and one
more rounding decision on the unshifted cut: its last kept bit and the bits below it (rne: two bits ANDed).
"""

from amaranth import Cat, Const, Module, Mux, Signal

from ..gates import add_const
from .raw import signaling_nan
from .rounding import flags_word, round_increment, round_up_below

__all__ = ["elaborate_narrow"]


def _nan_mag(fmt, shape, raw):
    """The destination's NaN magnitude (exponent and fraction fields) and sign for a NaN input."""
    f, k = fmt.frac_bits, fmt.exp_bits
    W = f + k
    if fmt.specials == "ieee":  # payload MSB-aligned and truncated (or zero-extended), quiet bit set
        pb = shape.payload_bits
        payload = raw.sig[:pb]
        nan_frac = payload[pb - f:] if pb >= f else Cat(Const(0, f - pb), payload)
        return Cat(nan_frac | (1 << (f - 1)), Const((1 << k) - 1, k)), raw.sign
    if fmt.specials == "fn":
        return Const((1 << W) - 1, W), raw.sign
    if fmt.specials == "fnuz":
        return Const(0, W), Const(1)
    return Const(0, W), Const(0)  # no NaN: +0 (and NV)


def _cut(pack, m, point, **values):
    """``values`` past the cut point ``point`` (registered when the pipelined unit put a register there; see
    :meth:`MinifloatPack.levels`), as a dict; constants pass as they are."""
    keys = [k for k, v in values.items() if not isinstance(v, (int, Const))]
    regs = pack.cuts.at(m, point, *(values[k] for k in keys))
    return {**values, **dict(zip(keys, regs))}


def elaborate_narrow(pack):
    """The body of ``pack`` (a MinifloatPack whose input passes ``MinifloatPack.narrowing``).

    Three parts, with the cut points ``classify`` and ``round`` between them: the class of the input from its
    exponent field and the sticky OR (comparisons with constants); the denormalising shift and the rounding
    decision; the rounding adder and the flags."""
    m = Module()
    fmt, shape, raw = pack.fmt, pack.shape, pack.i
    ftz = getattr(pack, "ftz", False)
    f, k = fmt.frac_bits, fmt.exp_bits
    W = k + f  # the magnitude's encoding
    S = shape.sig_width
    R = pack.rand_bits if pack.rounding == "stochastic" else 0
    G = max(R, 1) + 1  # rounding bits, then one sticky bit
    P = S - 1 - f
    T = f + 1 + G
    t = Signal(T)
    m.d.comb += t.eq(Cat(raw.sig[:P - G + 1] >= 1, raw.sig[P - G + 1:]))

    E = raw.exp.as_unsigned()[:shape.fmt.exp_bits]
    c = shape.bias + fmt.emin
    e_top = c - 1 + fmt.max_biased
    if shape.fmt.specials == "ieee":
        # the unpack's class flags again, but with the fraction's OR shared with the sticky bit's
        special = E == (1 << shape.fmt.exp_bits) - 1
        frac_nz = t[:T - 1] != 0
        is_nan, is_inf = special & frac_nz, special & ~frac_nz
    else:
        is_nan, is_inf = raw.is_nan, raw.is_inf
        special = is_nan | is_inf
    normal, sub, big, at_top = Signal(), Signal(), Signal(), Signal()
    # shifts up to f + R (f + 1 without stochastic rounding) keep the hidden bit among the rounding bits; with
    # ftz only the binade just below the smallest normal can round up into it, lower ones flush anyway
    sub_lo = c - 1 if ftz else c - (T - 2)
    m.d.comb += [normal.eq(E >= c), sub.eq((E >= sub_lo) & (E < c)), big.eq((E > e_top) & ~special),
                 at_top.eq((E == e_top) & ~special)]

    # the subnormal shift, 1 .. f + R, from the low bits of E
    db = (c - sub_lo).bit_length()
    d = Signal(db)
    m.d.comb += d.eq(Mux(sub, add_const(~E[:db], c + 1), 0))
    # overflow beyond the top binade, decided before rounding
    top_frac = t[G:G + f]  # the fraction at the top binade (a normal: no shift)
    # (a top binade whose every fraction is finite cannot overflow before rounding: no comparison to make)
    frac_over = f and fmt.max_frac < (1 << f) - 1
    over_early = Signal()
    m.d.comb += over_early.eq(big | (at_top & (top_frac > fmt.max_frac)) if frac_over else big)
    at_max = Signal()
    m.d.comb += at_max.eq(at_top & (top_frac == fmt.max_frac) if f else at_top)  # overflows when it rounds up
    nan_mag, _ = _nan_mag(fmt, shape, raw)
    e_field = Signal(k)
    m.d.comb += e_field.eq(Mux(normal, add_const(E[:k], -(c - 1)), 0))
    v = _cut(pack, m, "classify", t=t, d=d, shifted=normal | sub, normal=normal, special=special, is_nan=is_nan,
             is_inf=is_inf, over_early=over_early, at_max=at_max, nan_mag=nan_mag,
             e_field=e_field, sign=raw.sign, snan=signaling_nan(raw, shape), rand=getattr(pack, "rand", None)
             if R else Const(0))
    t, d, normal, special, is_nan, is_inf = v["t"], v["d"], v["normal"], v["special"], v["is_nan"], v["is_inf"]
    over_early, at_max, sign_in = v["over_early"], v["at_max"], v["sign"]

    ts = Signal(T)
    lost = Signal()
    ones = Const((1 << T) - 1, T)
    with m.If(v["shifted"]):
        m.d.comb += [ts.eq(t >> d), lost.eq((t & ~(ones << d)[:T]) != 0)]
    with m.Else():  # below half the smallest subnormal: all sticky (nothing for a zero)
        m.d.comb += [ts.eq(0), lost.eq(t != 0)]
    kept = ts[G:G + f]
    rbit = ts[G - 1]
    sticky = Signal()
    m.d.comb += sticky.eq((ts[:G - 1] != 0) | lost)
    frac_t = ts[G - R:G] if R else None

    # results decided before rounding: NaN, infinity, overflow beyond the top binade (forced encodings)
    toward_zero = {"rtz": Const(1), "rdn": ~sign_in, "rup": sign_in}.get(pack.rounding, Const(0))
    to_max = Signal()
    m.d.comb += to_max.eq(toward_zero | pack.saturate | (fmt.specials == "none"))
    sat_inf = pack.saturate or fmt.specials == "none"
    max_enc = (fmt.max_biased << f) | fmt.max_frac
    forced = Signal(W)
    ovf_nan = fmt.specials in ("fn", "fnuz")  # the format's own overflow value is NaN (else inf, or max)
    nan_res = Signal()
    m.d.comb += nan_res.eq(is_nan | (ovf_nan & ((is_inf & ~sat_inf) | (over_early & ~to_max))))
    with m.If(nan_res):
        m.d.comb += forced.eq(v["nan_mag"])
    with m.Elif((is_inf & (not sat_inf)) | (over_early & ~to_max)):
        m.d.comb += forced.eq(((1 << k) - 1) << f)  # inf (ieee; the others have no inf or go to max)
    with m.Else():
        m.d.comb += forced.eq(max_enc)
    force = special | over_early
    enc_in = Signal(W)
    m.d.comb += enc_in.eq(Mux(force, forced, Cat(kept, v["e_field"])))

    inc = round_increment(m, pack.rounding, sign=sign_in, lsb=kept[0] if f else v["e_field"][0], rbit=rbit,
                          sticky=sticky, frac=frac_t, rand=v["rand"] if R else None)
    inc_in = Signal()
    m.d.comb += inc_in.eq(inc & ~force & ~(at_max & to_max))
    over = Signal()
    m.d.comb += over.eq(over_early | (at_max & inc))
    inexact = Signal()
    m.d.comb += inexact.eq(~special & (rbit | sticky))
    fine = _fine_carry(pack, m, t, G, R, f, sign_in, v["rand"] if R else None,
                       band=v["shifted"] & ~normal & (d == 1))
    v = _cut(pack, m, "round", enc_in=enc_in, inc_in=inc_in, over=over, inexact=inexact, normal=normal, fine=fine,
             nan_res=nan_res, is_nan=is_nan, sign=sign_in, nv=_invalid(fmt, special, is_inf, sat_inf, ovf_nan)
             | v["snan"])
    normal, sign_in = v["normal"], v["sign"]

    # fnuz keeps one spare bit: a carry out of the top is its NaN, 0x80 (elsewhere overflow is decided above)
    rounded = Signal(W + 1 if fmt.specials == "fnuz" else W)
    m.d.comb += rounded.eq(v["enc_in"] + v["inc_in"])

    mag = Signal(W)
    flushed = Signal()  # a subnormal result that ftz turns into zero
    if ftz and f:
        # below the smallest normal the result is 0 or (rounding up) the smallest normal: no fraction bits
        m.d.comb += [mag.eq(Cat(rounded[:f] & normal.replicate(f), rounded[f:W])),
                     flushed.eq(~normal & ~rounded[f] & (rounded[:f] != 0))]
    else:
        m.d.comb += mag.eq(rounded[:W])
    sign = Signal()
    if fmt.specials == "fnuz":
        m.d.comb += sign.eq(v["nan_res"] | rounded[W] | (sign_in & (mag != 0)))  # no -0; 0x80 is NaN
    elif fmt.specials == "none":
        m.d.comb += sign.eq(sign_in & ~v["is_nan"])
    else:
        m.d.comb += sign.eq(sign_in)
    m.d.comb += pack.o.eq(Cat(mag, sign))

    if hasattr(pack, "flags"):
        inexact = v["inexact"]
        # tiny (IEEE 754 7.5): the value is below the smallest normal and, after rounding, does not round up
        # to it at the destination's precision (with fraction bits that needs the delivered carry too)
        tiny = ~normal
        if pack.tininess == "after":
            tiny = ~normal & ~((rounded[f] if f else 1) & v["fine"])
        ftz_nx = flushed if ftz else Const(0)
        m.d.comb += pack.flags.eq(flags_word(nx=inexact | v["over"] | ftz_nx,
                                             uf=(tiny & inexact) | ftz_nx, of=v["over"], nv=v["nv"]))
    return m


def _fine_carry(pack, m, t, G, R, f, sign, rand, band):
    """For tininess after rounding, the part of "rounds up to the smallest normal at precision p" that is
    not the delivered carry, from the unshifted cut ``t`` of a value with ``E = c - 1``: its p-th bit
    (``t[G]``, the delivered round bit) is 1 and the bits below it round up (with fraction bits), or, without
    (p = 1: the leading one is the p-th bit), the value is in that binade (``band``) and the bits below its
    leading one round up from an even exponent field. 0 when no flags or tininess before (unused)."""
    if not hasattr(pack, "flags") or pack.tininess != "after":
        return Const(0)
    up = round_up_below(m, pack.rounding, sign=sign, low=t[:G], odd=bool(f), rand=rand)  # sticky, rounding bits
    fine = Signal()
    m.d.comb += fine.eq((t[G] if f else band) & up)
    return fine


def _invalid(fmt, special, is_inf, sat_inf, ovf_nan):
    """NV from the input's class (a signaling NaN aside): a NaN or infinity into a format without them, an
    infinity into a format whose overflow value is NaN."""
    if fmt.specials == "none":
        return special
    if ovf_nan and not sat_inf:
        return is_inf
    return Const(0)
