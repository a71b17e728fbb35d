"""An independent reference for golden.arith.posit_dot: posits decoded from the Posit Standard 2022's definition,
products and sums as Fractions, and the standard's rounding (to the nearer neighbour, the midpoint being the
(n+1)-bit posit between them, ties to the even pattern; never to 0 or NaR) read off sorted value tables."""

import bisect
import functools
from fractions import Fraction


def decode(n, es, bits):
    """The value of a posit(n, es) pattern (None for NaR), from the definition: sign, regime run, exponent
    bits (missing ones 0), fraction."""
    bits = int(bits) & ((1 << n) - 1)
    if bits == 0:
        return Fraction(0)
    if bits == 1 << (n - 1):
        return None
    neg = bits >> (n - 1)
    if neg:
        bits = (-bits) & ((1 << n) - 1)
    s = format(bits, f"0{n}b")[1:]
    run = len(s) - len(s.lstrip(s[0]))
    k = run - 1 if s[0] == "1" else -run
    rest = s[run + 1:]
    e = int((rest[:es] + "0" * es)[:es], 2) if es else 0
    f = rest[es:]
    frac = Fraction(int(f, 2), 1 << len(f)) if f else Fraction(0)
    v = (1 + frac) * Fraction(2) ** (k * (1 << es) + e)
    return -v if neg else v


@functools.lru_cache(maxsize=None)
def positives(n, es):
    """Values of the positive patterns 1 .. 2**(n-1) - 1, ascending (posit order is pattern order)."""
    return [decode(n, es, p) for p in range(1, 1 << (n - 1))]


def round_posit(x, n, es):
    """The posit(n, es) pattern nearest to Fraction x per the standard: (pattern, inexact)."""
    if x == 0:
        return 0, False
    mag = abs(x)
    vals = positives(n, es)
    i = bisect.bisect_left(vals, mag)  # vals[i - 1] < mag <= vals[i]
    if i < len(vals) and vals[i] == mag:
        p, inexact = i + 1, False
    elif i == 0:
        p, inexact = 1, True  # below minpos: minpos
    elif i == len(vals):
        p, inexact = len(vals), True  # above maxpos: maxpos
    else:
        lo = i  # pattern of vals[i - 1]
        mid = decode(n + 1, es, 2 * lo + 1)  # the (n+1)-bit posit between lo and lo + 1
        if mag < mid:
            p = lo
        elif mag > mid:
            p = lo + 1
        else:
            p = lo if lo % 2 == 0 else lo + 1
        inexact = True
    return ((-p) & ((1 << n) - 1) if x < 0 else p), inexact


def ref_posit_dot(a, b, c, fa, fb, fc, fo):
    """One fused dot product: a, b, c patterns; formats as (n, es). Returns (pattern, flags: NX = 1)."""
    vals = [decode(*fa, x) for x in a] + [decode(*fb, y) for y in b] + ([decode(*fc, c)] if c is not None else [])
    if any(v is None for v in vals):
        return 1 << (fo[0] - 1), 0
    s = sum((decode(*fa, x) * decode(*fb, y) for x, y in zip(a, b)), Fraction(0))
    if c is not None:
        s += decode(*fc, c)
    p, inexact = round_posit(s, *fo)
    return p, int(inexact)
