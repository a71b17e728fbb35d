"""Comparisons and sums with a constant, written as plain gates.

Yosys maps ``x >= c`` or ``x + K`` to a carry chain, which ABC's logic optimisation cannot see into; for a few
bits against a constant the gates are smaller and shallower (the narrowing float pack's exponent classes, the
sequential requantizer's round-bit mask).
"""

from amaranth import Cat, Const

__all__ = ["add_const", "ge_const"]


def ge_const(x, c):
    """``x >= c`` for an unsigned ``x`` and a constant ``c``, as plain gates: a comparison with a constant
    that Yosys would map to a carry chain, opaque to ABC's logic optimisation."""
    n = len(x)
    if c <= 0:
        return Const(1)
    if c >= 1 << n:
        return Const(0)
    ge = 1  # the empty low part compares equal
    for i in range(n):  # LSB first: x[:i+1] >= c[:i+1]
        if (c >> i) & 1:
            ge = x[i] if isinstance(ge, int) else x[i] & ge
        else:
            ge = 1 if isinstance(ge, int) else x[i] | ge
    return Const(ge) if isinstance(ge, int) else ge


def add_const(x, K):
    """``(x + K) mod 2**len(x)`` for a constant ``K``, as plain gates (a ripple with the constant's bits
    folded in)."""
    out, carry = [], 0
    for i in range(len(x)):
        kb = (K >> i) & 1
        if isinstance(carry, int):
            if carry == 0:
                out.append(x[i] if not kb else ~x[i])
                carry = x[i] if kb else 0
            else:
                out.append(~x[i] if not kb else x[i])
                carry = x[i] if not kb else 1
        else:
            out.append(x[i] ^ carry if not kb else ~(x[i] ^ carry))
            carry = (x[i] & carry) if not kb else (x[i] | carry)
    return Cat(*out)
