"""QMac throughput: simulated results per second (Amaranth's Python simulator) and MACs per cycle.

For each lane count, dot products of K = lanes (one beat each: one result per cycle) and of K = 8 * lanes
stream through with ``o.ready`` high and no idle cycle. Printed per case: dot products and cycles simulated,
wall time, simulated results/s and cycles/s, and MACs per cycle measured from the handshakes (beats
accepted * lanes / cycles from the first beat to the last result; the pipeline fill is the gap to ``lanes``).
Every result is checked against golden.quant.qmatmul on the way.

Run: .venv/bin/python bench/qmac_speed.py [N]   (N dot products per case; not a test: numbers depend on the
machine). Compiled simulators are much faster: see docs/qmac.md.
"""

import sys
import time

import numpy as np


from fmtforge.golden import quant as gq
from fmtforge.rtl.units import UNITS


def simulate(dut, a, w, k_beats, params):
    """Stream the dot products (rows of ``a``, ``w``: uint8 patterns, K = k_beats * lanes) through ``dut``;
    returns (results as unsigned patterns, cycles from the first beat to the last result, beats accepted,
    seconds spent in ``sim.run()``: elaboration excluded)."""
    from amaranth.sim import Simulator

    L = dut.lanes
    off = {name: field.offset for name, field in dut.in_layout}
    beats = []
    for row_a, row_w in zip(a, w):
        for b in range(k_beats):
            beats.append(int.from_bytes(row_a[b * L:(b + 1) * L].tobytes(), "little") << off["a"]
                         | int.from_bytes(row_w[b * L:(b + 1) * L].tobytes(), "little") << off["w"]
                         | int(b == k_beats - 1) << off["last"])
    got, count = [], {}

    async def bench(ctx):
        for name, value in params.items():
            ctx.set(getattr(dut, name), value)
        ctx.set(dut.o.ready, 1)
        payload = dut.i.payload.as_value()
        cycle, k = 0, 0
        while len(got) < len(a):
            if k < len(beats):
                ctx.set(dut.i.valid, 1)
                ctx.set(payload, beats[k])
            else:
                ctx.set(dut.i.valid, 0)
            accepted = k < len(beats) and ctx.get(dut.i.ready)
            if ctx.get(dut.o.valid):
                got.append(ctx.get(dut.o.payload))
            await ctx.tick()
            cycle += 1
            k += accepted
        count["cycles"], count["beats"] = cycle, k

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    t = time.perf_counter()
    sim.run()
    return got, count["cycles"], count["beats"], time.perf_counter() - t


def case(lanes, k_beats, n, rng):
    unit = UNITS["qmac"].configure(lanes=lanes, a_type="uint8", w_type="int8", out_type="int8")
    dut = unit.create()
    K = k_beats * lanes
    a = rng.integers(0, 256, (n, K)).astype(np.uint8)
    w = rng.integers(0, 256, (n, K)).astype(np.uint8)
    za, zw, z3, m0, shift, bias = 128, 0, -3, 1_518_500_250, -8 - int(np.log2(K) / 2), 1000
    params = dict(za=za, zw=zw, z3=z3, qmin=-128, qmax=127, m0=m0, shift=shift, bias=bias)
    got, cycles, beats, wall = simulate(dut, a, w, k_beats, params)
    q1, q2 = a.astype(np.int64), w.view(np.int8).astype(np.int64)
    want = np.array([gq.qmatmul(q1[i:i + 1], za, q2[i][:, None], zw, M0=m0, shift=shift, z3=z3, qmin=-128,
                                qmax=127, bias=bias)[0, 0] for i in range(n)])
    got = np.array(got, dtype=np.int64)
    got = np.where(got >= 128, got - 256, got)
    bad = int(np.sum(got != want))
    print(f"{lanes:5d} {K:5d} {n:7d} {cycles:7d} {wall:7.2f} {n / wall:10.0f} {cycles / wall:9.0f} "
          f"{beats * lanes / cycles:9.2f} {lanes:6d}  latency {unit.latency}" + (f"  {bad} MISMATCHES" if bad else ""))
    return bad


def main(n=1000):
    rng = np.random.default_rng(1)
    print("Amaranth simulator, o.ready high, no idle cycle; uint8 x int8 -> int8, acc32, gemmlowp")
    print(f"{'lanes':>5s} {'K':>5s} {'results':>7s} {'cycles':>7s} {'wall s':>7s} {'results/s':>10s} "
          f"{'cycles/s':>9s} {'MAC/cycle':>9s} {'ideal':>6s}")
    bad = 0
    for lanes in (1, 4, 16, 64):
        for k_beats in (1, 8):
            bad += case(lanes, k_beats, max(n // k_beats, 50), rng)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
