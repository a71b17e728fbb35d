"""Posit decoders against golden.Posit.decode_raw: every pattern of posit8 and posit16 for es = 0, 1, 2 (and
posit32 corners plus random patterns), under Icarus and Verilator. Combinational and registered variants; the
registered ones through the one stream bench (verif/support/benches/stream.py) behind FreeRunningStream, whose
valid runs the documented latency beside the data."""

import json
import os

import numpy as np
import pytest
from amaranth import Cat, Module, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.verif.support.vectors.patterns import exhaustive, posit_corners, random_width, seed

ENV = "FMTFORGE_PDEC"


class DecoderBundle(wiring.Component):
    """Decoders of posit(n, es) for several es side by side; ``o`` concatenates their outputs."""

    def __init__(self, n, es_list, stages=0):
        from fmtforge.rtl.units.posit_decode import PositDecoder
        self.decs = [PositDecoder(golden.posit(n, es), stages=stages) for es in es_list]
        super().__init__({"i": In(n), "o": Out(sum(len(d.o.as_value()) for d in self.decs))})

    def elaborate(self, platform):
        m = Module()
        for k, d in enumerate(self.decs):
            m.submodules[f"d{k}"] = d
            m.d.comb += d.i.eq(self.i)
        m.d.comb += self.o.eq(Cat(*[d.o.as_value() for d in self.decs]))
        return m


def expected(fmt, bits):
    """(is_nar, is_zero, sign, scale, sig normalised to the decoder's width) from golden."""
    S = max(fmt.n - 3 - fmt.es, 0) + 1  # the documented rule: the most fraction bits of a posit, + the hidden bit
    raw = fmt.decode_raw(bits)
    out = []
    for c, s, e, g in zip(raw.cls, raw.sign, raw.exp, raw.sig):
        g = int(g)
        if c == golden.NAN or g == 0:
            out.append((int(c == golden.NAN), int(g == 0 and c != golden.NAN), None, None, None))
            continue
        L = g.bit_length()
        out.append((0, 0, int(s), int(e) + L - 1, g << (S - L)))
    return out


try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import Timer

    from fmtforge.verif.support.benches.stream import Ports, reset, run_beats
except ImportError:
    cocotb = None

if cocotb is not None:
    @cocotb.test()
    async def check_decoders(dut):
        from fmtforge.rtl.units.posit_decode import decoder_layout
        cfg = json.loads(os.environ[ENV])
        n, stages = cfg["n"], cfg["stages"]
        used_seed = seed()
        rng = np.random.default_rng([used_seed, n])
        fmts = [golden.posit(n, es) for es in cfg["es"]]
        xs = exhaustive(fmts[0]) if n <= 16 else np.concatenate(
            [posit_corners(fmts[0]), random_width(n, cfg["random"], rng)])
        dut._log.info("posit%d es=%s: %d patterns, stages %d, seed %d", n, cfg["es"], len(xs), stages, used_seed)
        outs = []
        if stages:  # behind FreeRunningStream: the one stream bench's driver, idle cycles, no back-pressure
            cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
            ports = Ports(dut)
            await reset(dut, [ports])
            outs, _, _ = await run_beats(ports, [int(x) for x in xs], len(xs), 0.2, 0.0, rng)
        else:
            for x in xs:
                dut.i.value = int(x)
                await Timer(1, "ns")
                outs.append(dut.o.value.to_unsigned())
        errors = []
        offset = 0
        for fmt in fmts:
            lay = decoder_layout(fmt)
            w_sig = Shape.cast(lay.members["sig"]).width
            if w_sig != max(fmt.n - 3 - fmt.es, 0) + 1:
                errors.append(f"{fmt.name}: sig is {w_sig} bits, not max(n - 3 - es, 0) + 1 as documented")
            w_scale = Shape.cast(lay.members["scale"]).width
            size = lay.size
            want = expected(fmt, xs)
            for k, word in enumerate(outs):
                v = (word >> offset) & ((1 << size) - 1)
                sig = v & ((1 << w_sig) - 1)
                scale = (v >> w_sig) & ((1 << w_scale) - 1)
                scale -= (scale >> (w_scale - 1)) << w_scale
                sign = (v >> (w_sig + w_scale)) & 1
                zero = (v >> (w_sig + w_scale + 1)) & 1
                nar = (v >> (w_sig + w_scale + 2)) & 1
                w_nar, w_zero, w_sign, w_sc, w_sg = want[k]
                ok = (nar, zero) == (w_nar, w_zero) and (w_sc is None or (sign, scale, sig) == (w_sign, w_sc, w_sg))
                if not ok:
                    errors.append(f"  {fmt.name} in 0x{int(xs[k]):0{(n + 3) // 4}x} ({fmt.decode([xs[k]])[0]!r}): "
                                  f"expected nar={w_nar} zero={w_zero} sign={w_sign} scale={w_sc} sig=0x{w_sg or 0:x}, "
                                  f"got nar={nar} zero={zero} sign={sign} scale={scale} sig=0x{sig:x}")
            offset += size
        if errors:
            raise AssertionError(f"{len(errors)} mismatches (seed {used_seed}):\n" + "\n".join(errors[:12])
                                 + f"\nreproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_posit_decode.py"
                                 f" -k 'n{n}'")


CONFIGS = [dict(n=8, es=[0, 1, 2], stages=0), dict(n=16, es=[0, 1, 2], stages=0), dict(n=16, es=[2], stages=2),
           dict(n=3, es=[0, 1, 2, 3, 4], stages=0), dict(n=6, es=[0, 1, 2, 3, 4], stages=0),
           dict(n=17, es=[2, 4], stages=0, random=20_000),
           dict(n=32, es=[2, 3], stages=0, random=30_000), dict(n=64, es=[2], stages=1, random=10_000),
           # registers inside the decoder (after the count, in and after the shifter): latency and bits
           dict(n=8, es=[0, 2], stages=1), dict(n=12, es=[2, 3], stages=3)]


def cid(c):
    return f"n{c['n']}_es{''.join(map(str, c['es']))}_s{c['stages']}"


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("c", CONFIGS, ids=cid)
def test_posit_decoder(c, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run
    top = DecoderBundle(c["n"], c["es"], c["stages"])
    if c["stages"]:  # latency N, as the README states for --stages N (not read from the decoder)
        from fmtforge.verif.support.benches.stream_harness import FreeRunningStream
        top = FreeRunningStream(top, c["stages"])
    name = f"pdec_{cid(c)}"
    print(f"seed {seed()}")
    run(sim, to_verilog(top, name), name, "fmtforge.verif.tests.rtl.test_posit_decode", name,
        extra_env={ENV: json.dumps(dict(c, random=c.get("random", 0))), "FMTFORGE_SEED": str(seed())})
