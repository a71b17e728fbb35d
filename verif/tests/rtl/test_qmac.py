# amaranth: UnusedElaboratable=no
"""QMac (fmtforge.rtl.units.qmac) and its requantizer (fmtforge.rtl.units.requant) against golden.quant, bit for bit, on both simulators.

Every result is compared with ``golden.quant.qmatmul`` of the unpadded dot product (its accumulator from
``golden.quant.qmatmul_acc`` is shown in mismatch reports). A build covers much: the harness below puts
several QMacs (one per (a, w, out) type combination) behind one input stream, so that the three builds per
simulator (CONFIGS) check all eight combinations, lanes 1, 4 and 16. Per configuration:

- directed requantization corners, the accumulator set through ``bias`` with ``a = Za`` (products 0):
  ties in SRDHM and in RoundingDivideByPOT / the single rounding, shift 0, -31 and 30 (``acc * 2**30``
  wrapping to int32), ``acc * 2**shift == INT32_MIN`` times ``M0 = 2**31 - 1``, ``M0 = 0``, saturation at
  both ends, narrowed ``[qmin, qmax]``;
- zero points at the range ends (bit patterns 0x00, 0x7f, 0x80, 0xff: both ends of int8 and of uint8);
- accumulator wrap-around (bias near the int32 ends, and acc_bits 16/24), K = lanes and one long K;
- ragged K padded with ``a = Za`` or ``w = Zw``, and random dot products;
- first with no idle cycle and no back-pressure (one beat per cycle, latency exactly ``qmac_latency``), then
  with random valid gaps and random back-pressure. Ports that are read only with a dot product's ``last``
  beat carry random garbage on every other cycle, and the zero points on idle cycles.

``SRDHM`` alone (beside the first harness's units) is checked against ``golden.quant.srdhm``, with random
enable: its ``INT32_MIN * INT32_MIN`` case cannot occur inside Requantize, whose ``M0`` is non-negative.
``end_to_end`` runs a float matrix product quantized by golden.quant through the unit and bounds the error of
the dequantized result (see its docstring).

Run: ``.venv/bin/pytest -n 2 verif/tests/rtl/test_qmac.py`` (FMTFORGE_SEED=N for another seed), or
``.venv/bin/python verif/tests/rtl/test_qmac.py``.
"""

import json
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth import Cat, Module, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import quant as gq
from fmtforge.rtl.units.qmac import TYPES, QMac, qmac_latency, qmac_name
from fmtforge.rtl.units.requant import M0_SHAPE, SHIFT_SHAPE, SRDHM, int_shape
from fmtforge.verif.support.vectors import seed

ENV = "FMTFORGE_QMAC"
INT32_MIN, INT32_MAX = gq.INT32_MIN, gq.INT32_MAX
ALL_TYPES = [(a, w, o) for a in TYPES for w in TYPES for o in TYPES]
SCALE_PORTS = ("bias", "m0", "shift")


def config(lanes, types, *, acc_bits=32, per_channel=False, rounding="gemmlowp", jobs=800, long_k=0, e2e=False):
    return dict(lanes=lanes, types=types, acc_bits=acc_bits, per_channel=per_channel, rounding=rounding,
                jobs=jobs, long_k=long_k, e2e=e2e)


# Three builds per simulator (a Verilator build costs ~25 s here, mostly its runtime library): every
# (a_type, w_type) pair at 1 and at 4 lanes, each out_type with each, all eight combinations over the two
# harnesses; both roundings, both ways of feeding the scale, acc_bits 16 and 32; the third configuration is
# the unit exactly as the CLI writes it (no harness), with the end-to-end check.
CONFIGS = [
    config(4, [("int8", "int8", "int8"), ("int8", "uint8", "uint8"), ("uint8", "int8", "uint8"),
               ("uint8", "uint8", "int8")], acc_bits=16, long_k=1024),
    config(1, [("int8", "int8", "uint8"), ("int8", "uint8", "int8"), ("uint8", "int8", "int8"),
               ("uint8", "uint8", "uint8")], per_channel=True, rounding="single", long_k=600),
    config(16, [("uint8", "int8", "int8")], per_channel=True, long_k=34000, e2e=True),
]
assert sorted(t for c in CONFIGS[:2] for t in c["types"]) == sorted(ALL_TYPES)
SRDHM_CONFIG = 0  # the harness of this configuration also holds a bare SRDHM (check_srdhm)


