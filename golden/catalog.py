"""Named formats: one instance each, shared by the golden models, the generators and the CLI."""

from .codebook import Codebook
from .integer import Integer
from .minifloat import Minifloat
from .posit import Posit
from .scale import PowerOfTwo

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
CFLOAT8_1_4_3 = Minifloat(name="cfloat8_1_4_3", exp_bits=4, man_bits=3, bias=7, specials="none")
CFLOAT8_1_5_2 = Minifloat(name="cfloat8_1_5_2", exp_bits=5, man_bits=2, bias=15, specials="none")
E8M0 = PowerOfTwo(name="e8m0", exp_bits=8, bias=127)
POSIT8 = Posit(name="posit8", n=8, es=2)
POSIT16 = Posit(name="posit16", n=16, es=2)
POSIT32 = Posit(name="posit32", n=32, es=2)
POSIT64 = Posit(name="posit64", n=64, es=2)
INT8 = Integer(name="int8", bits=8)
UINT8 = Integer(name="uint8", bits=8, signed=False)
INT4 = Integer(name="int4", bits=4)
UINT4 = Integer(name="uint4", bits=4, signed=False)
INT16 = Integer(name="int16", bits=16)
INT32 = Integer(name="int32", bits=32)
#: QLoRA NormalFloat: the 16 levels as QLoRA publishes them (float32 values), codes 0..15 in order.
NF4 = Codebook(name="nf4", levels=[
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0])

CATALOG = {f.name: f for f in (
    FP64, FP32, FP16, BF16, TF32, FP24, PXR24, X87,
    FP8_E4M3, FP8_E5M2, FP8_E4M3FNUZ, FP8_E5M2FNUZ, FP6_E2M3, FP6_E3M2, FP4_E2M1, CFLOAT8_1_4_3, CFLOAT8_1_5_2,
    E8M0, POSIT8, POSIT16, POSIT32, POSIT64, INT8, UINT8, INT4, UINT4, INT16, INT32, NF4,
)}


def names():
    """Names of the catalog's formats, in catalog order."""
    return list(CATALOG)


_PARAMETRIC = {
    # name pattern -> constructor; the parameters are validated by the constructors
    r"cfloat8_1_([45])_([23])_b(\d+)": lambda e, m, b: _cfloat8(int(e), int(m), int(b)),
    r"posit(\d+)_es(\d+)": lambda n, es: Posit(n=int(n), es=int(es)),
}


def _cfloat8(e, m, bias):
    from . import cfloat8
    return cfloat8(exp_bits=e, man_bits=m, bias=bias)


def lookup(name):
    """The format called ``name``: a catalog name, or a parametric one -- ``cfloat8_1_4_3_b<bias>``,
    ``cfloat8_1_5_2_b<bias>`` (bias 0..63), ``posit<n>_es<es>`` -- (a format object is returned unchanged)."""
    import re
    from .base import Format
    if isinstance(name, Format):
        return name
    if isinstance(name, str):
        if name in CATALOG:
            return CATALOG[name]
        for pattern, make in _PARAMETRIC.items():
            found = re.fullmatch(pattern, name)
            if found:
                fmt = make(*found.groups())
                return fmt
    raise ValueError(f"unknown format {name!r}; known formats: {', '.join(CATALOG)}, "
                     "cfloat8_1_4_3_b<bias>, cfloat8_1_5_2_b<bias>, posit<n>_es<es>")
