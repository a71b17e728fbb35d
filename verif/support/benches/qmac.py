"""The qmac testbench: a harness of several QMacs side by side (one build checks many type combinations)
and the cocotb bench class (its beats and parameters, model and checker; the driver and monitor are the one
stream bench's, verif/support/benches/stream.py)."""

import random

import numpy as np
from amaranth import Cat, Module, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.rtl.units import UNITS
from fmtforge.rtl.units.qmac import QMac, qmac_name
from fmtforge.rtl.units.requant import M0_SHAPE, SHIFT_SHAPE, SRDHM, int_shape
from fmtforge.verif.support.vectors.qmac import int_fmt, model

try:
    from cocotb.triggers import RisingEdge
except ImportError:  # imported by pytest without cocotb: only the simulator runs the bench
    RisingEdge = None


SCALE_PORTS = ("bias", "m0", "shift")


def config(lanes, types, *, acc_bits=32, per_channel=False, rounding="gemmlowp", jobs=800, long_k=0, e2e=False,
           requant_cycles=1, roundings=None, dsp="infer"):
    """A regression configuration; ``roundings`` (one per unit of ``types``) mixes requantization modes in
    one harness (their handshakes are the same), else every unit has ``rounding``."""
    return dict(lanes=lanes, types=types, acc_bits=acc_bits, per_channel=per_channel, rounding=rounding,
                jobs=jobs, long_k=long_k, e2e=e2e, requant_cycles=requant_cycles,
                roundings=list(roundings) if roundings else [rounding] * len(types), dsp=dsp)


def unit_roundings(c):
    """The requantization mode of each unit of configuration ``c``."""
    return c.get("roundings") or [c["rounding"]] * len(c["types"])


def config_id(c):
    rq, dsp = c.get("requant_cycles", 1), c.get("dsp", "infer")
    modes = unit_roundings(c)
    if len(c["types"]) == 1:
        return qmac_name(c["lanes"], *c["types"][0], c["acc_bits"], c["per_channel"], modes[0], rq, dsp)
    types = "_".join("".join(t[0] for t in combo) for combo in c["types"])  # "iii_iuu_..."
    mode = c["rounding"] if len(set(modes)) == 1 else "".join(r[0] for r in modes)  # "gssg"
    return (f"qmac_bundle_l{c['lanes']}_{types}_acc{c['acc_bits']}_{mode}"
            + ("_pc" if c["per_channel"] else "") + (f"_rq{rq}" if rq > 1 else "")
            + ("_ecp5dsp" if dsp == "ecp5" else ""))


class QMacBundle(wiring.Component):
    """Test harness: one :class:`QMac` per (a_type, w_type, out_type) in ``types``, all fed by one stream.

    ``i`` has the first unit's payload layout; every unit reads the same bits as its own types. ``za`` and
    ``zw`` are shared bit patterns too (any 8-bit pattern is a valid zero point of int8 and of uint8), while
    ``z3``, ``qmin``, ``qmax`` and ``o.payload`` hold one field per unit, unit 0 lowest. Every unit sees the
    same valid, last and ready, so their handshakes are identical and unit 0's stand for all.

    With ``srdhm``, a bare :class:`fmtforge.rtl.units.requant.SRDHM` sits beside them on ports ``srdhm_a``, ``srdhm_b``,
    ``srdhm_en``, ``srdhm_o`` (it shares the build instead of costing one more).
    """

    def __init__(self, *, lanes, types, acc_bits, per_channel, roundings, requant_cycles=1, srdhm=False,
                 dsp="infer"):
        self.cores = [QMac(lanes=lanes, a_type=a, w_type=w, out_type=o, acc_bits=acc_bits, per_channel=per_channel,
                           rounding=r, requant_cycles=requant_cycles, dsp=dsp)
                      for (a, w, o), r in zip(types, roundings)]
        c0 = self.cores[0]
        self.out_width = c0.out_shape.width
        n = len(self.cores)
        ports = {"i": In(stream.Signature(c0.in_layout)), "o": Out(stream.Signature(self.out_width * n)),
                 "za": In(c0.a_shape.width), "zw": In(c0.w_shape.width), "z3": In(self.out_width * n),
                 "qmin": In(self.out_width * n), "qmax": In(self.out_width * n)}
        if not per_channel:
            ports.update({"bias": In(signed(32)), "m0": In(M0_SHAPE), "shift": In(SHIFT_SHAPE)})
        if srdhm:
            ports.update({"srdhm_a": In(signed(32)), "srdhm_b": In(signed(32)), "srdhm_en": In(1),
                          "srdhm_o": Out(signed(32))})
        self.per_channel, self.srdhm = per_channel, srdhm
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        W = self.out_width
        for k, core in enumerate(self.cores):
            m.submodules[f"core{k}"] = core
            m.d.comb += [core.i.valid.eq(self.i.valid), core.i.payload.as_value().eq(self.i.payload.as_value()),
                         core.o.ready.eq(self.o.ready), core.za.eq(self.za), core.zw.eq(self.zw),
                         core.z3.eq(self.z3[W * k:W * (k + 1)]), core.qmin.eq(self.qmin[W * k:W * (k + 1)]),
                         core.qmax.eq(self.qmax[W * k:W * (k + 1)])]
            if not self.per_channel:
                m.d.comb += [getattr(core, p).eq(getattr(self, p)) for p in SCALE_PORTS]
        m.d.comb += [self.i.ready.eq(self.cores[0].i.ready), self.o.valid.eq(self.cores[0].o.valid),
                     self.o.payload.eq(Cat(core.o.payload for core in self.cores))]
        if self.srdhm:
            m.submodules.srdhm = srdhm = SRDHM()
            m.d.comb += [srdhm.a.eq(self.srdhm_a), srdhm.b.eq(self.srdhm_b), srdhm.en.eq(self.srdhm_en),
                         self.srdhm_o.eq(srdhm.o)]
        return m


