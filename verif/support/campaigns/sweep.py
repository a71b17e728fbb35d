"""Sweeps: a converter's inputs, in shards, through the batch lane and golden, compared bit for bit.

A shard is a pure function of ``(spec, lo, hi)``: the inputs it checks are determined by the sweep's
``spec`` and the index range alone, and it returns ``{lo, hi, count, mismatches, first, digest}`` (``first``:
the first mismatches decoded; ``digest``: SHA-256 of the unit's outputs and flags), so shards run anywhere,
in any order, a sweep resumes from the shards it has, and two runs compare by digest.

Shards run in a local process pool (``concurrent.futures``) by default, or on a Dask distributed cluster
(``scheduler="tcp://host:port"``, or a ``distributed.Client``): no scheduler is written here.
"""

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from fmtforge import golden
from fmtforge.rtl.flow.shard import run_shards

from fmtforge.verif.support.batch.lane import flag_text, model
from fmtforge.verif.support.batch.build import resolve
from fmtforge.verif.support.vectors.structured import structured
from fmtforge.verif.support.vectors.patterns import describe

__all__ = ["SweepSpec", "combine", "make_spec", "run_sweep", "shard", "shard_inputs"]

CHUNK = 1 << 22
MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: stochastic rounding's rand from the input itself


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep checks: the unit's Verilog (so workers need no Amaranth), the conversion it implements,
    and its inputs: ``mode`` "all" (every pattern, ``total = 2**width``), "random" (``total`` seeded random
    patterns) or "structured" (the structured set of verif.support.structured, then random beyond it)."""

    verilog: str
    top: str
    src: str
    dst: str
    rounding: str
    saturate: bool
    flags: bool
    rand_bits: int
    mode: str
    total: int
    seed: int
    ftz: bool = False
    daz: bool = False
    tininess: str = "after"


def make_spec(component, *, src, dst, rounding, saturate, flags, rand_bits, inputs="all", seed=0, ftz=False,
              daz=False, tininess="after"):
    """The spec of a converter ``component`` (its Verilog is generated here, once)."""
    from fmtforge.rtl.flow import to_verilog
    src_fmt = golden.lookup(src)
    if inputs == "all":
        if src_fmt.width > 32:
            raise ValueError(f"inputs must be a count for a {src_fmt.width}-bit source ({src_fmt.name}): all "
                             f"2**{src_fmt.width} patterns is too many; --inputs N checks the structured set plus "
                             "random patterns up to N")
        mode, total = "all", 1 << src_fmt.width
    else:
        total = int(inputs)
        mode = "random" if src_fmt.width <= 32 else "structured"
    return SweepSpec(verilog=to_verilog(component, component.name), top=component.name, src=src_fmt.name,
                     dst=golden.lookup(dst).name, rounding=rounding, saturate=saturate, flags=flags,
                     rand_bits=rand_bits, mode=mode, total=total, seed=seed, ftz=ftz, daz=daz, tininess=tininess)


_STRUCTURED = {}
_UNITS = {}


def _unit(spec):
    """The batch lane's view of the spec's Verilog, resolved once per process."""
    key = (spec.top, spec.verilog)
    if key not in _UNITS:
        _UNITS[key] = resolve((spec.verilog, spec.top))
    return _UNITS[key]


def _structured(spec):
    key = (spec.src, spec.dst)
    if key not in _STRUCTURED:
        _STRUCTURED[key] = structured(golden.lookup(spec.src), golden.lookup(spec.dst))
    return _STRUCTURED[key]


def shard_inputs(spec, lo, hi):
    """The input patterns of indices ``lo..hi-1`` of ``spec``'s sweep (pure: the same every time)."""
    src = golden.lookup(spec.src)
    if spec.mode == "all":
        return np.arange(lo, hi, dtype=np.uint64)
    if spec.mode == "structured":
        fixed = _structured(spec)
        head = fixed[lo:min(hi, len(fixed))]
        lo = max(lo, len(fixed))
        if lo >= hi:
            return head
        rest = _random(src.width, spec.seed, lo, hi)
        return np.concatenate([head.astype(rest.dtype), rest]) if len(head) else rest
    return _random(src.width, spec.seed, lo, hi)


