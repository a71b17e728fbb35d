"""The regression's mutation score stays >= 99% (100% where the inputs are exhaustive): a seeded sample of 50
Yosys mutants of every unit of the study, each run on the vectors make test uses for that unit, survivors
classified by SAT. `make mutate` runs the full study (build/mutate/report.{json,md}).

The stream units go through the stream batch lane (verif/support/campaigns/mutate_stream.py): make test scores
one of them (the pipelined converter: its survivors' SAT is quick), FMTFORGE_FULL=1 every one."""

import pytest

from fmtforge.verif.support.campaigns.mutate import SCORED, mutate_unit
from fmtforge.verif.support.sim.runner import SIM_BUILD, require
from fmtforge.verif.tests.conftest import FULL

SAMPLE = 50


# the requantizer is scored by `make mutate` only: its SAT proofs alone take ~100 s, beyond make test's budget


def _scored():
    out = []
    for s in SCORED:
        if s.unit == "requant" or (s.stream and not FULL and s.unit != "convert"):
            continue
        out.append(s)
    return out


@pytest.mark.parametrize("s", _scored(), ids=lambda s: s.label.replace(" ", "_"))
def test_mutation_score(s):
    require("verilator")
    row = mutate_unit(s, count=SAMPLE, mutant_seed=7, workdir=SIM_BUILD / "mutate_ci" / s.label.replace(" ", "_"))
    assert row["killed"] + row["equivalent"] + row["killable"] + row["undecided"] + row.get("bounded", 0) \
        == row["mutants"] > 0
    floor = 1.0 if row["exhaustive"] else 0.99
    assert row["score"] >= floor, (f"{s.label}: score {row['score']:.4f} < {floor}; killable survivors and the "
                                   f"inputs that kill them: {row['examples']}")
    # SAT decides every survivor of the units scored here (the requantizer's 32x31 multiplier defeats it within
    # the timeout: `make mutate` reports those survivors as undecided, neither killed nor equivalent)
    assert row["undecided"] == 0, row
