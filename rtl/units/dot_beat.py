"""Beat mode of the dot unit: the running sum kept as a fixed-point word of its *rounded* value.

Each beat, ``total = acc + tree`` (the accumulator, or ``c`` on a dot product's first beat, plus the beat's
lane sum) is rounded to ``out``'s precision without leaving fixed point, and that rounded word is the next
accumulator. The loop has no unpack, no placement shifter, no normaliser and no pack: only carry chains and
masks (:func:`beat_loop`). The accumulator is held in sign-magnitude, so the magnitude of the sum comes from
two adders side by side (``t + A`` and ``-t - A`` with ``-t`` registered outside the loop) instead of an adder
followed by a negation. The rounded word becomes ``out``'s bits only on the result path (:func:`pack_word`),
once per dot product and outside the loop.

Rounding in fixed point: the leading one of the magnitude is found by a parallel prefix OR from the top
(``above[i]``: a bit at ``i`` or higher; radix 4, a few LUT levels instead of a carry chain). The bits below the
kept ``f + 1`` are those below ``p - f``, or below the subnormal quantum ``2**(emin - f)`` when that is higher
(``low``, a mask). The increment and the inexact bit are decided for each position ``p`` the leading one can
have (last kept bit, round bit, and the sticky OR from a prefix OR from the bottom, all at fixed places) and
the one-hot ``above[p] & ~above[p + 1]`` selects one: the mask is not on the way to the increment.
``(mag | low) + 1`` is ``mag`` truncated plus one unit of its last kept bit: the rounded-up value,
carry into a new binade included. That ``+ 1`` is never done in the loop: the accumulator holds ``mag | low``
(or the truncated ``mag & ~low``) and a carry bit, which the next beat's adders take as their carry-in and the
pack adds to the encoding. A rounded value of ``2**(emax + 1)`` or more overflows.
"""

from amaranth import Cat, Const, Mux, Signal

from ..formats.rounding import FLAGS_WIDTH, round_increment
from .dot_terms import merge_specials

__all__ = ["BeatAcc", "beat_loop", "pack_word"]


class BeatAcc:
    """The accumulator's registers: ``sign``, ``mag`` and ``cin`` (the rounded magnitude is ``mag + cin``, bit 0
    weighing ``2**geo.lsb``; 0 for a special), ``nan``, ``pinf``, ``ninf`` (its class) and ``flags`` (the dot product's flags so far)."""

    def __init__(self, mag_width, name):
        self.sign = Signal(name=f"{name}_sign")
        self.mag = Signal(mag_width, name=f"{name}_mag")
        self.cin = Signal(name=f"{name}_cin")
        self.nan = Signal(name=f"{name}_nan")
        self.pinf = Signal(name=f"{name}_pinf")
        self.ninf = Signal(name=f"{name}_ninf")
        self.flags = Signal(FLAGS_WIDTH, name=f"{name}_flags")


def _positions(geo, out):
    """Word positions (bit indices) of ``out``'s subnormal quantum, smallest normal and overflow threshold."""
    f = out.frac_bits
    qpos = out.emin - f - geo.lsb
    assert qpos >= 0, (geo, out)  # the word holds every out value exactly
    return qpos, out.emin - geo.lsb, out.emax + 1 - geo.lsb


def _to_inf(rounding, neg):
    """Whether an overflow rounds to infinity (else to the largest finite value), IEEE 754 7.4."""
    return {"rne": Const(1), "rmm": Const(1), "rtz": Const(0), "rup": ~neg, "rdn": neg}[rounding]


def _suffix_or(m, x, start, name):
    """``s[i - start] = x[i:].any()`` for ``i`` in ``start..len(x) - 1``: a parallel prefix OR from the top
    (radix 4, Kogge-Stone: level k ORs each running value with the three at distances d, 2d, 3d, d = 4**k),
    so its depth is log4(len(x)) LUT levels instead of a carry chain through the whole word."""
    n = len(x)
    level = Signal(n, name=f"{name}_sor0")
    m.d.comb += level.eq(x)
    d, k = 1, 0
    while d < n:
        k += 1
        nxt = Signal(n, name=f"{name}_sor{k}")
        m.d.comb += nxt.eq(Cat(*[level[i] | level[i + d:min(i + 4 * d, n):d].any() if i + d < n else level[i]
                                 for i in range(n)]))
        level, d = nxt, 4 * d
    return level[start:]


