# amaranth: UnusedElaboratable=no
"""The mx-dot unit's testbench: jobs (structured and seeded random dot products of MX blocks), the expected
results from the unit's contract model (``golden.arith.mx_dot``), and a checker naming every mismatch in hex
with decoded values. Reset, driver (idle cycles, garbage payloads) and monitor (back-pressure, the hold rule)
are the one stream bench's (:mod:`.stream`)."""

import numpy as np

from fmtforge import golden
from fmtforge.rtl.units.mx_dot_check import element_format

__all__ = ["Bench", "Job", "config_id", "documented_latency", "expected", "mx_dot_unit", "padded", "random_jobs", "structured_jobs"]

FP32_NEG = 1 << 31


def documented_latency(options):
    """The latency docs/mx_dot.md states ("Timing and latency": ``4 + stages`` clock edges from the edge that
    accepts a dot product's ``last`` beat to the one that makes its result valid), written here from the page,
    never read from rtl/."""
    return 4 + options["stages"]


def mx_dot_unit(**options):
    """The mx-dot unit from the registry (its defaults are the registry's alone); Amaranth reports it, if it is
    never elaborated, at the caller's line (whose file may waive UnusedElaboratable)."""
    from fmtforge.rtl.units import UNITS
    return UNITS["mx-dot"].create(src_loc_at=1, **options)


def resolved(c):
    """Configuration ``c`` with every option (the registry's defaults for the others)."""
    from fmtforge.rtl.units import UNITS
    return UNITS["mx-dot"].configure(**c)


def config_id(c):
    """A configuration's name (its module name)."""
    return mx_dot_unit(**c).name


class Job:
    """One dot product: element codes ``a``, ``b`` (whole blocks, or a last block cut short: a *partial*
    block), E8M0 codes ``xa``, ``xb`` (one per block), the addend ``c`` (fp32 pattern) and what it tests."""

    __slots__ = ("a", "b", "xa", "xb", "c", "what")

    def __init__(self, a, b, xa, xb, c, what=""):
        self.a, self.b = list(map(int, a)), list(map(int, b))
        self.xa, self.xb, self.c, self.what = list(map(int, xa)), list(map(int, xb)), int(c), what


def _zero_like(fmt, code):
    """A zero of ``fmt`` with ``code``'s sign where ``fmt`` has a signed zero (else its zero)."""
    if isinstance(fmt, golden.Integer) or getattr(fmt, "unsigned_zero", False):
        return 0
    return code & (1 << (fmt.width - 1))


def padded(c, job):
    """The job's elements with a partial last block filled up with zero pairs whose product has the sign of
    the block's first product: the same exact sum and the same zero-sign rule (docs/mx_dot.md), so
    ``golden.arith.mx_dot`` (whole blocks only) gives the partial block's expected result."""
    o = resolved(c).options
    k, fa, fb = o["block_size"], element_format(o["a_elem"]), element_format(o["b_elem"])
    a, b = list(job.a), list(job.b)
    start = (len(a) - 1) // k * k
    za, zb = _zero_like(fa, a[start]), _zero_like(fb, b[start])
    while len(a) % k:
        a.append(za)
        b.append(zb)
    return a, b


def expected(c, jobs):
    """(bits, flags) of the contract's model (``golden.arith.mx_dot``) for every job (grouped by length: the
    model is vectorised)."""
    model = resolved(c)
    bits = np.zeros(len(jobs), np.int64)
    flags = np.zeros(len(jobs), np.int64)
    groups = {}
    rows = [padded(c, j) for j in jobs]
    for n, (a, _) in enumerate(rows):
        groups.setdefault(len(a), []).append(n)
    for _, idx in groups.items():
        a = np.array([rows[n][0] for n in idx], np.uint8)
        b = np.array([rows[n][1] for n in idx], np.uint8)
        xa = np.array([jobs[n].xa for n in idx], np.uint8)
        xb = np.array([jobs[n].xb for n in idx], np.uint8)
        cc = np.array([jobs[n].c for n in idx], np.uint32)
        r, f = model.compute(a, b, xa, xb, cc)
        bits[idx] = np.asarray(r).astype(np.int64)
        flags[idx] = f
    return bits, flags


