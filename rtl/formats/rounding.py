"""The rounding decision, shared by every pack component (same rules as golden.rounding)."""

from amaranth import Const, Signal

from amaranth import Cat

from fmtforge.golden import DZ, MODES, NV, NX, OF, UF

__all__ = ["FLAGS_WIDTH", "flags_word", "round_increment", "round_up_below", "rounding_ports"]

#: The flags port: NX, UF, OF, DZ, NV from bit 0 up (golden's flag bits, the RISC-V fflags layout).
FLAGS_WIDTH = 5
assert (NX, UF, OF, DZ, NV) == (1, 2, 4, 8, 16)


def flags_word(*, nx, uf, of, nv):
    """The ``flags`` value from its bits (a conversion never raises DZ)."""
    return Cat(nx, uf, of, Const(0, 1), nv)


def rounding_ports(i, o, *, flags, rounding, rand_bits):
    """The signature members of a rounding unit: ``i`` and ``o`` (shapes), ``flags`` (5 bits, the RISC-V
    ``fflags`` layout: NX, UF, OF, DZ, NV from bit 0 up) when asked, and ``rand`` with stochastic rounding."""
    from amaranth.lib.wiring import In, Out
    ports = {"i": In(i), "o": Out(o)}
    if flags:
        ports["flags"] = Out(FLAGS_WIDTH)
    if rounding == "stochastic":
        ports["rand"] = In(rand_bits)
    return ports


def round_increment(m, rounding, *, sign, lsb, rbit, sticky, frac=None, rand=None):
    """A signal that is 1 when the truncated magnitude rounds up by one unit.

    ``lsb`` is the last bit of the truncated encoding, ``rbit`` the first discarded bit and ``sticky`` the OR
    of the rest. Stochastic rounding adds ``rand`` to ``frac`` (the discarded fraction's top bits, as wide as
    ``rand``) and rounds up on the carry, as golden.rounding describes.
    """
    if rounding not in MODES:
        raise ValueError(f"rounding must be one of {', '.join(MODES)}, not {rounding!r}")
    inc = Signal()
    if rounding == "rne":
        m.d.comb += inc.eq(rbit & (sticky | lsb))
    elif rounding == "rtz":
        m.d.comb += inc.eq(Const(0))
    elif rounding == "rup":
        m.d.comb += inc.eq((rbit | sticky) & ~sign)
    elif rounding == "rdn":
        m.d.comb += inc.eq((rbit | sticky) & sign)
    elif rounding == "rmm":
        m.d.comb += inc.eq(rbit)
    else:
        m.d.comb += inc.eq((frac + rand)[-1])  # the carry out of the sum
    return inc


def round_up_below(m, rounding, *, sign, low, odd, rand=None):
    """Whether a magnitude whose last kept bit has parity ``odd`` rounds up on the bits ``low`` below it (LSB
    first: its top bit is the round bit, the others sticky, its top ``len(rand)`` bits the discarded fraction of
    stochastic rounding, zero-extended below). Tininess after rounding uses it at the destination's precision."""
    n = len(low)
    frac = None
    if rand is not None:
        R = len(rand)
        frac = Cat(Const(0, max(R - n, 0)), low[max(n - R, 0):])
    return round_increment(m, rounding, sign=sign, lsb=Const(int(odd)), rbit=low[n - 1],
                           sticky=low[:n - 1] != 0 if n > 1 else Const(0), frac=frac, rand=rand)
