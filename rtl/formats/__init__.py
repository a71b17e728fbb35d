"""Format building blocks: the raw form, rounding, and per family an unpack (bits -> raw) and a round-and-pack
(raw -> bits).

:data:`FAMILIES` is the RTL floor's descriptor of each golden format family (``golden.FAMILIES``): its unpack
and pack components and their logic-level estimates. A converter is ``unpack_for(src)``, a
:class:`~.raw.Normalize` where the pack needs one, then ``pack_for(dst, shape)``. A new family adds its
components and one entry here.
"""

import inspect
from dataclasses import dataclass

from fmtforge.golden import Integer, P3109, Posit, family_of

from .codebook import CodebookUnpack
from .integer import IntegerPack, IntegerUnpack
from .minifloat import MinifloatPack, MinifloatUnpack
from .p3109 import P3109Pack, P3109Unpack
from .posit import PositPack, PositUnpack

__all__ = ["DEST_KINDS", "FAMILIES", "SOURCE_KINDS", "RtlFamily", "family", "levels_of", "needs_normalize",
           "pack_for", "unpack_for"]

@dataclass(frozen=True)
class RtlFamily:
    """The RTL floor's descriptor of a format family (keyed by ``golden.Family.name``).

    ``unpack`` / ``pack``: its components (None: the family is no converter source / destination, with
    ``reason`` saying why). ``unpack_levels`` / ``pack_levels``: the estimated logic levels of a component that
    declares none itself (a ``levels`` property); only where the stages of a pipelined converter go depends on
    them."""

    unpack: type = None
    pack: type = None
    unpack_levels: int = None
    pack_levels: int = None
    reason: str = ""


#: golden family name -> its RTL descriptor; a test checks that every golden family has one
FAMILIES = {
    "minifloat": RtlFamily(MinifloatUnpack, MinifloatPack, unpack_levels=2, pack_levels=8),
    "integer": RtlFamily(IntegerUnpack, IntegerPack, unpack_levels=3, pack_levels=7),
    "codebook": RtlFamily(CodebookUnpack, None, unpack_levels=2, reason="a codebook is a source only (nf4)"),
    "posit": RtlFamily(PositUnpack, PositPack),  # both declare their levels
    "p3109": RtlFamily(P3109Unpack, P3109Pack, unpack_levels=4, pack_levels=4),
    "scale": RtlFamily(reason="e8m0 scales are read and written by the MX units, not converted"),
}


def family(fmt):
    """The :class:`RtlFamily` of ``fmt`` (ValueError naming the family when it has none)."""
    name = family_of(fmt).name
    if name not in FAMILIES:
        raise ValueError(f"family {name!r} has no RTL descriptor in fmtforge.rtl.formats.FAMILIES")
    return FAMILIES[name]


def levels_of(component):
    """``(total, inner cut points)`` of a family component: its own ``levels``, else its family's estimate."""
    own = getattr(component, "levels", None)
    if own:
        return own
    for fam in FAMILIES.values():
        for cls, est in ((fam.unpack, fam.unpack_levels), (fam.pack, fam.pack_levels)):
            if cls is not None and type(component) is cls and est is not None:
                return est, []
    raise ValueError(f"{type(component).__name__} declares no levels and its family gives no estimate")


SOURCE_KINDS = ("float", "int", "codebook", "posit")
DEST_KINDS = ("float", "int", "posit")


def unpack_for(fmt):
    """The unpack component of ``fmt``'s family."""
    unpack = family(fmt).unpack
    if unpack is None:
        raise ValueError(f"src: {fmt.name} ({fmt.kind}) cannot be converted from yet; "
                         "sources are floats, posits, integers and nf4")
    return unpack(fmt)


def pack_for(fmt, shape, **kwargs):
    """The round-and-pack component of ``fmt``'s family for a raw input of ``shape``. A pack without a
    ``saturate`` parameter has one overflow behaviour (integers always saturate), one without ``tininess`` no
    underflow (UF stays 0): the option is not passed."""
    pack = family(fmt).pack
    if pack is None:
        raise ValueError(f"dst: {fmt.name} ({fmt.kind}) cannot be converted to yet; "
                         "destinations are floats, posits and integers")
    params = inspect.signature(pack).parameters
    for name in ("saturate", "tininess"):  # integers always saturate; only float packs raise UF
        if name not in params:
            kwargs.pop(name, None)
    return pack(fmt, shape, **kwargs)


def needs_normalize(shape, dst):
    """Whether a raw value of ``shape`` needs a Normalize before ``dst``'s pack."""
    if shape.normalized or isinstance(dst, Integer):
        return False
    if isinstance(dst, Posit):
        return not PositPack.accepts(shape, dst)
    if isinstance(dst, P3109):
        dst = P3109Pack.inner_of(dst)  # its pack is the inner minifloat's
    return not (MinifloatPack.aligned(shape, dst) or shape.unnorm_scale_max <= dst.emin)
