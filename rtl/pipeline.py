"""Pipeline registers, written once for every pipelined unit.

A unit's registers all advance together on one enable (a stream's ``~o.valid | o.ready``: stall-all
back-pressure), or every cycle (``en=None``: a fixed-latency pipeline with no handshake).
"""

from amaranth import Signal

__all__ = ["NO_CUTS", "Cuts", "Pipeline", "place"]


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


class Cuts:
    """The named cut points of a datapath that hold a register.

    A component calls ``values = self.cuts.at(m, name, *values)`` at each point of its datapath where a
    register may go, and gets the values back registered (loaded on ``en``, in module ``m``) when ``name`` is
    one of ``points``, unchanged otherwise. A component's ``cuts`` is :data:`NO_CUTS` (combinational) unless a
    pipelined unit sets it before elaboration; the registers then use the unit's enable, so a unit's stages
    all advance together wherever they sit.
    """

    def __init__(self, points=(), en=None, *, registered=True):
        self.points, self.en, self.registered = frozenset(points), en, registered

    def at(self, m, name, *values):
        if name not in self.points:
            return values
        regs = Pipeline(m, self.en, registered=self.registered)
        return tuple(regs.regs(*((v, f"{name}_q{k}") for k, v in enumerate(values))))


#: The cuts of a combinational datapath: none.
NO_CUTS = Cuts()


def place(points, total, stages):
    """Where ``stages`` registers go on a path of ``total`` estimated logic levels with cut ``points``
    (``(key, level)`` pairs, in path order, ``level`` = the levels before the point): for each register k the
    unused point after the previous one nearest to level ``k * total / (stages + 1)`` (equal segments).
    Returns the chosen keys and the number of registers left over (they go at the output)."""
    chosen, last = [], -1
    for k in range(1, stages + 1):
        target = k * total / (stages + 1)
        left = [(abs(level - target), i) for i, (_, level) in enumerate(points) if i > last]
        if not left:
            break
        _, last = min(left)
        chosen.append(points[last][0])
    return chosen, stages - len(chosen)
