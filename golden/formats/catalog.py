"""Named formats: one instance each, shared by the golden models, the generators and the CLI.

One name per format. :func:`lookup` turns every spelling of a format -- its catalog name, an alias users bring
from their frameworks (ml_dtypes / JAX, NumPy, the short ``e4m3``), a parametric name (``e3m4``,
``posit12_es3``, ``cfloat8_1_5_2_b20``) or an equal format object -- into the one catalog instance when the
catalog holds an equal format, so module names and reports spell it the same way whichever spelling came in.
"""

import re

from ..validate import check_int
from .codebook import Codebook
from .integer import Integer
from .minifloat import FP64, Minifloat
from .p3109 import P3109, check_p3109
from .posit import Posit
from .scale import PowerOfTwo

__all__ = ["ALIASES", "CATALOG", "cfloat8", "lookup", "minifloat", "names", "p3109", "posit"]

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
# ml_dtypes' other 8-bit floats, under their own names
FLOAT8_E3M4 = Minifloat(name="float8_e3m4", exp_bits=3, man_bits=4)  # IEEE-like: inf and NaN, bias 3
FLOAT8_E4M3 = Minifloat(name="float8_e4m3", exp_bits=4, man_bits=3)  # IEEE-like (not OCP's E4M3FN), bias 7
FLOAT8_E4M3B11FNUZ = Minifloat(name="float8_e4m3b11fnuz", exp_bits=4, man_bits=3, bias=11, specials="fnuz")
# IEEE P3109 (interim report): K8 P3 and P4 signed extended (the report's binary8p3se / binary8p4se), K8 P1
P3109_K8P1 = P3109(k=8, p=1)
P3109_K8P3 = P3109(k=8, p=3)
P3109_K8P4 = P3109(k=8, p=4)
P3109_K8P3_UNSIGNED = P3109(k=8, p=3, signed=False)
P3109_K8P4_UNSIGNED = P3109(k=8, p=4, signed=False)
POSIT8 = Posit(name="posit8", n=8, es=2)
POSIT16 = Posit(name="posit16", n=16, es=2)
POSIT32 = Posit(name="posit32", n=32, es=2)
POSIT64 = Posit(name="posit64", n=64, es=2)
INT8 = Integer(name="int8", bits=8)
UINT8 = Integer(name="uint8", bits=8, signed=False)
INT4 = Integer(name="int4", bits=4)
INT2 = Integer(name="int2", bits=2)  # the low-bit weight codes ml_dtypes names int2 / uint2
UINT2 = Integer(name="uint2", bits=2, signed=False)
UINT4 = Integer(name="uint4", bits=4, signed=False)
INT1 = Integer(name="int1", bits=1)  # ml_dtypes' int1: -1 and 0
UINT1 = Integer(name="uint1", bits=1, signed=False)
#: The OCP MX v1.0 INT8 element: two's complement 1.6 fixed point, q * 2**-6, encoded in -127..127 (0x80, -2,
#: decodes but is never produced, as golden.block's MXINT8 scheme and microxcaling clamp).
MXINT8 = Integer(name="mxint8", bits=8, frac_bits=6, symmetric=True)
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
    FLOAT8_E3M4, FLOAT8_E4M3, FLOAT8_E4M3B11FNUZ, P3109_K8P1, P3109_K8P3, P3109_K8P4, P3109_K8P3_UNSIGNED,
    P3109_K8P4_UNSIGNED,
    E8M0, POSIT8, POSIT16, POSIT32, POSIT64, INT8, UINT8, INT4, UINT4, INT2, UINT2, INT1, UINT1, INT16, INT32,
    MXINT8, NF4,
)}

#: Names users bring from other tools, each standing for one catalog format.
ALIASES = {
    # ml_dtypes / JAX
    "float8_e4m3fn": "fp8_e4m3", "float8_e5m2": "fp8_e5m2", "float8_e4m3fnuz": "fp8_e4m3fnuz",
    "float8_e5m2fnuz": "fp8_e5m2fnuz", "float8_e8m0fnu": "e8m0", "float6_e2m3fn": "fp6_e2m3",
    "float6_e3m2fn": "fp6_e3m2", "float4_e2m1fn": "fp4_e2m1", "bfloat16": "bf16",
    # NumPy
    "float16": "fp16", "float32": "fp32", "float64": "fp64", "half": "fp16", "single": "fp32", "double": "fp64",
    # the OCP FP8 short names
    "e4m3": "fp8_e4m3", "e5m2": "fp8_e5m2",
    # the short names an MX user means: OCP's FP6 and FP4 elements (the IEEE-policy shapes stay reachable by
    # their suffix: e2m1_ieee, e2m3_ieee, e3m2_ieee)
    "e2m1": "fp4_e2m1", "e2m3": "fp6_e2m3", "e3m2": "fp6_e3m2",
    # IEEE P3109's own names (binary<K>p<P> + signed/unsigned + extended/finite); its signed finite K8 formats
    # are the fnuz FP8s
    "binary8p3se": "p3109_k8p3", "binary8p4se": "p3109_k8p4", "binary8p1se": "p3109_k8p1",
    "binary8p3sf": "fp8_e5m2fnuz", "binary8p4sf": "fp8_e4m3fnuz", "p3109_k8p3_finite": "fp8_e5m2fnuz",
    "p3109_k8p4_finite": "fp8_e4m3fnuz",
    # gfloat's name for the MX INT8 element
    "ocp_int8": "mxint8",
}

