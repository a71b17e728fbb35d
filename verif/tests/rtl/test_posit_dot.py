# amaranth: UnusedElaboratable=no
"""PositDot (fmtforge.rtl.units.posit_dot) against an exact model, bit for bit, on both simulators.

The model is golden.arith.posit_dot (the exact sum of the products and the addend, rounded once), cross-checked on
every job by this file's own :func:`exact_model`: the products (and the addend) summed as exact integers from
golden's posit decode and rounded once by golden's posit encode (the magnitude compressed to 60 bits plus a sticky
bit first, which cannot change a rounding into at most 32 bits); NaR anywhere gives NaR.

Configurations (one build per simulator each):

- ``l1``: 1 lane, posit(8,2) -> posit(16,2), exact quire for 4096 products: every product pair of posit(8,2)
  (65536 single-term dot products, no gaps: latency and one result per cycle checked; with FMTFORGE_FULL=1 --
  make test takes every b against the corners and every 7th a, 11264 pairs), then multi-beat MACs, the
  max_terms bound (4096 x maxpos**2), gaps and back-pressure;
- ``l4``: the issue's target, 4 lanes, posit(8,2) -> posit(16,2), exact quire, 4 rounding registers (as
  synthesised): structured dot products
  (cancellation to exactly zero, maxpos**2 sums up to the bound, minpos products, NaR in any lane, ties of
  posit16 broken by a tiny term, huge plus tiny) and seeded random ones, with gaps and back-pressure;
- ``l3``: 3 lanes (an odd tree), posit(8,2) -> posit(8,2) (every sum rounds), the standard quire, an
  addend, 5 registers in the rounding path: random dot products with random addends, NaR addends;
- ``l2_ecp5dsp``: instantiated MULT18X18D multipliers (simulated by the model of rtl/flow/targets/models), posit(10,1) ->
  posit(12,2), an exact quire for 64 products, no rounding registers.

Random dot products: 1500 per configuration in make test, 20000 with FMTFORGE_FULL=1.

Run: ``.venv/bin/pytest -p no:xdist -q verif/tests/rtl/test_posit_dot.py`` (FMTFORGE_SEED=N for another seed,
FMTFORGE_FULL=1 for every pair).
"""

import json
import os
import random
import sys

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden.arith import exact_quire_bits, posit_dot, quire_bits
from fmtforge.golden.formats.raw import FINITE, NAN, Raw
from fmtforge.rtl.units.posit_dot import posit_dot_latency
from fmtforge.rtl.units.quire import quire_geometry
from fmtforge.verif.support.vectors.patterns import seed

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:  # collected by pytest without cocotb: the launchers below still import
    cocotb = None

ENV = "FMTFORGE_POSIT_DOT"
CONFIGS = {
    "l1": dict(n=8, es=2, n_out=16, es_out=2, lanes=1, quire="exact", max_terms=4096),
    "l4": dict(n=8, es=2, n_out=16, es_out=2, lanes=4, quire="exact", max_terms=4096, stages=4),
    "l3": dict(n=8, es=2, n_out=8, es_out=2, lanes=3, quire="standard", addend=True, stages=5),
    "l2_ecp5dsp": dict(n=10, es=1, n_out=12, es_out=2, lanes=2, quire="exact", max_terms=64, stages=0,
                       dsp="ecp5"),
}


# ------------------------------------------------------------------------------------------------ model

_TABLES = {}



def _unit(**options):
    """The posit-dot unit from the registry (its defaults are the registry's alone)."""
    from fmtforge.rtl.units import UNITS
    return UNITS["posit-dot"].create(**options)

def _table(fmt):
    """[(is NaR, signed significand, exponent)] of every pattern of ``fmt`` (decoded once)."""
    if fmt not in _TABLES:
        r = fmt.decode_raw(np.arange(1 << fmt.n).astype(fmt.dtype))
        _TABLES[fmt] = [(bool(c == NAN), -int(m) if s else int(m), int(e))
                        for c, s, e, m in zip(r.cls, r.sign, r.exp, r.sig)]
    return _TABLES[fmt]


