"""Several stream units side by side in one simulator build: unit ``k`` on ports ``u<k>_i`` / ``u<k>_o`` (its
own stream signatures) and, when it has one, ``u<k>_ts`` for its ``tensor_scale`` input; clock and reset
shared."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["StreamHarness"]


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
