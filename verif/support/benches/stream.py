"""The one stream bench: driver, monitor, model and checker of every valid/ready stream unit, in two lanes.

- Driver: offers the stimulus' beats in order with seeded random idle cycles, holding a beat's payload and
  valid until the unit takes it; garbage on the payload and on the side inputs on idle cycles.
- Monitor: random back-pressure on ``o.ready``; every cycle it checks that an output offered and not taken is
  offered again, unchanged, on the next cycle; it records each output beat and its cycle, and after the last
  one keeps ``o.ready`` high for a while: a duplicated or extra beat fails.
- Model: :mod:`.stream_cases` (golden values through the contract) and :mod:`.stream_latency` (the documented
  latencies, written from the docs).
- Checker (:func:`check_trace`): every output beat equal to the model's, none lost or extra, and the latency
  between the reference beats exactly the documented one when nothing stalls, never less otherwise.

The cocotb lane (:func:`run_cocotb`, Icarus and Verilator) plays it in Python, one cycle per ``await``; the
batch lane (:func:`run_batch`) plays the same stimulus in :mod:`..batch.stream_lane`'s C++ loop.
"""

import random
from dataclasses import dataclass

import numpy as np

from fmtforge.verif.support.batch.stream_lane import words_for

try:
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:  # imported by pytest without cocotb: only the simulator runs the cocotb lane
    ReadOnly = RisingEdge = None

__all__ = ["Ports", "Trace", "check_trace", "patterns", "reset", "run_batch", "run_beats", "run_cocotb", "split", "to_ints",
           "words_of_ints"]

TAIL = 16  # cycles with o.ready high after the last expected beat: an extra beat shows up in them


@dataclass
class Trace:
    """What a run saw: output beats ``out`` ((k, words) uint64), their cycles ``t_out``, the accept cycle of
    each input beat ``t_in``, every output beat seen ``n_out`` (extras included), the first cycle an output was
    withdrawn or changed while stalled ``violation`` (-1: none)."""
    out: np.ndarray
    t_out: np.ndarray
    t_in: np.ndarray
    n_out: int
    violation: int = -1


def to_ints(words):
    """(n, words) uint64 -> list of Python ints."""
    words = np.asarray(words, dtype=np.uint64).reshape(len(words), -1)
    return [int.from_bytes(row.astype("<u8").tobytes(), "little") for row in words]


def words_of_ints(values, width):
    nw = words_for(width)
    raw = b"".join(int(v).to_bytes(8 * nw, "little") for v in values)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(-1, nw)


def patterns(rng, cycles, idle_p, stall_p):
    """(valid, ready) uint8 patterns of ``cycles`` cycles: offer with probability 1 - ``idle_p``, take with
    probability 1 - ``stall_p``."""
    valid = (rng.random(cycles) >= idle_p).astype(np.uint8)
    ready = (rng.random(cycles) >= stall_p).astype(np.uint8)
    return valid, ready