def config_id(c):
    if len(c["types"]) == 1:
        return qmac_name(c["lanes"], *c["types"][0], c["acc_bits"], c["per_channel"], c["rounding"])
    types = "_".join("".join(t[0] for t in combo) for combo in c["types"])  # "iii_iuu_..."
    return (f"qmac_bundle_l{c['lanes']}_{types}_acc{c['acc_bits']}_{c['rounding']}"
            + ("_pc" if c["per_channel"] else ""))


class QMacBundle(wiring.Component):
    """Test harness: one :class:`QMac` per (a_type, w_type, out_type) in ``types``, all fed by one stream.

    ``i`` has the first unit's payload layout; every unit reads the same bits as its own types. ``za`` and
    ``zw`` are shared bit patterns too (any 8-bit pattern is a valid zero point of int8 and of uint8), while
    ``z3``, ``qmin``, ``qmax`` and ``o.payload`` hold one field per unit, unit 0 lowest. Every unit sees the
    same valid, last and ready, so their handshakes are identical and unit 0's stand for all.

    With ``srdhm``, a bare :class:`fmtforge.rtl.units.requant.SRDHM` sits beside them on ports ``srdhm_a``, ``srdhm_b``,
    ``srdhm_en``, ``srdhm_o`` (it shares the build instead of costing one more).
    """

    def __init__(self, *, lanes, types, acc_bits, per_channel, rounding, srdhm=False):
        self.cores = [QMac(lanes=lanes, a_type=a, w_type=w, out_type=o, acc_bits=acc_bits, per_channel=per_channel,
                           rounding=rounding) for a, w, o in types]
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


def make_dut(c):
    """(component, module name) of configuration ``c``: a plain QMac for one type combination."""
    kw = dict(lanes=c["lanes"], acc_bits=c["acc_bits"], per_channel=c["per_channel"], rounding=c["rounding"])
    if len(c["types"]) == 1:
        a, w, o = c["types"][0]
        dut = QMac(a_type=a, w_type=w, out_type=o, **kw)
        return dut, dut.name
    return QMacBundle(types=[tuple(t) for t in c["types"]], srdhm=c is CONFIGS[SRDHM_CONFIG], **kw), config_id(c)


# ------------------------------------------------------------------------------------------------ vectors

def _fmt(dtype):
    return gq.int_format(dtype)


def as_type(bits, dtype):
    """uint8 bit patterns as the integers they stand for in ``dtype`` (int64)."""
    bits = np.asarray(bits, dtype=np.uint8)
    return (bits.view(np.int8) if _fmt(dtype).signed else bits).astype(np.int64)


def model(jobs, types, c):
    """Expected results, accumulators and exact (unwrapped) sums, each an array (job, unit).

    golden.quant.qmatmul computes whole matrix products; the dot products of many jobs come out of one call
    as the diagonal of ``Q1 @ Q2``, Q1's rows the jobs' ``a - Za`` and Q2's columns their ``w - Zw`` (their
    zero points subtracted exactly beforehand, so the calls take zero points 0), grouped by K and by
    ``(qmin, qmax)`` (scalars in golden.quant); bias, M0, shift and z3 are per column.
    """
    q3 = np.zeros((len(jobs), len(types)), dtype=np.int64)
    acc, exact = q3.copy(), q3.copy()
    for u, unit_types in enumerate(types):
        groups = {}
        for j, job in enumerate(jobs):
            groups.setdefault((len(job.a),) + job.outs[u][1:], []).append(j)
        for (_, qmin, qmax), idx in groups.items():
            ops = [jobs[j].operands(unit_types) for j in idx]
            Q1, Q2 = np.stack([o[0] for o in ops]), np.stack([o[1] for o in ops], axis=1)
            col = lambda f: np.array([f(jobs[j]) for j in idx], dtype=np.int64)  # noqa: E731
            bias = col(lambda jb: jb.bias)
            want = gq.qmatmul(Q1, 0, Q2, 0, M0=col(lambda jb: jb.m0), shift=col(lambda jb: jb.shift),
                              z3=col(lambda jb: jb.outs[u][0]), qmin=qmin, qmax=qmax, bias=bias,
                              mode=c["rounding"], acc_bits=c["acc_bits"])
            q3[idx, u] = np.diagonal(want)
            acc[idx, u] = np.diagonal(gq.qmatmul_acc(Q1, 0, Q2, 0, bias=bias, acc_bits=c["acc_bits"]))
            exact[idx, u] = np.einsum("jk,kj->j", Q1, Q2) + bias
    return q3, acc, exact


