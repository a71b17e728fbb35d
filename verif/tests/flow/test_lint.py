"""Every default unit's Verilog is lint-clean under `verilator --lint-only -Wall` (waivers: verif/support/sim/lint.vlt)
and deterministic (same parameters, same bytes, in a fresh interpreter too)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmtforge.rtl.units.registry import DEFAULT_UNITS, build_unit
from fmtforge.rtl.flow.verilog import to_verilog
from fmtforge.verif.support.sim.models import models_for
from fmtforge.verif.support.sim.runner import ROOT, SIM_BUILD, require

WAIVERS = Path(__file__).parents[2] / "support" / "sim" / "lint.vlt"


def unit_id(u):
    kind, options = u
    return kind + "-" + "-".join(f"{v}" for v in options.values())


# Besides the defaults, converters of every destination family in every mode, saturating, with flags,
# stochastic and pipelined: the generator's other branches.
VARIANTS = [("convert", dict(src=s, dst=d, rounding=r, saturate=sat, flags=fl, stages=st))
            for s, d, r, sat, fl, st in [
                ("fp64", "fp8_e4m3fnuz", "rtz", True, True, 0), ("x87", "fp16", "rdn", False, True, 0),
                ("int32", "bf16", "rup", False, False, 0), ("fp8_e5m2", "int16", "rmm", True, True, 0),
                ("fp16", "posit8", "stochastic", False, True, 0), ("posit32", "fp4_e2m1", "rne", True, True, 3),
                ("nf4", "int8", "rne", False, False, 1), ("cfloat8_1_5_2_b20", "x87", "rne", False, True, 0),
                ("uint8", "posit16_es1", "rtz", False, True, 2), ("fp32", "fp6_e3m2", "stochastic", True, True, 2),
                ("fp32", "p3109_k8p3", "rne", False, True, 0), ("bf16", "p3109_k8p4_unsigned", "stochastic", True, False, 0),
                ("p3109_k8p1", "mxint8", "rup", False, True, 0), ("int1", "p3109_k6p3_unsigned_finite", "rne", True, True, 0)]]
# pipelined posit datapaths: registers at every cut point of the posit pack (with rand) and the decoder
VARIANTS += [("convert", dict(src="fp16", dst="posit16", rounding="stochastic", flags=True, stages=3)),
             ("posit-decode", dict(n=16, es=2, stages=3)), ("posit-decode", dict(n=32, es=2, stages=1))]
# the narrowing float pack with registers at both its cut points: flush to zero, fnuz's spare carry bit
VARIANTS += [("convert", dict(src="fp32", dst="fp8_e4m3", saturate=True, ftz=True, flags=True, stages=3)),
             ("convert", dict(src="fp32", dst="fp8_e5m2fnuz", rounding="stochastic", flags=True, stages=2))]


@pytest.mark.parametrize("unit", DEFAULT_UNITS + VARIANTS, ids=unit_id)
def test_verilator_lint_wall(unit):
    require("verilator")
    component, name = build_unit(unit[0], **unit[1])
    out = SIM_BUILD / "lint" / f"{name}.v"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = to_verilog(component, name)
    out.write_text(text)
    models = [str(p) for p in models_for(text)]  # instantiated FPGA primitives: their simulation models
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(WAIVERS), str(out), *models, "--top-module", name],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_verilog_is_deterministic():
    kind, options = DEFAULT_UNITS[0]
    component, name = build_unit(kind, **options)
    first = to_verilog(component, name)
    assert to_verilog(build_unit(kind, **options)[0], name) == first
    code = ("import sys; from fmtforge.rtl.units import DEFAULT_UNITS, build_unit; "
            "from fmtforge.rtl.flow.verilog import to_verilog; "
            "c, n = build_unit(DEFAULT_UNITS[0][0], **DEFAULT_UNITS[0][1]); sys.stdout.write(to_verilog(c, n))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                           check=True).stdout
    assert other == first
