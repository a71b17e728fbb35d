"""Golden conversion throughput from fp32: values per second of the fast path and the exact path, one core.

For every fp32-source destination of the catalog: the fast plan golden.convert_flags takes (bits and flags),
timed in every deterministic mode with and without saturation (the table shows rne and the slowest of the ten),
and the exact path (``dst.encode_raw(src.decode_raw(bits))``, in chunks of 2**20) in rne. Inputs: 2**24
uniformly random fp32 patterns (every class: NaNs, infinities, subnormals included). Plans are built before the
clock starts (their one-off build time is printed). Target (issue 12): >= 2e7 values/s per destination (x87: the words form of golden.convert_words).

Run: .venv/bin/python bench/golden_convert_speed.py [--n N] [--exact-n N] [--dst NAME ...]
(not a test: numbers depend on the machine and on what else runs on it)
"""

import argparse
import os
import time

import numpy as np

from fmtforge import golden
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.convert import convert_flags_exact

TARGET = 2e7
MODES = fastconv.DETERMINISTIC


def one_core():
    """Pin to one CPU (the least busy is unknowable; the last one), so numbers are per core."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return cpus[-1]
    except (AttributeError, OSError):
        return None


def timed(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def fast_chunked(fn, x, chunk=1 << 20):
    """``fn`` over ``x`` in blocks of ``chunk`` values, as a sweep shard feeds golden: one result buffer of
    2**24 x87 words is 256 MB, and allocating it fresh on every call made its timing swing from 6 to 39 M/s on
    this machine (the same plan and inputs); blocks of 2**20 reuse freed memory and time the conversion."""
    for a in range(0, x.size, chunk):
        fn(x[a:a + chunk])


def exact_chunked(x, dst, mode, saturate, chunk=1 << 20):
    for a in range(0, x.size, chunk):
        convert_flags_exact(x[a:a + chunk], "fp32", dst, mode, saturate)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 24, help="random fp32 inputs for the fast path (2**24)")
    ap.add_argument("--exact-n", type=int, default=1 << 24, help="inputs for the exact path (2**24)")
    ap.add_argument("--dst", nargs="*", help="destinations (default: every catalog format)")
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    cpu = one_core()
    fp32 = golden.lookup("fp32")
    x = np.random.default_rng(args.seed).integers(0, 1 << 32, args.n, dtype=np.uint64).astype(np.uint32)
    dests = [golden.lookup(d) for d in args.dst] if args.dst else [f for f in golden.CATALOG.values()]
    print(f"fp32 -> each destination, {args.n} random inputs (fast), {args.exact_n} (exact), seed {args.seed}, "
          f"numpy {np.__version__}, pinned to cpu {cpu}")
    print(f"{'destination':18s} {'plan':12s} {'build s':>7s} {'fast rne':>9s} {'fast min':>9s} {'(mode)':>11s} "
          f"{'exact rne':>9s} {'speed-up':>8s}   (Mvalues/s)")
    below = []
    for dst in dests:
        kind = fastconv.plan_kind(fp32, dst, "rne", False)
        t = time.perf_counter()
        plans = {(m, s): fastconv.plan(fp32, dst, m, s) for m in MODES for s in (False, True)}
        build = time.perf_counter() - t
        rates = {}
        if kind is not None and all(plans.values()):
            for (m, s), p in plans.items():
                # x87: the words form (golden.convert_words: uint64 words, no Python ints per value)
                fn = p.words if hasattr(p, "words") else p
                rates[m, s] = args.n / timed(lambda fn=fn: fast_chunked(fn, x), 3 if (m, s) == ("rne", False) else 1)
        n_exact = args.exact_n if dst.dtype != object else min(args.exact_n, 1 << 22)
        try:
            exact = n_exact / timed(lambda n=n_exact, d=dst: exact_chunked(x[:n], d, "rne", False), 1)
        except ValueError:
            exact = None
        if rates:
            (wm, ws), worst = min(rates.items(), key=lambda kv: kv[1])
            fast, note = rates["rne", False], f"{wm}{'+sat' if ws else ''}"
            if worst < TARGET:
                below.append(f"{dst.name} ({worst / 1e6:.1f}M {note})")
            print(f"{dst.name:18s} {kind:12s} {build:7.2f} {fast / 1e6:9.1f} {worst / 1e6:9.1f} {note:>11s} "
                  f"{exact / 1e6:9.2f} {fast / exact:7.0f}x", flush=True)
        else:
            print(f"{dst.name:18s} {'exact only':12s} {'':7s} {'-':>9s} {'-':>9s} {'':11s} "
                  f"{exact / 1e6 if exact else float('nan'):9.2f}", flush=True)
    covered = sum(fastconv.plan_kind(fp32, d) is not None for d in dests)
    if below:
        print(f"target {TARGET:.0e} values/s per core: FAIL for {len(below)} of {covered} fast destinations: "
              + ", ".join(below))
    else:
        print(f"target {TARGET:.0e} values/s per core: PASS for all {covered} fast destinations")


if __name__ == "__main__":
    main()
