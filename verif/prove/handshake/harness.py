"""The generic formal harness around one stream unit: environment assumptions and the handshake properties as
Amaranth ``Assume`` / ``Assert`` statements, for Yosys' ``sat -tempinduct`` (k-induction, base case = BMC).

Environment (assumed):

- ``rst`` is high in the first cycle and low ever after;
- upstream keeps ``i.valid`` high and ``i.payload`` unchanged while ``i.valid & ~i.ready`` (the stream
  protocol's rule for a source); otherwise ``i.valid``, ``i.payload`` and ``o.ready`` are free every cycle;
- the unit's other inputs (qmac's zero points and scales, nvfp4's ``tensor_scale``) are free but constant after
  reset (a restriction of the environment: they are configuration, and held stable here so that a payload
  held on ``o`` is the unit's doing).

Properties (asserted in every cycle after the reset cycle; each one drives a wire named ``prop_<kind>`` so a
counterexample names the property it breaks):

``o_held``
    ``o.valid & ~o.ready`` in a cycle implies ``o.valid`` and ``o.payload`` unchanged in the next.
``ready_rule``
    the unit's documented rule for ``i.ready`` (:class:`Decl`'s ``ready``).
``conservation``
    ``0 <= groups completed on i - groups completed on o <= capacity`` (counters modulo 2**8): no group is
    duplicated (o never overtakes i) and at most ``capacity`` are held.
``latency_late``
    a group completed on ``i`` at t (the unit holding nothing else when ``Decl.when_empty``) with ``o.ready``
    high in t .. t+L-1 has its reference output beat valid on ``o`` at t+L: nothing is lost or late.
``latency_early``
    the reference output beat of output group j is valid no earlier than L cycles after input group j
    completed (``in_count`` delayed by L - 1 cycles compared with the output groups started).
``counters`` (auxiliary)
    the harness' own counters agree (output groups started = completed, + 1 mid-group).
``occupancy`` (auxiliary, only with ``Decl.occupancy``)
    the groups held equal the unit's valid flip-flops set: an invariant that makes k-induction close.
``alignment`` (auxiliary, only with ``Decl.in_counter``)
    the unit's beat-in-block counter equals the harness' (both count accepted beats from reset).
``invariant`` (auxiliary, only with ``Decl.invariant``)
    the unit's own invariant, relating its state to the harness' counters.
"""

import re
from dataclasses import dataclass

from amaranth import Elaboratable, Module, Mux, ResetSignal, Signal, Value
from amaranth.hdl import Assert, Assume, Fragment
from amaranth.lib import wiring

__all__ = ["Decl", "Harness", "PROPERTIES"]

PROPERTIES = ("o_held", "ready_rule", "conservation", "latency_late", "latency_early", "counters", "occupancy", "alignment", "invariant")
_W = 8  # counter width: counts are compared modulo 2**8, capacities are far below 2**7


@dataclass(frozen=True)
class Decl:
    """What the harness needs of one stream unit configuration.

    ``latency``: documented cycles (from :mod:`fmtforge.verif.support.benches.stream_latency`).
    ``in_group``: ``"beat"``, ``("block", n)`` (n beats counted from reset) or ``"last"`` (a beat whose payload
    field ``last`` is 1 closes a group). ``out_group``: ``"beat"`` or ``("block", n)``; the reference output
    beat is a block's first. ``occupancy``: a regular expression naming the unit's valid flip-flops (one per
    stage, each holding at most one group), or None; when given, the auxiliary invariant ``occupancy`` (held
    groups == valid flip-flops set) is asserted too, which lets k-induction close (without it an unreachable
    state can stall unchanged for any k cycles). ``ready``: ``"stall_all"`` (``i.ready == ~o.valid | o.ready``) or
    ``"two_buffers"`` (``i.ready`` low only while two completed groups are held: mx-quantize).
    ``capacity`` and ``why``: the most groups the unit may hold, and the reason. ``when_empty``: the latency is
    documented only for a group arriving with nothing else held (docs/mx.md: "the previous block gone").
    """

    latency: int
    capacity: int
    why: str
    in_group: object = "beat"
    out_group: object = "beat"
    ready: str = "stall_all"
    when_empty: bool = False
    doc: str = ""
    occupancy: str = None
    in_counter: str = None
    invariant: object = None


