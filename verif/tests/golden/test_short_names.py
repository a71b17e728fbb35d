"""Short names mean what the field means by them: e4m3 / e5m2 are OCP's FP8 formats, e2m1 / e2m3 / e3m2 the OCP
MX FP4 and FP6 elements (max 6, 7.5 and 28, no inf, no NaN); the IEEE-policy shapes stay reachable by their
``_ieee`` suffix, under names that read back as themselves."""

from fractions import Fraction

import pytest

from fmtforge import golden

# (short name, catalog format, largest value per OCP MX v1.0 section 5.3.3 / OCP FP8 v1.0)
OCP = [("e4m3", "fp8_e4m3", 448), ("e5m2", "fp8_e5m2", 57344), ("e2m1", "fp4_e2m1", 6),
       ("e2m3", "fp6_e2m3", Fraction(15, 2)), ("e3m2", "fp6_e3m2", 28)]


@pytest.mark.parametrize("short, name, largest", OCP)
def test_short_names_are_the_ocp_formats(short, name, largest):
    f = golden.lookup(short)
    assert f is golden.CATALOG[name] and f.max == largest


# (suffixed name, largest value of the IEEE-policy shape: (2 - 2**-m) * 2**(2**(e-1) - 1), the top exponent
# field holding inf and NaN)
IEEE = [("e2m1_ieee", 3), ("e2m3_ieee", Fraction(15, 4)), ("e3m2_ieee", 14), ("e4m3_ieee", 240)]


@pytest.mark.parametrize("name, largest", IEEE)
def test_ieee_policy_shapes_keep_their_suffix(name, largest):
    f = golden.lookup(name)
    assert f.specials == "ieee" and f.max == largest
    assert golden.lookup(f.name) == f  # the name it prints reads back as the same format, not as OCP's
