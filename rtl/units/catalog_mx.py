"""The block-format units (OCP MX and NVFP4), registered with their options."""

from fmtforge.golden.block import SCALE_MODES
from fmtforge.golden.block.mx import ELEMENTS
from fmtforge.golden.block.nvfp4 import NVFP4_SCALE_ROUNDING

from .mx_dequant import DESTINATIONS, SCHEMES as DQ_SCHEMES
from .mx_quant import SCHEMES, SOURCES
from .registry import Option, Unit, register

__all__ = []

_SCHEME = Option("scheme", "choice", "mx (OCP MX v1.0: E8M0 scale) or nvfp4 (16 fp4_e2m1, E4M3 scale, fp32 tensor "
                 "scale port)", "mx", choices=SCHEMES, metavar="S")
_ELEMENT = Option("element", "choice", "element format (default fp8_e4m3; nvfp4: fp4_e2m1)", None, choices=ELEMENTS,
                  metavar="E")
_LANES = Option("lanes", "int", "elements per beat", 4, range=(1, 64), metavar="L")


def _quantize(scheme, element, src, block_size, lanes, scale_mode, scale_rounding):
    from .mx_quant import MXQuantize
    return MXQuantize(scheme=scheme, element=element, src=src, block_size=block_size, lanes=lanes,
                      scale_mode=scale_mode, scale_rounding=scale_rounding)


register(Unit(
    name="mx-quantize",
    summary="fp32/bf16 stream -> OCP MX blocks (E8M0 scale + elements) or NVFP4, double-buffered, L per beat",
    description="Blocks of 16, 32 or 64 fp32 or bf16 elements -> a shared scale and element codes, bit for bit "
                "golden.block.MX.quantize (scale rule: the spec's floor, or torchao's ceil, even, rceil) or "
                "golden.block.NVFP4.quantize.",
    build=_quantize,
    options=(
        _SCHEME, _ELEMENT,
        Option("src", "choice", "source elements", "fp32", choices=SOURCES, metavar="F"),
        Option("block_size", "int", "elements per block: 16, 32 or 64 (default 32; nvfp4: 16)", None,
               range=(16, 64), metavar="K"),
        _LANES,
        Option("scale_mode", "choice", "mx scale rule (default floor: MX v1.0 6.3)", None, choices=SCALE_MODES,
               metavar="M"),
        Option("scale_rounding", "choice", "nvfp4 block-scale rounding to E4M3 (default rne)", None,
               choices=NVFP4_SCALE_ROUNDING, metavar="R"),
    ),
    examples=(dict(), dict(scheme="nvfp4", lanes=4)),
    docs="docs/mx.md",
))


def _dequantize(scheme, element, dst, lanes):
    from .mx_dequant import MXDequantize
    return MXDequantize(scheme=scheme, element=element, dst=dst, lanes=lanes)


register(Unit(
    name="mx-dequantize",
    summary="OCP MX (E8M0) or NVFP4 (E4M3 x fp32) blocks -> fp32/bf16, exact products rounded once, L per beat",
    description="Element codes times their block's scale, rounded once (ties to even) into fp32 or bf16 with "
                "the destination's overflow and underflow rules, bit for bit golden.block.dequantize_to.",
    build=_dequantize,
    options=(
        Option("scheme", "choice", "mx or nvfp4 (then a tensor_scale port)", "mx", choices=DQ_SCHEMES,
               metavar="S"),
        _ELEMENT,
        Option("dst", "choice", "destination format", "fp32", choices=DESTINATIONS, metavar="D"),
        _LANES,
    ),
    examples=(dict(), dict(scheme="nvfp4", dst="bf16", lanes=8)),
    docs="docs/mx.md",
))
