"""Every format family has its descriptor on every floor (golden, RTL, verification): no silent fallback to
another family's corners, logic-level estimate or heading. And the verification floor's independent reference
agrees with golden's decode on every pattern of every catalog format of at most 16 bits."""

import pytest

from fmtforge import golden
from fmtforge.rtl import formats
from fmtforge.verif.support.vectors import families as vfam

NAMES = [f.name for f in golden.FAMILIES]


def test_every_catalog_format_has_a_family():
    for fmt in golden.CATALOG.values():
        family = golden.family_of(fmt)
        assert fmt.kind == family.kind, (fmt.name, family.name)


@pytest.mark.parametrize("name", NAMES)
def test_every_family_has_all_its_descriptors(name):
    fam = next(f for f in golden.FAMILIES if f.name == name)
    assert fam.title
    rtl = formats.FAMILIES[name]  # KeyError: the family has no RTL descriptor
    if rtl.unpack is None or rtl.pack is None:
        assert rtl.reason, f"{name}: a family that is no converter source or destination says why"
    for cls, est in ((rtl.unpack, rtl.unpack_levels), (rtl.pack, rtl.pack_levels)):
        if cls is not None:  # a logic-level figure: the component's own, or the family's estimate
            assert est is not None or isinstance(getattr(cls, "levels", None), property), (name, cls.__name__)
    ver = vfam.FAMILIES[name]  # KeyError: no verification descriptor
    assert callable(ver.corners) and callable(ver.value)


@pytest.mark.parametrize("fmt", [f for f in golden.CATALOG.values() if f.width <= 16], ids=lambda f: f.name)
def test_golden_decode_equals_the_family_reference(fmt):
    ref = vfam.reference_for(fmt)
    bits = fmt.all_bits()
    values = fmt.decode(bits)
    bad = [(int(b), ref(b), float(v)) for b, v in zip(bits, values) if not vfam.same_value(ref(b), float(v))]
    assert not bad, f"{fmt.name}: {len(bad)} patterns differ, first {bad[:3]}"


@pytest.mark.parametrize("fmt", list(golden.CATALOG.values()), ids=lambda f: f.name)
def test_corners_are_patterns_of_the_format(fmt):
    c = vfam.corners_for(fmt)
    assert len(c) >= 2 and all(0 <= int(x) < 1 << fmt.width for x in c)


def test_a_family_without_descriptors_is_refused():
    from fmtforge.golden.formats.families import Family, register_family, unregister_family

    class Odd(golden.Integer):
        pass

    register_family(Family("odd", Odd, "int", "odd integers"))
    try:
        odd = Odd(bits=8)
        with pytest.raises(ValueError, match="family 'odd' has no verification descriptor"):
            vfam.corners_for(odd)
        with pytest.raises(ValueError, match="family 'odd' has no RTL descriptor"):
            formats.unpack_for(odd)
    finally:
        unregister_family("odd")
