"""Golden-model throughput: values per second of encode and decode on 10**7 values, one core.

Run: .venv/bin/python bench/golden_speed.py [N]   (not a test: numbers depend on the machine)
"""

import sys
import time

import numpy as np

from fmtforge import golden

TARGETS = {("fp8_e4m3", "encode"): 60e6, ("posit16", "decode"): 10e6}


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(n=10_000_000):
    rng = np.random.default_rng(1)
    values = rng.standard_normal(n) * np.exp2(rng.integers(-12, 12, n))
    print(f"{'format':10s} {'op':7s} {'Mvalues/s':>10s}  target")
    for name in ("fp8_e4m3", "bf16", "posit16"):
        fmt = golden.lookup(name)
        t = time.perf_counter()
        bits = fmt.encode(values)
        print(f"{name:10s} first encode, tables built: {time.perf_counter() - t:.2f} s")
        for op, fn in (("encode", lambda: fmt.encode(values)), ("decode", lambda: fmt.decode(bits))):
            rate = n / best_of(fn)
            target = TARGETS.get((name, op))
            mark = "" if target is None else f">= {target / 1e6:.0f}M  {'met' if rate >= target else 'MISSED'}"
            print(f"{name:10s} {op:7s} {rate / 1e6:10.1f}  {mark}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
