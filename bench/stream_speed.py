"""Stream batch lane throughput: input beats per second through each stream unit's default configuration
(:data:`fmtforge.verif.support.benches.stream_cases.STREAM_UNITS`) in the clocked Verilator loop of
``verif/support/batch/stream_lane.py``, with every output checked against the model afterwards.

Per unit, two patterns: no gaps and no back-pressure (one beat per cycle), and 30% idle cycles with 30%
back-pressure (the regression's mix). Printed: beats, cycles, seconds in the C++ loop (build, stimulus and
golden model excluded, and timed separately; wall and CPU), beats/s and cycles/s per CPU second of the loop.

Run: .venv/bin/python bench/stream_speed.py [BEATS] [UNIT ...]   (default 10**6 beats; not a test: numbers depend
on the machine and its load).
"""

import sys
import time

import numpy as np

from fmtforge.rtl.flow import to_verilog
from fmtforge.verif.support.batch.stream_lane import StreamModel
from fmtforge.verif.support.benches.stream import check_trace, run_batch
from fmtforge.verif.support.benches.stream_cases import STREAM_UNITS, registry_name, resolve, stimulus


def main(n=10**6, names=()):
    from fmtforge.rtl.units.registry import UNITS
    print(f"{'unit':<15} {'pattern':<12} {'beats':>9} {'cycles':>9} {'wall s':>7} {'cpu s':>7} {'beats/s':>11} "
          f"{'cycles/s':>11}  (stimulus + golden, wall s)")
    print("beats/s and cycles/s per CPU second of the C++ loop (the machine is shared: wall time inflates)")
    for name in names or STREAM_UNITS:
        o = resolve(name, STREAM_UNITS[name])
        unit = UNITS[registry_name(name)].build(**o)
        model = StreamModel(to_verilog(unit, unit.name), unit.name)
        rng = np.random.default_rng(1)
        t = time.perf_counter()
        stim = stimulus(name, o, unit, rng, n, corners=False)
        prep = time.perf_counter() - t
        for label, idle, stall in (("no stalls", 0.0, 0.0), ("30%/30%", 0.3, 0.3)):
            t, c = time.perf_counter(), time.process_time()
            tr = run_batch(model, stim, rng, idle, stall)
            dt, cpu = time.perf_counter() - t, time.process_time() - c
            check_trace(name, stim, tr, False, 1, "bench/stream_speed.py")
            cycles = int(tr.t_out[-1]) + 1
            print(f"{name:<15} {label:<12} {len(stim.beats):>9} {cycles:>9} {dt:>7.3f} {cpu:>7.3f} "
                  f"{len(stim.beats) / cpu:>11.3g} {cycles / cpu:>11.3g}  ({prep:.1f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10**6, sys.argv[2:])
