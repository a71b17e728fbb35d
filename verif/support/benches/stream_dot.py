"""The dot and posit-dot units' stimulus for the one stream bench (:mod:`.stream`), at batch-lane scale.

A stream of dot products (:class:`DotJobs`: every product's codes in one flat array, each dot product a whole
number of beats of ``lanes`` products, ``last`` on its last beat) drawn by :mod:`.dot_codes` in seeded random
styles, after the structured dot products of the cocotb bench (:func:`.dot.structured_jobs`: cancellation to
exact zero with each zero sign, huge + tiny - huge, overflow, every special operand and addend) and the exact
accumulator's bound (``max_terms`` products of max * max). The addend ``c`` rides on a dot product's first beat
and garbage on the others (the unit must not look). Expected outputs are the unit contract's model,
``UNITS[name].model`` (``golden.arith.dot`` / ``posit_dot``), called once per dot-product length (vectorised);
the latency is the documented one (:mod:`.stream_latency`).
"""

import numpy as np

from fmtforge import golden
from fmtforge.verif.support.batch.stream_lane import pack_fields
from fmtforge.verif.support.benches import dot_codes as dc
from fmtforge.verif.support.benches.stimulus import Stimulus
from fmtforge.verif.support.benches.stream_latency import documented_latency

__all__ = ["DOT_CASES", "DotJobs", "corner_jobs", "dot_jobs", "dot_stimulus", "expected", "mismatches",
           "posit_dot_stimulus", "show", "stimulus_of"]


class DotJobs:
    """Dot products of one configuration: ``a``, ``b`` (P,) codes of every product, ``c`` (N,) addend codes
    (None without an addend), ``k`` (N,) products per dot product, ``start`` (N,) index of its first product,
    ``what`` (N,) the name of what each tests, ``fmts`` (a, b, c, out) golden formats."""

    def __init__(self, a, b, c, k, what, fmts):
        self.a, self.b, self.c = a.astype(np.uint64), b.astype(np.uint64), None if c is None else c.astype(np.uint64)
        self.k, self.what, self.fmts = k.astype(np.int64), np.asarray(what, dtype=object), fmts
        self.start = np.concatenate([[0], np.cumsum(self.k)[:-1]]).astype(np.int64)

    def __len__(self):
        return len(self.k)

    def concat(self, other):
        c = None if self.c is None else np.concatenate([self.c, other.c])
        return DotJobs(np.concatenate([self.a, other.a]), np.concatenate([self.b, other.b]), c,
                       np.concatenate([self.k, other.k]), np.concatenate([self.what, other.what]), self.fmts)

    def products(self, j):
        sl = slice(int(self.start[j]), int(self.start[j] + self.k[j]))
        return self.a[sl], self.b[sl]


def _formats(name, o):
    if name == "dot":
        return tuple(golden.lookup(o[k]) for k in ("a", "b", "c", "out"))
    n_out = min(2 * o["n"], 32) if o["n_out"] is None else o["n_out"]
    fmt, out = golden.posit(o["n"], o["es"]), golden.posit(n_out, o["es"] if o["es_out"] is None else o["es_out"])
    return fmt, fmt, (out if o["addend"] else None), out


def _max_terms(name, o):
    if name == "dot":
        return o["max_terms"] or 1 << 20
    return o["max_terms"] if o["quire"] == "exact" else (1 << 31) - 1


