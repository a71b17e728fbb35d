"""``make regress``: the full converter matrix through the batch lane, against golden, bits and flags.

Every source format of the catalog x every destination x every rounding mode x saturation on and off (flags
compared). The converters of one source are grouped ``chunk`` at a time into one generated module
(verif.support.harness.Bundle: the converters side by side, their flags and outputs concatenated into one wide
port), so one Verilator build and one pass over the source's inputs check dozens of converters; each
converter's bits are sliced back out of the wide words (batch_build.field) and compared with
``golden.convert_flags``. Icarus runs a sample of every model's inputs, so every converter runs under both
simulators.

Inputs (:func:`source_inputs`, one set per source, shared by its models): every pattern of a source of <= 20
bits; a float source up to 32 bits: every sign x exponent x the structured mantissas (verif.support.structured,
with the ties of every destination's rounding), plus a strided slice of the whole space and seeded random
patterns; 64- and 80-bit floats: the exponent corners of every destination x the structured mantissas, plus
random; posits and integers: their corners plus strided or random. Stochastic rounding draws ``rand`` from a
hash of each input and the seed (pure: a task is a function of its arguments).

A task (one model) is a pure function of its :class:`Task`; tasks run on the local process pool or on Dask
through :func:`fmtforge.rtl.flow.shard.run_shards`.
"""

import hashlib
import resource
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fmtforge import golden
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.raw import Raw
from fmtforge.rtl.formats import DEST_KINDS, SOURCE_KINDS
from fmtforge.rtl.formats.rounding import FLAGS_WIDTH

from fmtforge.verif.support.batch.lane import BatchModel, field, flag_text
from fmtforge.verif.support.batch.build import resolve, words_of
from fmtforge.verif.support.batch.bundle import conv_id
from fmtforge.verif.support.batch.icarus import simulate_icarus
from fmtforge.verif.support.vectors.structured import exponent_corners, mantissas, strided, structured
from fmtforge.verif.support.vectors.families import corners_for
from fmtforge.verif.support.vectors.patterns import describe, random_width

__all__ = ["RAND_BITS", "Task", "compare", "destinations", "layout", "matrix", "rand_of", "run_task", "source_inputs",
           "sources", "tasks", "expected"]

MODES = tuple(golden.MODES)
RAND_BITS = 16
EXHAUSTIVE_BITS = 20  # every pattern up to here (2**19 for tf32)
STRIDED = 1 << 20  # strided patterns over a 32-bit source's whole space
RANDOM = 1 << 19  # seeded random patterns, 32-bit sources and wider
MULT = np.uint64(0x9E3779B97F4A7C15)
KEEP = 4  # mismatches decoded per converter


def sources():
    return [f.name for f in golden.CATALOG.values() if f.kind in SOURCE_KINDS]


def destinations():
    return [f.name for f in golden.CATALOG.values() if f.kind in DEST_KINDS]


def matrix(srcs=None, dsts=None, modes=MODES, saturate=(False, True), sample=1):
    """``{source: [(dst, rounding, saturate), ...]}`` for every combination; ``sample`` K > 1 keeps one in K of
    each source's converters, the kept (mode, saturation) rotating with the destination (a stratified sample
    for measuring the whole: every destination, mode and saturation setting still appear)."""
    combos = [(r, bool(q)) for r in modes for q in saturate]
    return {s: [(d, r, q) for i, d in enumerate(dsts or destinations()) for j, (r, q) in enumerate(combos)
                if (j - i) % sample == 0] for s in srcs or sources()}


@dataclass(frozen=True)
class Task:
    """One model: converters ``configs`` (``(dst, rounding, saturate)``) from ``src``, part ``part`` of that
    source's models; ``random`` and ``seed`` choose the inputs, ``icarus`` how many of them Icarus runs."""
    src: str
    configs: tuple
    part: int
    random: int = RANDOM
    seed: int = 0
    icarus: int = 256

    @property
    def name(self):
        return f"regress_{self.src}_p{self.part}"


