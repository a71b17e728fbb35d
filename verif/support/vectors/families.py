"""The verification floor's descriptor of each format family (keyed by ``golden.Family.name``): the directed
corners a test drives a source of that family with, and its independent reference, a function
``value(fmt, code) -> Fraction | float inf | refs.oracle.NAN`` written from the family's definition, never
from golden's code. ``verif/tests/golden/test_families.py`` checks that every golden family has one here and
that golden's decode agrees with it, so a new family cannot fall back silently to another's corners.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from fmtforge import golden
from fmtforge.verif.support.refs.oracle import NAN, NF4_PUBLISHED, minifloat_value, posit_value
from fmtforge.verif.support.refs.p3109_fixed import fixed_value, p3109_value
from fmtforge.verif.support.vectors.patterns import exhaustive, float_corners, int_corners, posit_corners

__all__ = ["FAMILIES", "VerifFamily", "corners_for", "reference_for", "same_value"]


@dataclass(frozen=True)
class VerifFamily:
    """``corners(fmt)``: directed patterns (uint64, or Python ints beyond 64 bits); ``value(fmt, code)``: the
    independent reference value of one pattern."""

    corners: object
    value: object


def _scale_value(fmt, code):
    """E8M0-style powers of two: 2**(code - bias), the all-ones code NaN (OCP MX v1.0 section 5.4.1)."""
    code = int(code)
    return NAN if code == (1 << fmt.exp_bits) - 1 else Fraction(2) ** (code - fmt.bias)


def _codebook_value(fmt, code):
    """NF4's published float32 levels (bitsandbytes' table); another codebook has no reference yet."""
    if fmt.name != "nf4":
        raise ValueError(f"no independent reference for the codebook {fmt.name!r}: add its published table")
    return Fraction(NF4_PUBLISHED[int(code)])


def _float_corners(fmt):
    return float_corners(fmt) if isinstance(fmt, golden.Minifloat) else exhaustive(fmt) if fmt.width <= 16 \
        else float_corners(fmt.inner)


FAMILIES = {
    "minifloat": VerifFamily(float_corners, minifloat_value),
    "p3109": VerifFamily(lambda f: exhaustive(f) if f.width <= 16 else _float_corners(f),
                         lambda f, c: p3109_value(f.k, f.p, f.signed, f.extended, c)),
    "posit": VerifFamily(posit_corners, lambda f, c: posit_value(f.n, f.es, c)),
    "integer": VerifFamily(int_corners, lambda f, c: fixed_value(f.bits, f.signed, f.frac_bits, c)),
    "codebook": VerifFamily(exhaustive, _codebook_value),
    "scale": VerifFamily(exhaustive, _scale_value),
}


def _entry(fmt):
    family = golden.family_of(fmt)
    try:
        return FAMILIES[family.name]
    except KeyError:
        raise ValueError(f"family {family.name!r} has no verification descriptor in "
                         "fmtforge.verif.support.vectors.families: add its corners and reference") from None


def corners_for(fmt):
    """The directed test patterns of ``fmt``, by its family (ValueError for a family without a descriptor)."""
    return _entry(fmt).corners(fmt)


def reference_for(fmt):
    """``code -> value`` for ``fmt``: its family's independent reference."""
    value = _entry(fmt).value
    return lambda code: value(fmt, code)


def same_value(a, b):
    """Reference value ``a`` (Fraction / float inf / NAN) equals golden's float64 decode ``b``."""
    if a is NAN:
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, float) and math.isinf(a):
        return b == a
    return not np.isnan(b) and Fraction(float(b)) == a
