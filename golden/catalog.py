"""Named formats: one instance each, shared by the golden models, the generators and the CLI."""

from .minifloat import Minifloat

__all__ = ["CATALOG", "lookup", "names"]

FP64 = Minifloat(name="fp64", exp_bits=11, man_bits=52)
FP32 = Minifloat(name="fp32", exp_bits=8, man_bits=23)
FP16 = Minifloat(name="fp16", exp_bits=5, man_bits=10)
BF16 = Minifloat(name="bf16", exp_bits=8, man_bits=7)
TF32 = Minifloat(name="tf32", exp_bits=8, man_bits=10)
FP24 = Minifloat(name="fp24", exp_bits=7, man_bits=16)
PXR24 = Minifloat(name="pxr24", exp_bits=8, man_bits=15)
X87 = Minifloat(name="x87", exp_bits=15, man_bits=64, explicit_integer=True)
FP8_E4M3 = Minifloat(name="fp8_e4m3", exp_bits=4, man_bits=3, specials="fn")
FP8_E5M2 = Minifloat(name="fp8_e5m2", exp_bits=5, man_bits=2)
FP8_E4M3FNUZ = Minifloat(name="fp8_e4m3fnuz", exp_bits=4, man_bits=3, specials="fnuz")
FP8_E5M2FNUZ = Minifloat(name="fp8_e5m2fnuz", exp_bits=5, man_bits=2, specials="fnuz")
FP6_E2M3 = Minifloat(name="fp6_e2m3", exp_bits=2, man_bits=3, specials="none")
FP6_E3M2 = Minifloat(name="fp6_e3m2", exp_bits=3, man_bits=2, specials="none")
FP4_E2M1 = Minifloat(name="fp4_e2m1", exp_bits=2, man_bits=1, specials="none")

CATALOG = {f.name: f for f in (
    FP64, FP32, FP16, BF16, TF32, FP24, PXR24, X87,
    FP8_E4M3, FP8_E5M2, FP8_E4M3FNUZ, FP8_E5M2FNUZ, FP6_E2M3, FP6_E3M2, FP4_E2M1,
)}


def names():
    """Names of the catalog's formats, in catalog order."""
    return list(CATALOG)


def lookup(name):
    """The catalog format called ``name`` (a format object is returned unchanged)."""
    from .base import Format
    if isinstance(name, Format):
        return name
    try:
        return CATALOG[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown format {name!r}; known formats: {', '.join(CATALOG)}") from None
