"""The table fast paths of golden (golden/formats/fastconv*.py) equal the exact models they are built from."""


import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden.formats.tables import key_bits
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL
from fmtforge.verif.support.vectors.format_sets import FIXED_AND_P3109

TABLED = [f for f in golden.CATALOG.values() if key_bits(f) is not None] + [golden.posit(8, 0), golden.posit(10, 1)]

# issue 16's catalog formats take the plans of the families above (key table, binade): two modes in `make test`,
# every mode with FMTFORGE_FULL=1 (verif/tests/golden/test_small_formats.py checks their exact paths)
ISSUE16 = set(FIXED_AND_P3109)


def values(fmt, rng):
    bits = fmt.all_bits()
    v = fmt.decode(bits)
    v = v[~np.isnan(v)]
    mids = (np.sort(v)[1:] + np.sort(v)[:-1]) / 2
    pts = np.concatenate([v, mids, [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 5e-324]])
    pts = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
    rnd = rng.integers(0, 1 << 64, 300_000, dtype=np.uint64).view(np.float64)  # every class of float64
    scaled = rng.standard_normal(300_000) * np.exp2(rng.integers(-40, 40, 300_000))
    return np.concatenate([pts, rnd, scaled])


def test_some_formats_are_tabled():
    names = {f.name for f in TABLED}
    assert {"fp8_e4m3", "fp8_e5m2", "bf16", "fp4_e2m1", "e8m0", "posit8"} <= names


# issue 16's formats in two modes in make test (FMTFORGE_FULL=1: every mode)
@pytest.mark.parametrize("fmt, mode, saturate", [
    pytest.param(f, m, s, id=f"{f}-{m}-{s}") for f in TABLED for m in ["rne", "rtz", "rdn", "rup", "rmm"]
    for s in (False, True) if FULL or f.name not in ISSUE16 or m in ("rne", "rup")])
def test_table_encode_equals_exact(fmt, mode, saturate):
    rng = np.random.default_rng([seed(), fmt.width])
    x = values(fmt, rng)
    fast = fmt.encode(x, mode, saturate)
    slow = fmt.encode_exact(x, mode, saturate)
    bad = np.nonzero(fast != slow)[0]
    assert bad.size == 0, [(x[k], int(fast[k]), int(slow[k])) for k in bad[:6]]


@pytest.mark.parametrize("fmt", [f for f in golden.CATALOG.values() if f.width <= 16], ids=str)
def test_table_decode_equals_exact(fmt):
    bits = fmt.all_bits()
    a, b = fmt.decode(bits), fmt._decode_exact(bits)
    assert np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))
