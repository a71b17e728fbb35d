"""Verification throughput on fp32 -> fp8_e4m3 (saturating, flags): the batch lane (Verilator in a C++ loop),
golden alone, the two end to end (simulate + golden + compare), and cocotb on the same unit, in one run.

Run: .venv/bin/python bench/sweep_speed.py [LOG2_N]   (default 2**26 vectors for the batch lane; cocotb gets
1e5). Not a test: the numbers depend on the machine. Prints a markdown table (the README's).
"""

import json
import sys
import time

import numpy as np

from fmtforge import golden
from fmtforge.rtl.flow import to_verilog
from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.batch.lane import model
from fmtforge.verif.support.sim.runner import require, run


def main(log2_n=26):
    require("verilator")
    n = 1 << log2_n
    dut = UNITS["convert"].create(src="fp32", dst="fp8_e4m3", saturate=True, flags=True)
    m = model(dut)
    x = np.arange(0x3000_0000, 0x3000_0000 + n, dtype=np.uint64)
    m.run(x[:1 << 16])  # warm
    t = time.perf_counter()
    got, got_flags = m.run(x)
    t_sim = time.perf_counter() - t
    t = time.perf_counter()
    want, want_flags = golden.convert_flags(x, "fp32", "fp8_e4m3", "rne", True)
    t_gold = time.perf_counter() - t
    t = time.perf_counter()
    ok = np.array_equal(got, want) and np.array_equal(got_flags, want_flags)
    t_cmp = time.perf_counter() - t
    assert ok, "batch lane and golden disagree"
    end_to_end = n / (t_sim + t_gold + t_cmp)

    k = 100_000
    c = dict(src="fp32", dst="fp8_e4m3", rounding="rne", saturate=True, flags=True, rand_bits=16, random=k)
    core = UNITS["convert"].create(src="fp32", dst="fp8_e4m3", saturate=True, flags=True)
    t = time.perf_counter()
    run("verilator", to_verilog(core, core.name), core.name, "fmtforge.verif.tests.rtl.test_convert", "bench_speed",
        extra_env={"FMTFORGE_CONVERT": json.dumps(c), "FMTFORGE_SIM": "verilator"})
    t_cocotb = time.perf_counter() - t  # vectors: the corners plus k random; build cached after the first run
    from fmtforge.verif.tests.rtl.test_convert import vectors
    n_cocotb = len(vectors(c, np.random.default_rng(0)))
    rows = [("batch lane (Verilator, C++ loop)", n / t_sim), ("golden (fp32 fast path)", n / t_gold),
            ("end to end: simulate + golden + compare", end_to_end),
            ("cocotb on Verilator (one vector per Python call)", n_cocotb / t_cocotb)]
    print("| what | vectors/s (one core) |\n|---|--:|")
    for what, rate in rows:
        print(f"| {what} | {rate / 1e6:.2f} M |")
    print(f"\nbatch lane / cocotb: {rows[0][1] / rows[3][1]:.0f}x; end to end {end_to_end / 1e6:.1f} M/s "
          f"(target >= 20 M/s: {'met' if end_to_end >= 2e7 else 'MISSED'}); {n} vectors")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 26)
