"""What every test module shares: the one switch between `make test`'s budget and the full runs.

``FMTFORGE_FULL=1`` (any value but empty or ``0``) asks for the long versions: every mode, every configuration,
both simulators where make test keeps one. Modules read :data:`FULL` from here (``from
fmtforge.verif.tests.conftest import FULL``); a test that only makes sense in the long run is marked
:data:`full_only`.
"""

import os

import pytest

#: True when the long runs were asked for (FMTFORGE_FULL set, and not "0").
FULL = os.environ.get("FMTFORGE_FULL", "") not in ("", "0")

#: Marks a test that runs only with FMTFORGE_FULL=1 (beyond make test's budget).
full_only = pytest.mark.skipif(not FULL, reason="beyond make test's budget: FMTFORGE_FULL=1")

# Generate each configuration's Verilog once per run, whichever tests ask for it (rtl.flow.verilog_cache: keyed by
# the unit's options and the generators' source text); FMTFORGE_VERILOG_CACHE= (empty) turns it off
from fmtforge.verif.support.sim.runner import SIM_BUILD  # noqa: E402

os.environ.setdefault("FMTFORGE_VERILOG_CACHE", str(SIM_BUILD / "verilog"))

#: Folders in the order their tests start: the simulations and tool flows (most of make test's time, in a few
#: long tests) first, so that pytest-xdist's workers do not end on one of them while the other idles
_FIRST = ("rtl", "flow", "cli", "prove")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        parts = item.path.parts
        folder = parts[parts.index("tests") + 1] if "tests" in parts else ""
        return _FIRST.index(folder) if folder in _FIRST else len(_FIRST)
    items.sort(key=rank)  # stable: each folder keeps its own order
