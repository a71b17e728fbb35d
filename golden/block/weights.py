"""Low-bit weight quantization: W4A16 groups (GPTQ / AWQ), MLC-LLM's q4f16 / q3f16, absmax blocks (NF4, FP4)."""

import numpy as np

from ..validate import check_bool, check_int
from .common import BlockTensor, Scheme, as_blocks, check_block_size, check_finite, encode_ratio
from ..formats.catalog import lookup
from ..quant import round_quotient

__all__ = ["CODE_TYPES", "FP4_B64", "NF4_B64", "Q3F16", "Q4F16", "W4A16_G128", "W4A16_G128_ASYM", "W4A16_G32",
           "W4A16_G64", "ZERO_MODES", "Absmax", "GroupInt", "MLCGroup", "code_values", "dequantize_bits",
           "pack_int4", "pack_words", "unpack_int4", "unpack_words"]


# -- packing ------------------------------------------------------------------------------------------------
def _codes(codes, bits):
    c = np.asarray(codes)
    if c.dtype.kind not in "iu" or c.ndim == 0 or (c.size and (c.min() < 0 or c.max() >> bits)):
        raise ValueError(f"codes must be an array of integers in 0..{(1 << bits) - 1}")
    return c.astype(np.uint64)


def pack_int4(codes):
    """Two 4-bit codes per byte along the last axis, the first in the low nibble (GPTQ/AWQ byte order)."""
    c = _codes(codes, 4)
    if c.shape[-1] % 2:
        raise ValueError(f"pack_int4 needs an even-length last axis, not shape {c.shape}")
    return (c[..., 0::2] | (c[..., 1::2] << np.uint64(4))).astype(np.uint8)


def unpack_int4(packed):
    """Inverse of :func:`pack_int4`: uint8 codes, twice as many along the last axis."""
    p = _codes(packed, 8).astype(np.uint8)
    return np.stack([p & 0xF, p >> 4], axis=-1).reshape(p.shape[:-1] + (2 * p.shape[-1],))