class Job:
    """One dot product: operand bit patterns (unpadded, length K), how the ragged tail is padded, the shared
    zero-point patterns and scale, and each unit's (z3, qmin, qmax)."""

    def __init__(self, kind, a, w, za, zw, bias, m0, shift, outs, pad="a"):
        self.kind, self.a, self.w = kind, np.asarray(a, np.uint8), np.asarray(w, np.uint8)
        self.za, self.zw, self.bias, self.m0, self.shift = za, zw, bias, m0, shift
        self.outs, self.pad = outs, pad

    def operands(self, unit_types):
        """(a - Za, w - Zw) as the unit of ``unit_types`` sees them (int64, exact)."""
        at, wt, _ = unit_types
        return (as_type(self.a, at) - as_type(self.za, at)[()], as_type(self.w, wt) - as_type(self.zw, wt)[()])

    def describe(self, unit, types, c, acc, exact):
        at, wt, ot = types[unit]
        z3, qmin, qmax = self.outs[unit]
        h8 = lambda v: f"0x{int(v) & 0xff:02x}"  # noqa: E731
        return (f"[{self.kind}] unit {unit} ({at} x {wt} -> {ot}): K={len(self.a)} (pad {self.pad}) "
                f"za={h8(self.za)} ({int(as_type(self.za, at)[()])}) zw={h8(self.zw)} "
                f"({int(as_type(self.zw, wt)[()])}) bias=0x{self.bias & 0xffffffff:08x} M0=0x{self.m0:08x} "
                f"shift={self.shift} z3={z3} q=[{qmin}, {qmax}] acc=0x{acc & 0xffffffff:08x} ({acc}, exact "
                f"sum {exact}) a[:8]={[h8(v) for v in self.a[:8]]} w[:8]={[h8(v) for v in self.w[:8]]}")


# narrowed output ranges (a few, so that the model batches well): narrow_range, ReLU-like, one-sided, tiny
NARROW = {"int8": [(-127, 127), (0, 127), (-128, -1), (-100, 50), (-3, 4), (17, 17)],
          "uint8": [(1, 255), (128, 255), (0, 127), (10, 200), (126, 133), (0, 0)]}


def out_params(rng, types, full=False):
    """(z3, qmin, qmax) per unit: mostly the full range, sometimes a narrowed one; z3 often at an end."""
    outs = []
    for _, _, ot in types:
        f = _fmt(ot)
        lo, hi = f.min_int, f.max_int
        if not full and rng.random() < 0.2:
            lo, hi = NARROW[ot][int(rng.integers(len(NARROW[ot])))]
        z3 = int(rng.choice([lo, hi])) if rng.random() < 0.2 else int(rng.integers(lo, hi + 1))
        outs.append((z3, lo, hi))
    return outs


ENDS = (0x00, 0x7f, 0x80, 0xff)  # both ends of int8 (0x80, 0x7f) and of uint8 (0x00, 0xff)


def extreme_bits(dtype, high):
    """(value, zero point) bit patterns making ``q - z`` as large (high) or as small as ``dtype`` allows."""
    f = _fmt(dtype)
    v, z = (f.max_int, f.min_int) if high else (f.min_int, f.max_int)
    return v & 0xff, z & 0xff


