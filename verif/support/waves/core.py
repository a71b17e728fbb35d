"""What every timing diagram shares: a short Amaranth simulation recorded per cycle, and WaveDrom JSON made
from it (the unit traces are in :mod:`.units` and :mod:`.blocks`)."""

import json

from amaranth.sim import Simulator

__all__ = ["dumps", "run", "wavedrom"]


def _run(dut, cycles, drive, probes):
    """Simulate ``dut`` for ``cycles`` cycles: ``drive(ctx, cycle)`` sets the inputs, then every probe
    ``(label, getter)`` is sampled (``getter(ctx) -> int or None``, None: don't care). Returns {label: [...]}."""
    trace = {label: [] for label, _ in probes}
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def bench(ctx):
        for cycle in range(cycles):
            drive(ctx, cycle)
            for label, get in probes:
                trace[label].append(get(ctx))
            await ctx.tick()

    sim.add_testbench(bench)
    sim.run()
    return trace


def wavedrom(trace, buses=(), head="", foot="", hexwidth=None, handshake=None, hscale=None):
    """WaveDrom JSON (a dict) of ``trace``: 1-bit signals as 0/1 levels, ``buses`` as labelled values (hex when
    ``hexwidth`` gives the label's digit count) and ``x`` where the value is None (not valid). A bus in
    ``handshake`` (label -> (valid label, ready label)) starts a new value after every transfer, so that two
    equal beats in a row show as two; any other bus starts one every cycle (a new result each cycle).
    ``hscale`` (WaveDrom's config) widens the cycles, for labels longer than about four digits."""
    n = len(next(iter(trace.values())))
    signal = [{"name": "clk", "wave": "p" + "." * (n - 1)}]
    handshake = handshake or {}
    for label, values in trace.items():
        wave, data = "", []
        for t, v in enumerate(values):
            if label in buses and v is not None:
                if label in handshake:
                    valid, ready = handshake[label]
                    moved = t > 0 and trace[valid][t - 1] and trace[ready][t - 1]
                    new = t == 0 or moved or values[t - 1] != v
                else:
                    new = True
                if new:
                    digits = (hexwidth or {}).get(label)
                    data.append(f"{v:0{digits}x}" if digits else str(v))
                wave += "=" if new else "."
            elif t and values[t - 1] == v:
                wave += "."
            else:
                wave += "x" if v is None else str(int(v))
        entry = {"name": label, "wave": wave}
        if data:
            entry["data"] = data
        signal.append(entry)
    out = {"signal": signal}
    if head:
        out["head"] = {"text": head}
    if foot:
        out["foot"] = {"text": foot}
    if hscale:
        out["config"] = {"hscale": hscale}
    return out


def dumps(diagram):
    """The JSON text kept in docs/waves: one signal per line."""
    lines = ",\n".join("  " + json.dumps(s) for s in diagram["signal"])
    rest = "".join(f',\n "{k}": {json.dumps(v)}' for k, v in diagram.items() if k != "signal")
    return "{\"signal\": [\n" + lines + "\n ]" + rest + "\n}\n"


run = _run
