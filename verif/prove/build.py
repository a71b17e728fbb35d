"""What a proof is made of before any solver runs: its options checked, the converter's Verilog generated as
``fmtforge generate convert`` writes it, and the command line that reproduces it (run, stages and matrix share
these; none of them imports another)."""

import shlex

from .options import TININESS, ProveOptions

__all__ = ["build_verilog", "command_line", "make_options"]


def make_options(*, rounding="rne", saturate=False, flags=False, ftz=False, daz=False, tininess="after",
                 rand_bits=16):
    if tininess not in TININESS:
        raise ValueError(f"tininess must be one of {', '.join(TININESS)}, not {tininess!r}")
    return ProveOptions(rounding=rounding, saturate=bool(saturate), flags=bool(flags), ftz=bool(ftz),
                        daz=bool(daz), tininess=tininess, rand_bits=rand_bits if rounding == "stochastic" else 0)


def _unit_options(src, dst, opts, stages):
    """The registry options of the converter; ``tininess`` only where the converter has that option."""
    from fmtforge.rtl.units.registry import UNITS
    options = dict(src=src.name, dst=dst.name, rounding=opts.rounding, saturate=opts.saturate, flags=opts.flags,
                   stages=stages, ftz=opts.ftz, daz=opts.daz)
    if opts.rounding == "stochastic":
        options["rand_bits"] = opts.rand_bits
    if any(o.name == "tininess" for o in UNITS["convert"].options):
        options["tininess"] = opts.tininess
    return options


def build_verilog(src, dst, opts, stages=0):
    """(Verilog text, module name) of the converter, made as ``fmtforge generate convert`` makes it."""
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.rtl.units.registry import build_unit
    component, name = build_unit("convert", **_unit_options(src, dst, opts, stages))
    return to_verilog(component, name), name


def command_line(src, dst, opts, stages=0, verilog=None, top=None):
    """The ``fmtforge prove convert`` command line of a proof (reported with counterexamples)."""
    words = ["fmtforge", "prove", "convert", "--src", src, "--dst", dst]
    if opts.rounding != "rne":
        words += ["--rounding", opts.rounding]
    words += [f"--{k}" for k in ("saturate", "flags", "ftz", "daz") if getattr(opts, k)]
    if opts.tininess != "after":
        words += ["--tininess", opts.tininess]
    if opts.rounding == "stochastic":
        words += ["--rand-bits", str(opts.rand_bits)]
    if stages:
        words += ["--stages", str(stages)]
    if verilog:
        words += ["--verilog", verilog, "--top", top]
    return " ".join(shlex.quote(w) for w in words)