def _span(group):
    return group[1] if isinstance(group, tuple) else 1


class Harness(Elaboratable):
    """The harness around component ``dut`` (``i`` / ``o`` stream ports) with declaration ``decl``.

    ``ports`` lists the free inputs (for ``rtlil.convert``); the clock and reset are the ``sync`` domain's.
    """

    def __init__(self, dut, decl):
        self.dut, self.decl = dut, decl
        self.iv = Signal(name="iv")
        self.ip = Signal(len(Value.cast(dut.i.payload)), name="ip")
        self.ordy = Signal(name="ordy")
        self.side = {}
        for name, member in dut.signature.members.items():
            if name in ("i", "o"):
                continue
            if not member.is_port or member.flow != wiring.In:
                raise ValueError(f"handshake harness: port {name!r} of {dut.name} is not a plain input")
            self.side[name] = Signal(member.shape, name=f"side_{name}")
        self.ports = [self.iv, self.ip, self.ordy, *self.side.values()]

    def elaborate(self, platform):
        m = Module()
        d, dut = self.decl, self.dut
        # elaborated here once, so that the occupancy invariant can name the very flip-flops the netlist holds
        frag = Fragment.get(dut, platform)
        m.submodules.dut = frag
        rst = ResetSignal("sync")
        i_v, i_r, o_v, o_r = dut.i.valid, dut.i.ready, dut.o.valid, dut.o.ready
        # as bits: a signed payload (qmac's) compared with its unsigned copy would otherwise be sign-extended
        i_p, o_p = Value.cast(dut.i.payload).as_unsigned(), Value.cast(dut.o.payload).as_unsigned()
        m.d.comb += [i_v.eq(self.iv), dut.i.payload.eq(self.ip), o_r.eq(self.ordy)]
        for name, sig in self.side.items():
            m.d.comb += getattr(dut, name).eq(sig)

        # first cycle: reset; later: no reset. `active`: a cycle after the reset cycle.
        started = Signal(name="started", init=0, reset_less=True)
        m.d.sync += started.eq(1)
        active = Signal(name="active")
        was_active = Signal(name="was_active")
        m.d.comb += active.eq(started & ~rst)
        m.d.sync += was_active.eq(active)
        m.d.comb += Assume(Mux(started, ~rst, rst))

        # the previous cycle's handshake (registered; reset clears them with the rest)
        p_iv, p_ir, p_ov, p_or = (Signal(name=n) for n in ("p_iv", "p_ir", "p_ov", "p_or"))
        p_ip, p_op = Signal(len(i_p), name="p_ip"), Signal(len(o_p), name="p_op")
        m.d.sync += [p_iv.eq(i_v), p_ir.eq(i_r), p_ov.eq(o_v), p_or.eq(o_r), p_ip.eq(i_p), p_op.eq(o_p)]
        with m.If(was_active & p_iv & ~p_ir):  # upstream holds a refused beat
            m.d.comb += Assume((i_v == 1) & (i_p == p_ip))
        for name, sig in self.side.items():  # configuration inputs: constant after reset
            prev = Signal.like(sig, name=f"p_side_{name}")
            m.d.sync += prev.eq(sig)
            with m.If(was_active):
                m.d.comb += Assume(sig == prev)

        i_fire, o_fire = i_v & i_r, o_v & o_r
        # input groups
        if d.in_group == "last":
            in_pos = None
            in_done = i_fire & _field(dut.i.payload, "last")
        else:
            n = _span(d.in_group)
            in_pos = Signal(range(n), name="in_pos")
            with m.If(i_fire):
                m.d.sync += in_pos.eq(Mux(in_pos == n - 1, 0, in_pos + 1))
            in_done = i_fire & (in_pos == n - 1)
        # output groups: the harness counts the beats itself (never trusts the unit's own `last`)
        n = _span(d.out_group)
        out_pos = Signal(range(n), name="out_pos")
        with m.If(o_fire):
            m.d.sync += out_pos.eq(Mux(out_pos == n - 1, 0, out_pos + 1))
        out_ref = out_pos == 0          # the reference beat: the group's first
        out_done = o_fire & (out_pos == n - 1)

        in_cnt, out_cnt, ref_cnt = (Signal(_W, name=n) for n in ("in_cnt", "out_cnt", "ref_cnt"))
        m.d.sync += [in_cnt.eq(in_cnt + in_done), out_cnt.eq(out_cnt + out_done),
                     ref_cnt.eq(ref_cnt + (o_fire & out_ref))]
        held = Signal(_W, name="held")
        m.d.comb += held.eq(in_cnt - out_cnt)

        props = {k: Signal(name=f"prop_{k}", init=1) for k in PROPERTIES}
        m.d.comb += props["o_held"].eq(~(was_active & p_ov & ~p_or) | (o_v & (o_p == p_op)))
        if d.ready == "stall_all":
            m.d.comb += props["ready_rule"].eq(i_r == (~o_v | o_r))
        elif d.ready == "two_buffers":
            m.d.comb += props["ready_rule"].eq(i_r | (held >= 2))
        else:
            raise ValueError(f"handshake harness: unknown ready rule {d.ready!r}")
        m.d.comb += props["conservation"].eq(held <= d.capacity)

        L = d.latency
        # latency_late: ok[k] = a group completed k cycles ago, o.ready high in each cycle since
        start = in_done & ((held == 0) if d.when_empty else 1)
        ok = [Signal(name=f"late_{k}") for k in range(1, L + 1)]
        m.d.sync += ok[0].eq(start & o_r)
        for a, b in zip(ok, ok[1:]):
            m.d.sync += b.eq(a & o_r)
        m.d.comb += props["latency_late"].eq(~ok[-1] | (o_v & out_ref))
        # latency_early: in_cnt as it was L - 1 cycles ago counts the groups completed at or before t - L
        early = in_cnt
        for k in range(1, L):
            r = Signal(_W, name=f"in_cnt_d{k}")
            m.d.sync += r.eq(early)
            early = r
        ahead = Signal(_W, name="ahead")  # groups completed L cycles ago minus groups whose output started
        m.d.comb += ahead.eq(early - ref_cnt)
        m.d.comb += props["latency_early"].eq(~(o_v & out_ref) | ((ahead != 0) & ~ahead[-1]))

        # the harness' own bookkeeping (auxiliary: true by construction from reset, asserted so that induction
        # starts from consistent counters): output groups started = groups completed + one if mid-group
        m.d.comb += props["counters"].eq(ref_cnt == (out_cnt + (out_pos != 0))[:_W])
        if d.occupancy:
            regs = [s for s in _registers(frag) if re.fullmatch(d.occupancy, s.name)]
            if not regs:
                raise ValueError(f"handshake harness: no flip-flop of {dut.name} matches {d.occupancy!r}")
            m.d.comb += props["occupancy"].eq(held == sum(regs))
        if d.in_counter:
            regs = [s for s in _registers(frag) if re.fullmatch(d.in_counter, s.name)]
            if len(regs) != 1 or d.in_group in ("beat", "last"):
                raise ValueError(f"handshake harness: {d.in_counter!r} names {len(regs)} flip-flops of {dut.name}, "
                                 "or the input groups are not blocks")
            m.d.comb += props["alignment"].eq(in_pos == regs[0])
        if d.invariant:
            regs = {s.name: s for s in _registers(frag)}
            m.d.comb += props["invariant"].eq(d.invariant(regs, dut, dict(held=held, in_pos=in_pos,
                                                                           out_pos=out_pos)))

        with m.If(active):
            for k, p in props.items():
                m.d.comb += Assert(p, k)
        return m


def _registers(frag):
    """The signals assigned in a clocked domain anywhere in ``frag`` (its flip-flops)."""
    found = {}
    for dom, stmts in frag.statements.items():
        if dom != "comb":
            for st in stmts:
                for sig in st._lhs_signals():
                    found[id(sig)] = sig
    for sub, _name, _loc in frag.subfragments:
        found.update({id(x): x for x in _registers(sub)})
    return list(found.values())


def _field(payload, name):
    """Field ``name`` of a struct view payload (a plain value has none)."""
    try:
        return getattr(payload, name)
    except AttributeError:
        raise ValueError(f"handshake harness: the input payload has no field {name!r}") from None
