"""Batch-lane throughput on fp32 -> fp8_e4m3 (saturate, flags): the Verilator C++ loop, simulate() end to end,
checked vectors (simulate + golden + compare), Icarus, golden alone and cocotb on the same unit, in one run.

Run: .venv/bin/python bench/sweep_speed.py [--log2n 26] [--no-cocotb]   (not a test: numbers depend on the
machine and on what else runs on it; each rate is the best of three)
"""

import argparse
import json
import time
import uuid

import numpy as np

from fmtforge import golden
from fmtforge.rtl.units.convert import make_converter
from fmtforge.verif.support import batch
from fmtforge.verif.support.batch_build import resolve
from fmtforge.verif.support.structured import strided

SRC, DST, MODE, SAT = "fp32", "fp8_e4m3", "rne", True


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def row(what, count, seconds, note=""):
    print(f"{what:44s} {count:>12,d} {count / seconds / 1e6:10.2f}  {note}")
    return count / seconds


def cocotb_rate(n_random):
    """Vectors/s of the cocotb bench (verif/tests/rtl/test_convert.py) on the same unit under Verilator, from a
    second run (the build is cached), simulator start-up included."""
    from fmtforge.rtl.flow import to_verilog
    from fmtforge.verif.support.runner import run
    from fmtforge.verif.tests.rtl import test_convert as tc
    c = tc.config(SRC, DST, MODE, saturate=SAT, flags=True, random=n_random)
    dut = make_converter(SRC, DST, rounding=MODE, saturate=SAT, flags=True)
    count = len(tc.vectors(c, np.random.default_rng(1)))
    args = ("verilator", to_verilog(dut, dut.name), dut.name, "fmtforge.verif.tests.rtl.test_convert",
            "bench_" + tc.config_id(c))
    env = {tc.ENV: json.dumps(c), "FMTFORGE_SIM": "verilator", "FMTFORGE_SEED": "1"}
    run(*args, extra_env=env)
    t = time.perf_counter()
    run(*args, extra_env=env)
    return count, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2n", type=int, default=26, help="inputs for the Verilator rates (default 2**26)")
    ap.add_argument("--no-cocotb", action="store_true", help="skip the cocotb comparison")
    args = ap.parse_args()
    n = 1 << args.log2n
    unit = resolve(make_converter(SRC, DST, rounding=MODE, saturate=SAT, flags=True))
    print(f"unit {unit.top}; {n:,d} strided fp32 inputs")
    fresh = (unit.verilog + f"// bench probe {uuid.uuid4().hex}\n", unit.top)
    cold = batch.build_verilator(fresh)
    t = time.perf_counter()
    cached = batch.build_verilator(fresh)
    print(f"Verilator build: cold {cold.seconds:.2f} s (runtime objects cached), cached {time.perf_counter() - t:.4f} s"
          f" (built again: {cached.built})")
    t = time.perf_counter()
    ic = batch.simulate_icarus(fresh, np.zeros(1, np.uint64))
    t_ic = time.perf_counter() - t
    t = time.perf_counter()
    batch.simulate_icarus(fresh, np.zeros(1, np.uint64))
    print(f"Icarus build+1 vector: cold {t_ic:.2f} s, cached {time.perf_counter() - t:.2f} s")
    del ic

    xs = strided(32, n, 0)
    model = batch.model(unit)
    print(f"\n{'':44s} {'vectors':>12s} {'M/s':>10s}")
    chunk = batch.CHUNK
    outs = model._alloc(chunk)  # warm buffers: the loop alone, no page faults of fresh output memory

    def loop():
        for lo in range(0, n, chunk):
            model.run_ports({"i": xs[lo:lo + chunk]}, outs)
    loop_rate = row("Verilator C++ loop (warm buffers, 1 thread)", n, best_of(loop), "target >= 50")
    row("simulate() end to end, 1 thread", n, best_of(lambda: model.run(xs)))
    row("simulate() end to end, 2 threads", n, best_of(lambda: model.run(xs, threads=2)))
    m = min(n, 1 << 24)
    g = xs[:m]
    row("golden.convert_flags alone", m, best_of(lambda: golden.convert_flags(g, SRC, DST, MODE, SAT)))

    def checked():
        batch.assert_equal(model.run(g), golden.convert_flags(g, SRC, DST, MODE, SAT), inputs=g, unit=unit)
    row("checked: simulate + golden + compare", m, best_of(checked), "target >= 20")
    k = 1 << 16
    ik = xs[:k]
    icarus_rate = row("Icarus batch ($readmemh/$fwrite bench)", k, best_of(lambda: batch.simulate_icarus(unit, ik), 1))
    if not args.no_cocotb:
        count, seconds = cocotb_rate(50_000)
        rate = row("cocotb bench (Verilator, one vector per await)", count, seconds, "simulator start-up included")
        print(f"\nbatch lane / cocotb: {loop_rate / rate:,.0f}x (Verilator); Icarus batch / cocotb: "
              f"{icarus_rate / rate:.1f}x")


if __name__ == "__main__":
    main()