def codes(fmt, kind):
    """Codes of ``fmt`` by class: "finite", "nan", "inf", "zero", "max" (largest finite magnitudes), "min"
    (smallest nonzero magnitudes)."""
    allc = np.arange(1 << fmt.width)
    raw = fmt.decode_raw(allc.astype(fmt.dtype) if hasattr(fmt, "dtype") else allc)
    fin = raw.cls == golden.FINITE
    if kind == "finite":
        return allc[fin]
    if kind == "nan":
        return allc[raw.cls == golden.NAN]
    if kind == "inf":
        return allc[raw.cls == golden.INF]
    vals = np.array([abs(float(v)) if fin[i] else -1.0 for i, v in enumerate(raw.to_fractions())])
    if kind == "zero":
        return allc[fin & (vals == 0)]
    pos = vals[vals > 0]
    return allc[vals == (pos.max() if kind == "max" else pos.min())]


def neg(fmt, x):
    """-x in ``fmt`` (two's complement for MXINT8; -(-128) is avoided by the callers' values)."""
    if isinstance(fmt, golden.Integer):
        return (-x) & ((1 << fmt.width) - 1)
    return x ^ (1 << (fmt.width - 1))


def random_jobs(c, rng, n, blocks=(1, 3), partial_p=0.1):
    """``n`` seeded random dot products of 1..3 blocks: half of them finite elements only, half uniformly
    random codes; scales near 127 (results in fp32's range, cancellations likely) with extremes (0, 254,
    0xFF) now and then; addends +-0, random patterns or near the sum's size; some last blocks partial."""
    o = resolved(c).options
    k, fa, fb = o["block_size"], element_format(o["a_elem"]), element_format(o["b_elem"])
    fin_a, fin_b = codes(fa, "finite"), codes(fb, "finite")
    jobs = []
    for _ in range(n):
        nb = int(rng.integers(blocks[0], blocks[1] + 1))
        K = nb * k
        if rng.random() < partial_p:
            K -= int(rng.integers(1, k))
        if rng.random() < 0.5:
            a, b = rng.choice(fin_a, K), rng.choice(fin_b, K)
        else:
            a, b = rng.integers(0, 1 << fa.width, K), rng.integers(0, 1 << fb.width, K)
        if rng.random() < 0.3:  # many small elements: sums near zero and cancellation
            a = np.where(rng.random(K) < 0.5, a, a & ~((1 << (fa.width - 1)) - 1) | 1)
        xa = rng.integers(107, 148, nb)
        xb = rng.integers(107, 148, nb)
        ext = rng.random(nb)
        xa = np.where(ext < 0.03, rng.choice([0, 1, 253, 254, 0xFF], nb), xa)
        kind = rng.integers(0, 4)
        cc = [0, FP32_NEG, int(rng.integers(0, 1 << 32)),
              int(np.float32(rng.uniform(-1, 1) * 2.0 ** rng.integers(-10, 20)).view(np.uint32))][kind]
        jobs.append(Job(a, b, xa, xb, cc, "random"))
    return jobs


