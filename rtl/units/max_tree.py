"""The largest of several unsigned values, as a balanced tree of comparators: the shared exponent of a block
(the MX quantizer's scale, the block-floating-point encoder's exponent)."""

from amaranth import Const, Mux, Signal

__all__ = ["max_tree"]


def max_tree(m, keys, name):
    """The largest of the unsigned ``keys`` (ceil(log2 n) levels of comparators added to ``m``); the
    intermediate maxima are named ``{name}_l{level}_{index}``."""
    level = 0
    while len(keys) > 1:
        nxt = []
        for k in range(0, len(keys) - 1, 2):
            a, b = keys[k], keys[k + 1]
            s = Signal(a.shape(), name=f"{name}_l{level}_{k // 2}")
            m.d.comb += s.eq(Mux(a > b, a, b))
            nxt.append(s)
        keys = nxt + keys[len(keys) & ~1:]
        level += 1
    return keys[0] if keys else Const(0)
