"""Format building blocks: the raw form, rounding, and per family an unpack (bits -> raw) and a round-and-pack
(raw -> bits).

:data:`FAMILIES` is the one mapping from a golden format class to its components; a converter is
``unpack_for(src)``, a :class:`~.raw.Normalize` where the pack needs one, then ``pack_for(dst, shape)``.
A new family adds its two components here.
"""

import inspect

from fmtforge.golden import Codebook, Integer, Minifloat, P3109, Posit

from .codebook import CodebookUnpack
from .integer import IntegerPack, IntegerUnpack
from .minifloat import MinifloatPack, MinifloatUnpack
from .p3109 import P3109Pack, P3109Unpack
from .posit import PositPack, PositUnpack

__all__ = ["DEST_KINDS", "FAMILIES", "SOURCE_KINDS", "needs_normalize", "pack_for", "unpack_for"]

#: golden format class -> (unpack component, pack component or None)
FAMILIES = {
    Minifloat: (MinifloatUnpack, MinifloatPack),
    Integer: (IntegerUnpack, IntegerPack),
    Codebook: (CodebookUnpack, None),
    Posit: (PositUnpack, PositPack),
    P3109: (P3109Unpack, P3109Pack),
}
SOURCE_KINDS = ("float", "int", "codebook", "posit")
DEST_KINDS = ("float", "int", "posit")


def unpack_for(fmt):
    """The unpack component of ``fmt``'s family."""
    unpack, _ = FAMILIES.get(type(fmt), (None, None))
    if unpack is None:
        raise ValueError(f"src: {fmt.name} ({fmt.kind}) cannot be converted from yet; "
                         "sources are floats, posits, integers and nf4")
    return unpack(fmt)


def pack_for(fmt, shape, **kwargs):
    """The round-and-pack component of ``fmt``'s family for a raw input of ``shape``. A pack without a
    ``saturate`` parameter has one overflow behaviour (integers always saturate), one without ``tininess`` no
    underflow (UF stays 0): the option is not passed."""
    _, pack = FAMILIES.get(type(fmt), (None, None))
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
