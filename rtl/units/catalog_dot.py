"""The dot unit (issue 24), registered with its options."""

from .dot_check import ACC_FORMATS, DSP, MODES, ROUNDINGS, WINDOW_ACCS
from .registry import Option, Unit, register

__all__ = []


def _dot(a, b, c, out, mode, lanes, rounding, window, acc, acc_rounding, max_terms, stages, flags, dsp):
    from .dot import Dot
    return Dot(a=a, b=b, c=c, out=out, mode=mode, lanes=lanes, rounding=rounding, window=window,
               max_terms=max_terms, stages=stages, flags=flags, dsp=dsp, acc=acc, acc_rounding=acc_rounding)


register(Unit(
    name="dot",
    summary="streaming dot product of floats <= 16 bits or int8/int4 + an fp32/fp16/bf16 addend, exact or "
            "rounded per beat, L products per beat",
    description="out = c + sum a_k * b_k, bit for bit golden.arith.dot: exact (one rounding), beat (rounded "
                "into out every beat: an FMA chain), window (terms aligned to the largest and truncated below W bits, rounded "
                "into an accumulator format every beat).",
    build=_dot,
    options=(
        Option("a", "format", "format of the a operands: a float of <= 16 bits or int8 / int4", metavar="F"),
        Option("b", "format", "format of the b operands (may differ from a)", metavar="F"),
        Option("c", "choice", "addend format (the addend comes with a dot product's first beat)", "fp32",
               choices=ACC_FORMATS, metavar="F"),
        Option("out", "choice", "result format", "fp32", choices=ACC_FORMATS, metavar="F"),
        Option("mode", "choice", "accumulation: exact (rounded once), beat (rounded every beat), window (tensor-core truncation)", "exact",
               choices=MODES, metavar="M"),
        Option("lanes", "int", "products per beat", 1, range=(1, 16), metavar="L"),
        Option("rounding", "choice", "rounding mode", "rne", choices=ROUNDINGS, metavar="R"),
        Option("window", "int", "window mode: bits kept per term from the largest leading bit down", None,
               range=(2, 64), metavar="W"),
        Option("acc", "choice", "window mode: the accumulator's format (default fp32)", None, choices=WINDOW_ACCS,
               metavar="F"),
        Option("acc_rounding", "choice", "window mode: the accumulator's rounding (default rtz)", None,
               choices=ROUNDINGS, metavar="R"),
        Option("max_terms", "int", "exact mode: the most products in one dot product (sizes the accumulator; "
               "default 4096)", None, range=(1, 1 << 20), metavar="N"),
        Option("stages", "int", "optional pipeline registers: exact 0..3, beat 0..1", 0, range=(0, 3),
               metavar="N"),
        Option("flags", "bool", "a 5-bit flags field beside each result (RISC-V fflags layout)", False),
        Option("dsp", "choice", "multipliers: infer (written as *, mapped by synthesis)", "infer", choices=DSP,
               metavar="D"),
    ),
    examples=(
        dict(a="fp8_e4m3", b="fp8_e4m3", c="fp16", out="fp16", mode="beat", lanes=2, stages=1),
        dict(a="fp8_e4m3", b="fp8_e5m2", lanes=4, max_terms=1024, flags=True),
        dict(a="fp16", b="fp16", lanes=2, mode="beat", flags=True),
        dict(a="int8", b="fp8_e4m3", c="bf16", out="bf16", lanes=4, max_terms=256),
        dict(a="fp8_e4m3", b="fp8_e4m3", mode="window", window=14, lanes=4),
    ),
    docs="docs/dot_unit.md",
))