def structured_jobs(c, rng):
    """Named dot products: cancellation to exactly zero (each zero sign of c), scale extremes 0 / 254 / 0xFF,
    every special element against finite, zero and special partners, huge + tiny - huge across blocks."""
    o = resolved(c).options
    k, fa, fb = o["block_size"], element_format(o["a_elem"]), element_format(o["b_elem"])
    fin_a, fin_b = codes(fa, "finite"), codes(fb, "finite")
    za, zb = codes(fa, "zero"), codes(fb, "zero")
    ma, mb, ta, tb = codes(fa, "max")[0], codes(fb, "max")[0], codes(fa, "min")[0], codes(fb, "min")[0]
    one = int(codes(fb, "max")[0])
    jobs = []
    cz = (0, FP32_NEG)

    def job(a, b, xa, xb, cc, what):
        jobs.append(Job(a, b, xa, xb, cc, what))

    def pos_fin(fmt, fin):
        return fin[(fin & (1 << (fmt.width - 1))) == 0] if not isinstance(fmt, golden.Integer) else fin[
            (fin > 0) & (fin < 128)]

    pa, pb = pos_fin(fa, fin_a), pos_fin(fb, fin_b)
    for _ in range(6):  # x*y and -x*y in one block, and across two blocks of one scale: exactly zero
        x, y = rng.choice(pa, k // 2), rng.choice(pb, k // 2)
        a = np.concatenate([x, [neg(fa, int(v)) for v in x]])
        b = np.concatenate([y, y])
        s = int(rng.integers(100, 150))
        for cc in cz:
            job(a, b, [s], [127], cc, "cancellation to zero in a block")
            job(np.concatenate([a[:k // 2], np.zeros(k // 2, int)]).tolist() + list(a[k // 2:]) + [0] * (k // 2),
                np.concatenate([b, b]), [s, s], [120, 120], cc, "cancellation to zero across blocks")
    for x in za[:2]:
        for y in zb[:2]:
            for cc in cz:
                job([x] * k, [y] * k, [127], [127], cc, "zero products")
    for xa, xb, what in ((0, 0, "smallest scales (2**-254)"), (254, 254, "largest scales (2**254)"),
                         (0, 254, "scales 0 and 254"), (127, 0, "scale 0 on B"), (140, 200, "overflow")):
        for cc in (0, FP32_NEG, 0x00000001, 0x7F7FFFFF):
            job([ma] * k, [mb] * k, [xa], [xb], cc, what + ", max elements")
            job([ta] + [0] * (k - 1), [tb] + [0] * (k - 1), [xa], [xb], cc, what + ", one min product")
            job([ma, neg(fa, int(ma))] + [ta] * (k - 2), [mb] * 2 + [tb] * (k - 2), [xa], [xb], cc,
                what + ", huge - huge + tiny")
    for xa, xb in ((0xFF, 127), (127, 0xFF), (0xFF, 0xFF)):
        job(rng.choice(fin_a, k), rng.choice(fin_b, k), [xa], [xb], 0, "NaN scale")
        job(list(rng.choice(fin_a, k)) * 2, list(rng.choice(fin_b, k)) * 2, [127, xa], [127, xb], 0,
            "NaN scale in the second block")
    fin = (int(rng.choice(pa)), int(rng.choice(pb)))
    partners_b = [fin[1]] + list(zb) + list(codes(fb, "inf")) + list(codes(fb, "nan"))[:4]
    for x in list(codes(fa, "inf")) + list(codes(fa, "nan")):
        for y in partners_b:
            job([x] + [fin[0]] * (k - 1), [y] + [fin[1]] * (k - 1), [127], [127], 0, "special a element")
    for y in list(codes(fb, "inf")) + list(codes(fb, "nan")):
        for x in [fin[0]] + list(za):
            job([fin[0]] * (k - 1) + [x], [fin[1]] * (k - 1) + [y], [127], [127], 0, "special b element")
    for p in codes(fa, "inf"):
        for q in codes(fa, "inf"):
            job([int(p)] + [0] * (k - 1) + [int(q)] + [0] * (k - 1), [one] * (2 * k), [127, 127], [127, 127], 0,
                "infinities in two blocks")
    for cc in (0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC00000):
        job([fin[0]] * k, [fin[1]] * k, [127], [127], cc, "special addend")
    # huge + tiny - huge: three blocks, the first and last cancel exactly at scale 2**200, the middle tiny
    x, y = int(rng.choice(pa)), int(rng.choice(pb))
    blk = [x] * k, [y] * k
    job(blk[0] + [ta] * k + [neg(fa, x)] * k, blk[1] + [tb] * k + blk[1], [254, 0, 254], [200, 10, 200], 0,
        "huge + tiny - huge across blocks")
    # block dots 2**d apart, d across both sides of block mode's adder window (block_window: the lower operand
    # loses bits once it is more than the block word's width or fp32's 24 bits below): a random block, then
    # a block of one product (a small value in a wide word) or of random products, either sign
    for d in range(-72, 73, 3 if k > 16 else 2):
        s2 = 127 + d
        one = [int(rng.choice(fin_a))] + [0] * (k - 1), [int(rng.choice(fin_b))] + [0] * (k - 1)
        full = list(rng.choice(fin_a, k)), list(rng.choice(fin_b, k))
        second = one if d % 2 else full
        cc = int(np.float32(rng.uniform(-1, 1) * 2.0 ** rng.integers(-30, 30)).view(np.uint32))
        job(list(rng.choice(fin_a, k)) + second[0], list(rng.choice(fin_b, k)) + second[1], [127, s2],
            [127, 127], cc if d % 4 == 1 else 0, f"block dots 2**{d} apart")
    return jobs


class Bench:
    """Beats, expected results and checker for the mx-dot unit built from configuration ``c``, driven through
    the one stream bench (:func:`.stream.reset`, :func:`.stream.run_beats`)."""

    def __init__(self, dut, c, used_seed):
        from fmtforge.verif.support.benches.stream import Ports
        self.dut, self.c, self.seed = dut, c, used_seed
        cfg = resolved(c)
        core = cfg.create()
        core._MustUse__silence = True  # built for its layout only
        self.lanes, self.k, self.flags = core.lanes, core.block_size, cfg.options["flags"]
        self.latency = documented_latency(cfg.options)
        self.off = {name: field.offset for name, field in core.in_layout}
        self.wa, self.wb = core.a.width, core.b.width
        self.rng = np.random.default_rng(used_seed)
        self.ports = Ports(dut)

    async def reset(self):
        """The stream bench's reset: inputs idle, output stalled, three cycles."""
        from fmtforge.verif.support.benches.stream import reset
        await reset(self.dut, [self.ports])

    def _junk(self, bits):
        return int.from_bytes(self.rng.bytes((bits + 7) // 8), "little") & ((1 << bits) - 1)

    def beats(self, job):
        """The payload words of one job: scales on each block's first beat, c on the first beat, garbage
        elsewhere; a partial beat's unused lanes +0 (they are products of the partial block)."""
        L, k, off = self.lanes, self.k, self.off
        a = job.a + [0] * (-len(job.a) % L)
        b = job.b + [0] * (-len(job.b) % L)
        out = []
        for s in range(0, len(a), L):
            word = 0
            for j in range(L):
                word |= a[s + j] << (off["a"] + j * self.wa)
                word |= b[s + j] << (off["b"] + j * self.wb)
            blk_first = s % k == 0
            xa = job.xa[s // k] if blk_first else self._junk(8)
            xb = job.xb[s // k] if blk_first else self._junk(8)
            word |= (xa << off["xa"]) | (xb << off["xb"])
            word |= (job.c if s == 0 else self._junk(32)) << off["c"]
            word |= int(s + L >= len(a)) << off["last"]
            out.append(word)
        return out

    async def run(self, jobs, idle_p, stall_p):
        """Feed ``jobs`` through the stream bench's driver and monitor (random idle cycles with garbage payloads,
        random back-pressure, the hold rule checked, no lost or extra result); returns (output words, accept
        cycle of each beat, of each last beat, cycle of each result)."""
        from fmtforge.verif.support.benches.stream import run_beats
        words, lasts = [], []
        for job in jobs:
            words += self.beats(job)
            lasts.append(len(words) - 1)
        got, t_in, t_out = await run_beats(self.ports, words, len(jobs), idle_p, stall_p, self.rng)
        return got, t_in, [t_in[n] for n in lasts], t_out

    def check(self, jobs, words, label):
        """Compare every result (and flags, with flags) with the model; raise naming the mismatches."""
        want_bits, want_flags = expected(self.c, jobs)
        bits = np.array([w & 0xFFFFFFFF for w in words], np.int64)
        flags = np.array([(w >> 32) & 31 for w in words], np.int64) if self.flags else want_flags
        bad = np.flatnonzero((bits != want_bits) | (flags != want_flags))
        if len(bad):
            lines = [f"{config_id(self.c)} {label}: {len(bad)} of {len(jobs)} results differ (seed {self.seed})"]
            for n in bad[:5]:
                j = jobs[n]
                lines.append(f"  job {n} ({j.what}): a={[hex(x) for x in j.a]} b={[hex(x) for x in j.b]} "
                             f"xa={[hex(x) for x in j.xa]} xb={[hex(x) for x in j.xb]} c={j.c:#010x}: expected "
                             f"{int(want_bits[n]):#010x} ({_f32(want_bits[n])}) flags {int(want_flags[n]):#04x}, "
                             f"got {int(bits[n]):#010x} ({_f32(bits[n])}) flags {int(flags[n]):#04x}")
            lines.append(f"reproduce: FMTFORGE_SEED={self.seed} .venv/bin/pytest -p no:xdist "
                         f"verif/tests/rtl/test_mx_dot.py -k '{config_id(self.c)}'")
            raise AssertionError("\n".join(lines))
        return len(jobs)


def _f32(bits):
    return repr(float(np.array([int(bits)], np.uint32).view(np.float32)[0]))
