"""Specifications by format family (PROVE_API.md): :func:`spec_for` picks one for a conversion.

A conversion's specification is its destination family's ``encode`` applied to its source family's exact
``decode``: ``encode(dst, decode(src, x, opts), opts, rand)``. Families and their modules:

- ``ieee``: binary floats with the IEEE special-value policy, x87 included (:mod:`.ieee`);
- ``ocp``: the other small floats: OCP fn / fnuz, FP6, FP4, CFloat8, P3109, e8m0 (:mod:`.ocp`);
- ``integer``: two's complement and unsigned integers, mxint8 (:mod:`.integer`);
- ``posit``: posits (:mod:`.posit`); ``nf4``: the NF4 codebook (:mod:`.nf4`, a source only).

A family whose module (or whose ``decode`` / ``encode``) is not there yet gives :class:`NoSpecification`,
which ``make prove`` lists as "no specification", never skipped silently.
"""

import importlib

import z3

__all__ = ["NoSpecification", "family", "spec_for"]

_MODULES = {"ieee": "ieee", "ocp": "ocp", "integer": "integer", "posit": "posit", "nf4": "nf4"}


class NoSpecification(LookupError):
    """No specification is written (yet) for a conversion; the message says which part is missing."""


def family(fmt):
    """The specification family of a golden format object (see the module doc)."""
    from .ieee import is_ieee
    kind = getattr(fmt, "kind", None)
    if is_ieee(fmt):
        return "ieee"
    if kind in ("float", "scale"):
        return "ocp"
    if kind == "int":
        return "integer"
    if kind == "posit":
        return "posit"
    if kind == "codebook":
        return "nf4"
    raise NoSpecification(f"{fmt.name}: no specification family for formats of kind {kind!r}")


def _part(fmt, role):
    fam = family(fmt)
    try:
        module = importlib.import_module(f".{_MODULES[fam]}", __name__)
    except ModuleNotFoundError as e:
        if e.name and e.name.endswith(_MODULES[fam]):
            raise NoSpecification(f"no specification yet for {fam} formats ({fmt.name}): "
                                  f"verif/prove/specs/{_MODULES[fam]}.py is not written") from None
        raise
    fn = getattr(module, role, None)
    if fn is None:
        raise NoSpecification(f"no specification yet for {fmt.name} as a {'source' if role == 'decode' else 'destination'}"
                              f" (verif/prove/specs/{_MODULES[fam]}.py has no {role})")
    return fn


def spec_for(src, dst, opts):
    """The specification ``spec(src, dst, opts, x, rand) -> SpecOut`` of converting ``src`` to ``dst``
    (golden format objects) under ``opts`` (ProveOptions); raises :class:`NoSpecification`."""
    decode, encode = _part(src, "decode"), _part(dst, "encode")
    to_ieee = family(dst) == "ieee"
    signed_float = getattr(src, "kind", None) == "float" and getattr(src, "signed", True)

    def spec(src, dst, opts, x, rand=None):
        v = decode(src, x, opts)
        if to_ieee:
            # a NaN keeps its sign bit (README); a family whose Exact carries no sign: the pattern's top bit
            sign = getattr(v, "sign", None)
            if sign is None and signed_float:
                sign = z3.Extract(src.width - 1, src.width - 1, x) == 1
            return encode(dst, v, opts, rand, nan_sign=sign)
        return encode(dst, v, opts, rand)
    spec.__name__ = f"spec_{src.name}_to_{dst.name}"
    return spec
