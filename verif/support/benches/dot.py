# amaranth: UnusedElaboratable=no
"""The dot unit's testbench: vectors (structured and seeded random dot products), a stream driver with idle
cycles and a monitor with back-pressure, the golden model (``golden.arith.dot``) and a checker that names every
mismatch in hex with decoded values."""

import functools

import numpy as np

from fmtforge import golden
from fmtforge.golden.arith import dot as golden_dot

try:
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:  # imported by pytest without cocotb: only the simulator runs the bench
    ReadOnly = RisingEdge = None

__all__ = ["DotBench", "dot_unit", "Job", "config_id", "expected", "random_jobs", "special_codes", "structured_jobs"]


def dot_unit(**options):
    """The dot unit from the registry (its defaults are the registry's alone); Amaranth reports it, if it is never
    elaborated, at the caller's line (whose file may waive UnusedElaboratable)."""
    from fmtforge.rtl.units import UNITS
    return UNITS["dot"].create(src_loc_at=1, **options)


def config_id(c):
    """A configuration's name (its module name)."""
    return dot_unit(**c).name


class Job:
    """One dot product: ``a``, ``b`` (codes, K of each), ``c`` (the addend's code) and what it tests."""

    __slots__ = ("a", "b", "c", "what")

    def __init__(self, a, b, c, what=""):
        self.a, self.b, self.c, self.what = list(map(int, a)), list(map(int, b)), int(c), what


def _fmts(c):
    return golden.lookup(c["a"]), golden.lookup(c["b"]), golden.lookup(c.get("c", "fp32")), \
        golden.lookup(c.get("out", "fp32"))


def expected(c, jobs):
    """(bits, flags) of ``golden.arith.dot`` for every job (grouped by K: the golden is vectorised)."""
    fa, fb, fc, fo = _fmts(c)
    bits = np.zeros(len(jobs), np.int64)
    flags = np.zeros(len(jobs), np.int64)
    by_k = {}
    for n, j in enumerate(jobs):
        by_k.setdefault(len(j.a), []).append(n)
    for K, idx in by_k.items():
        a = np.array([jobs[n].a for n in idx], dtype=np.int64)
        b = np.array([jobs[n].b for n in idx], dtype=np.int64)
        cc = np.array([jobs[n].c for n in idx], dtype=np.int64)
        kw = dict(a_fmt=fa, b_fmt=fb, c_fmt=fc, out_fmt=fo, mode=c.get("mode", "exact"), lanes=c.get("lanes", 1),
                  rounding=c.get("rounding", "rne"))
        if kw["mode"] == "window":
            kw.update(window=c["window"], acc_fmt=c.get("acc") or "fp32", acc_rounding=c.get("acc_rounding") or "rtz")
        r, f = golden_dot(a.astype(fa.dtype if hasattr(fa, "dtype") else np.int64),
                          b.astype(fb.dtype if hasattr(fb, "dtype") else np.int64), cc.astype(fc.dtype), **kw)
        bits[idx] = np.asarray(r).astype(np.int64) & ((1 << fo.width) - 1)
        flags[idx] = f
    return bits, flags


def special_codes(fmt):
    """Named codes of ``fmt``: zeros, the smallest subnormal, the largest finite, one, inf, NaN (those it has;
    an IEEE format's NaNs: quiet and signalling)."""
    if fmt.width > 16:  # an addend format (IEEE-style): from its fields
        f, all_e, s = fmt.frac_bits, ((1 << fmt.exp_bits) - 1) << fmt.frac_bits, 1 << (fmt.width - 1)
        return {"min": 1, "max": (fmt.max_biased << f) | fmt.max_frac, "one": (fmt.bias << f), "zeros": [0, s],
                "inf": [all_e, all_e | s], "nan": [all_e | (1 << (f - 1)), all_e | 1, all_e | s | 5], "neg": s}
    codes = fmt.all_bits()
    raw = fmt.decode_raw(codes)
    out = {}
    fin = raw.cls == golden.FINITE
    mags = [(f, int(code)) for f, code, s in zip(raw.to_fractions(), codes, raw.sign) if f is not None
            and not isinstance(f, float)]
    pos = sorted((v, code) for v, code in mags if v > 0)
    if pos:
        out["min"], out["max"] = pos[0][1], pos[-1][1]
        one = [code for v, code in pos if v == 1]
        if one:
            out["one"] = one[0]
    zeros = [int(code) for code in codes[fin & (raw.sig == 0)]]
    out["zeros"] = zeros
    out["inf"] = [int(code) for code in codes[raw.cls == golden.INF]]
    out["nan"] = [int(code) for code in codes[raw.cls == golden.NAN]][:3]
    out["neg"] = 1 << (fmt.width - 1) if getattr(fmt, "signed", True) else 0
    return out


@functools.lru_cache(maxsize=None)
def _finite_table(name):
    """Every code of format ``name`` whose value is finite (decoded once per format: 2**16 codes for fp16)."""
    fmt = golden.lookup(name)
    codes = np.arange(1 << fmt.width)
    raw = fmt.decode_raw(codes.astype(fmt.dtype) if hasattr(fmt, "dtype") else codes)
    return codes[raw.cls == golden.FINITE]


