"""Several stream units side by side in one simulator build: unit ``k`` on ports ``u<k>_i`` / ``u<k>_o`` (its
own stream signatures) and, when it has one, ``u<k>_ts`` for its ``tensor_scale`` input; clock and reset
shared."""

from amaranth import Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["FreeRunningStream", "StreamHarness"]


class StreamHarness(wiring.Component):
    """The built stream ``units`` (each with ``in_layout``, ``out_layout``, ``i`` and ``o``) behind prefixed
    ports."""

    def __init__(self, units):
        self.units = list(units)
        ports = {}
        for k, u in enumerate(self.units):
            ports[f"u{k}_i"] = In(stream.Signature(u.in_layout))
            ports[f"u{k}_o"] = Out(stream.Signature(u.out_layout))
            if hasattr(u, "tensor_scale"):
                ports[f"u{k}_ts"] = In(len(u.tensor_scale))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        for k, u in enumerate(self.units):
            m.submodules[f"u{k}"] = u
            wiring.connect(m, wiring.flipped(getattr(self, f"u{k}_i")), u.i)
            wiring.connect(m, u.o, wiring.flipped(getattr(self, f"u{k}_o")))
            if hasattr(u, "tensor_scale"):
                m.d.comb += u.tensor_scale.eq(getattr(self, f"u{k}_ts"))
        return m


class FreeRunningStream(wiring.Component):
    """A pipeline without a handshake (ports ``i``, ``o``; one result per cycle, ``latency`` cycles later, as
    posit-decode's ``--stages``) behind stream ports, so that the one stream bench drives it: ``o.valid`` is
    ``i.valid`` delayed by the *documented* ``latency`` (a value that arrives on another cycle lands beside
    another beat's valid and fails the check), ``i.ready`` is always high. It cannot stall: drive it with gaps
    but without back-pressure."""

    def __init__(self, core, latency):
        self.core, self.latency = core, latency
        super().__init__({"i": In(stream.Signature(len(Value.cast(core.i)))),
                          "o": Out(stream.Signature(len(Value.cast(core.o))))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        m.d.comb += [self.core.i.eq(self.i.payload), self.o.payload.eq(Value.cast(self.core.o)), self.i.ready.eq(1)]
        valid = self.i.valid
        for k in range(self.latency):
            nxt = Signal(name=f"valid_{k + 1}")
            m.d.sync += nxt.eq(valid)
            valid = nxt
        m.d.comb += self.o.valid.eq(valid)
        return m
