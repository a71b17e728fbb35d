"""The units' command-line options, shared by `fmtforge generate` and `fmtforge synth`."""

import argparse

import golden
from golden import MODES

__all__ = ["CliError", "add_unit_parsers", "unit_options"]


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""

# argparse attributes that are not unit options
NOT_OPTIONS = {"command", "unit", "output", "name", "func", "target", "seed", "output_dir", "json"}


def _format(name):
    try:
        return golden.lookup(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_unit_parsers(units):
    """Add one sub-parser per unit kind to ``units`` (an argparse subparsers object); returns them."""
    c = units.add_parser("convert", help="format converter (combinational: ports i, o; or pipelined streams)",
                         description="Convert bits of one format to another, equal to golden.convert bit for bit. "
                         "Formats: see `fmtforge list`; also cfloat8_1_4_3_b<bias>, cfloat8_1_5_2_b<bias>.")
    c.add_argument("--src", required=True, type=_format, help="source format (see `fmtforge list`)")
    c.add_argument("--dst", required=True, type=_format, help="destination format")
    c.add_argument("--rounding", default="rne", choices=MODES, help="rounding mode (default: rne)")
    c.add_argument("--saturate", action="store_true", help="overflow and infinities give +-max")
    c.add_argument("--flags", action="store_true", help="add a 4-bit flags port: NV, OF, UF, NX (bit 0 up)")
    c.add_argument("--rand-bits", type=int, default=16, help="width of the rand port for stochastic rounding")
    c.add_argument("--stages", type=int, default=0,
                   help="0: combinational (ports i, o); N >= 1: pipelined, N register stages, stream ports")
    pd = units.add_parser("posit-decode", help="posit decoder (ports i, o; o = sig, scale, sign, is_zero, is_nar)",
                          description="Decode posit(n, es) bits into a sign, NaR and zero flags, the scale "
                          "k * 2**es + e (signed) and the significand (hidden bit on top, fraction left-aligned).")
    pd.add_argument("--n", type=int, required=True, help="posit width, 3..64")
    pd.add_argument("--es", type=int, default=2, help="exponent bits, 0..4 (default 2, the 2022 standard)")
    pd.add_argument("--stages", type=int, default=0, help="output register stages (latency; ports clk, rst)")
    qm = units.add_parser("qmac", help="INT8 affine MAC / requantize unit (stream ports; docs/qmac.md)",
                          description="q3 = Z3 + M * sum (a - Za)(w - Zw) (+ bias), M = M0 * 2**(shift - 31), "
                          "gemmlowp or TFLite single-rounding requantization; N lanes, one beat per cycle.")
    qm.add_argument("--lanes", type=int, required=True, help="multipliers per beat, 1..64")
    qm.add_argument("--a-type", default="int8", choices=["int8", "uint8"], help="activations (default int8)")
    qm.add_argument("--w-type", default="int8", choices=["int8", "uint8"], help="weights (default int8)")
    qm.add_argument("--out-type", default="int8", choices=["int8", "uint8"], help="results (default int8)")
    qm.add_argument("--acc-bits", type=int, default=32, help="accumulator width, 16..32 (default 32)")
    qm.add_argument("--per-channel", action="store_true", help="bias, M0, shift come with each dot product")
    qm.add_argument("--rounding", default="gemmlowp", choices=["gemmlowp", "single"],
                    help="requantization: gemmlowp (TFLite default) or single (TFLite single-rounding)")
    return [c, pd, qm]


def unit_options(args):
    """The unit's constructor options from parsed arguments."""
    return {k: v for k, v in vars(args).items() if k not in NOT_OPTIONS}