def exact_sum(fmt, out_fmt, a, b, c=None):
    """``(nar, total, lo)``: the exact value of ``c + sum a_k b_k`` is ``total * 2**lo`` (ints), or NaR."""
    t = _table(fmt)
    terms = [(t[x][1] * t[y][1], t[x][2] + t[y][2]) for x, y in zip(a, b)]
    nar = any(t[x][0] or t[y][0] for x, y in zip(a, b))
    if c is not None:
        tc = _table(out_fmt)[c]
        nar |= tc[0]
        terms.append(tc[1:])
    lo = min((e for _, e in terms), default=0)
    return nar, sum(v << (e - lo) for v, e in terms), lo


def exact_model(fmt, out_fmt, jobs):
    """The rounded results (ints) of ``jobs`` (each ``(a, b, c)``, ``c`` None without an addend), by this
    file's own exact sum and golden's posit encode: a cross-check of golden.arith.posit_dot."""
    cls, sign, exp, sig = [], [], [], []
    for a, b, c in jobs:
        nar, total, lo = exact_sum(fmt, out_fmt, a, b, c)
        mag = abs(total)
        extra = max(mag.bit_length() - 60, 0)  # 60 bits and a sticky bit: far below posit32's round bit
        if extra:
            mag = (mag >> extra) | int(mag & ((1 << extra) - 1) != 0)
        cls.append(NAN if nar else FINITE)
        sign.append(total < 0 and not nar)
        exp.append(lo + extra)
        sig.append(0 if nar else mag)
    raw = Raw(np.array(cls, np.uint8), np.array(sign, bool), np.array(exp, np.int64), np.array(sig, np.uint64))
    out, _ = out_fmt.encode_raw(raw)
    return [int(x) for x in np.atleast_1d(out)]


def model(fmt, out_fmt, jobs):
    """golden.arith.posit_dot of every job (grouped by length K), as ints."""
    out = [None] * len(jobs)
    groups = {}
    for j, (a, b, c) in enumerate(jobs):
        groups.setdefault((len(a), c is None), []).append(j)
    for (K, no_c), idx in groups.items():
        a = np.array([jobs[j][0] for j in idx], dtype=np.int64).reshape(len(idx), K)
        b = np.array([jobs[j][1] for j in idx], dtype=np.int64).reshape(len(idx), K)
        c = None if no_c else np.array([jobs[j][2] for j in idx], dtype=np.int64)
        bits = posit_dot(a, b, c, a_fmt=fmt, b_fmt=fmt, out_fmt=out_fmt, return_flags=False)
        for j, v in zip(idx, np.atleast_1d(bits)):
            out[j] = int(v)
    return out


def describe(fmt, out_fmt, job, width):
    a, b, c = job
    vals = lambda f, xs: [str(v) for v in f.decode_raw(np.array(xs, dtype=f.dtype)).to_fractions()]  # noqa: E731
    text = ", ".join(f"0x{x:02x}*0x{y:02x} ({p}*{q})" for x, y, p, q in zip(a, b, vals(fmt, a), vals(fmt, b)))
    if len(a) > 6:
        text = text[:300] + f" ... ({len(a)} products)"
    if c is not None:
        text += f" + c 0x{c:0{width}x} ({vals(out_fmt, [c])[0]})"
    nar, total, lo = exact_sum(fmt, out_fmt, *job)
    return text + (" = NaR" if nar else f" = {total} * 2**{lo}")


# ------------------------------------------------------------------------------------------------ vectors

def _patterns(fmt):
    n = fmt.n
    maxpos, minpos = (1 << (n - 1)) - 1, 1
    one = 1 << (n - 2)
    return dict(maxpos=maxpos, minpos=minpos, one=one, nar=1 << (n - 1), neg=lambda x: (-x) & ((1 << n) - 1))


def _values(fmt):
    """{code: exact value} of the finite posits of ``fmt``."""
    codes = np.arange(1 << fmt.n)
    vals = fmt.decode_raw(codes.astype(fmt.dtype)).to_fractions()
    return {int(k): v for k, v in zip(codes, vals) if v is not None}