def pack_words(codes, bits, word_bits=32):
    """``word_bits // bits`` codes per word along the last axis, code j at bits ``[j*bits, (j+1)*bits)``
    (MLC-LLM's uint32 storage: 8 4-bit or 10 3-bit codes per word). With 4 bits and little-endian words this
    is byte-for-byte :func:`pack_int4`."""
    bits = check_int("bits", bits, 1, 16)
    word_bits = check_int("word_bits", word_bits, bits, 64)
    per = word_bits // bits
    c = _codes(codes, bits)
    if c.shape[-1] % per:
        raise ValueError(f"pack_words needs a last axis that is a multiple of {per}, not shape {c.shape}")
    c = c.reshape(c.shape[:-1] + (c.shape[-1] // per, per))
    shifts = (np.arange(per, dtype=np.uint64) * np.uint64(bits))
    return np.bitwise_or.reduce(c << shifts, axis=-1).astype(np.dtype(f"uint{max(8, word_bits)}")
                                                               if word_bits in (8, 16, 32, 64) else np.uint64)


def unpack_words(words, bits, word_bits=32):
    """Inverse of :func:`pack_words`: uint8 codes."""
    bits = check_int("bits", bits, 1, 16)
    per = check_int("word_bits", word_bits, bits, 64) // bits
    w = np.asarray(words).astype(np.uint64)
    shifts = np.arange(per, dtype=np.uint64) * np.uint64(bits)
    c = (w[..., None] >> shifts) & np.uint64((1 << bits) - 1)
    return c.reshape(w.shape[:-1] + (w.shape[-1] * per,)).astype(np.uint8 if bits <= 8 else np.uint16)


# -- W4A16 --------------------------------------------------------------------------------------------------
class GroupInt(Scheme):
    """GPTQ/AWQ-style group quantization: ``bits``-bit unsigned codes, one fp16 scale (and zero point) per group
    of ``group_size`` weights along the last axis; activations stay fp16 (W4A16 with ``bits=4``).

    Parameters
    ----------
    bits : int, 2..8
    group_size : int (commonly 32, 64, 128)
    symmetric : bool
        Symmetric (GPTQ's ``sym=True``): zero point ``Z = 2**(bits-1)`` (8 for 4 bits), not stored, and
        ``S = fp16(2 * amax / (2**bits - 1))``. Asymmetric (GPTQ ``sym=False``, AWQ): the range is widened to
        include 0, ``S = fp16((max - min) / (2**bits - 1))``, ``Z = clamp(round(-min / S), 0, 2**bits - 1)``.
    name : str, optional

    Codes ``q = clamp(round(w / S) + Z, 0, 2**bits - 1)``, each quotient rounded exactly, half to even (as
    ``torch.round``); ``fp16(.)`` rounds the exact quotient to nearest even, saturating. A group whose scale
    is 0 (all zeros, or so small the fp16 scale underflows) takes ``S = 1.0`` and codes equal to ``Z``.
    Dequantization ``S * (q - Z)`` is exact in float64 (an fp16 kernel then rounds it to fp16).

    Layout: ``codes`` uint8, one per weight (pack with :func:`pack_int4`); ``scales`` float16;
    ``zero_points`` uint8 (asymmetric) or None.
    """

    __slots__ = ("name", "bits", "block_size", "symmetric", "kind")

    def __init__(self, *, bits=4, group_size=128, symmetric=True, name=None):
        bits = check_int("bits", bits, 2, 8)
        group_size = check_block_size(group_size)
        check_bool("symmetric", symmetric)
        name = name or f"w{bits}a16_g{group_size}" + ("" if symmetric else "_asym")
        self._init(name=name, bits=bits, block_size=group_size, symmetric=symmetric, kind="group")

    def _key(self):
        return (self.bits, self.block_size, self.symmetric)

    def __repr__(self):
        return (f"GroupInt(name={self.name!r}, bits={self.bits}, group_size={self.block_size}, "
                f"symmetric={self.symmetric})")

    def quantize(self, w):
        """Encode the last axis of ``w`` (a multiple of ``group_size`` long) as a :class:`BlockTensor`."""
        wb = as_blocks(w, self.block_size, self.name)
        check_finite(wb, self.name)
        fp16, top = lookup("fp16"), (1 << self.bits) - 1
        lo, hi = np.min(wb, axis=-1, initial=0.0), np.max(wb, axis=-1, initial=0.0)  # widened to include 0
        with np.errstate(over="ignore"):  # a span beyond float64 is inf: the fp16 scale saturates anyway
            span = 2 * np.maximum(-lo, hi) if self.symmetric else hi - lo
        s = fp16.decode(encode_ratio(fp16, span, float(top)))
        s = np.where(s == 0, 1.0, s)
        if self.symmetric:
            z = np.full(s.shape, 1 << (self.bits - 1), dtype=np.int64)
        else:
            z = np.clip(round_quotient(-lo, s), 0, top).astype(np.int64)
        q = np.clip(round_quotient(wb, s[..., None]) + z[..., None], 0, top).astype(np.uint8)
        return BlockTensor(self, q.reshape(np.shape(w)), s.astype(np.float16),
                           None if self.symmetric else z.astype(np.uint8))

    def dequantize(self, t):
        """float64 values ``S * (q - Z)`` (exact)."""
        self._check(t)
        z = (1 << (self.bits - 1)) if self.symmetric else t.zero_points.astype(np.int64)[..., None]
        q = t.codes.astype(np.int64).reshape(t.scales.shape + (self.block_size,))
        return (t.scales.astype(np.float64)[..., None] * (q - z)).reshape(t.codes.shape)


W4A16_G32 = GroupInt(group_size=32)
W4A16_G64 = GroupInt(group_size=64)
W4A16_G128 = GroupInt(group_size=128)
W4A16_G128_ASYM = GroupInt(group_size=128, symmetric=False)


# -- MLC-LLM q4f16 / q3f16 --------------------------------------------------------------------------------------
class MLCGroup(Scheme):
    """MLC-LLM's symmetric group quantization ``q{bits}f16`` (``group-quant``), computed in fp16.

    With ``K = 2**(bits-1) - 1`` (7 for 4 bits, 3 for 3 bits) and every operation rounded to fp16 (nearest
    even), as MLC-LLM's ``GroupQuantize`` computes it in the model dtype::

        w     = fp16(x)                          (ValueError if x is not finite in fp16)
        S     = fp16(max|w| / K)                 one scale per group
        q     = clamp(round_half_even(fp16(fp16(w / S) + K)), 0, 2K)
        value = fp16((q - K) * S)

    A group with ``S = 0`` (all zeros, or underflow) gets codes ``K`` (value 0). q4f16_1 uses groups of 32,
    q3f16_1 groups of 40 (codes stored 8 resp. 10 per uint32: :func:`pack_words`).

    Layout: ``codes`` uint8 in 0..2K, ``scales`` float16.
    """

    __slots__ = ("name", "bits", "block_size", "kind")

    def __init__(self, *, bits=4, group_size=32, name=None):
        bits = check_int("bits", bits, 2, 8)
        group_size = check_block_size(group_size)
        self._init(name=name or f"q{bits}f16_g{group_size}", bits=bits, block_size=group_size, kind="group")

    def _key(self):
        return (self.bits, self.block_size)

    def __repr__(self):
        return f"MLCGroup(name={self.name!r}, bits={self.bits}, group_size={self.block_size})"

    @property
    def max_int(self):
        return (1 << (self.bits - 1)) - 1

    def quantize(self, x):
        """Encode the last axis of ``x`` (a multiple of ``group_size`` long) as a :class:`BlockTensor`."""
        fp16, k = lookup("fp16"), self.max_int
        xb = as_blocks(x, self.block_size, self.name)
        check_finite(xb, self.name)
        w = fp16.decode(fp16.encode(xb, "rne", saturate=False))
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{self.name} computes in fp16: x must be finite in fp16 (|x| < 65520)")
        s = fp16.decode(encode_ratio(fp16, np.max(np.abs(w), axis=-1, initial=0.0), float(k)))
        safe = np.where(s == 0, 1.0, s)[..., None]
        t = fp16.decode(encode_ratio(fp16, w, safe))
        u = fp16.decode(fp16.encode(t + k, "rne", saturate=True))
        q = np.where(s[..., None] == 0, k, np.clip(np.rint(u), 0, 2 * k)).astype(np.uint8)
        return BlockTensor(self, q.reshape(np.shape(x)), s.astype(np.float16))

    def dequantize(self, t):
        """Values ``fp16((q - K) * S)``, as float64."""
        self._check(t)
        fp16 = lookup("fp16")
        q = t.codes.astype(np.int64).reshape(t.scales.shape + (self.block_size,))
        exact = (q - self.max_int) * t.scales.astype(np.float64)[..., None]  # exact: 4-bit times 11-bit
        return fp16.decode(fp16.encode(exact, "rne", saturate=True)).reshape(t.codes.shape)


Q4F16 = MLCGroup(bits=4, group_size=32, name="q4f16_1")
Q3F16 = MLCGroup(bits=3, group_size=40, name="q3f16_1")


# -- absmax blocks: NF4, FP4 ---------------------------------------------------------------------------------
class Absmax(Scheme):
    """Block-wise absmax quantization to a 4-bit element format (bitsandbytes' NF4 and FP4 layouts).

    Parameters
    ----------
    element : str
        "nf4" (QLoRA NormalFloat, levels in [-1, 1]) or "fp4_e2m1" (OCP E2M1, max 6), or another catalog
        format of at most 8 bits.
    block_size : int
        64 for QLoRA's NF4.
    name : str, optional

    Per block: scale ``S = fp32(amax / element_max)`` (element_max 1 for NF4: ``S`` is the absmax itself,
    stored in fp32 as bitsandbytes does; 6 for E2M1), the exact quotient rounded to nearest even. Each element
    is the element format's nearest code to the exact quotient ``x / S`` (NF4: ties toward -inf, as
    bitsandbytes; E2M1: ties to even), saturating at the ends. A block with ``S = 0`` (all zeros, or amax
    below fp32's range) gets the code of 0. Dequantization ``level * S`` is exact in float64. No double
    quantization of the scales.

    Layout: ``codes`` uint8 (4-bit codes: pack with :func:`pack_int4`), ``scales`` float32.
    """

    __slots__ = ("name", "element", "block_size", "elem", "kind")

    def __init__(self, *, element="nf4", block_size=64, name=None):
        try:
            elem = lookup(element)
        except ValueError:
            elem = None
        if elem is None or elem.width > 8 or elem.kind not in ("codebook", "float"):
            raise ValueError(f"element must name a float or codebook format of at most 8 bits (nf4, fp4_e2m1, "
                             f"...), not {element!r}")
        block_size = check_block_size(block_size)
        self._init(name=name or f"{elem.name}_b{block_size}", element=elem.name, block_size=block_size,
                   elem=elem, kind="absmax")

    def _key(self):
        return (self.element, self.block_size)

    def __repr__(self):
        return f"Absmax(name={self.name!r}, element={self.element!r}, block_size={self.block_size})"

    def quantize(self, x):
        """Encode the last axis of ``x`` (a multiple of ``block_size`` long) as a :class:`BlockTensor`."""
        xb = as_blocks(x, self.block_size, self.name)
        check_finite(xb, self.name)
        fp32 = lookup("fp32")
        amax = np.max(np.abs(xb), axis=-1, initial=0.0)
        s = fp32.decode(encode_ratio(fp32, amax, float(self.elem.max)))
        safe = np.where(s == 0, 1.0, s)[..., None]
        codes = encode_ratio(self.elem, np.where(s[..., None] == 0, 0.0, xb), safe)
        return BlockTensor(self, codes.astype(np.uint8).reshape(np.shape(x)), s.astype(np.float32))

    def dequantize(self, t):
        """float64 values ``level * S`` (exact)."""
        self._check(t)
        v = self.elem.decode(t.codes).reshape(t.scales.shape + (self.block_size,))
        return (v * t.scales.astype(np.float64)[..., None]).reshape(t.codes.shape)


NF4_B64 = Absmax(element="nf4", block_size=64)
FP4_B64 = Absmax(element="fp4_e2m1", block_size=64)


# -- dequantization as hardware computes it: bit patterns in, bit patterns out ------------------------------
#: Code types of :func:`dequantize_bits`: name -> (bits, signed); "nf4" indexes the NF4 levels.
CODE_TYPES = {"uint4": (4, False), "int4": (4, True), "uint3": (3, False), "nf4": (4, None)}
#: Zero points of :func:`dequantize_bits`: "none" (0), "group" (one per group, given), "gptq" (2**(bits-1),
#: GPTQ's symmetric Z), "mlc" (2**(bits-1) - 1, MLC-LLM's K).
ZERO_MODES = ("none", "group", "gptq", "mlc")


def code_values(codes, codes_type="uint4", zero="none", zero_points=None):
    """Exact float64 values the codes stand for before scaling: ``q - Z`` (integers), or the NF4 level."""
    from ..validate import check_choice
    check_choice("codes_type", codes_type, tuple(CODE_TYPES))
    check_choice("zero", zero, ZERO_MODES)
    bits, signed = CODE_TYPES[codes_type]
    c = _codes(codes, bits).astype(np.int64)
    if codes_type == "nf4":
        if zero != "none":
            raise ValueError(f"nf4 codes take no zero point: zero must be 'none', not {zero!r}")
        return lookup("nf4").decode(c)
    if signed:
        if zero != "none":
            raise ValueError(f"int4 codes are signed already: zero must be 'none', not {zero!r}")
        return np.where(c >> (bits - 1), c - (1 << bits), c).astype(np.float64)
    if zero == "group":
        if zero_points is None:
            raise ValueError("zero='group' needs zero_points (one per group)")
        z = _codes(zero_points, bits).astype(np.int64)
    else:
        z = {"none": 0, "gptq": 1 << (bits - 1), "mlc": (1 << (bits - 1)) - 1}[zero]
    return (c - z).astype(np.float64)


def dequantize_bits(codes, scales, *, group_size, codes_type="uint4", zero="none", zero_points=None,
                    scale_format="fp16", out_format="fp16", saturate=False):
    """Bit patterns of ``out_format``: each code's value (``q - Z`` or its NF4 level) times its group's scale,
    rounded **once**, to nearest even, from the exact product (what the ``w4-dequantize`` unit computes).

    Parameters
    ----------
    codes : integer array, last axis a multiple of ``group_size``
        4-bit (3-bit for uint3) code patterns; int4 codes are two's complement.
    scales : integer array of ``scale_format`` bit patterns, shape ``codes.shape[:-1] + (groups,)``
    group_size : int
    codes_type, zero, zero_points : see :data:`CODE_TYPES`, :data:`ZERO_MODES`; ``zero_points`` (shape of
        ``scales``) only with ``zero="group"``.
    scale_format, out_format : str
        "fp16", "bf16" (or "fp32" for the scale: bitsandbytes' absmax).
    saturate : bool
        Overflow and infinite scales give +-max instead of +-inf (MLC-LLM's q4f16/q3f16 golden saturates).

    The product is exact in float64 (at most 24 x 24 significant bits), so the one rounding is
    ``out_format.encode``'s. IEEE rules for the rest: the sign of a zero product is the XOR of the signs
    (``d = 0`` counts as +0), a NaN scale or ``inf * 0`` gives the destination's quiet NaN ``0x7e00`` (fp16)
    / ``0x7fc0`` (bf16), positive, with no payload; an infinite scale gives +-inf (+-max when saturating);
    subnormal scales and results are exact values like any other.
    """
    group_size = check_block_size(group_size)
    sfmt, ofmt = lookup(scale_format), lookup(out_format)
    zp = None
    if zero == "group" and zero_points is not None:
        zp = np.repeat(np.asarray(zero_points), group_size, axis=-1)  # one per code
    d = code_values(codes, codes_type, zero, zp)
    s = np.asarray(sfmt.decode(np.asarray(scales).astype(np.uint64)), dtype=np.float64)
    if d.ndim == 0 or d.shape[-1] % group_size or s.shape != d.shape[:-1] + (d.shape[-1] // group_size,):
        raise ValueError(f"codes of shape {d.shape} in groups of {group_size} need scales of shape "
                         f"{d.shape[:-1] + (d.shape[-1] // group_size,) if d.ndim else None}, not {s.shape}")
    with np.errstate(invalid="ignore"):
        prod = np.repeat(s, group_size, axis=-1) * d
    bits = np.asarray(ofmt.encode(prod, "rne", saturate)).astype(np.uint64)
    qnan = ((1 << ofmt.exp_bits) - 1) << ofmt.man_bits | 1 << (ofmt.man_bits - 1)
    return np.where(np.isnan(prod), np.uint64(qnan), bits).astype(ofmt.dtype)
