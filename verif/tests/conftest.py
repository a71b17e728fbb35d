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