def _band(fmt):
    """Positive codes with values in [2**-6, 2**6]: their products' bits overlap in a sum."""
    return [k for k, v in _values(fmt).items() if 0 < v and 2 ** -6 <= v <= 2 ** 6]


def tie_jobs(fmt, out_fmt, rng, count, c0):
    """Sums exactly halfway between two neighbours of ``out_fmt`` (a product P and half the result's unit in
    the last place at P, a power of two), alone or with a tie-breaking +-minpos**2."""
    from fractions import Fraction
    vals = _values(fmt)
    pow2 = {v: k for k, v in vals.items() if v > 0 and v.numerator & (v.numerator - 1) == 0
            and v.denominator & (v.denominator - 1) == 0}
    band = _band(fmt)
    neg = lambda x: (-x) % (1 << fmt.n)  # noqa: E731
    jobs = []
    for _ in range(count * 4):
        if len(jobs) >= count:
            break
        x, y = int(rng.choice(band)), int(rng.choice(band))
        P = vals[x] * vals[y]
        s = P.numerator.bit_length() - P.denominator.bit_length()
        s = s if Fraction(2) ** s <= P else s - 1  # P's scale
        k = s >> out_fmt.es
        rl = k + 2 if k >= 0 else 1 - k
        fb = out_fmt.n - 1 - rl - out_fmt.es
        if fb <= 0 or (P * Fraction(2) ** (fb - s)).denominator != 1:
            continue  # P itself must be a result value with its full fraction
        half = Fraction(2) ** (s - fb - 1)
        pair = next(((pow2[u], pow2[half / u]) for u in pow2 if half / u in pow2), None)
        if pair is None:
            continue
        a, b = [x, pair[0]], [y, pair[1]]
        if rng.random() < 0.5:
            a, b = [neg(x), neg(pair[0])], [y, pair[1]]
        r = rng.random()
        if r < 0.33:
            a, b = a + [1], b + [1]
        elif r < 0.66:
            a, b = a + [neg(1)], b + [1]
        jobs.append(("tie" + ("" if r >= 0.66 else " broken by minpos**2"), a, b, c0))
    assert len(jobs) >= count // 2, f"only {len(jobs)} ties made"
    return jobs


def structured_jobs(fmt, out_fmt, L, rng, addend):
    """Named dot products: (label, a, b, c)."""
    p = _patterns(fmt)
    neg, N = p["neg"], 1 << fmt.n
    c0 = 0 if addend else None
    jobs = []
    for _ in range(20):  # cancellation to exactly zero: x*y - x*y, shuffled, in several beats
        xs = [int(v) for v in rng.integers(0, N, 2 * L)]
        ys = [int(v) for v in rng.integers(0, N, 2 * L)]
        xs = [x if x != p["nar"] else 0 for x in xs]
        a, b = xs + [neg(x) for x in xs], ys + ys
        order = rng.permutation(len(a))
        jobs.append(("cancels to zero", [a[k] for k in order], [b[k] for k in order], c0))
    mp, mn = p["maxpos"], p["minpos"]
    for K in (1, L, 3 * L, 64):
        jobs.append((f"{K} x maxpos**2", [mp] * K, [mp] * K, c0))
        jobs.append((f"{K} x -maxpos**2", [neg(mp)] * K, [mp] * K, c0))
        jobs.append((f"{K} x minpos**2", [mn] * K, [mn] * K, c0))
        jobs.append((f"{K} x -minpos*minpos", [mn] * K, [neg(mn)] * K, c0))
    jobs.append(("maxpos**2 - maxpos**2 + minpos**2", [mp, neg(mp), mn], [mp, mp, mn], c0))
    jobs.append(("maxpos**2 + minpos**2", [mp, mn], [mp, mn], c0))
    jobs.append(("-maxpos**2 + minpos**2", [neg(mp), mn], [mp, mn], c0))
    jobs.append(("maxpos * minpos (= 1)", [mp], [mn], c0))
    for k in range(L):  # NaR in each lane, with ordinary values around it, in a later beat too
        for pos in (k, L + k):
            a = [int(v) for v in rng.integers(0, N, 2 * L)]
            b = [int(v) for v in rng.integers(0, N, 2 * L)]
            a[pos] = p["nar"]
            jobs.append((f"NaR in lane {k}", a, b, c0))
    jobs.append(("NaR * 0", [p["nar"]], [0], c0))
    jobs.append(("zeros", [0] * L, [0] * L, c0))
    jobs += tie_jobs(fmt, out_fmt, rng, 150, c0)
    band = _band(fmt)
    for _ in range(100):  # huge plus tiny: a product of ordinary size, a minpos-sized one (sticky only)
        x, y = int(rng.choice(band)), int(rng.choice(band))
        t = [int(v) for v in rng.integers(1, 8, 2)]
        sgn = [neg if rng.random() < 0.5 else (lambda v: v) for _ in range(2)]
        jobs.append(("huge plus tiny", [sgn[0](x), sgn[1](t[0])], [y, t[1]], c0))
    return jobs