def _round(m, mag, geo, out, rounding, neg, name):
    """``mag`` rounded to ``out``'s precision in fixed point: ``(kept, inc, inexact, tiny, top_up)``.
    ``kept`` is ``mag | low`` when ``inc`` (the truncated value goes up by one unit of its last kept bit),
    else ``mag & ~low`` (``low``: the positions below the last kept one); ``top_up``: ``mag | low`` is
    ``2**(emax + 1) - 1`` and goes up (to the overflow threshold); ``tiny``: below ``out``'s smallest normal
    after rounding with an unbounded exponent (IEEE 754 7.5)."""
    M, f = len(mag), out.frac_bits
    qpos, epos, ofpos = _positions(geo, out)
    # low can only mark positions below M - 1 - f (the leading one is at M - 1 at most): it is built L bits
    # wide, so no signal has constant bits (Verilog would see them trimmed and widened again: WIDTHEXPAND)
    # low's positions and the overflow threshold are not ordered: ofpos > L when the word's top is less than
    # f + 1 bits above out's largest binade (small products: e4m3 x e4m3 into fp16), ofpos <= L when the products
    # reach further above it (e5m2 x e4m3, fp16 x fp16 into fp16); the word always reaches above the threshold
    # (the geometry holds out's values: its bound is 2**(emax + 1) at least) and below the quantum
    L = M - 1 - f
    assert 1 <= L and qpos <= L and ofpos < M, (M, f, qpos, ofpos)
    above = _suffix_or(m, mag, 0, f"{name}_above")  # above[i]: a bit of mag at i or higher
    rev = Signal(M, name=f"{name}_rev")
    m.d.comb += rev.eq(mag[::-1])
    below_rev = _suffix_or(m, rev, 0, f"{name}_below")  # below_rev[M - k]: a bit of mag below k

    def any_below(k):
        return below_rev[M - k] if k >= 1 else Const(0)

    low = Signal(L, name=f"{name}_low")
    # low[j] is set when a bit of mag lies above position f + j (the positions below the last kept one), or
    # j is below the quantum
    m.d.comb += low.eq(above[f + 1:] | Const((1 << qpos) - 1, L))
    # the increment and the inexact bit, decided for every position p the leading one can have (one-hot
    # above[p] & ~above[p + 1]) from mag's bits at fixed places (the last kept one at k = p - f, the round bit
    # below it, the sticky OR below that), and ORed: each decision is ready as soon as the parallel ORs are, so
    # no mask sits between the add and the increment. Leading ones at qpos + f or below (and a zero) keep the
    # quantum's position.
    def decide(k):
        rb = mag[k - 1] if k >= 1 else Const(0)
        return (round_increment(m, rounding, sign=neg, lsb=mag[k], rbit=rb, sticky=any_below(k - 1)),
                rb | any_below(k - 1))

    inc, inexact = Signal(name=f"{name}_inc"), Signal(name=f"{name}_inexact")
    sub = ~above[qpos + f + 1] if qpos + f + 1 < M else Const(1)
    inc_q, nx_q = decide(qpos)
    incs, nxs = [sub & inc_q], [sub & nx_q]
    for p in range(qpos + f + 1, M):
        lead = above[p] & ~above[p + 1] if p + 1 < M else above[p]
        inc_p, nx_p = decide(p - f)
        incs.append(lead & inc_p)
        nxs.append(lead & nx_p)
    m.d.comb += [inc.eq(Cat(*incs).any()), inexact.eq(Cat(*nxs).any())]
    kept = Signal(M, name=f"{name}_kept")
    m.d.comb += kept.eq(Cat(Mux(inc, mag[:L] | low, mag[:L] & ~low), mag[L:]))
    # mag | low == 2**ofpos - 1 (with mag < 2**ofpos; else of holds anyway) means the leading one is at
    # ofpos - 1 and the f + 1 kept bits are all ones (low then marks every position below them, the quantum's
    # included: qpos <= ofpos - 1 - f): read off mag alone, not through the leading-one mask (a shorter path)
    top_ones = Signal(name=f"{name}_top_ones")
    m.d.comb += top_ones.eq(mag[ofpos - 1 - f:ofpos].all())
    # tiny after rounding: below 2**emin, unless the binade just below rounds up into it at full precision
    # (its f + 1 top bits all ones, kept down to qpos - 1: only when the word has bits below the quantum)
    below = mag[epos:] == 0 if epos < M else Const(1)
    carry = Const(0)
    if qpos >= 1 and epos <= M:
        rb = mag[qpos - 2] if qpos >= 2 else Const(0)
        st = (mag[:qpos - 2] != 0) if qpos >= 3 else Const(0)
        cinc = round_increment(m, rounding, sign=neg, lsb=mag[qpos - 1], rbit=rb, sticky=st)
        carry = (mag[qpos - 1:epos] == (1 << (epos - qpos + 1)) - 1) & cinc
    tiny = Signal(name=f"{name}_tiny")
    m.d.comb += tiny.eq(below & ~carry)
    # the increment of a value whose leading one is at ofpos - 1 (where top_ones can hold): decided at fixed
    # places, so the overflow test does not wait for the increment
    k = ofpos - 1 - f
    inc_top = round_increment(m, rounding, sign=neg, lsb=Const(1), rbit=mag[k - 1] if k >= 1 else Const(0),
                              sticky=any_below(k - 1))
    return kept, inc, inexact, tiny, top_ones & inc_top