def edge_jobs(c, types, rng):
    """Requantization corners (accumulator = bias, products 0), zero points at the ends, wrap-around."""
    L = c["lanes"]
    jobs = []

    def via_bias(kind, acc, m0, shift, full=True):
        w = rng.integers(0, 256, L)
        za = int(rng.choice(ENDS))
        jobs.append(Job(kind, np.full(L, za), w, za, int(rng.integers(0, 256)), acc, m0, shift,
                        out_params(rng, types, full)))

    for acc in (1, -1, 3, -3, 5, -5, 7, -7, 2**30 + 1, -(2**30 + 1)):  # acc * 2**30 / 2**31: exactly k + 1/2
        via_bias("SRDHM tie", acc, 1 << 30, 0)
    for e in (1, 2, 3, 5, 12):  # y = acc / 2 = (2k + 1) * 2**(e - 1): a tie of the division by 2**e
        for k in (0, 1, -1, -2, 100, -101):
            via_bias("RDBPOT / single tie", (2 * k + 1) << e, 1 << 30, -e)
    for acc in (-4, -3, -2, -1, 0, 1, 2, 3, 4, 5):  # shift 30: acc * 2**30 wraps to int32
        for m0 in (1 << 30, INT32_MAX, 0x5a5a5a5b):
            via_bias("shift 30", acc, m0, 30)
    for acc in (INT32_MIN, INT32_MAX, -1, 1, 1 << 30, -(1 << 30), (1 << 30) + 1, -(1 << 30) - 1, 3 << 29):
        for m0 in (INT32_MAX, 1 << 30, (1 << 30) + 1):
            via_bias("shift -31", acc, m0, -31)
    for acc in (INT32_MIN, INT32_MAX, INT32_MIN + 1, -2, 2, 0):
        for m0 in (INT32_MAX, 1 << 30, 0):
            via_bias("shift 0", acc, m0, 0)
    via_bias("acc * 2**30 == INT32_MIN, M0 max", -2, INT32_MAX, 30)
    via_bias("acc * 2 == INT32_MIN, M0 max", -(1 << 30), INT32_MAX, 1)
    for acc in (1 << 20, -(1 << 20), 12345, -12345):
        for shift in (0, -3, 5):
            via_bias("saturation", acc, INT32_MAX, shift, full=False)
            via_bias("saturation", acc, INT32_MAX, shift, full=True)
    # zero points at the ends, the largest |a - Za| and |w - Zw|
    for za in ENDS:
        for zw in ENDS:
            a, w = rng.integers(0, 256, 4 * L), rng.integers(0, 256, 4 * L)
            a[::3], w[::2] = za ^ 0xff, zw ^ 0xff  # |a - Za| = |w - Zw| = 255
            jobs.append(Job("zero points at the ends", a, w, za, zw, int(rng.integers(-100, 100)),
                            int(rng.integers(1 << 30, 1 << 31)), -int(rng.integers(6, 14)), out_params(rng, types)))
    # wrap-around: the bias near an int32 end, products of one sign and as large as unit 0 allows
    at, wt, _ = types[0]
    for bias in (INT32_MAX, INT32_MAX - 5000, INT32_MIN, INT32_MIN + 5000, 1 << 23, -(1 << 23), 1 << 15):
        for high in (True, False):
            a, za = extreme_bits(at, True)
            w, zw = extreme_bits(wt, high)
            jobs.append(Job("accumulator wrap", np.full(3 * L, a), np.full(3 * L, w), za, zw, bias, 1 << 30,
                            -20, out_params(rng, types)))
    return jobs


def random_job(c, types, rng, K, kind="random"):
    a, w = rng.integers(0, 256, K), rng.integers(0, 256, K)
    za = int(rng.choice(ENDS)) if rng.random() < 0.3 else int(rng.integers(0, 256))
    zw = int(rng.choice(ENDS)) if rng.random() < 0.3 else int(rng.integers(0, 256))
    r = rng.random()
    bias = (int(rng.integers(INT32_MIN, INT32_MAX + 1)) if r < 0.1 else int(rng.integers(-(1 << 16), 1 << 16))
            if r < 0.7 else int(rng.integers(-64, 64)))
    r = rng.random()
    m0 = (int(rng.choice([0, 1, 1 << 30, INT32_MAX])) if r < 0.05 else int(rng.integers(0, 1 << 31)) if r < 0.15
          else int(rng.integers(1 << 30, 1 << 31)))
    job = Job(kind, a, w, za, zw, bias, m0, 0, out_params(rng, types), pad=str(rng.choice(["a", "w"])))
    if rng.random() < 0.2:
        job.shift = int(rng.integers(-31, 31))
    else:  # a shift that lands unit 0's result near the output range, so most results are not clamped
        da, dw = job.operands(types[0])
        acc = int(da @ dw) + bias
        job.shift = int(np.clip(5 - abs(acc).bit_length() + int(rng.integers(-2, 3)), -31, 30))
    return job