def _random(width, seed, lo, hi):
    """Patterns lo..hi-1 of a seeded random stream (each 2**20 block seeded by its index: shard-invariant)."""
    from fmtforge.verif.support.vectors.patterns import random_width
    out = []
    block = 1 << 20
    for b in range(lo // block, (hi - 1) // block + 1):
        rng = np.random.default_rng([seed, b])
        chunk = random_width(width, block, rng)
        a, z = max(lo - b * block, 0), min(hi - b * block, block)
        out.append(chunk[a:z])
    return np.concatenate(out)


def _rand_for(spec, x):
    if spec.rounding != "stochastic":
        return None
    h = (np.asarray(x, dtype=np.uint64) * MULT) >> np.uint64(64 - spec.rand_bits)
    return h


def shard(spec, lo, hi, keep=5):
    """Check inputs ``lo..hi-1`` of ``spec``: ``{lo, hi, count, mismatches, first, digest, seconds}``."""
    t = time.perf_counter()
    m = model(_unit(spec))
    digest = hashlib.sha256()
    bad, first = 0, []
    for a in range(lo, hi, CHUNK):
        z = min(a + CHUNK, hi)
        x = shard_inputs(spec, a, z)
        rand = _rand_for(spec, x)
        got, got_flags = m.run(x, rand=rand)
        kw = dict(rand=rand, rand_bits=spec.rand_bits) if rand is not None else {}
        want, want_flags = golden.convert_flags(x, spec.src, spec.dst, spec.rounding, spec.saturate, ftz=spec.ftz,
                                                daz=spec.daz, tininess=spec.tininess, **kw)
        differ = np.asarray(got != want) if got.dtype != object else np.array([int(g) != int(w) for g, w in zip(got, want)])
        if spec.flags:
            differ |= got_flags.astype(np.uint8) != want_flags
        bad += int(np.count_nonzero(differ))
        for k in np.nonzero(differ)[0][:max(keep - len(first), 0)]:
            line = (f"in {describe(spec.src, x[k])}: expected {describe(spec.dst, want[k])}, got "
                    f"{describe(spec.dst, got[k])}")
            if spec.flags:
                line += f"; flags expected {flag_text(want_flags[k])} got {flag_text(got_flags[k])}"
            if rand is not None:
                line += f"; rand 0x{int(rand[k]):x}"
            first.append(line)
        digest.update(np.ascontiguousarray(got.astype(np.uint64) if got.dtype != object else
                                           np.array([int(g) & (2**64 - 1) for g in got], np.uint64)).tobytes())
        if got_flags is not None:
            digest.update(np.ascontiguousarray(got_flags).tobytes())
    return {"lo": lo, "hi": hi, "count": hi - lo, "mismatches": bad, "first": first,
            "digest": digest.hexdigest(), "seconds": round(time.perf_counter() - t, 3)}


def combine(results):
    """The digest of a whole sweep from its shards' (in index order)."""
    h = hashlib.sha256()
    for r in sorted(results, key=lambda r: r["lo"]):
        h.update(bytes.fromhex(r["digest"]))
    return h.hexdigest()


def _spans(lo, hi, size):
    return [(a, min(a + size, hi)) for a in range(lo, hi, size)]


def run_sweep(spec, lo=0, hi=None, *, jobs=None, scheduler=None, shard_size=1 << 26, progress=None):
    """Run every shard of ``spec`` over indices ``lo..hi-1``; returns the shards' results in index order.

    ``scheduler``: None (a local process pool of ``jobs`` processes), a Dask scheduler address, or a
    ``distributed.Client``. ``progress(done_vectors, total_vectors)`` is called as shards finish.
    KeyboardInterrupt cancels what has not started and re-raises with the finished shards attached
    (``exc.results``).
    """
    hi = spec.total if hi is None else hi
    try:
        results = run_shards(shard, [(spec, a, z) for a, z in _spans(lo, hi, shard_size)], jobs=jobs,
                             scheduler=scheduler, progress=progress, total=hi - lo)
    except KeyboardInterrupt as e:
        e.results = sorted(e.results, key=lambda r: r["lo"])
        raise
    return sorted(results, key=lambda r: r["lo"])
