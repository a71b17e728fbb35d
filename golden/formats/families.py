"""The format families, golden's floor of their descriptors: which class a family is, the ``kind`` its formats
carry and the heading ``fmtforge list`` gives them.

Each floor keeps its own descriptor of a family, keyed by the family's :attr:`Family.name`: the RTL's (unpack,
pack, logic-level estimate) in :data:`fmtforge.rtl.formats.FAMILIES`, the verification's (test corners,
independent reference) in :data:`fmtforge.verif.support.vectors.families.FAMILIES`. A test checks that every
family here has all of them, so a new family never falls back silently to another's corners or estimate.
"""

from dataclasses import dataclass

from .codebook import Codebook
from .integer import Integer
from .minifloat import Minifloat
from .p3109 import P3109
from .posit import Posit
from .scale import PowerOfTwo

__all__ = ["FAMILIES", "Family", "family_of", "register_family", "unregister_family"]


@dataclass(frozen=True)
class Family:
    """One format family: ``name`` (the key every floor uses), ``cls`` (its golden class), ``kind`` (the
    ``kind`` of its formats), ``title`` (its heading in ``fmtforge list``)."""

    name: str
    cls: type
    kind: str
    title: str


#: The families, in the order ``fmtforge list`` shows them (:func:`register_family` adds one).
FAMILIES = [
    Family("minifloat", Minifloat, "float", "floats"),
    Family("p3109", P3109, "float", "IEEE P3109 formats"),
    Family("posit", Posit, "posit", "posits"),
    Family("integer", Integer, "int", "integers"),
    Family("codebook", Codebook, "codebook", "codebooks"),
    Family("scale", PowerOfTwo, "scale", "scales"),
]
_BY_CLASS = {f.cls: f for f in FAMILIES}


def register_family(family):
    """Add ``family`` (a :class:`Family` of a new golden format class); returns it."""
    if family.cls in _BY_CLASS or any(f.name == family.name for f in FAMILIES):
        raise ValueError(f"a family named {family.name!r} (or of class {family.cls.__name__}) exists already")
    FAMILIES.append(family)
    _BY_CLASS[family.cls] = family
    return family


def unregister_family(name):
    """Remove the family called ``name`` (what a test registered)."""
    for f in [f for f in FAMILIES if f.name == name]:
        FAMILIES.remove(f)
        _BY_CLASS.pop(f.cls, None)


def family_of(fmt):
    """The :class:`Family` of the format object ``fmt`` (ValueError for an object of no family)."""
    try:
        return _BY_CLASS[type(fmt)]
    except KeyError:
        raise ValueError(f"format must be one of the families {', '.join(f.name for f in FAMILIES)}, not a "
                         f"{type(fmt).__name__}") from None
