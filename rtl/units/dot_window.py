"""Window mode of the dot unit: each beat, the accumulator and the beat's products aligned to the largest
leading-bit position E among them, every magnitude truncated toward zero below ``window`` bits (the bits at
``2**(E - window + 1)`` and up are kept, sign apart), the truncated terms summed exactly and rounded into the
accumulator's format (``golden.arith.dot``, mode ``window``, without promotion).

All terms sit at their absolute positions in one fixed-point word, so E is the leading one of the OR of their
magnitudes; the positions to clear are found from it without a leading-zero count (:func:`_keep`).
"""

from amaranth import Cat, Const, Mux, Signal

from .dot_terms import shift_left

__all__ = ["place_mag", "window_sum"]


def place_mag(term, shape, lsb, width):
    """``term``'s magnitude as an unsigned ``width``-bit word whose bit 0 weighs ``2**lsb``."""
    up = shape.lsb - lsb
    assert up >= 0 and shape.msb - lsb <= width, (shape, lsb, width)
    mag = shift_left(term.sig, term.off, width)
    word = Cat(Const(0, up), mag)[:width] if up else mag[:width]
    # exactly ``width`` bits: a narrower word would be zero-extended implicitly where it meets the others
    # (Verilator -Wall: WIDTHEXPAND)
    return Cat(word, Const(0, width - len(word))) if len(word) < width else word


def _keep(m, word, window, name):
    """0 at every position more than ``window - 1`` below ``word``'s leading one, 1 elsewhere (all 1 for 0).

    In the bit-reversed word the leading one is the lowest, and ``r | -r`` sets every bit from the lowest one
    up (a carry chain): reversed back, every position at or below the leading one. Shifted down by ``window``,
    that marks the positions the window clears; inverted, the ones it keeps. (Written with left shifts of reversed words: a right shift's
    zero fill becomes an implicit zero-extension in Verilog, which -Wall reports.)"""
    G = len(word)
    r = Signal(G, name=f"{name}_rev")
    neg = Signal(G + 1, name=f"{name}_neg")
    low = Signal(G, name=f"{name}_low")
    m.d.comb += [r.eq(word[::-1]), neg.eq(-r), low.eq(r | neg[:G])]
    if window >= G:
        return Const((1 << G) - 1, G)
    keep_rev = Signal(G, name=f"{name}_keep_rev")
    m.d.comb += keep_rev.eq(Cat(Const((1 << window) - 1, window), ~low[:G - window]))
    return keep_rev[::-1]


def window_sum(m, mags, signs, window, width, name):
    """The window rule over magnitudes ``mags`` (unsigned ``width - 1``-bit words) with ``signs``.

    Returns ``(word, lost, zeros)``: the exact signed sum (``signed(width)``) of the truncated terms, whether a
    nonzero bit was cut from any term, and each term's "is zero after truncation" bit.
    """
    G = width - 1
    # every magnitude exactly G bits wide (registered words may be narrower): no implicit zero-extension where
    # they meet (Verilator -Wall: WIDTHEXPAND)
    mags = [Cat(w, Const(0, G - len(w))) if len(w) < G else w[:G] for w in mags]
    orw = Signal(G, name=f"{name}_or")
    m.d.comb += orw.eq(_or_all(mags))
    keep = Signal(G, name=f"{name}_keep")  # 0 at the positions below E - window + 1
    m.d.comb += keep.eq(_keep(m, orw, window, name))
    kept = []
    lost = Const(0)
    zeros = []
    for k, (mag, sign) in enumerate(zip(mags, signs)):
        t = Signal(G, name=f"{name}_t{k}")
        m.d.comb += t.eq(mag & keep)
        lost = lost | (t != mag)
        zeros.append(t == 0)
        kept.append(Mux(sign, -t, t).as_signed()[:width].as_signed())
    total = Signal(width, name=f"{name}_sum")
    m.d.comb += total.eq(sum(kept[1:], kept[0]))
    return total.as_signed(), lost, zeros


def _or_all(words):
    out = words[0]
    for w in words[1:]:
        out = out | w
    return out