def tasks(grid, chunk=64, random=RANDOM, seed=0, icarus=256):
    """The grid's converters in models of at most ``chunk`` (a source's split into near-equal parts)."""
    out = []
    for src, configs in grid.items():
        parts = max(1, -(-len(configs) // chunk))
        for p in range(parts):
            part = configs[p * len(configs) // parts:(p + 1) * len(configs) // parts]
            out.append(Task(src, tuple(part), p, random, seed, icarus))
    return out


# -- inputs ---------------------------------------------------------------------------------------------------
def _float_fixed(src):
    dsts = [golden.lookup(d) for d in destinations()]
    mans = set().union(*(mantissas(src.frac_bits, d) for d in dsts))
    if src.width <= 32:
        exps = None  # every exponent
    else:
        exps = sorted(set().union(*(exponent_corners(src, d) for d in dsts)))
    return structured(src, exponents=exps, mantissa_set=mans)


@lru_cache(maxsize=None)  # filled before the pool forks: the workers share the sets
def source_inputs(src, random=RANDOM, seed=0):
    """The patterns every converter from ``src`` is checked on (uint64, or Python ints beyond 64 bits)."""
    src = golden.lookup(src)
    if src.width <= EXHAUSTIVE_BITS:
        return np.arange(1 << src.width, dtype=np.uint64)
    # floats: the structured set for the matrix's destinations; other families: their own corners (a family
    # without a descriptor is an error, never another family's corners)
    fixed = _float_fixed(src) if src.kind == "float" else corners_for(src)
    parts = [fixed]
    if src.width == 32:  # a strided slice of all 2**32 patterns, rotated by the seed
        parts.append(strided(32, STRIDED, seed % ((1 << 32) // STRIDED)))
    parts.append(random_width(src.width, random, np.random.default_rng([seed, src.width])))
    if src.width > 64:
        return np.array([int(v) for p in parts for v in p], dtype=object)
    return np.concatenate([p.astype(np.uint64) for p in parts])


def _low64(x):
    x = np.asarray(x)
    if x.dtype == object:
        return np.array([int(v) & (2**64 - 1) for v in x], dtype=np.uint64)
    return x.astype(np.uint64)


def rand_of(x, seed=0):
    """The ``rand`` input of every vector: the top RAND_BITS of a multiplicative hash of the input and seed."""
    h = (_low64(x) ^ np.uint64(seed * 0x632BE59BD9B4E019 % 2**64)) * MULT
    return h >> np.uint64(64 - RAND_BITS)


# -- checking -------------------------------------------------------------------------------------------------
def layout(src, configs):
    """``[(offset, dst format), ...]``: where each converter's flags (FLAGS_WIDTH bits, then its output) sit in
    the model's output port (Bundle's order)."""
    out, off = [], 0
    for d, _, _ in configs:
        d = golden.lookup(d)
        out.append((off, d))
        off += FLAGS_WIDTH + d.width
    return out


def _got(words, off, d):
    """(output, flags) of the converter at ``off``: output as uint64, or (n, 2) words beyond 64 bits."""
    flags = field(words, off, FLAGS_WIDTH)
    lo = off + FLAGS_WIDTH
    if d.width <= 64:
        return field(words, lo, d.width), flags
    return np.column_stack([field(words, lo + 64 * q, min(64, d.width - 64 * q))
                            for q in range((d.width + 63) // 64)]), flags


def _pattern(v):
    return int(v) if np.ndim(v) == 0 else sum(int(w) << (64 * q) for q, w in enumerate(v))


def expected(x, src, dst, rounding, saturate, rand=None, decoded=None):
    """golden.convert_flags of ``x``: its fast plan when one applies, else its exact path
    (``dst.encode_raw(src.decode_raw(x))``, golden.convert_flags_exact) with the decoding done once per batch of
    converters: ``decoded`` (a dict) keeps ``src.decode_raw(x)`` and each converter rounds a copy of it."""
    kw = {} if rand is None else dict(rand=rand, rand_bits=RAND_BITS)
    if rand is None:
        p = fastconv.plan_for(src, dst, rounding, saturate, np.size(x))
        if p is not None:
            return p(x)
    if decoded is None:
        return golden.convert_flags_exact(x, src, dst, rounding, saturate, **kw)
    if "raw" not in decoded:
        decoded["raw"] = src.decode_raw(x)
    raw = Raw(*(a.copy() for a in decoded["raw"]))
    return dst.encode_raw(raw, rounding, saturate, **kw)


def compare(words, x, rand, src, configs, label="verilator", keep=KEEP):
    """Compare each converter's bits in ``words`` (the model's output, ``(n, words)`` uint64) with golden.

    Returns ``(bad, first)``: mismatch counts per converter, and up to ``keep`` decoded mismatches per converter
    (input, expected and obtained outputs and flags in hex with their values, rand when stochastic).
    """
    src = golden.lookup(src)
    bad, first = np.zeros(len(configs), dtype=np.int64), []
    decoded = {}
    for k, ((off, d), (dst, rounding, saturate)) in enumerate(zip(layout(src, configs), configs)):
        got, got_f = _got(words, off, d)
        r = rand & np.uint64((1 << RAND_BITS) - 1) if rounding == "stochastic" else None
        want, want_f = expected(x, src, d, rounding, saturate, r, decoded)
        if d.width <= 64:
            differ = got != want.astype(np.uint64)
        else:
            differ = (got != words_of(want, d.width)).any(axis=1)
        differ |= got_f != want_f.astype(np.uint64)
        n_bad = int(np.count_nonzero(differ))
        bad[k] = n_bad
        for j in np.flatnonzero(differ)[:keep]:
            line = (f"{conv_id(dst, rounding, saturate)} ({label}): in {describe(src, x[j])}: expected "
                    f"{describe(d, want[j])} flags {flag_text(want_f[j])}, got {describe(d, _pattern(got[j]))} "
                    f"flags {flag_text(got_f[j])}")
            if r is not None:
                line += f", rand 0x{int(r[j]):04x}"
            first.append(line)
    return bad, first


def _cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _vector_chunk(width):
    """Vectors per call: the model's output words for one call stay near 32 MB."""
    return int(max(1024, min(1 << 16, (1 << 22) // ((width + 63) // 64))))


def run_task(task):
    """Generate, build and check one model: ``{src, part, converters, inputs, checks, mismatches, failures,
    icarus_checks, icarus_mismatches, digest, seconds, cpu_seconds, phases, built}``."""
    from fmtforge.rtl.flow import to_verilog

    from fmtforge.verif.support.batch.bundle import Bundle

    t0, cpu0 = time.perf_counter(), _cpu()
    phases = {}
    src = golden.lookup(task.src)
    bundle = Bundle(src, [dict(dst=d, rounding=r, saturate=s, rand_bits=RAND_BITS) for d, r, s in task.configs])
    unit = resolve((to_verilog(bundle, task.name), task.name))
    t1 = time.perf_counter()
    phases["verilog"] = t1 - t0
    m = BatchModel(unit)
    t2 = time.perf_counter()
    phases["build"] = t2 - t1
    xs = source_inputs(task.src, task.random, task.seed)
    rand_width = unit.port("rand").width
    digest = hashlib.sha256()
    bad = np.zeros(len(task.configs), dtype=np.int64)
    first, sim, check = [], 0.0, 0.0
    step = _vector_chunk(unit.port("o").width)
    for a in range(0, len(xs), step):
        x = xs[a:a + step]
        rand = rand_of(x, task.seed)
        ta = time.perf_counter()
        words, _ = m.run(x, rand=rand & np.uint64((1 << rand_width) - 1), words=True)
        tb = time.perf_counter()
        b, f = compare(words, x, rand, src, task.configs)
        check += time.perf_counter() - tb
        sim += tb - ta
        bad += b
        first += f
        digest.update(words.tobytes())
    phases["verilator"], phases["golden"] = sim, check
    # Icarus: a sample spread over the inputs (every converter of the model, every model)
    t3 = time.perf_counter()
    idx = np.unique(np.linspace(0, len(xs) - 1, min(task.icarus, len(xs))).astype(np.int64))
    xi = xs[idx]
    ri = rand_of(xi, task.seed)
    words_i, _ = simulate_icarus(unit, xi, rand=ri & np.uint64((1 << rand_width) - 1), words=True)
    bad_i, first_i = compare(words_i, xi, ri, src, task.configs, label="icarus")
    phases["icarus"] = time.perf_counter() - t3
    failures = [f"{task.src} -> {line}" for line in first + first_i]
    per = {conv_id(*c): int(b) for c, b, bi in zip(task.configs, bad, bad_i) if b or bi}
    return {"src": task.src, "part": task.part, "module": task.name, "converters": len(task.configs),
            "inputs": len(xs), "checks": len(xs) * len(task.configs), "mismatches": int(bad.sum()),
            "icarus_inputs": len(xi), "icarus_checks": len(xi) * len(task.configs),
            "icarus_mismatches": int(bad_i.sum()), "bad_converters": per, "failures": failures[:40],
            "digest": digest.hexdigest(), "built": m.build.built, "seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(_cpu() - cpu0, 2), "phases": {k: round(v, 2) for k, v in phases.items()}}
