# amaranth: UnusedElaboratable=no
"""The stream protocol of every registered stream configuration, read from the registry: a new stream unit is
checked here without this file changing (the cases come from verif/support/contract.py's ``stream_cases``).

In Amaranth's simulator, with random payloads on the input streams and random constants on the other input
ports, each configuration runs twice over the same input beats: once with no idle cycle and the output always
ready, once with random valid gaps (junk payloads while not valid) and random back-pressure (mostly ready, then
mostly not). Checked, for every output stream:

- *held*: a beat offered and not taken (``valid & ~ready``) is offered again on the next cycle, unchanged;
- *no loss, no duplicate, same order*: the beats taken under stalls are exactly the beats taken without them;
- *progress*: every input beat is accepted and something comes out.

What the beats mean (the model) and the latency are the unit tests' and the stream bench's business; this test
asks nothing of a unit but its contract's ``streams``. ``FMTFORGE_SEED`` picks the random stimulus (printed).
"""

import gc
import random
import warnings

import pytest
from amaranth import Module
from amaranth.hdl import UnusedElaboratable, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.contract import case_id, stream_cases
from fmtforge.verif.support.vectors.patterns import seed

BEATS = 48  # input beats per input stream: several blocks or dot products of every example configuration


def _ports(dut):
    """(input streams, output streams, other input ports) of ``dut``'s signature, by name."""
    ins, outs, others = {}, {}, {}
    for name, member in dut.signature.members.items():
        port = getattr(dut, name)
        if member.is_signature and isinstance(member.signature, stream.Signature):
            (ins if member.flow == In else outs)[name] = port
        elif member.is_port and member.flow == In:
            others[name] = port
    return ins, outs, others


def _random_value(rng, port):
    shape = Value.cast(port).shape()
    return rng.randrange(-(1 << (shape.width - 1)), 1 << (shape.width - 1)) if shape.signed else \
        rng.getrandbits(shape.width)


def run(dut, beats, constants, idle_p, stall_p, rng, quiet_cycles=200):
    """Drive ``beats`` ({input stream: payloads}) into a fresh ``dut`` until every beat is in and nothing has
    moved for ``quiet_cycles`` cycles; returns ({output stream: payloads taken}, [violations of the held rule],
    {input stream: beats accepted})."""
    ins, outs, others = _ports(dut)
    taken = {name: [] for name in outs}
    accepted = {name: 0 for name in ins}
    problems = []

    async def bench(ctx):
        for name, value in constants.items():
            ctx.set(others[name], value)
        offered = {name: None for name in outs}  # (payload) offered and not taken on the previous cycle
        quiet, cycle = 0, 0
        while quiet < quiet_cycles and cycle < 100_000:
            stall_now = stall_p[0] if cycle % 400 < 300 else stall_p[1]  # mostly ready, then mostly not
            for name, port in ins.items():
                pending = accepted[name] < len(beats[name])
                valid = pending and rng.random() >= idle_p
                ctx.set(port.valid, valid)
                width = len(Value.cast(port.payload))
                ctx.set(Value.cast(port.payload), beats[name][accepted[name]] if valid else rng.getrandbits(width))
            for port in outs.values():
                ctx.set(port.ready, rng.random() >= stall_now)
            moved = False
            for name, port in outs.items():
                valid, ready = ctx.get(port.valid), ctx.get(port.ready)
                payload = ctx.get(Value.cast(port.payload))
                if offered[name] is not None and (not valid or payload != offered[name]):
                    problems.append(f"{name}: cycle {cycle}: a beat offered and not taken was "
                                    + ("withdrawn" if not valid else f"changed {offered[name]:#x} -> {payload:#x}"))
                offered[name] = payload if valid and not ready else None
                if valid and ready:
                    taken[name].append(payload)
                    moved = True
            for name, port in ins.items():
                if ctx.get(port.valid) and ctx.get(port.ready):
                    accepted[name] += 1
                    moved = True
            done = all(accepted[n] == len(beats[n]) for n in ins)
            quiet = quiet + 1 if done and not moved else 0
            cycle += 1
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return taken, problems, accepted


@pytest.mark.parametrize("case", stream_cases(), ids=case_id)
def test_stream_protocol(case):
    name, options = case
    unit = UNITS[name]
    streams = unit.need("streams")(unit.resolve(options))
    used = seed()
    print(f"seed {used}")
    rng = random.Random(f"{used} {case_id(case)}")
    with warnings.catch_warnings():  # a probe for the ports, never elaborated
        warnings.simplefilter("ignore", UnusedElaboratable)
        ins, outs, others = _ports(unit.create(**options))
        gc.collect()
    assert set(streams) == set(ins) | set(outs), f"{name}: the contract's streams {sorted(streams)} are not the " \
                                                 f"component's {sorted(ins) + sorted(outs)}"
    beats = {n: [rng.getrandbits(len(Value.cast(p.payload))) for _ in range(BEATS)] for n, p in ins.items()}
    constants = {n: _random_value(rng, p) for n, p in others.items()}
    latency = unit.latency(unit.resolve(options)) if unit.latency is not None else None
    quiet = 4 * (latency or 0) + 40 if latency is not None else 200  # surely drained (the latency is not tested here)
    reproduce = f"FMTFORGE_SEED={used} .venv/bin/pytest {__file__} -k '{case_id(case)}'"
    want, problems, accepted = run(unit.create(**options), beats, constants, 0.0, (0.0, 0.0), rng, quiet)
    assert not problems, "\n".join(problems[:5] + [reproduce])
    assert all(accepted[n] == BEATS for n in ins), f"{name}: inputs accepted {accepted} of {BEATS}\n{reproduce}"
    assert all(want.values()), f"{name}: nothing came out of {sorted(k for k, v in want.items() if not v)}"
    got, problems, accepted = run(unit.create(**options), beats, constants, 0.3, (0.3, 0.8), rng, quiet)
    assert not problems, "\n".join(problems[:5] + [reproduce])
    assert all(accepted[n] == BEATS for n in ins), f"{name}: inputs accepted {accepted} of {BEATS}\n{reproduce}"
    for port in outs:
        w, g = want[port], got[port]
        first = next((k for k, (a, b) in enumerate(zip(w, g)) if a != b), min(len(w), len(g)))
        assert w == g, (f"{name}: {port} under stalls: {len(g)} beats, without: {len(w)}; first difference at beat "
                        f"{first}: " + (f"expected {w[first]:#x}, got {g[first]:#x}" if first < min(len(w), len(g))
                                        else "one sequence ends") + f"\n{reproduce}")


class IgnoresReady(wiring.Component):
    """A broken stream register: takes every beat and overwrites its output whether or not it was taken."""

    def __init__(self):
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(1)
        m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
        return m


def test_the_check_catches_a_unit_that_ignores_ready():
    """The checks can fail: a register that ignores o.ready changes a beat it offers and loses beats."""
    rng = random.Random(1)
    beats = {"i": [rng.getrandbits(8) for _ in range(BEATS)]}
    want, problems, _ = run(IgnoresReady(), beats, {}, 0.0, (0.0, 0.0), rng, 8)
    assert not problems and want["o"] == beats["i"]
    got, problems, _ = run(IgnoresReady(), beats, {}, 0.3, (0.3, 0.8), rng, 8)
    assert problems and "not taken was" in problems[0] and got["o"] != want["o"]
