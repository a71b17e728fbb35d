# amaranth: UnusedElaboratable=no
"""The "Use from Amaranth" example (docs/amaranth.md), taken from the page itself (so the two cannot drift), built and
simulated with Amaranth's simulator: a pipelined converter and a qmac inside a user's component, fed by stream
sources through wiring.connect, with random back-pressure on both outputs. Every bf16 result must equal
golden.convert and every qmac result golden.quant.qmatmul; the block's own usage lines (to_verilog) must run too."""

import re
from pathlib import Path

import numpy as np

from fmtforge import golden
from fmtforge.golden import quant as gq
from fmtforge.verif.support.vectors.patterns import float_corners, seed

README = Path(__file__).parents[3] / "docs" / "amaranth.md"


def _blocks():
    text = README.read_text()
    m = re.search(r"<!-- amaranth-example[^>]*-->\n```python\n(.*?)```\n<!-- /amaranth-example -->", text, re.S)
    assert m, "docs/amaranth.md has no amaranth-example block"
    return m.group(1)


def _simulate(top, n_bf16, n_q, rng, limit=4000):
    from amaranth.sim import Simulator

    got_bf16, got_q = [], []
    sim = Simulator(top)
    sim.add_clock(1e-6)

    async def bench(ctx):
        for _ in range(limit):
            if len(got_bf16) == n_bf16 and len(got_q) == n_q:
                return
            ready_b, ready_q = int(rng.random() < 0.6), int(rng.random() < 0.6)
            ctx.set(top.bf16.ready, ready_b)
            ctx.set(top.q.ready, ready_q)
            if ready_b and ctx.get(top.bf16.valid):
                got_bf16.append(ctx.get(top.bf16.payload).data)
            if ready_q and ctx.get(top.q.valid):
                got_q.append(ctx.get(top.q.payload))
            await ctx.tick()
        raise AssertionError(f"{len(got_bf16)} of {n_bf16} bf16 and {len(got_q)} of {n_q} qmac results in {limit} "
                             "cycles")

    sim.add_testbench(bench)
    sim.run()
    return got_bf16, got_q


def test_readme_example():
    scope = {}
    exec(compile(_blocks(), "docs/amaranth.md (amaranth-example)", "exec"), scope)
    assert "module my_accelerator(" in scope["verilog"]  # the block's own usage lines ran
    used = seed()
    print(f"seed {used}")
    rng = np.random.default_rng([used, 7])
    fp32 = golden.lookup("fp32")
    samples = np.concatenate([float_corners(fp32)[:150].astype(np.uint32),
                              rng.integers(0, 1 << 32, 100, dtype=np.uint64).astype(np.uint32)])
    # dot products of 1..3 beats of 4 lanes: the README's port settings (zero points 0, M = 2**-5, full range)
    a = rng.integers(-128, 128, (40, 12))
    w = rng.integers(-128, 128, (40, 12))
    beats_per = rng.integers(1, 4, 40)
    beats = []
    for j in range(40):
        for b in range(beats_per[j]):
            beats.append({"a": a[j, 4 * b:4 * b + 4].tolist(), "w": w[j, 4 * b:4 * b + 4].tolist(),
                          "last": int(b == beats_per[j] - 1)})
    top = scope["MyAccelerator"]([{"data": int(x)} for x in samples], beats)
    got_bf16, got_q = _simulate(top, len(samples), 40, rng)

    want_bf16 = golden.convert(samples, "fp32", "bf16")
    bad = [(int(x), int(e), g) for x, e, g in zip(samples, want_bf16, got_bf16) if int(e) != g]
    assert not bad, "; ".join(f"i=0x{x:08x}: expected 0x{e:04x}, got 0x{g:04x}" for x, e, g in bad[:6])
    want_q = [int(gq.qmatmul(a[j:j + 1, :4 * beats_per[j]], 0, w[j, :4 * beats_per[j], None], 0, M0=1 << 30,
                             shift=-4, z3=0, qmin=-128, qmax=127)[0, 0]) for j in range(40)]
    bad = [(j, e, g) for j, (e, g) in enumerate(zip(want_q, got_q)) if e != g]
    assert not bad, "; ".join(f"dot product {j}: expected {e}, got {g}" for j, e, g in bad[:6])
    assert len(set(want_q)) > 5  # not all clamped or zero