def long_job(c, types, rng, K):
    """One long dot product of unit 0's largest products: the sum itself passes acc_bits for long enough K."""
    a, za = extreme_bits(types[0][0], True)
    w, zw = extreme_bits(types[0][1], True)
    return Job("long K", np.full(K, a), np.full(K, w), za, zw, 0, 1 << 30, -24, out_params(rng, types, True))


# ------------------------------------------------------------------------------------------------ testbench

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:
    cocotb = None


class QMacBench:
    """Driver (beats with random idle cycles, garbage where the unit must not look), monitor (results with
    random back-pressure), model (golden.quant per unit) and checker, for a QMac or a QMacBundle."""

    def __init__(self, dut, c, used_seed):
        self.dut, self.c, self.seed = dut, c, used_seed
        self.types = [tuple(t) for t in c["types"]]
        self.lanes = c["lanes"]
        a, w, o = self.types[0]
        core = QMac(lanes=self.lanes, a_type=a, w_type=w, out_type=o, acc_bits=c["acc_bits"],
                    per_channel=c["per_channel"], rounding=c["rounding"])
        self.latency = core.latency
        self.off = {name: field.offset for name, field in core.in_layout}
        self.width = core.in_layout.size
        self.out_w = int_shape(o).width
        self.garbage = random.Random(used_seed)
        names = ["za", "zw", "z3", "qmin", "qmax"] + ([] if c["per_channel"] else list(SCALE_PORTS))
        self.ports = {n: getattr(dut, n) for n in names}
        self.port_bits = {n: len(h) for n, h in self.ports.items()}

    async def reset(self):
        dut = self.dut
        dut.rst.value = 1
        dut.i__valid.value = 0
        dut.o__ready.value = 0
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0

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
        """Feed ``jobs``; returns (per-job output words, accept cycle of each beat, accept cycle of each last
        beat, cycle of each result)."""
        dut = self.dut
        pending = [beat for job in jobs for beat in self.beats(job)]
        pending.reverse()
        total = len(pending)
        cur = None
        got, t_beat, t_last, t_out = [], [], [], []
        cycle = 0
        limit = 30 * total + 500
        while len(got) < len(jobs):
            await RisingEdge(dut.clk)
            cycle += 1
            if cycle > limit:
                raise AssertionError(f"pipeline stalled: {len(got)} of {len(jobs)} results after {cycle} cycles")
            if cur is None and pending and (idle_p == 0 or rng.random() >= idle_p):
                cur = pending.pop()
            if cur is not None:
                payload, ports = cur
                dut.i__valid.value = 1
                dut.i__payload.value = payload
                for name, value in ports.items():
                    self.ports[name].value = value
            else:
                dut.i__valid.value = 0
                dut.i__payload.value = self._junk(self.width)
                for name, handle in self.ports.items():
                    handle.value = self._junk(self.port_bits[name])
            dut.o__ready.value = int(stall_p == 0 or rng.random() >= stall_p)
            await ReadOnly()
            if cur is not None and dut.i__ready.value:
                t_beat.append(cycle)
                if (cur[0] >> self.off["last"]) & 1:
                    t_last.append(cycle)
                cur = None
            if dut.o__valid.value and dut.o__ready.value:
                got.append(int(dut.o__payload.value.to_unsigned()))
                t_out.append(cycle)
        await RisingEdge(dut.clk)
        dut.i__valid.value = 0
        assert not pending and len(t_beat) == total
        return got, t_beat, t_last, t_out

    def split(self, word):
        """One output word -> the result of each unit, as integers of its out_type."""
        W = self.out_w
        vals = []
        for k, (_, _, ot) in enumerate(self.types):
            v = (word >> (W * k)) & ((1 << W) - 1)
            vals.append(v - (1 << W) if _fmt(ot).signed and v >> (W - 1) else v)
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


