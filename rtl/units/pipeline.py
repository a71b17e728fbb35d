"""Pipeline registers, written once for every pipelined unit.

A unit's registers all advance together on one enable (a stream's ``~o.valid | o.ready``: stall-all
back-pressure), or every cycle (``en=None``: a fixed-latency pipeline with no handshake).
"""

from amaranth import Signal

__all__ = ["Pipeline"]


class Pipeline:
    """Registers of one module ``m`` that load when ``en`` is high (every cycle when ``en`` is None).

    ``reg(value, name)`` returns a register loaded with ``value``; ``stage(name, **values)`` registers several
    values at once, each named ``<name>_<key>``, and returns them as a dict. With ``registered=False`` every
    "register" is a wire: the same datapath, combinational (for the batch lane and mutation studies).
    """

    def __init__(self, m, en=None, *, registered=True):
        self.m, self.en, self.registered = m, en, registered

    def reg(self, value, name, shape=None):
        r = Signal(shape if shape is not None else value.shape(), name=name)
        self.load((r, value))
        return r

    def regs(self, *named):
        """Registers for several ``(value, name)`` pairs, loaded together; returns them in order."""
        made = [Signal.like(value, name=name) for value, name in named]
        self.load(*((r, value) for r, (value, _) in zip(made, named)))
        return made

    def load(self, *pairs):
        """Each ``(target, value)``: ``target`` takes ``value`` on every enabled cycle (also for registers made
        elsewhere, such as output ports)."""
        statements = [target.eq(value) for target, value in pairs]
        if not self.registered:
            self.m.d.comb += statements
        elif self.en is None:
            self.m.d.sync += statements
        else:
            with self.m.If(self.en):
                self.m.d.sync += statements

    def stage(self, name, **values):
        return {k: self.reg(v, f"{name}_{k}") for k, v in values.items()}