def random_jobs(fmt, out_fmt, L, rng, count, addend, max_k=None):
    """Seeded random dot products: uniform patterns, and operands from a narrow band of scales (sums whose
    bits overlap, so that the rounding is exercised), K from 1 to 4 beats (ragged), random addends."""
    N = 1 << fmt.n
    band = _band(fmt)
    jobs = []
    for j in range(count):
        K = int(rng.integers(1, (max_k or 4 * L) + 1))
        if j % 2:
            a = [int(v) for v in rng.integers(0, N, K)]
            b = [int(v) for v in rng.integers(0, N, K)]
        else:
            a = [int(rng.choice(band)) * 1 for _ in range(K)]
            a = [x if rng.random() < 0.5 else (-x) % N for x in a]
            b = [int(rng.choice(band)) for _ in range(K)]
        c = None
        if addend:
            c = int(rng.integers(0, 1 << out_fmt.n)) if rng.random() < 0.95 else out_fmt.nar
        jobs.append(("random", a, b, c))
    return jobs


# ------------------------------------------------------------------------------------------------ cocotb

class DotBench:
    """Driver (beats with random idle cycles, garbage while idle and in ``c`` after a first beat), monitor
    (results with random back-pressure), the model and the checker."""

    def __init__(self, dut, c, used_seed):
        self.dut, self.c, self.seed = dut, c, used_seed
        self.unit = _unit(**c["options"])
        self.fmt, self.out_fmt, self.L = self.unit.fmt, self.unit.out_fmt, self.unit.lanes
        self.off = {name: f.offset for name, f in self.unit.in_layout}
        self.width = self.unit.in_layout.size
        self.junk = random.Random(used_seed)

    async def reset(self):
        """The stream bench's reset: inputs idle, output stalled, three cycles."""
        from fmtforge.verif.support.benches.stream import Ports, reset
        await reset(self.dut, [Ports(self.dut)])

    def beats(self, job):
        _, a, b, c = job
        n, L = self.fmt.n, self.L
        nb = max(1, -(-len(a) // L))
        a = list(a) + [0] * (nb * L - len(a))  # padding lanes: 0 * 0
        b = list(b) + [0] * (nb * L - len(b))
        out = []
        for k in range(nb):
            word = int(k == nb - 1) << self.off["last"]
            for j in range(L):
                word |= a[k * L + j] << (self.off["a"] + n * j) | b[k * L + j] << (self.off["b"] + n * j)
            if c is not None:
                word |= (c if k == 0 else self.junk.getrandbits(self.out_fmt.n)) << self.off["c"]
            out.append(word)
        return out

    async def run(self, jobs, idle_p, stall_p, rng):
        """Feed ``jobs``; returns (results, accept cycle of each beat, of each last beat, cycle of each result)."""
        d = self.dut
        pending = [w for job in jobs for w in self.beats(job)][::-1]
        total, cur, cycle = len(pending), None, 0
        got, t_beat, t_last, t_out = [], [], [], []
        limit = 40 * total + 500
        while len(got) < len(jobs):
            await RisingEdge(d.clk)
            cycle += 1
            assert cycle <= limit, f"pipeline stalled: {len(got)} of {len(jobs)} results after {cycle} cycles"
            if cur is None and pending and (idle_p == 0 or rng.random() >= idle_p):
                cur = pending.pop()
            d.i__valid.value = int(cur is not None)
            d.i__payload.value = cur if cur is not None else self.junk.getrandbits(self.width)
            d.o__ready.value = int(stall_p == 0 or rng.random() >= stall_p)
            await ReadOnly()
            if cur is not None and d.i__ready.value:
                t_beat.append(cycle)
                if cur >> self.off["last"] & 1:
                    t_last.append(cycle)
                cur = None
            if d.o__valid.value and d.o__ready.value:
                got.append(int(d.o__payload.value.to_unsigned()))
                t_out.append(cycle)
        await RisingEdge(d.clk)
        d.i__valid.value = 0
        assert len(t_beat) == total
        return got, t_beat, t_last, t_out

    def check(self, jobs, got, label):
        triples = [(a, b, c) for _, a, b, c in jobs]
        want = model(self.fmt, self.out_fmt, triples)
        own = exact_model(self.fmt, self.out_fmt, triples)
        slips = [k for k in range(len(jobs)) if own[k] != want[k]]
        assert not slips, (f"golden.arith.posit_dot differs from this file's exact model on {len(slips)} jobs, "
                           f"first {jobs[slips[0]][0]}: {describe(self.fmt, self.out_fmt, jobs[slips[0]][1:], 8)}: "
                           f"golden 0x{want[slips[0]]:x}, exact model 0x{own[slips[0]]:x} (seed {self.seed})")
        bad = [k for k in range(len(jobs)) if got[k] != want[k]]
        if bad:
            w = (self.out_fmt.n + 3) // 4
            vals = lambda x: self.out_fmt.decode_raw(np.array([x], dtype=self.out_fmt.dtype)).to_fractions()[0]  # noqa: E731
            lines = [f"{self.unit.name} {label}: {len(bad)} of {len(jobs)} results differ (seed {self.seed})"]
            for k in bad[:8]:
                lines.append(f"  {jobs[k][0]}: {describe(self.fmt, self.out_fmt, jobs[k][1:], w)}: expected "
                             f"0x{want[k]:0{w}x} ({vals(want[k])}), got 0x{got[k]:0{w}x} ({vals(got[k])})")
            lines.append(f"reproduce: FMTFORGE_SEED={self.seed} .venv/bin/pytest -p no:xdist "
                         f"verif/tests/rtl/test_posit_dot.py -k {self.c['key']}")
            raise AssertionError("\n".join(lines))
        return len(jobs)


if cocotb is not None:
    @cocotb.test()
    async def check_posit_dot(dut):
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        rng = np.random.default_rng([used_seed, c["options"]["lanes"]])
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        tb = DotBench(dut, c, used_seed)
        fmt, ofmt, L, unit = tb.fmt, tb.out_fmt, tb.L, tb.unit
        addend = unit.addend
        await tb.reset()
        dut._log.info("%s: seed %d, latency %d, quire %s", unit.name, used_seed, unit.latency, unit.geometry)
        checked = 0
        # 1: one beat per dot product, no gaps, no back-pressure: a result per cycle, `latency` after its beat
        if L == 1:  # every product pair (make test: every b against the corners and every 7th a)
            N = 1 << fmt.n
            rows = range(N) if c["all_pairs"] else sorted({0, 1, 2, N // 4, N // 2 - 1, N // 2, N // 2 + 1,
                                                           3 * N // 4, N - 2, N - 1, *range(3, N, 7)})
            jobs1 = [("pair", [x], [y], None) for x in rows for y in range(N)]
        else:
            jobs1 = random_jobs(fmt, ofmt, L, rng, 300, addend, max_k=L)
        got, t_beat, t_last, t_out = await tb.run(jobs1, 0.0, 0.0, rng)
        assert t_beat == list(range(t_beat[0], t_beat[0] + len(t_beat))), "a beat was refused without back-pressure"
        lat = sorted(set(o - i for i, o in zip(t_last, t_out)))
        assert lat == [unit.latency], f"latency {lat}, expected [{unit.latency}] (posit_dot_latency)"
        assert t_out == list(range(t_out[0], t_out[0] + len(t_out))), "not one result per cycle"
        checked += tb.check(jobs1, got, "single-beat, no stalls")
        # 2: structured, the max_terms bound, multi-beat random; with gaps and back-pressure
        jobs2 = structured_jobs(fmt, ofmt, L, rng, addend) + random_jobs(fmt, ofmt, L, rng, c["random"], addend)
        T = unit.geometry.terms
        if T <= 4096:  # the exact quire's bound reached: T x (+-maxpos**2) must not wrap
            p = _patterns(fmt)
            c0 = 0 if addend else None
            jobs2 += [(f"{T} x maxpos**2 (the bound)", [p["maxpos"]] * T, [p["maxpos"]] * T, c0),
                      (f"{T} x -maxpos**2 (the bound)", [p["neg"](p["maxpos"])] * T, [p["maxpos"]] * T, c0)]
        order = rng.permutation(len(jobs2))
        jobs2 = [jobs2[k] for k in order]
        half = len(jobs2) // 2
        got_a, *_ = await tb.run(jobs2[:half], 0.3, 0.3, rng)
        got_b, *_ = await tb.run(jobs2[half:], 0.1, 0.7, rng)
        checked += tb.check(jobs2, got_a + got_b, "gaps and back-pressure")
        dut._log.info("%s: %d dot products checked", unit.name, checked)


# ------------------------------------------------------------------------------------------------ pytest

SIMS = ["icarus", "verilator"]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("key", list(CONFIGS))
def test_posit_dot(key, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    dut = _unit(**CONFIGS[key])
    from fmtforge.verif.tests.conftest import FULL
    c = dict(key=key, options=CONFIGS[key], random=20000 if FULL else 1500, all_pairs=FULL)
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, dut.name), dut.name, "fmtforge.verif.tests.rtl.test_posit_dot", dut.name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())})


# ------------------------------------------------------------------------------------------------ no simulator

def test_quire_widths():
    """The standard quire is 16n bits for es = 2 (2022 standard: sign, 31 carry-guard bits, 16(n - 2) bits from
    minpos**2 to maxpos**2); the exact one 4 ms + bit_length(max_terms) + 1; an addend widens where its posit
    reaches beyond the products."""
    p = golden.posit
    for n in (6, 8, 16, 32):
        g = quire_geometry(p(n, 2), quire="standard")
        assert (g.lo, g.width) == (-8 * (n - 2), 16 * n)
    assert quire_geometry(p(8, 2), quire="exact", max_terms=4096).width == 96 + 13 + 1
    assert quire_geometry(p(8, 2), quire="exact", max_terms=4095).width == 96 + 12 + 1
    assert quire_geometry(p(8, 2), quire="exact", max_terms=1).width == 96 + 2
    # posit(16,2) addend: minpos 2**-56 below the products' 2**-48; 4096 * 2**48 + 2**56 < 2**61
    g = quire_geometry(p(8, 2), p(16, 2), quire="exact", max_terms=4096, addend=True)
    assert (g.lo, g.width) == (-56, 61 + 56 + 1)
    # golden.arith's widths: the standard's quire_bits, exact_quire_bits (with an addend in the result format)
    for n, es in ((8, 2), (6, 1), (16, 2), (8, 0), (5, 4)):
        assert quire_geometry(p(n, es), quire="standard").width == quire_bits(n, es)
        for T in (1, 5, 4096):
            assert quire_geometry(p(n, es), quire="exact", max_terms=T).width == exact_quire_bits(n, es, T)
            for o in (p(16, 2), p(5, 0)):
                g = quire_geometry(p(n, es), o, quire="exact", max_terms=T, addend=True)
                assert g.width == exact_quire_bits(n, es, T, addend=o)
    # the bound is tight: T * maxpos**2 needs every bit (the cocotb tests sum exactly T of them)
    for T in (1, 3, 4096, 5000):
        g = quire_geometry(p(8, 2), quire="exact", max_terms=T)
        assert T << 96 < 1 << (g.width - 1) and T << 96 >= 1 << (g.width - 2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=2), "n must be an integer in 3..32, not 2"),
    (dict(n=33), "n must be an integer in 3..32, not 33"),
    (dict(es=5), "es must be an integer in 0..4, not 5"),
    (dict(n_out=33), "n_out must be an integer in 3..32, not 33"),
    (dict(es_out=-1), "es_out must be an integer in 0..4, not -1"),
    (dict(lanes=0), "lanes must be an integer in 1..16, not 0"),
    (dict(quire="kulisch"), "quire must be one of standard, exact, not 'kulisch'"),
    (dict(quire="exact", max_terms=0), "max_terms must be an integer in 1..2147483647, not 0"),
    (dict(addend=1), "addend must be True or False, not 1"),
    (dict(stages=6), "stages must be an integer in 0..5, not 6"),
    (dict(dsp="ice40"), "dsp must be one of infer, ecp5, not 'ice40'"),
    (dict(n=32, dsp="ecp5"), "dsp: ecp5 takes significands of at most 17 bits (posit(n, es) with n - es <= 19), "
                             "not 28 (n=32, es=2)"),
])
def test_posit_dot_parameters(kwargs, message):
    with pytest.raises(ValueError) as info:
        _unit(**kwargs)
    assert str(info.value) == message