def check_trace(label, stim, trace, stall_free, seed, reproduce, out_width=None, sl=None):
    """Raise AssertionError naming the first differences, with the seed and the reproducing command.

    ``sl``: the slice of the stimulus' reference pairs this trace covers (whole stimulus by default)."""
    want = stim.expect
    lines = []
    if trace.violation >= 0:
        lines.append(f"cycle {trace.violation}: o.valid or o.payload changed while o.ready was low")
    if trace.n_out != len(want):
        lines.append(f"{trace.n_out} output beats for {len(want)} expected (a beat lost or duplicated), "
                     f"{len(trace.t_in)} of {len(stim.beats)} input beats taken")
    got = np.asarray(trace.out, dtype=np.uint64).reshape(len(trace.out), -1)
    k = min(len(got), len(want))
    bad = np.nonzero(np.any(got[:k] != want[:k], axis=1))[0]
    if len(bad):
        lines.append(f"{len(bad)} of {k} output beats differ from the model")
        gi, wi = to_ints(got[bad[:6]]), to_ints(want[bad[:6]])
        for j, g, w in zip(bad[:6], gi, wi):
            lines.append(f"  beat {j}: expected 0x{w:x}, got 0x{g:x} (diff 0x{g ^ w:x}); {stim.what(int(j))}")
    if len(trace.t_in) == len(stim.beats) and len(trace.t_out) >= len(want):
        lat = trace.t_out[stim.ref_out] - trace.t_in[stim.ref_in]
        if stall_free and np.any(lat != stim.latency):
            j = int(np.nonzero(lat != stim.latency)[0][0])
            lines.append(f"latency {sorted(set(lat.tolist()))[:6]} with nothing stalling, documented "
                         f"{stim.latency} (first: output beat {int(stim.ref_out[j])})")
        if stall_free and len(trace.t_in) and np.any(np.diff(trace.t_in) != 1):
            lines.append("with nothing stalling the unit did not take a beat every cycle")
        if np.any(lat < stim.latency):
            lines.append(f"an output came {int(lat.min())} cycles after its input, sooner than the documented "
                         f"{stim.latency}")
    if lines:
        raise AssertionError("\n".join([f"{label}: seed {seed}"] + lines + [f"reproduce: {reproduce}"]))
    return {"beats_in": len(stim.beats), "beats_out": len(want)}