def make_dut(c, srdhm=False):
    """(component, module name) of configuration ``c``: a plain QMac for one type combination, else a
    :class:`QMacBundle` (with a bare SRDHM beside it when ``srdhm``)."""
    kw = dict(lanes=c["lanes"], acc_bits=c["acc_bits"], per_channel=c["per_channel"],
              requant_cycles=c.get("requant_cycles", 1), dsp=c.get("dsp", "infer"))
    if len(c["types"]) == 1:
        a, w, o = c["types"][0]
        dut = QMac(a_type=a, w_type=w, out_type=o, rounding=unit_roundings(c)[0], **kw)
        return dut, dut.name
    return (QMacBundle(types=[tuple(t) for t in c["types"]], roundings=unit_roundings(c), srdhm=srdhm, **kw),
            config_id(c))


class QMacBench:
    """Driver (beats with random idle cycles, garbage where the unit must not look), monitor (results with
    random back-pressure), model (golden.quant per unit) and checker, for a QMac or a QMacBundle."""

    def __init__(self, dut, c, used_seed):
        self.dut, self.c, self.seed = dut, c, used_seed
        self.types = [tuple(t) for t in c["types"]]
        self.lanes = c["lanes"]
        a, w, o = self.types[0]
        core = QMac(lanes=self.lanes, a_type=a, w_type=w, out_type=o, acc_bits=c["acc_bits"],
                    per_channel=c["per_channel"], rounding=unit_roundings(c)[0],
                    requant_cycles=c.get("requant_cycles", 1), dsp=c.get("dsp", "infer"))
        # for drain timeouts; the tests check the latency against the one docs/qmac.md states
        self.latency = UNITS["qmac"].configure(lanes=self.lanes, requant_cycles=c.get("requant_cycles", 1),
                                               dsp=c.get("dsp", "infer")).latency
        self.off = {name: field.offset for name, field in core.in_layout}
        self.width = core.in_layout.size
        self.out_w = int_shape(o).width
        self.garbage = random.Random(used_seed)
        names = ["za", "zw", "z3", "qmin", "qmax"] + ([] if c["per_channel"] else list(SCALE_PORTS))
        self.ports = {n: getattr(dut, n) for n in names}
        self.port_bits = {n: len(h) for n, h in self.ports.items()}

    async def reset(self):
        """The stream bench's reset: inputs idle, output stalled, three cycles."""
        from fmtforge.verif.support.benches.stream import Ports, reset
        await reset(self.dut, [Ports(self.dut)])

    def _junk(self, bits):
        return self.garbage.getrandbits(bits)

    def beats(self, job):
        """[(payload, {port: value})] of one job, padded to whole beats; garbage where not read."""
        L, K = self.lanes, len(job.a)
        n = max(1, -(-K // L))
        pad = n * L - K
        rnd = np.array([self._junk(8) for _ in range(pad)], dtype=np.uint8)
        filler = np.full(pad, job.za if job.pad == "a" else job.zw, dtype=np.uint8)
        a = np.concatenate([job.a, filler if job.pad == "a" else rnd])
        w = np.concatenate([job.w, filler if job.pad == "w" else rnd])
        W = self.out_w
        mask = (1 << W) - 1
        last_ports = {"z3": sum((z & mask) << (W * k) for k, (z, _, _) in enumerate(job.outs)),
                      "qmin": sum((lo & mask) << (W * k) for k, (_, lo, _) in enumerate(job.outs)),
                      "qmax": sum((hi & mask) << (W * k) for k, (_, _, hi) in enumerate(job.outs))}
        scale = {"bias": job.bias & 0xffffffff, "m0": job.m0, "shift": job.shift & 0x3f}
        out = []
        for b in range(n):
            last = b == n - 1
            payload = (int.from_bytes(a[b * L:(b + 1) * L].tobytes(), "little") << self.off["a"]
                       | int.from_bytes(w[b * L:(b + 1) * L].tobytes(), "little") << self.off["w"]
                       | int(last) << self.off["last"])
            ports = {"za": job.za, "zw": job.zw}
            for name in ("z3", "qmin", "qmax"):
                ports[name] = last_ports[name] if last else self._junk(self.port_bits[name])
            for name in SCALE_PORTS:
                value = scale[name] if last else self._junk({"bias": 32, "m0": 31, "shift": 6}[name])
                if self.c["per_channel"]:
                    payload |= value << self.off[name]
                else:
                    ports[name] = value
            out.append((payload, ports))
        return out

    async def run(self, jobs, idle_p, stall_p, rng):
        """Feed ``jobs`` through the one stream bench's driver and monitor (verif/support/benches/stream.py:
        idle cycles with garbage on the payload and the parameter ports, back-pressure, outputs held while
        stalled, no beat lost or extra); returns (per-job output words, accept cycle of each beat, accept cycle
        of each last beat, cycle of each result)."""
        from fmtforge.verif.support.benches.stream import Ports, run_beats
        beats = [beat for job in jobs for beat in self.beats(job)]
        payloads = [payload for payload, _ in beats]
        side = {name: [ports[name] for _, ports in beats] for name in self.ports}
        limit = (30 + 2 * self.c.get("requant_cycles", 1)) * len(beats) + 500
        got, t_beat, t_out = await run_beats(Ports(self.dut, "", side=tuple(self.ports)), payloads, len(jobs),
                                             idle_p, stall_p, rng, side=side, limit=limit)
        t_last = [t for t, p in zip(t_beat, payloads) if (p >> self.off["last"]) & 1]
        return got, t_beat, t_last, t_out

    def split(self, word):
        """One output word -> the result of each unit, as integers of its out_type."""
        W = self.out_w
        vals = []
        for k, (_, _, ot) in enumerate(self.types):
            v = (word >> (W * k)) & ((1 << W) - 1)
            vals.append(v - (1 << W) if int_fmt(ot).signed and v >> (W - 1) else v)
        return vals

    def check(self, jobs, words, label):
        """Compare every unit's result with the golden model; returns statistics of what was covered."""
        want, acc, exact = model(jobs, self.types, self.c)
        got = np.array([self.split(word) for word in words], dtype=np.int64).reshape(want.shape)
        qmin = np.array([[o[1] for o in job.outs] for job in jobs]).reshape(want.shape)
        qmax = np.array([[o[2] for o in job.outs] for job in jobs]).reshape(want.shape)
        stats = dict(results=want.size, at_qmin=int(np.sum(want == qmin)), at_qmax=int(np.sum(want == qmax)),
                     acc_wrapped=int(np.sum(acc != exact)))
        bad = [(j, u, int(got[j, u]), int(want[j, u])) for j, u in zip(*np.nonzero(got != want))]
        if bad:
            W = self.out_w
            lines = [f"{config_id(self.c)} {label}: {len(bad)} of {stats['results']} results differ "
                     f"(seed {self.seed})"]
            for j, u, got, want in bad[:8]:
                lines.append(f"  job {j} {jobs[j].describe(u, self.types, self.c, acc[j, u], exact[j, u])}: expected "
                             f"0x{want & ((1 << W) - 1):02x} ({want}), got 0x{got & ((1 << W) - 1):02x} ({got})")
            lines.append(f"reproduce: FMTFORGE_SEED={self.seed} .venv/bin/pytest verif/tests/rtl/test_qmac.py "
                         f"-k '{config_id(self.c)}'")
            raise AssertionError("\n".join(lines))
        return stats