def beat_loop(m, *, geo, out, rounding, en, first, t, nt, tspec, c_sign, c_mag, c_spec, name="beat"):
    """The accumulator loop: on each cycle with ``en``, ``acc <- round(Mux(first, c, acc) + t)``.

    ``t``, ``nt``: the beat's lane sum and its negation (signed, :class:`~.dot_acc.Geometry` ``geo``);
    ``tspec``: its :data:`~.dot_terms.SPECIALS`; ``c_sign``, ``c_mag``, ``c_spec``: the addend (its magnitude
    at ``geo``). Returns ``(acc, step_flags)``: the :class:`BeatAcc` registers and this beat's flags (ORed with
    the dot product's earlier ones), as ``golden.arith.dot``'s beat mode.
    """
    W = geo.width
    M = W - 1
    _, _, ofpos = _positions(geo, out)
    # a rounded finite value is below 2**ofpos (else it overflowed): the accumulator keeps ofpos bits
    acc = BeatAcc(ofpos, name)
    acc_zero = Signal(name=f"{name}_acc_zero")
    m.d.comb += acc_zero.eq((acc.mag == 0) & ~acc.cin & ~(acc.nan | acc.pinf | acc.ninf))
    a_spec = [acc.nan, acc.pinf, acc.ninf, Const(0), acc_zero & acc.sign, acc_zero & ~acc.sign]
    nan, pinf, ninf, nv, negz, posz = merge_specials([Mux(first, x, y) for x, y in zip(c_spec, a_spec)], tspec)
    s, a, ci = Signal(name=f"{name}_s"), Signal(M, name=f"{name}_a"), Signal(name=f"{name}_ci")
    m.d.comb += [s.eq(Mux(first, c_sign, acc.sign)), a.eq(Mux(first, c_mag, acc.mag)), ci.eq(~first & acc.cin)]
    # with v = a + ci: x = t + (s ? -v : v) and y = -x = nt + (s ? v : -v), side by side; -v = ~a + ~ci, so
    # each is one adder with a carry-in, which rides below bit 0
    x, y = Signal(W + 1, name=f"{name}_x"), Signal(W + 1, name=f"{name}_y")
    sw = s.replicate(M)
    m.d.comb += [x.eq(Cat(Const(1, 1), t) + Cat(ci ^ s, a ^ sw, s)),
                 y.eq(Cat(Const(1, 1), nt) + Cat(~(ci ^ s), a ^ ~sw, ~s))]
    neg = Signal(name=f"{name}_neg")
    mag = Signal(M, name=f"{name}_mag_sum")
    m.d.comb += [neg.eq(x[W]), mag.eq(Mux(neg, y[1:M + 1], x[1:M + 1]))]
    # the rounded magnitude is trunc + inc * unit = kept + inc: the increment is left to the next beat's
    # adders (their carry-in) and to the result's pack, so no carry chain follows the round
    kept, inc, inexact, tiny, top_up = _round(m, mag, geo, out, rounding, neg, name)

    is_nan = nan | (pinf & ninf)
    is_inf = (pinf | ninf) & ~is_nan
    finite = ~(nan | pinf | ninf)
    of = Signal(name=f"{name}_of")
    # rounded >= 2**ofpos: mag is, or mag | low is 2**ofpos - 1 and goes up
    m.d.comb += of.eq(finite & ((mag[ofpos:] != 0 if ofpos < M else Const(0)) | top_up))
    to_inf = _to_inf(rounding, neg)
    f = out.frac_bits
    maxfin = ((1 << (f + 1)) - 1) << (out.emax - f - geo.lsb)
    exact_zero = Signal(name=f"{name}_exact_zero")
    m.d.comb += exact_zero.eq(mag == 0)
    zsign = Mux(negz, 1, Mux(posz, 0, int(rounding == "rdn")))
    nx = Signal(name=f"{name}_nx")
    m.d.comb += nx.eq(finite & (inexact | of))
    step = Signal(FLAGS_WIDTH, name=f"{name}_step_flags")
    m.d.comb += step.eq(Cat(nx, nx & tiny, of, Const(0, 1), nv | (pinf & ninf & ~nan))
                        | Mux(first, 0, acc.flags))
    with m.If(en):
        m.d.sync += [
            acc.nan.eq(is_nan),
            acc.pinf.eq((is_inf & pinf) | (of & to_inf & ~neg)),
            acc.ninf.eq((is_inf & ninf) | (of & to_inf & neg)),
            acc.mag.eq(Mux(~finite | (of & to_inf), 0, Mux(of, maxfin, kept[:ofpos]))),
            acc.cin.eq(finite & ~of & inc),
            acc.sign.eq(Mux(is_nan, 0, Mux(is_inf, ninf, Mux(finite & exact_zero, zsign, neg)))),
            acc.flags.eq(step),
        ]
    return acc, step


