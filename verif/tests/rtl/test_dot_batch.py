"""The dot and posit-dot units in the stream batch lane (a clocked Verilator C++ loop over numpy beat buffers),
against the unit contract's model (golden.arith.dot / posit_dot), make test's slice of ``make regress``'s dot
section (verif/support/campaigns/regress_dot.py, 10**6 dot products per class there).

Per class of :data:`SLICE` (every accumulation mode, the four operand/result pairs, lanes 1, 2 and 4, both posit
classes; every class with FMTFORGE_FULL=1): a stall-free phase (latency exactly the documented one, a beat every
cycle) and then 2 * 10**4 random dot products (10**5 with FMTFORGE_FULL=1) with the structured ones first, in
chunks under different gap / back-pressure mixes. Also: the checker reports a wrong model with decoded values and
the reproducing command; the stimulus' cancellation really sums to zero; the documented latencies equal the
contract's.
"""

import zlib

import numpy as np
import pytest

from fmtforge.verif.support.campaigns.regress_dot import CLASSES, SLICE
from fmtforge.verif.support.sim.runner import require
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL

DOTS = 10**5 if FULL else 2 * 10**4


@pytest.mark.parametrize("label", list(CLASSES) if FULL else list(SLICE))
def test_dot_batch(label):
    from fmtforge.verif.support.campaigns.regress_dot import line, run_class
    require("verilator")
    used = seed()
    row = run_class(label, DOTS, used, chunk=-(-DOTS // 3))
    print(line(row))
    assert row["dot_products"] >= DOTS and row["products"] >= DOTS
    assert row["mismatches"] == 0 and row["protocol_failures"] == 0, "\n".join(
        [line(row)] + row["failures"] + [f"reproduce: FMTFORGE_SEED={used} .venv/bin/pytest -p no:xdist "
                                         f"verif/tests/rtl/test_dot_batch.py -k '{label}'"])


def test_checker_reports_a_wrong_model():
    """Results of a round-to-nearest unit checked against round-toward-zero expectations: the checker must count
    mismatches and describe them in hex with decoded values (inputs, expected, got, flags) and fail the trace."""
    from fmtforge.verif.support.benches.stream import check_trace, run_batch
    from fmtforge.verif.support.benches.stream_dot import dot_jobs, mismatches, stimulus_of
    from fmtforge.verif.support.campaigns.regress_dot import class_options
    require("verilator")
    label = "dot-exact-e4m3xe4m3-fp32-l4"
    name, o, unit, model = class_options(label)
    rng = np.random.default_rng(7)
    jobs = dot_jobs(name, o, rng, 3000)
    wrong = stimulus_of(name, dict(o, rounding="rtz"), unit, jobs, rng)
    right = stimulus_of(name, o, unit, jobs, rng)
    trace = run_batch(model, right, rng, 0.3, 0.3)
    assert mismatches(right, trace.out)[0] == 0
    bad, lines = mismatches(wrong, trace.out)
    assert bad > 100, bad
    assert len(lines) == 6 and all("expected 0x" in x and ", got 0x" in x and " flags 0x" in x for x in lines)
    assert all(x.count("(") >= 3 for x in lines), lines  # decoded operands, expected and got
    with pytest.raises(AssertionError, match="differ from the model"):
        check_trace(label, wrong, trace, False, 7, "FMTFORGE_SEED=7 ...")


@pytest.mark.parametrize("label", ["dot-exact-e4m3xe4m3-fp32-l4", "dot-exact-int8xe4m3-bf16-rup-l2",
                                   "posit-dot-p8e2-p16e2-l4"])
def test_cancellation_sums_to_zero(label):
    """The stimulus' cancellation style (each a*b with its -a*b, shuffled, zero addend) is exactly zero under one
    rounding: its expected results are zeros, with no flag."""
    from fmtforge.rtl.units import UNITS
    from fmtforge.verif.support.benches.stream_dot import dot_jobs, expected
    name, opts = CLASSES[label]
    o = UNITS[name].resolve(opts)
    jobs = dot_jobs(name, o, np.random.default_rng([seed(), zlib.crc32(label.encode())]), 4000)
    bits, flags = expected(name, o, jobs)
    cancel = jobs.what == "cancel"
    assert cancel.sum() > 100
    values = jobs.fmts[3].decode(bits[cancel])
    assert np.all(values == 0), bits[cancel][values != 0][:5]
    if flags is not None:
        assert np.all(flags[cancel] == 0)


@pytest.mark.parametrize("label", list(CLASSES))
def test_documented_latency_is_the_contracts(label):
    """The latency the bench holds the unit to (written from the docs pages) equals the contract's."""
    from fmtforge.rtl.units import UNITS
    from fmtforge.verif.support.benches.stream_latency import documented_latency
    name, opts = CLASSES[label]
    o = UNITS[name].resolve(opts)
    assert documented_latency(name, o) == UNITS[name].latency(o)


@pytest.mark.parametrize("argv, message", [
    (["--classes", "dot-exact-nope"], "classes must be among dot-exact-e4m3xe4m3-fp32-l1, "),
    (["--dots", "0"], "dots must be an integer >= 1, not 0"),
])
def test_regress_dot_bad_arguments(argv, message, capsys):
    """One line naming the parameter and what it allows, exit status 2, nothing run."""
    from fmtforge.verif.support.campaigns.regress_dot import main
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
