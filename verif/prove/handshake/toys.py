"""Tiny stream units for the harness' own tests: a correct stall-all pipeline and deliberately broken ones, each
breaking one property kind. A proof that cannot refute these would be worthless.
"""

from amaranth import Module, Mux, Signal, signed
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["BROKEN", "ToyFifo", "ToyPipe", "toy"]

#: defect -> the property it must break
BROKEN = {
    "drop": "latency_late",         # a beat whose payload is 0x5A never comes out
    # a beat with payload 0xA5 comes out twice: the copy is valid with no input group left to answer for it, so
    # latency_early refutes it the cycle it appears (conservation would the cycle after it is taken)
    "duplicate": "latency_early",
    "payload_stalled": "o_held",    # o.payload changes while o.valid & ~o.ready
    "valid_stalled": "o_held",      # o.valid withdrawn while stalled
    "slow": "latency_late",         # one stage more than declared
    "fast": "latency_early",        # one stage less than declared
    "ready_on_valid": "ready_rule",
    "hoard": "conservation",        # ToyFifo: holds 4 beats, declared 2  # i.ready = (~o.valid | o.ready) & i.valid: works, but not the stall-all rule
}


class ToyPipe(wiring.Component):
    """A stall-all pipeline of ``stages`` registers on an 8-bit payload (``o = i + 1``), with ``defect`` (a key
    of :data:`BROKEN`, or None for the correct unit)."""

    def __init__(self, stages=2, defect=None, signed_payload=False):
        if defect is not None and (defect not in BROKEN or defect == "hoard"):
            raise ValueError(f"defect must be one of {', '.join(BROKEN)}, not {defect!r}")
        self.stages, self.defect = stages + (defect == "slow") - (defect == "fast"), defect
        self.name = f"toy_{defect or 'good'}_s{stages}" + ("_signed" if signed_payload else "")
        shape = signed(8) if signed_payload else 8  # qmac's output is signed(8)
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape))})

    def elaborate(self, platform):
        m = Module()
        n, defect = self.stages, self.defect
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en & self.i.valid if defect == "ready_on_valid" else en)
        v = [Signal(name=f"v{k}") for k in range(n)]
        d = [Signal(self.i.payload.shape(), name=f"d{k}") for k in range(n)]
        first_v = self.i.valid
        if defect == "drop":
            first_v = self.i.valid & (self.i.payload != 0x5A)
        with m.If(en):
            m.d.sync += [v[0].eq(first_v), d[0].eq(self.i.payload + 1)]
            for k in range(1, n):
                m.d.sync += [v[k].eq(v[k - 1]), d[k].eq(d[k - 1])]
        out_v, out_d = v[-1], d[-1]
        if defect == "duplicate":  # replay the last beat once more after it leaves
            again, seen = Signal(), Signal(8)
            with m.If(self.o.valid & self.o.ready):
                m.d.sync += [again.eq(~again & (out_d == 0xA6)), seen.eq(out_d)]
            # the copy goes out in a cycle where the pipeline has nothing to send
            m.d.comb += [self.o.valid.eq(again | v[-1]), self.o.payload.eq(Mux(v[-1], out_d, seen))]
            return m
        if defect == "payload_stalled":
            tick = Signal()
            m.d.sync += tick.eq(~tick)
            out_d = out_d ^ tick
        if defect == "valid_stalled":
            age = Signal(2)
            m.d.sync += age.eq(0)
            with m.If(self.o.valid & ~self.o.ready):
                m.d.sync += age.eq(age + 1)
            out_v = out_v & (age != 2)
        m.d.comb += [self.o.valid.eq(out_v), self.o.payload.eq(out_d)]
        return m


class ToyFifo(wiring.Component):
    """A 4-deep FIFO (latency 1 when empty, ``i.ready`` low only when full): it keeps every beat and its order,
    but holds up to 4 beats where its declaration (:func:`toy`, ``"hoard"``) allows 2, so only conservation's
    bound refutes it."""

    name = "toy_hoard"

    def __init__(self):
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = fifo = SyncFIFO(width=8, depth=4)
        m.d.comb += [fifo.w_data.eq(self.i.payload), fifo.w_en.eq(self.i.valid), self.i.ready.eq(fifo.w_rdy),
                     self.o.valid.eq(fifo.r_rdy), self.o.payload.eq(fifo.r_data), fifo.r_en.eq(self.o.ready)]
        return m


def toy(defect=None, stages=2, signed_payload=False):
    """``(component, Decl)`` of a toy: ``defect`` None (correct), a key of :data:`BROKEN`, or ``"hoard"``;
    ``signed_payload``: a signed(8) payload (a correct toy, for the harness' bit-for-bit comparisons)."""
    from .harness import Decl
    if defect == "hoard":
        return ToyFifo(), Decl(1, 2, "declared: two buffers", ready="two_buffers", when_empty=True)
    # the occupancy invariant (for induction) only on the correct toy: a broken one must fall to its property
    return ToyPipe(stages, defect, signed_payload), Decl(stages, stages, "stall-all: one beat per stage",
                                         occupancy=r"v\d+" if defect is None else None)