if cocotb is not None:
    def _setup(dut):
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        return c, used_seed, QMacBench(dut, c, used_seed)

    @cocotb.test()
    async def check_qmac(dut):
        c, used_seed, tb = _setup(dut)
        rng = np.random.default_rng([used_seed, c["lanes"], c["acc_bits"]])
        types, L = tb.types, c["lanes"]
        await tb.reset()
        dut._log.info("%s: seed %d, latency %d", config_id(c), used_seed, tb.latency)
        # 1: no gaps, no back-pressure: one beat accepted per cycle, each result exactly `latency` after its
        # last beat. Single-beat dot products (K = lanes: one result per cycle), then multi-beat ones.
        jobs1 = [random_job(c, types, rng, L, "K = lanes") for _ in range(100)]
        jobs1 += [random_job(c, types, rng, L * int(rng.integers(2, 6)), "multi-beat") for _ in range(30)]
        got, t_beat, t_last, t_out = await tb.run(jobs1, 0.0, 0.0, rng)
        assert t_beat == list(range(t_beat[0], t_beat[0] + len(t_beat))), "a beat was refused without back-pressure"
        lat = sorted(set(b - a for a, b in zip(t_last, t_out)))
        assert lat == [tb.latency], f"latency {lat}, expected [{tb.latency}] (qmac_latency({L}))"
        assert t_out[:100] == list(range(t_out[0], t_out[0] + 100)), "K = lanes: not one result per cycle"
        stats = [tb.check(jobs1, got, "no stalls")]
        # 2: corners, ragged tails, long K and random dot products, with valid gaps and back-pressure
        jobs2 = edge_jobs(c, types, rng)
        for _ in range(60):
            K = int(rng.integers(1, 4 * L + 1))
            jobs2.append(random_job(c, types, rng, K, "ragged" if K % L else "random"))
        jobs2.append(random_job(c, types, rng, 0, "K = 0 (padding only)"))
        if c["long_k"]:
            jobs2.append(long_job(c, types, rng, c["long_k"]))
        jobs2 += [random_job(c, types, rng, L * int(rng.integers(1, 5))) for _ in range(c["jobs"])]
        order = rng.permutation(len(jobs2))
        jobs2 = [jobs2[k] for k in order]
        half = len(jobs2) // 2
        got_a, *_ = await tb.run(jobs2[:half], 0.3, 0.3, rng)
        got_b, *_ = await tb.run(jobs2[half:], 0.1, 0.7, rng)  # mostly back-pressured
        stats.append(tb.check(jobs2, got_a + got_b, "gaps and back-pressure"))
        total = {k: sum(s[k] for s in stats) for k in stats[0]}
        dut._log.info("%s: %d dot products, %d results checked, %d at qmin, %d at qmax, %d accumulators wrapped",
                      config_id(c), len(jobs1) + len(jobs2), total["results"], total["at_qmin"], total["at_qmax"],
                      total["acc_wrapped"])
        assert total["at_qmin"] and total["at_qmax"] and total["acc_wrapped"], f"corners not reached: {total}"

    @cocotb.test()
    async def end_to_end(dut):
        """A float product ``Y = A @ W + b`` (8x40 @ 40x6) through the unit, TFLite style: uint8 activations
        (asymmetric, per tensor), int8 weights (symmetric, per output column), int32 bias ``round(b / (S1
        S2))``, int8 output with ``(S3, Z3)`` from Y's range, ``M = S1 S2 / S3`` by quantize_multiplier.
        K = 40 is not a multiple of the 16 lanes: the last beat is padded with ``a = Za``.

        The results must equal golden.quant.qmatmul, and ``|S3 (q3 - Z3) - Y|`` must stay within, per
        element, ``S3 * r`` (rounding of the rescale: r = 1 for gemmlowp's two roundings, 1/2 for single)
        ``+ S3 |acc| 2**(shift - 32)`` (M0 rounded to 31 bits) ``+ sum_j (|A| S2 / 2 + |W| S1 / 2 + S1 S2 / 4)``
        (operands rounded to half a step) ``+ S1 S2 / 2`` (bias rounded) ``+`` float64 slack ``2**-40`` times
        ``sum_j |A||W| + |acc| S1 S2``. No result is clamped: Y's range is the output range.
        """
        c, used_seed, tb = _setup(dut)
        assert tb.types == [("uint8", "int8", "int8")] and c["per_channel"]
        rng = np.random.default_rng([used_seed, 2018])
        A = rng.normal(0.3, 1.0, (8, 40))
        Wf = rng.normal(0.0, 0.2, (40, 6)) * rng.uniform(0.2, 2.0, 6)
        b = rng.normal(0.0, 0.5, 6)
        Y = A @ Wf + b
        S1, Z1 = gq.choose_qparams(A.min(), A.max(), "uint8")
        S2, Z2 = gq.choose_qparams(Wf.min(axis=0), Wf.max(axis=0), "int8", symmetric=True)
        assert np.all(Z2 == 0)
        S3, Z3 = gq.choose_qparams(Y.min(), Y.max(), "int8")
        qA = gq.quantize(A, S1, Z1, "uint8")
        qW = gq.quantize(Wf, S2, 0, "int8", axis=1)
        qb = gq.quantize(b, S1 * S2, 0, "int32", axis=0).astype(np.int64)
        M0, shift = gq.quantize_multiplier(S1 * S2 / S3)
        mode = c["rounding"]
        want = gq.qmatmul(qA, Z1, qW, 0, M0=M0, shift=shift, z3=Z3, qmin=-128, qmax=127, bias=qb, mode=mode)
        acc = gq.qmatmul_acc(qA, Z1, qW, 0, bias=qb)
        jobs = [Job("end to end", qA[i], qW[:, k].view(np.uint8), Z1, 0, int(qb[k]), int(M0[k]), int(shift[k]),
                    [(Z3, -128, 127)]) for i in range(A.shape[0]) for k in range(Wf.shape[1])]
        await tb.reset()
        words, *_ = await tb.run(jobs, 0.2, 0.3, rng)
        q3 = np.array([tb.split(wd)[0] for wd in words]).reshape(want.shape)
        assert np.array_equal(q3, want), f"unit != golden.quant.qmatmul (seed {used_seed}):\n{q3}\n{want}"
        err = np.abs(gq.dequantize(q3, S3, Z3) - Y)
        r = 1.0 if mode == "gemmlowp" else 0.5
        absA, absW = np.abs(A), np.abs(Wf)
        bound = (S3 * r + S3 * np.abs(acc) * np.exp2(shift - 32.0)
                 + (absA.sum(axis=1)[:, None] * S2 + S1 * absW.sum(axis=0)) / 2 + A.shape[1] * S1 * S2 / 4
                 + S1 * S2 / 2 + 2.0 ** -40 * (absA @ absW + np.abs(acc) * S1 * S2))
        assert np.all(err <= bound), (f"dequantized error beyond the bound (seed {used_seed}): "
                                      f"worst error/bound {np.max(err / bound):.3f}")
        dut._log.info("end to end: max |error| %.4g (S3 = %.4g), max error/bound %.3f, %d of %d results exact "
                      "to half a step", err.max(), S3, np.max(err / bound), int(np.sum(err <= S3 / 2)), err.size)

    @cocotb.test()
    async def check_srdhm(dut):
        """SRDHM alone: corners (INT32_MIN * INT32_MIN, ties, the ends) and random, with random enable."""
        used_seed = seed()
        rng = np.random.default_rng([used_seed, 31])
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        ends = [INT32_MIN, INT32_MIN + 1, -(1 << 30), -3, -1, 0, 1, 3, 1 << 30, (1 << 30) + 1, INT32_MAX - 1,
                INT32_MAX]
        pairs = [(a, b) for a in ends for b in ends]
        pairs += [(int(a), 1 << 30) for a in rng.integers(-1000, 1000, 200)]  # ties when a is odd
        pairs += [(int(a), int(b)) for a, b in rng.integers(INT32_MIN, INT32_MAX + 1, (4000, 2))]
        want_all = gq.srdhm(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
        dut.rst.value = 1
        dut.srdhm_en.value = 0
        dut.i__valid.value = 0
        dut.o__ready.value = 1
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        stage1 = out = None  # the model of the two registers: index of the pair each holds
        loaded, k, seen = None, 0, []
        while len(seen) < len(pairs):
            await RisingEdge(dut.clk)
            if loaded is not None:  # the edge just passed loaded both registers
                out, stage1 = stage1, loaded[0]
            en = int(rng.random() >= 0.2)
            a, b = pairs[k] if k < len(pairs) else (0, 0)
            dut.srdhm_en.value = en
            dut.srdhm_a.value = a & 0xffffffff
            dut.srdhm_b.value = b & 0xffffffff
            await ReadOnly()
            if loaded is not None and out is not None:
                seen.append((out, int(dut.srdhm_o.value.to_signed())))
            loaded = (k if k < len(pairs) else None,) if en else None
            k += en
        bad = [(i, g) for i, g in seen if g != int(want_all[i])]
        if bad:
            lines = [f"srdhm: {len(bad)} of {len(pairs)} results differ (seed {used_seed})"]
            for i, g in bad[:8]:
                a, b = pairs[i]
                lines.append(f"  a=0x{a & 0xffffffff:08x} ({a}) b=0x{b & 0xffffffff:08x} ({b}): expected "
                             f"0x{int(want_all[i]) & 0xffffffff:08x}, got 0x{g & 0xffffffff:08x}")
            lines.append(f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_qmac.py "
                         f"-k '{config_id(CONFIGS[SRDHM_CONFIG])}'")
            raise AssertionError("\n".join(lines))


# ------------------------------------------------------------------------------------------------ pytest

SIMS = ["icarus", "verilator"]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("c", CONFIGS, ids=config_id)
def test_qmac(c, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.runner import run

    dut, name = make_dut(c)
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, name), name, "fmtforge.verif.tests.rtl.test_qmac", name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())},
        testcase=(["check_qmac"] + (["end_to_end"] if c["e2e"] else [])
                  + (["check_srdhm"] if c is CONFIGS[SRDHM_CONFIG] else [])))