def split(stim, parts):
    """The stimulus cut at job/block boundaries into ``parts`` pieces, for phases with different patterns."""
    from fmtforge.verif.support.benches.stream_cases import Stimulus
    n_ref = len(stim.ref_out)
    a = stim.align
    cuts = [n_ref * p // parts // a * a for p in range(parts)] + [n_ref]
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        if hi <= lo:
            continue
        b0 = 0 if lo == 0 else int(stim.ref_in[lo - 1]) + 1
        b1 = int(stim.ref_in[hi - 1]) + 1
        o0 = 0 if lo == 0 else int(stim.ref_out[lo - 1]) + _per_out(stim, lo - 1)
        o1 = int(stim.ref_out[hi - 1]) + _per_out(stim, hi - 1)
        out.append(Stimulus(stim.beats[b0:b1], stim.expect[o0:o1], stim.ref_in[lo:hi] - b0,
                            stim.ref_out[lo:hi] - o0, stim.latency,
                            (lambda base: (lambda k: stim.what(k + base)))(o0),
                            {p: v[b0:b1] for p, v in stim.side.items()}, a))
    return out


def _per_out(stim, j):
    """Output beats of reference pair ``j`` (mx-quantize: a block's beats from its first)."""
    nxt = stim.ref_out[j + 1] if j + 1 < len(stim.ref_out) else len(stim.expect)
    return int(nxt - stim.ref_out[j])


# -- batch lane ----------------------------------------------------------------------------------------------
def run_batch(model, stim, rng, idle_p, stall_p, consts=None, garbage_seed=1):
    """Play ``stim`` through the :class:`StreamModel` ``model``; returns a :class:`Trace`."""
    n = len(stim.beats)
    cycles = int((n + len(stim.expect)) / max(1e-3, (1 - idle_p) * (1 - stall_p)) * 3) + 64 * 40 + 200
    valid, ready = patterns(rng, cycles, idle_p, stall_p)
    r = model.run(stim.beats, valid, ready, len(stim.expect), side=stim.side, consts=consts, seed=garbage_seed,
                  tail=TAIL)
    return Trace(r.out, r.t_out, r.t_in, r.n_out, r.violation)


# -- cocotb lane ---------------------------------------------------------------------------------------------
class Ports:
    """A unit's stream ports in the simulator (``prefix``: ``""`` for a unit at the top, ``"u3_"`` in a
    harness) and its side inputs by name."""

    def __init__(self, dut, prefix="", side=()):
        g = lambda s: getattr(dut, f"{prefix}{s}")  # noqa: E731
        self.clk = dut.clk
        self.iv, self.ip, self.ir = g("i__valid"), g("i__payload"), g("i__ready")
        self.ov, self.op, self.orr = g("o__valid"), g("o__payload"), g("o__ready")
        self.side = {name: g(name) for name in side}
        self.in_width = len(self.ip)
        self.side_width = {name: len(h) for name, h in self.side.items()}


async def _play(ports, beats, side, n_want, idle_p, stall_p, rng, limit):
    """The driver and the monitor, cycle by cycle: (outputs, accept cycles, output cycles, output beats seen
    including the tail's, first hold violation or -1)."""
    junk = random.Random(int(rng.integers(1 << 32)))
    got, t_in, t_out = [], [], []
    cur, cycle, holding, tail_left = 0, 0, False, None
    stalled, prev, violation = False, None, -1
    limit = limit or 40 * (len(beats) + n_want) + 400
    while tail_left is None or tail_left > 0:
        await RisingEdge(ports.clk)
        cycle += 1
        if cycle > limit:
            raise AssertionError(f"stalled: {len(got)} of {n_want} outputs, {len(beats) - cur} beats left "
                                 f"after {cycle} cycles")
        done = cur == len(beats) and len(got) >= n_want
        if done and tail_left is None:
            tail_left = TAIL
        if tail_left is not None:
            tail_left -= 1
        offer = holding or (cur < len(beats) and (idle_p == 0 or rng.random() >= idle_p))
        ports.iv.value = int(offer)
        ports.ip.value = beats[cur] if offer else junk.getrandbits(ports.in_width)
        for name, h in ports.side.items():
            h.value = side[name][cur] if offer else junk.getrandbits(ports.side_width[name])
        ready = done or stall_p == 0 or rng.random() >= stall_p
        ports.orr.value = int(ready)
        await ReadOnly()
        ov = bool(ports.ov.value)
        payload = ports.op.value.to_unsigned() if ov else None
        if stalled and violation < 0 and (not ov or payload != prev):
            violation = cycle
        if ov and ready:
            got.append(payload)
            t_out.append(cycle)
        stalled, prev = ov and not ready, payload
        if offer and ports.ir.value:
            t_in.append(cycle)
            cur += 1
            holding = False
        else:
            holding = offer
    await RisingEdge(ports.clk)
    ports.iv.value = 0
    return got, t_in, t_out, len(got), violation


async def run_beats(ports, beats, n_out, idle_p, stall_p, rng, side=None, limit=None):
    """Drive ``beats`` (payload ints; ``side``: {port: per-beat ints}) and collect ``n_out`` output payloads:
    (outputs, accept cycle of each beat, cycle of each output). Raises AssertionError when an output is
    withdrawn or changed while stalled, or when more or fewer than ``n_out`` beats come out."""
    got, t_in, t_out, seen, violation = await _play(ports, beats, side or {}, n_out, idle_p, stall_p, rng, limit)
    if violation >= 0:
        raise AssertionError(f"cycle {violation}: o.valid or o.payload changed while o.ready was low")
    if seen != n_out:
        raise AssertionError(f"{seen} output beats for {n_out} expected (a beat lost or duplicated)")
    return got, t_in, t_out


async def run_cocotb(ports, stim, rng, idle_p, stall_p, limit=None):
    """Drive :class:`.stream_cases.Stimulus` ``stim`` through the unit behind ``ports``; returns a
    :class:`Trace` for :func:`check_trace`. The caller has reset the unit and keeps the clock running."""
    beats = to_ints(stim.beats)
    side = {p: [int(v) for v in np.asarray(vals).reshape(len(beats), -1)[:, 0]] for p, vals in stim.side.items()}
    n_want = len(stim.expect)
    got, t_in, t_out, seen, violation = await _play(ports, beats, side, n_want, idle_p, stall_p, rng, limit)
    return Trace(words_of_ints(got[:n_want], len(ports.op)), np.array(t_out[:n_want], dtype=np.int64),
                 np.array(t_in, dtype=np.int64), seen, violation)


async def reset(dut, ports_list, cycles=3):
    """Synchronous reset with every input stream idle and every output stalled."""
    dut.rst.value = 1
    for p in ports_list:
        p.iv.value = 0
        p.orr.value = 0
    for _ in range(cycles):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