def test_posit_dot_names_and_latency():
    assert _unit().name == "posit_dot_l4_p8e2_p16e2_std_s2"
    assert (_unit(n=16, lanes=2, quire="exact", max_terms=100, addend=True, stages=0).name
            == "posit_dot_l2_p16e2_p32e2_exact100_c_s0")
    # decode, multiply, place, one register per tree level, accumulate, the segments' skew (a 110-bit quire:
    # 2 segments; 256 bits: 4), the rounding's stages, output
    assert [posit_dot_latency(L, 2, 110) for L in (1, 2, 3, 4, 8, 16)] == [8, 9, 10, 10, 11, 12]
    assert posit_dot_latency(4, 0, 110) == 8
    assert posit_dot_latency(4, 2, 64) == 9 and posit_dot_latency(4, 2, 256) == 12
    assert _unit(lanes=4, quire="exact").latency == 10
    dut = _unit(lanes=3, addend=True)
    assert [(name, f.offset, f.width) for name, f in dut.in_layout] == [
        ("a", 0, 24), ("b", 24, 24), ("last", 48, 1), ("c", 49, 16)]


# besides the registry's examples (verif/tests/flow/test_lint.py lints those): the other branches
LINT = [dict(lanes=1, n=16, addend=True, stages=0),
        dict(lanes=3, n=6, es=1, n_out=5, es_out=0, addend=True, stages=5),
        dict(lanes=2, n=8, es=0, n_out=12, es_out=3, quire="exact", max_terms=7, stages=1),
        dict(lanes=4, quire="exact", dsp="ecp5")]


@pytest.mark.parametrize("kwargs", LINT, ids=lambda kw: _unit(**kw).name)
def test_posit_dot_lint(kwargs):
    """`verilator --lint-only -Wall` with the project's waivers (the one lint helper), and Yosys' check (no loops,
    latches, undriven nets), as verif/tests/flow/test_lint.py runs them on every default unit."""
    from fmtforge.rtl.flow.lint import lint
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.lint import verilator_lint

    dut = _unit(**kwargs)
    text = verilator_lint(dut)
    lint(text, dut.name)
    assert to_verilog(_unit(**kwargs), dut.name, cache=False) == text  # deterministic


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-p", "no:xdist"] + sys.argv[1:]))