def dot_jobs(name, o, rng, n):
    """``n`` seeded random dot products of unit ``name`` (``"dot"`` or ``"posit-dot"``) with resolved options
    ``o``, in the styles of :mod:`.dot_codes`."""
    fa, fb, fc, fo = _formats(name, o)
    L = o["lanes"]
    ca, cb = dc.codes(fa), dc.codes(fb)
    k = dc.beats_per_dot(rng, n, max(1, _max_terms(name, o) // L)) * L
    style = rng.choice(len(dc.STYLES), n, p=dc.STYLE_P)
    row = np.repeat(np.arange(n), k)
    start = np.concatenate([[0], np.cumsum(k)[:-1]])
    pos = np.arange(len(row)) - start[row]
    a, b = dc.operands(rng, ca, cb, row, pos, k, style)
    order = np.argsort(row + rng.random(len(row)))  # shuffle each dot product's products (cancellation too)
    a, b = a[order], b[order]
    center = ((ca.msb_range[0] + ca.msb_range[1]) // 2 + (cb.msb_range[0] + cb.msb_range[1]) // 2
              + rng.integers(-6, 7, n))
    if fc is None:
        c = None
    elif name == "dot":
        c = dc.addends(rng, fc, style, center)
    else:
        c = dc.posit_addends(rng, fc, style, center)
    return DotJobs(a, b, c, k, np.array(dc.STYLES, dtype=object)[style], (fa, fb, fc, fo))


def corner_jobs(name, o, rng):
    """The cocotb bench's structured dot products (dot), or posit corners (posit-dot), and the bound of the
    exact accumulator: ``max_terms`` products of +-max * max (at most 4096 beats)."""
    fa, fb, fc, fo = _formats(name, o)
    L = o["lanes"]
    ca, cb = dc.codes(fa), dc.codes(fb)
    rows = []
    if name == "dot":
        from fmtforge.verif.support.benches.dot import structured_jobs
        cfg = dict(a=fa.name, b=fb.name, c=fc.name, out=fo.name, lanes=L)
        rows = [(j.a, j.b, j.c, j.what) for j in structured_jobs(cfg, rng)]
    else:
        nar, zero, neg = 1 << (fa.width - 1), 0, lambda x: (-x) & ((1 << fa.width) - 1)
        mx, mn = ca.max, ca.min
        for pairs, what in (([(mx, mx), (mn, mn), (neg(mx), mx)], "maxpos**2 + minpos**2 - maxpos**2"),
                            ([(nar, zero)], "NaR * 0"), ([(zero, zero)] * L + [(nar, mx)], "NaR in a later beat"),
                            ([(mx, mn), (neg(mx), mn)], "cancellation to zero"), ([(mn, mn)] * 3, "minpos**2 sums")):
            pairs = list(pairs) + [(0, 0)] * (-len(pairs) % L)
            for c in ([0, nar, 1, neg(1)] if fc is not None else [None]):
                rows.append(([p[0] for p in pairs], [p[1] for p in pairs], c, what))
    T = _max_terms(name, o)
    if T <= 4096 * L and (name != "dot" or o["mode"] == "exact"):
        K = T // L * L
        for sign, what in ((False, "max*max x max_terms (the accumulator's bound)"),
                           (True, "-max*max x max_terms (the accumulator's bound)")):
            x = int(ca.neg[ca.max]) if sign and ca.neg[ca.max] >= 0 else ca.max
            rows.append(([x] * K, [cb.max] * K, None if fc is None else 0, what))
    a = np.array([x for r in rows for x in r[0]], dtype=np.uint64)
    b = np.array([x for r in rows for x in r[1]], dtype=np.uint64)
    c = None if fc is None else np.array([r[2] for r in rows], dtype=np.uint64)
    return DotJobs(a, b, c, np.array([len(r[0]) for r in rows]), [r[3] for r in rows], (fa, fb, fc, fo))


def expected(name, o, jobs):
    """``(bits, flags)`` (N,) of the contract's model for every dot product of ``jobs`` (flags None for
    posit-dot), one model call per dot-product length."""
    from fmtforge.rtl.units import UNITS
    model = UNITS[name].need("model")
    n = len(jobs)
    bits = np.zeros(n, np.uint64)
    flags = np.zeros(n, np.uint64) if name == "dot" else None
    fa, fb = jobs.fmts[0], jobs.fmts[1]
    for K in np.unique(jobs.k):
        idx = np.flatnonzero(jobs.k == K)
        at = jobs.start[idx, None] + np.arange(K)
        a, b = jobs.a[at].astype(fa.dtype), jobs.b[at].astype(fb.dtype)
        c = None if jobs.c is None else jobs.c[idx]
        r = model(o, a, b, c) if name == "dot" or c is not None else model(o, a, b)
        bits[idx] = np.asarray(r[0]).astype(np.uint64) & np.uint64((1 << jobs.fmts[3].width) - 1)
        if flags is not None:
            flags[idx] = np.asarray(r[1]).astype(np.uint64)
    return bits, flags


def beats_of(name, o, unit, jobs, rng):
    """``(beats (B, words), index of each dot product's last beat)``."""
    L = o["lanes"]
    nb = jobs.k // L
    B = int(nb.sum())
    last_beat = np.cumsum(nb) - 1
    first_beat = last_beat - nb + 1
    offs = {fname: field.offset for fname, field in unit.in_layout}
    wa, wb = jobs.fmts[0].width, jobs.fmts[1].width
    A, Bm = jobs.a.reshape(B, L), jobs.b.reshape(B, L)
    fields = [(offs["a"] + wa * j, wa, A[:, j]) for j in range(L)]
    fields += [(offs["b"] + wb * j, wb, Bm[:, j]) for j in range(L)]
    last = np.zeros(B, np.uint64)
    last[last_beat] = 1
    fields.append((offs["last"], 1, last))
    if jobs.c is not None:
        wc = jobs.fmts[2].width
        col = rng.integers(0, 1 << wc, B, dtype=np.uint64)  # garbage: read on a dot product's first beat only
        col[first_beat] = jobs.c
        fields.append((offs["c"], wc, col))
    return pack_fields(B, unit.in_layout.size, fields), last_beat


def show(fmt, code):
    """``0x3c00 (1.0)``: a code in hex with its decoded value."""
    v = float(np.asarray(fmt.decode(np.array([int(code)], dtype=np.uint64)))[0])
    text = "NaR" if np.isnan(v) and fmt.kind == "posit" else repr(v)
    return f"0x{int(code):0{(fmt.width + 3) // 4}x} ({text})"


def _describe(jobs, j, bits, flags, limit=8):
    fa, fb, fc, fo = jobs.fmts
    a, b = jobs.products(j)
    terms = ", ".join(f"{show(fa, x)}*{show(fb, y)}" for x, y in zip(a[:limit], b[:limit]))
    more = f", ... ({len(a)} products)" if len(a) > limit else ""
    c = "" if jobs.c is None else f" c={show(fc, jobs.c[j])}"
    fl = "" if flags is None else f" flags 0x{int(flags[j]):02x}"  # golden's, compared when the unit has them
    return f"dot product {j} ({jobs.what[j]}, K={len(a)}): [{terms}{more}]{c} -> expected {show(fo, bits[j])}{fl}"


def _stimulus(name, o, unit, rng, n, corners):
    """About ``n`` input beats of dot products (structured ones first with ``corners``)."""
    per_dot = 5.9  # the mean beats of :func:`.dot_codes.beats_per_dot`
    jobs = dot_jobs(name, o, rng, max(1, int(n / per_dot)))
    if corners:
        jobs = corner_jobs(name, o, rng).concat(jobs)
    return stimulus_of(name, o, unit, jobs, rng)


def stimulus_of(name, o, unit, jobs, rng):
    """The :class:`Stimulus` of ``jobs``; its ``jobs``, ``bits`` and ``flags`` attributes keep the expected
    values for decoded mismatch reports (:func:`mismatches`)."""
    bits, flags = expected(name, o, jobs)
    beats, last_beat = beats_of(name, o, unit, jobs, rng)
    if name == "dot":
        offs = {fname: field.offset for fname, field in unit.out_layout}
        wo = jobs.fmts[3].width
        fields = [(offs["data"], wo, bits)] + ([(offs["flags"], 5, flags)] if o["flags"] else [])
        out = pack_fields(len(jobs), unit.out_layout.size, fields)
    else:
        out = pack_fields(len(jobs), jobs.fmts[3].width, [(0, jobs.fmts[3].width, bits)])
    stim = Stimulus(beats, out, last_beat, np.arange(len(jobs)), documented_latency(name, o),
                    lambda j: _describe(jobs, j, bits, flags))
    stim.jobs, stim.bits, stim.flags = jobs, bits, flags
    stim.has_flags = name == "dot" and bool(o["flags"])
    return stim


def mismatches(stim, out, limit=6):
    """``(count, lines)``: the output beats ``out`` ((k, words) uint64, as a trace records them) that differ from
    ``stim``'s expected ones, the first ``limit`` described with their inputs, the expected and the got result in
    hex with decoded values (and flags)."""
    jobs, fo = stim.jobs, stim.jobs.fmts[3]
    got = np.asarray(out, dtype=np.uint64).reshape(len(out), -1)[:, 0]
    k = min(len(got), len(stim.bits))
    wo = fo.width
    gbits = got[:k] & np.uint64((1 << wo) - 1)
    gflags = (got[:k] >> np.uint64(wo)) & np.uint64(31) if stim.has_flags else None
    want = stim.expect[:k, 0]
    bad = np.flatnonzero(got[:k] != want)
    lines = []
    for j in bad[:limit]:
        fl = "" if gflags is None else f" flags 0x{int(gflags[j]):02x}"
        lines.append(f"  {stim.what(int(j))}, got {show(fo, gbits[j])}{fl}")
    return len(bad), lines


def dot_stimulus(o, unit, rng, n, corners=True):
    return _stimulus("dot", o, unit, rng, n, corners)


def posit_dot_stimulus(o, unit, rng, n, corners=True):
    return _stimulus("posit-dot", o, unit, rng, n, corners)


#: stream_cases.CASES entries
DOT_CASES = {"dot": dot_stimulus, "posit-dot": posit_dot_stimulus}