def _finite_codes(fmt, rng, n):
    """``n`` random codes of finite values of ``fmt``."""
    return rng.choice(_finite_table(fmt.name), n)


def _addends(fc, rng, n, scale_exp):
    """``n`` addend codes of ``fc``: zeros, uniformly random patterns, and values near ``2**scale_exp``."""
    kind = rng.integers(0, 4, n)
    rand = rng.integers(0, 1 << fc.width, n)
    near = np.ldexp(rng.uniform(-2, 2, n), rng.integers(scale_exp - 12, scale_exp + 4, n))
    near_bits, _ = golden.convert_flags(near.astype(np.float64).view(np.uint64), "fp64", fc.name)
    zero = rng.integers(0, 2, n) << (fc.width - 1)
    return np.where(kind == 0, zero, np.where(kind == 1, rand, np.asarray(near_bits, np.int64)))


def random_jobs(c, rng, n, beats=(1, 6), finite_p=0.5):
    """``n`` seeded random dot products of 1..beats lanes-wide beats: half of the operands uniformly random codes
    (specials at their natural rate), half finite only; addends mixed as :func:`_addends`."""
    fa, fb, fc, _ = _fmts(c)
    L = c.get("lanes", 1)
    ks = rng.integers(beats[0], beats[1] + 1, n) * L
    jobs = []
    cs = _addends(fc, rng, n, 0)
    for i in range(n):
        K = int(ks[i])
        if rng.random() < finite_p:
            a, b = _finite_codes(fa, rng, K), _finite_codes(fb, rng, K)
        else:
            a, b = rng.integers(0, 1 << fa.width, K), rng.integers(0, 1 << fb.width, K)
        jobs.append(Job(a, b, cs[i], "random"))
    return jobs


def structured_jobs(c, rng):
    """Named dot products: exact cancellation to zero (with each zero sign), huge plus tiny, every special."""
    fa, fb, fc, fo = _fmts(c)
    L = c.get("lanes", 1)
    sa, sb, sc = special_codes(fa), special_codes(fb), special_codes(fc)
    jobs = []

    def neg(x):  # -x in fa (an integer's two's complement; -min stays min, avoided by the callers' values)
        return (-x) & ((1 << fa.width) - 1) if isinstance(fa, golden.Integer) else x ^ sa["neg"]

    def job(pairs, cc, what):
        pairs = list(pairs)
        while len(pairs) % L:
            pairs.append((0, 0))  # +0 x +0 pads a beat
        jobs.append(Job([p[0] for p in pairs], [p[1] for p in pairs], cc, what))

    pz, nz = 0, 1 << (fc.width - 1)
    for _ in range(8):  # cancellation: x*y - x*y (+ -x*y + x*y) in random order, to exactly zero
        x, y = _finite_codes(fa, rng, 3), _finite_codes(fb, rng, 3)
        pairs = [(int(x[k]), int(y[k])) for k in range(3)] + [(neg(int(x[k])), int(y[k])) for k in range(3)]
        rng.shuffle(pairs)
        for cc in (pz, nz):
            job(pairs, cc, "cancellation to zero")
    for za in sa["zeros"]:
        for zb in sb["zeros"]:
            for cc in (pz, nz):
                job([(za, zb)], cc, "zero products")
                job([(za, zb)] * L, cc, "zero products, a full beat")
    big, tiny = (sa["max"], sb["max"]), (sa["min"], sb["min"])
    for cc in (pz, nz, sc["max"], sc["min"], sc["max"] | nz):
        job([big, tiny, (neg(big[0]), big[1])], cc, "huge + tiny - huge")
        job([tiny] * (2 * L), cc, "tiny sums")
        job([big] * (4 * L), cc, "huge sums (overflow into out?)")
        job([(neg(big[0]), big[1])] * (4 * L), cc, "huge negative sums")
    fin = (int(_finite_codes(fa, rng, 1)[0]), int(_finite_codes(fb, rng, 1)[0]))
    specials_a = [(x, "a inf") for x in sa["inf"]] + [(x, "a nan") for x in sa["nan"]]
    specials_b = [(x, "b inf") for x in sb["inf"]] + [(x, "b nan") for x in sb["nan"]]
    for x, what in specials_a:
        for y in [fin[1]] + sb["zeros"] + sb["inf"] + sb["nan"]:
            job([(x, y), fin], pz, what)
    for y, what in specials_b:
        for x in [fin[0]] + sa["zeros"]:
            job([fin, (x, y)], pz, what)
    for p in sa["inf"]:
        for q in sa["inf"]:
            if p != q and sb.get("one") is not None:
                job([(p, sb["one"])] + [fin] * L + [(q, sb["one"])], pz, "+inf and -inf in different beats")
    for cc in sc["inf"] + sc["nan"] + [sc["max"], sc["max"] | nz]:
        job([fin], cc, "special or extreme addend")
        for x in sa["inf"]:
            job([(x, fin[1])], cc, "inf product with a special addend")
    return jobs


