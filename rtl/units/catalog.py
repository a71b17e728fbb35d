"""The units fmtforge ships, registered with their options (the one place their defaults are written)."""

from fmtforge.golden import MODES

from .qmac import DSP_CHOICES, TYPES as QMAC_TYPES
from .registry import Option, Unit, register
from .requant import MODES as REQUANT_MODES

__all__ = []

_STAGES = "0: combinational (ports i, o); N >= 1: pipelined, N register stages"


def _convert(src, dst, rounding, saturate, flags, rand_bits, stages, ftz, daz):
    from .convert import make_converter
    return make_converter(src, dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits,
                          stages=stages, ftz=ftz, daz=daz)


register(Unit(
    name="convert",
    summary="any-to-any format converter, equal to `golden.convert` bit for bit",
    description="Convert bits of one format to another, equal to golden.convert bit for bit (every rounding "
                "mode, saturation, IEEE flags). Formats: see `fmtforge list`; parametric names too.",
    build=_convert,
    options=(
        Option("src", "format", "source format (see `fmtforge list`)", metavar="S"),
        Option("dst", "format", "destination format", metavar="D"),
        Option("rounding", "choice", "rounding mode", "rne", choices=MODES, metavar="M"),
        Option("saturate", "bool", "overflow and infinities give +-max", False),
        Option("flags", "bool", "add a 5-bit flags port in the RISC-V fflags layout (NX bit 0 .. NV bit 4)", False),
        Option("rand_bits", "int", "width of the rand port for stochastic rounding", 16, range=(1, 32),
               metavar="R"),
        Option("stages", "int", _STAGES + " behind valid/ready streams", 0, range=(0, 8), metavar="N"),
        Option("ftz", "bool", "flush to zero: results that would be subnormal give +-0, raising UF and NX "
               "(float destinations)", False),
        Option("daz", "bool", "denormals are zero: subnormal inputs read as +-0 (float sources)", False),
    ),
    examples=(
        dict(src="fp32", dst="bf16"),
        dict(src="bf16", dst="fp32"),
        dict(src="fp32", dst="fp8_e4m3", saturate=True),
        dict(src="fp32", dst="fp8_e5m2"),
        dict(src="fp16", dst="fp32"),
        dict(src="fp32", dst="int8"),
        dict(src="nf4", dst="bf16"),
        dict(src="fp32", dst="bf16", rounding="stochastic", flags=True, stages=2),
        dict(src="posit16", dst="fp32"),
        dict(src="fp32", dst="posit16"),
    ),
))


def _posit_decode(n, es, stages):
    from fmtforge import golden
    from .posit_decode import PositDecoder
    return PositDecoder(golden.posit(n, es), stages=stages)


register(Unit(
    name="posit-decode",
    summary="posit(n, es) decoder: sign, NaR, zero, scale, significand",
    description="Decode posit(n, es) bits into a sign, NaR and zero flags, the scale k * 2**es + e (signed) "
                "and the significand (hidden bit on top, fraction left-aligned).",
    build=_posit_decode,
    options=(
        Option("n", "int", "posit width", range=(3, 64), metavar="N"),
        Option("es", "int", "exponent bits (2: the 2022 standard)", 2, range=(0, 4), metavar="ES"),
        Option("stages", "int", "output register stages (latency; ports clk, rst)", 0, range=(0, 8),
               metavar="N"),
    ),
    examples=(dict(n=16, es=2), dict(n=32, es=2)),
))


def _qmac(lanes, a_type, w_type, out_type, acc_bits, per_channel, rounding, requant_cycles, dsp):
    from .qmac import QMac
    return QMac(lanes=lanes, a_type=a_type, w_type=w_type, out_type=out_type, acc_bits=acc_bits,
                per_channel=per_channel, rounding=rounding, requant_cycles=requant_cycles, dsp=dsp)


register(Unit(
    name="qmac",
    summary="INT8 affine MAC + requantize (Jacob et al. 2018), pipelined streams, N MACs per cycle",
    description="q3 = Z3 + M * sum (a - Za)(w - Zw) (+ bias), M = M0 * 2**(shift - 31), gemmlowp or TFLite "
                "single-rounding requantization; N lanes, one beat per cycle.",
    build=_qmac,
    options=(
        Option("lanes", "int", "multipliers per beat", range=(1, 64), metavar="N"),
        Option("a_type", "choice", "activations", "int8", choices=QMAC_TYPES, metavar="T"),
        Option("w_type", "choice", "weights", "int8", choices=QMAC_TYPES, metavar="T"),
        Option("out_type", "choice", "results", "int8", choices=QMAC_TYPES, metavar="T"),
        Option("acc_bits", "int", "accumulator width", 32, range=(16, 32), metavar="B"),
        Option("per_channel", "bool", "bias, M0, shift come with each dot product", False),
        Option("rounding", "choice", "requantization: gemmlowp (TFLite default) or single (TFLite "
               "single-rounding)", "gemmlowp", choices=REQUANT_MODES, metavar="R"),
        Option("requant_cycles", "int", "1: pipelined requantizer, a result per cycle; N >= 2: multiply by M0 "
               "ceil(31/N) bits per cycle, one result per N cycles (shorter dot products back-pressure)", 1,
               range=(1, 32), metavar="N"),
        Option("dsp", "choice", "lane multipliers: infer (a registered multiply, mapped by synthesis) or ecp5 "
               "(instantiated MULT18X18D blocks holding the operand and product registers; ECP5 only)", "infer",
               choices=DSP_CHOICES, metavar="D"),
    ),
    examples=(dict(lanes=1), dict(lanes=4), dict(lanes=16, a_type="uint8", per_channel=True),
              dict(lanes=1, requant_cycles=8), dict(lanes=4, requant_cycles=8),
              dict(lanes=4, requant_cycles=32, dsp="ecp5")),
    targets=lambda options: ("ecp5",) if options.get("dsp") == "ecp5" else None,
    docs="docs/qmac.md",
))
from . import catalog_mx  # noqa: E402,F401  (OCP MX and NVFP4 units)
from . import catalog_blocks  # noqa: E402,F401  (w4-dequantize, bfp-encode)
from . import catalog_dot  # noqa: E402,F401  (dot)
from . import catalog_mx_dot  # noqa: E402,F401  (mx-dot)
