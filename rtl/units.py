"""The units fmtforge generates: how each is built from its options, and the defaults ``make verilog`` writes."""

import golden

from .convert import make_converter
from .posit import PositDecoder

__all__ = ["DEFAULT_UNITS", "build_unit", "unit_kinds"]

#: (kind, options) of every unit ``make verilog`` writes.
DEFAULT_UNITS = [
    ("convert", dict(src="fp32", dst="bf16")),
    ("convert", dict(src="bf16", dst="fp32")),
    ("convert", dict(src="fp32", dst="fp8_e4m3", saturate=True)),
    ("convert", dict(src="fp32", dst="fp8_e5m2")),
    ("convert", dict(src="fp16", dst="fp32")),
    ("convert", dict(src="fp32", dst="int8")),
    ("convert", dict(src="nf4", dst="bf16")),
    ("convert", dict(src="fp32", dst="bf16", rounding="stochastic", flags=True, stages=2)),
    ("convert", dict(src="posit16", dst="fp32")),
    ("convert", dict(src="fp32", dst="posit16")),
    ("posit-decode", dict(n=16, es=2)),
    ("posit-decode", dict(n=32, es=2)),
    ("qmac", dict(lanes=1)),
    ("qmac", dict(lanes=4)),
    ("qmac", dict(lanes=16, a_type="uint8", per_channel=True)),
]


def _convert(src, dst, rounding="rne", saturate=False, flags=False, rand_bits=16, stages=0):
    c = make_converter(src, dst, rounding=rounding, saturate=saturate, flags=flags, rand_bits=rand_bits,
                       stages=stages)
    return c, c.name


def _posit_decode(n, es=2, stages=0):
    from .base_checks import check_posit_params
    check_posit_params(n, es)
    d = PositDecoder(golden.posit(n, es), stages=stages)
    return d, d.name


def _qmac(lanes, a_type="int8", w_type="int8", out_type="int8", acc_bits=32, per_channel=False, rounding="gemmlowp"):
    from .qmac import QMac
    q = QMac(lanes=lanes, a_type=a_type, w_type=w_type, out_type=out_type, acc_bits=acc_bits,
             per_channel=per_channel, rounding=rounding)
    return q, q.name


_BUILDERS = {
    "convert": (_convert, "format converter, any supported pair and rounding mode"),
    "posit-decode": (_posit_decode, "posit(n, es) decoder: sign, NaR, zero, scale, significand"),
    "qmac": (_qmac, "INT8 affine MAC + requantize (Jacob et al. 2018), pipelined, N lanes"),
}


def unit_kinds():
    return {k: doc for k, (_, doc) in _BUILDERS.items()}


def build_unit(kind, **options):
    """Build the component of unit ``kind``; returns ``(component, default module name)``."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown unit {kind!r}; known units: {', '.join(_BUILDERS)}")
    return _BUILDERS[kind][0](**options)