_BY_KEY = {(type(f), f._key()): f for f in CATALOG.values()}
_POLICY_SUFFIX = r"(?:_(ieee|fn|fnuz|none))?"
_PARAMETRIC_HELP = ("e<E>m<M>[_b<bias>][_ieee|_fn|_fnuz|_none] (E 1..15, M 0..63), posit<n>_es<es> (n 3..64, es 0..4), "
                    "cfloat8_1_4_3_b<bias>, cfloat8_1_5_2_b<bias> (bias 0..63), "
                    "p3109_k<K>p<P>[_unsigned][_finite] or binary<K>p<P>{s|u}{e|f} (K 2..16, P 1..K-1 signed, "
                    "1..K unsigned)")


def names():
    """Names of the catalog's formats, in catalog order."""
    return list(CATALOG)


def canonical(fmt):
    """The catalog's instance equal to ``fmt`` (``fmt`` itself when the catalog has none)."""
    return _BY_KEY.get((type(fmt), fmt._key()), fmt)


def minifloat(**kwargs):
    """A parametric IEEE-style float (:class:`Minifloat`'s keywords), as the catalog's instance when it has
    an equal one: ``minifloat(exp_bits=5, man_bits=2)`` is ``FP8_E5M2``."""
    return canonical(Minifloat(**kwargs))


def posit(n, es=2):
    """posit(n, es), 3 <= n <= 64, 0 <= es <= 4 (the 2022 standard: es = 2)."""
    return canonical(Posit(n=n, es=es))


def p3109(k, p, signed=True, extended=True):
    """The IEEE P3109 format of width ``k`` (2..16) and precision ``p`` (1..k-1 signed, 1..k unsigned): a
    :class:`P3109`, or for the signed finite variant the equal ``fnuz`` :class:`Minifloat` (bias 2**(k-p-1)),
    as the catalog's instance when it holds it (``p3109(8, 4, extended=False)`` is ``fp8_e4m3fnuz``)."""
    k, p, signed, extended = check_p3109(k, p, signed, extended)
    if signed and not extended:
        return canonical(Minifloat(exp_bits=k - p, man_bits=p - 1, specials="fnuz"))
    return canonical(P3109(k=k, p=p, signed=signed, extended=extended))


def cfloat8(exp_bits=4, man_bits=None, bias=None):
    """Tesla CFloat8_1_4_3 (exp_bits=4, man_bits=3) or CFloat8_1_5_2 (exp_bits=5, man_bits=2) with a
    configurable 6-bit exponent bias (0..63; default 2**(exp_bits-1)-1): no inf, no NaN, subnormals."""
    if exp_bits not in (4, 5):
        raise ValueError(f"exp_bits must be 4 or 5 (CFloat8_1_4_3 or CFloat8_1_5_2), not {exp_bits!r}")
    if man_bits is None:
        man_bits = 7 - exp_bits
    if man_bits != 7 - exp_bits:
        raise ValueError(f"man_bits must be {7 - exp_bits} with exp_bits={exp_bits} (8 bits in all), not {man_bits!r}")
    if bias is None:
        bias = (1 << (exp_bits - 1)) - 1
    bias = check_int("bias", bias, 0, 63)
    return canonical(Minifloat(exp_bits=exp_bits, man_bits=man_bits, bias=bias, specials="none"))


def _parse(name):
    """The format a parametric name spells, or None."""
    found = re.fullmatch(r"e(\d+)m(\d+)(?:_b(-?\d+))?" + _POLICY_SUFFIX, name)
    if found:
        e, m, b, policy = found.groups()
        return Minifloat(exp_bits=int(e), man_bits=int(m), bias=None if b is None else int(b),
                         specials=policy or "ieee")
    found = re.fullmatch(r"p3109_k(\d+)p(\d+)(_unsigned)?(_finite)?", name)
    if found:
        return p3109(int(found[1]), int(found[2]), signed=not found[3], extended=not found[4])
    found = re.fullmatch(r"binary(\d+)p(\d+)([su])([ef])", name)
    if found:
        return p3109(int(found[1]), int(found[2]), signed=found[3] == "s", extended=found[4] == "e")
    found = re.fullmatch(r"posit(\d+)_es(\d+)", name)
    if found:
        return Posit(n=int(found[1]), es=int(found[2]))
    found = re.fullmatch(r"cfloat8_1_([45])_([23])_b(\d+)", name)
    if found:
        return cfloat8(exp_bits=int(found[1]), man_bits=int(found[2]), bias=int(found[3]))
    return None


def lookup(name):
    """The format called ``name``: a catalog name, an alias (:data:`ALIASES`), a parametric name
    (``e<E>m<M>[_b<bias>][_ieee|_fn|_fnuz|_none]``, ``posit<n>_es<es>``, ``cfloat8_1_4_3_b<bias>``,
    ``cfloat8_1_5_2_b<bias>``, ``p3109_k<K>p<P>[_unsigned][_finite]``, ``binary<K>p<P>{s|u}{e|f}``) or a format
    object; always the catalog's instance when it holds an equal format.

    Raises ValueError naming the parameter (``format``) and the spellings allowed.
    """
    from .base import Format
    if isinstance(name, Format):
        return canonical(name)
    if isinstance(name, str):
        if name in CATALOG:
            return CATALOG[name]
        if name in ALIASES:
            return CATALOG[ALIASES[name]]
        fmt = _parse(name)
        if fmt is not None:
            return canonical(fmt)
    raise ValueError(f"unknown format {name!r}; known formats: {', '.join(CATALOG)}; aliases: "
                     f"{', '.join(ALIASES)}; parametric names: {_PARAMETRIC_HELP}")