class DotBench:
    """Driver (beats with random idle cycles and garbage where the unit must not look), monitor (results with
    random back-pressure), golden model and checker for a :class:`Dot` built from configuration ``c``."""

    def __init__(self, dut, c, used_seed):
        self.dut, self.c, self.seed = dut, c, used_seed
        core = dot_unit(**c)
        self.core = core
        self.lanes, self.latency = core.lanes, core.latency
        self.off = {name: field.offset for name, field in core.in_layout}
        self.wa, self.wb, self.wc = core.a.width, core.b.width, core.c.width
        self.width = core.in_layout.size
        self.out_w = core.out.width
        self.rng = np.random.default_rng(used_seed)

    async def reset(self):
        """The stream bench's reset: inputs idle, output stalled, three cycles."""
        from fmtforge.verif.support.benches.stream import Ports, reset
        await reset(self.dut, [Ports(self.dut)])

    def _junk(self, bits):
        return int.from_bytes(self.rng.bytes((bits + 7) // 8), "little") & ((1 << bits) - 1)

    def beats(self, job):
        """The payload words of one job; ``c`` is garbage but on the first beat."""
        L = self.lanes
        out = []
        for s in range(0, len(job.a), L):
            word = 0
            for k in range(L):
                word |= job.a[s + k] << (self.off["a"] + k * self.wa)
                word |= job.b[s + k] << (self.off["b"] + k * self.wb)
            cc = job.c if s == 0 else self._junk(self.wc)
            word |= cc << self.off["c"]
            word |= int(s + L >= len(job.a)) << self.off["last"]
            out.append(word)
        return out

    async def run(self, jobs, idle_p, stall_p):
        """Feed ``jobs``; returns (output words, accept cycle of each beat, of each last beat, cycle of each
        result)."""
        dut, rng = self.dut, self.rng
        pending = [w for job in jobs for w in self.beats(job)]
        pending.reverse()
        total = len(pending)
        cur = None
        got, t_beat, t_last, t_out = [], [], [], []
        cycle = 0
        limit = 20 * total + 200
        last_bit = 1 << self.off["last"]
        idle = rng.random(limit) < idle_p if idle_p else None
        ready = rng.random(limit) >= stall_p if stall_p else None
        while len(got) < len(jobs):
            await RisingEdge(dut.clk)
            cycle += 1
            if cycle >= limit:
                raise AssertionError(f"pipeline stalled: {len(got)} of {len(jobs)} results after {cycle} cycles")
            if cur is None and pending and (idle is None or not idle[cycle]):
                cur = pending.pop()
            if cur is not None:
                dut.i__valid.value = 1
                dut.i__payload.value = cur
            else:
                dut.i__valid.value = 0
                if idle is not None:
                    dut.i__payload.value = self._junk(self.width)
            dut.o__ready.value = 1 if ready is None else int(ready[cycle])
            await ReadOnly()
            if cur is not None and dut.i__ready.value:
                t_beat.append(cycle)
                if cur & last_bit:
                    t_last.append(cycle)
                cur = None
            if dut.o__valid.value and dut.o__ready.value:
                got.append(int(dut.o__payload.value.to_unsigned()))
                t_out.append(cycle)
        await RisingEdge(dut.clk)
        dut.i__valid.value = 0
        assert not pending and len(t_beat) == total, "a beat was lost"
        return got, t_beat, t_last, t_out

    def check(self, jobs, words, label):
        """Compare every result (and flags, with --flags) with the golden model; raise naming the mismatches."""
        want_bits, want_flags = expected(self.c, jobs)
        W = self.out_w
        bits = np.array([w & ((1 << W) - 1) for w in words], np.int64)
        has_flags = self.c.get("flags", False)
        flags = np.array([(w >> W) & 31 for w in words], np.int64) if has_flags else want_flags
        bad = np.flatnonzero((bits != want_bits) | (flags != want_flags))
        if len(bad):
            fo = golden.lookup(self.c.get("out", "fp32"))
            lines = [f"{config_id(self.c)} {label}: {len(bad)} of {len(jobs)} results differ (seed {self.seed})"]
            for n in bad[:6]:
                j = jobs[n]
                lines.append(f"  job {n} ({j.what}): a={[hex(x) for x in j.a]} b={[hex(x) for x in j.b]} "
                             f"c={j.c:#x}: expected {int(want_bits[n]):#x} ({_show(fo, want_bits[n])}) flags "
                             f"{int(want_flags[n]):#04x}, got {int(bits[n]):#x} ({_show(fo, bits[n])}) flags "
                             f"{int(flags[n]):#04x}")
            lines.append(f"reproduce: FMTFORGE_SEED={self.seed} .venv/bin/pytest -p no:xdist "
                         f"verif/tests/rtl/test_dot.py -k '{config_id(self.c)}'")
            raise AssertionError("\n".join(lines))
        return len(jobs)


def _show(fmt, code):
    v = fmt.decode_raw(np.array([int(code)]).astype(fmt.dtype)).to_fractions()[0]
    return "NaN" if v is None else (str(v) if isinstance(v, float) else f"{float(v):.9g}")