# ------------------------------------------------------------------------------------------------ no simulator

@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=0), "lanes must be an integer in 1..64, not 0"),
    (dict(lanes=65), "lanes must be an integer in 1..64, not 65"),
    (dict(lanes=True), "lanes must be an integer in 1..64, not True"),
    (dict(lanes=4, acc_bits=15), "acc_bits must be an integer in 16..32, not 15"),
    (dict(lanes=4, acc_bits=33), "acc_bits must be an integer in 16..32, not 33"),
    (dict(lanes=4, a_type="int4"), "a_type must be one of int8, uint8, not 'int4'"),
    (dict(lanes=4, w_type="fp8"), "w_type must be one of int8, uint8, not 'fp8'"),
    (dict(lanes=4, out_type="int16"), "out_type must be one of int8, uint8, not 'int16'"),
    (dict(lanes=4, rounding="float-rne"), "rounding must be one of gemmlowp, single, not 'float-rne'"),
    (dict(lanes=4, per_channel=1), "per_channel must be True or False, not 1"),
])
def test_qmac_parameters(kwargs, message):
    with pytest.raises(ValueError) as info:
        QMac(**kwargs)
    assert str(info.value) == message


def test_qmac_names_and_latency():
    assert QMac(lanes=4).name == "qmac_l4_int8_int8_int8_acc32_gemmlowp"
    assert (QMac(lanes=16, a_type="uint8", out_type="uint8", acc_bits=24, per_channel=True, rounding="single").name
            == "qmac_l16_uint8_int8_uint8_acc24_single_pc")
    # subtract, multiply, ceil(ceil(log2 lanes) / 2) adder-tree stages, accumulate, requantize (5)
    assert [qmac_latency(n) for n in (1, 2, 4, 8, 16, 32, 64)] == [8, 9, 9, 10, 10, 11, 11]
    dut = QMac(lanes=4, per_channel=True)
    assert [(name, f.offset, f.width) for name, f in dut.in_layout] == [
        ("a", 0, 32), ("w", 32, 32), ("last", 64, 1), ("bias", 65, 32), ("m0", 97, 31), ("shift", 128, 6)]


@pytest.mark.parametrize("kwargs", [
    dict(lanes=1, acc_bits=16, out_type="uint8"),
    dict(lanes=16, a_type="uint8", per_channel=True, rounding="single"),
    dict(lanes=64, w_type="uint8", acc_bits=24),
], ids=lambda kw: qmac_name(**kw))
def test_qmac_verilog_lint(kwargs):
    """`verilator --lint-only -Wall` with the project's waivers (verif/support/lint.vlt) reports nothing."""
    import subprocess

    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.runner import SIM_BUILD, require

    require("verilator")
    dut = QMac(**kwargs)
    out = SIM_BUILD / "lint" / f"{dut.name}.v"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_verilog(dut, dut.name))
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(Path(__file__).parents[2] / "support" / "lint.vlt"), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-n", "2"] + sys.argv[1:]))