def _shift_right(m, x, amount, width, name):
    """The low ``width`` bits of ``x >> amount`` (``amount`` a signal), largest step first so each level is
    only as wide as the ones after it still need."""
    for k in reversed(range(len(amount))):
        step = 1 << k
        need = width + step - 1
        xp = Cat(x, Const(0, step + need))
        nxt = Signal(need, name=f"{name}_sr{k}")
        m.d.comb += nxt.eq(Mux(amount[k], xp[step:step + need], xp[:need]))
        x = nxt
    return x[:width]


def pack_word(m, acc, geo, out, name="res"):
    """``out``'s bits for the accumulator's value ``mag + cin`` (exact: a value ``out`` represents): NaN is
    ``out``'s quiet NaN with sign 0. With ``cin``, ``mag`` is the truncated value with ones below its last
    kept bit: the encoding of ``mag``'s kept bits plus one is the rounded-up value's (a carry out of the
    significand goes into the exponent). The biased exponent minus one is the leading one's distance above the
    smallest normal (0 for subnormals), the significand the ``f + 1`` bits from there down; adding them
    carries the hidden bit into the exponent, which makes a normal's exponent field right and leaves a
    subnormal's at 0."""
    M, f = len(acc.mag), out.frac_bits
    qpos, epos, _ = _positions(geo, out)
    r = Signal(M, name=f"{name}_rev")
    nr = Signal(M + 1, name=f"{name}_revneg")
    m.d.comb += [r.eq(acc.mag[::-1]), nr.eq(-r)]
    onehot = Signal(M, name=f"{name}_onehot")  # the leading one of the magnitude
    m.d.comb += onehot.eq((r & nr[:M])[::-1])
    n_sh = max(M - 1 - epos, 0).bit_length()
    sh = Signal(max(n_sh, 1), name=f"{name}_sh")
    m.d.comb += sh.eq(Cat(*[
        Cat(*[onehot[j] for j in range(max(epos, 0), M) if (j - epos) >> k & 1], Const(0, 1)).any()
        for k in range(max(n_sh, 1))]))
    win = _shift_right(m, acc.mag[qpos:], sh, f + 1, name)
    body = Signal(out.width - 1, name=f"{name}_body")
    m.d.comb += body.eq((sh << f) + win + acc.cin)
    e_ones = (1 << (out.width - 1 - f)) - 1
    inf = e_ones << f
    qnan = inf | (1 << (f - 1))
    data = Signal(out.width, name=f"{name}_data")
    m.d.comb += data.eq(Mux(acc.nan, qnan, Mux(acc.pinf | acc.ninf, Cat(Const(inf, out.width - 1), acc.ninf),
                                                Cat(body, acc.sign))))
    return data
