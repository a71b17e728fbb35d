"""Block-format units (issue 15, items 4 and 5): the 4-bit weight dequantizer and the MSFP-style encoder."""

from fmtforge.golden.block.weights import CODE_TYPES, ZERO_MODES

from .bfp_encode import ROUNDINGS as BFP_ROUNDINGS, SOURCES as BFP_SOURCES
from .registry import Option, Unit, register
from .w4_dequant import OUT_FORMATS, SCALE_FORMATS

__all__ = []


def _w4(lanes, group, codes, zero, scale, out, saturate):
    from .w4_dequant import W4Dequantize, check_w4
    check_w4(codes, zero, scale, out, saturate, lanes=lanes, group=group)
    return W4Dequantize(lanes=lanes, group=group, codes=codes, zero=zero, scale=scale, out=out, saturate=saturate)


register(Unit(
    name="w4-dequantize",
    summary="4-bit weights (int4/uint4/uint3 minus a zero point, or NF4) times the group's scale -> fp16/bf16, "
            "rounded once, streaming",
    description="value = RNE((q - Z) * S) (or NF4 level * absmax) from the exact product, as "
                "golden.block.weights.dequantize_bits: GPTQ/AWQ W4A16, MLC q4f16/q3f16, bitsandbytes NF4. "
                "N codes per beat; the group's scale (and zero point) is read on its first beat.",
    build=_w4,
    options=(
        Option("lanes", "int", "codes per beat", 8, range=(1, 64), metavar="N"),
        Option("group", "int", "codes per scale, a multiple of lanes (32, 64, 128; q3f16 40)", 128,
               range=(1, 4096), metavar="G"),
        Option("codes", "choice", "code type", "uint4", choices=tuple(CODE_TYPES), metavar="C"),
        Option("zero", "choice", "zero point: none, group (one per group, on the stream), gptq (2**(bits-1)), "
               "mlc (2**(bits-1) - 1)", "none", choices=ZERO_MODES, metavar="Z"),
        Option("scale", "choice", "scale format", "fp16", choices=SCALE_FORMATS, metavar="F"),
        Option("out", "choice", "result format", "fp16", choices=OUT_FORMATS, metavar="F"),
        Option("saturate", "bool", "overflow and infinite scales give +-max, not +-inf", False),
    ),
    examples=(
        dict(lanes=8, group=128, codes="uint4", zero="group"),
        dict(lanes=8, group=32, codes="int4", scale="bf16", out="bf16"),
        dict(lanes=4, group=64, codes="nf4", scale="fp32", out="bf16"),
    ),
    docs="docs/weights.md",
))


def _bfp(lanes, block, src, man_bits, rounding):
    from .bfp_encode import BfpEncode, check_bfp
    check_bfp(src, man_bits, rounding, lanes=lanes, block=block)
    return BfpEncode(lanes=lanes, block=block, src=src, man_bits=man_bits, rounding=rounding)


register(Unit(
    name="bfp-encode",
    summary="MSFP12/MSFP16-style block floating point encoder: a shared 8-bit exponent per block, streaming",
    description="bf16 or fp32 elements in, N per beat; per block of B (16) one biased shared exponent "
                "floor(log2(amax)) + 127 and B sign-magnitude mantissas out, as golden.block.bfp.msfp_encode_bits "
                "(man_bits 3: MSFP12, 7: MSFP16; truncation or RNE).",
    build=_bfp,
    options=(
        Option("lanes", "int", "elements per beat", 4, range=(1, 64), metavar="N"),
        Option("block", "int", "elements per shared exponent, a multiple of lanes", 16, range=(1, 256),
               metavar="B"),
        Option("src", "choice", "element format", "fp32", choices=BFP_SOURCES, metavar="S"),
        Option("man_bits", "int", "magnitude bits per element (3: MSFP12, 7: MSFP16)", 7, range=(1, 15),
               metavar="M"),
        Option("rounding", "choice", "rtz (truncation, MSFP's) or rne (saturating)", "rtz", choices=BFP_ROUNDINGS,
               metavar="R"),
    ),
    examples=(
        dict(lanes=4, src="fp32", man_bits=7),
        dict(lanes=16, src="bf16", man_bits=3, rounding="rne"),
    ),
    docs="docs/bfp.md",
))
