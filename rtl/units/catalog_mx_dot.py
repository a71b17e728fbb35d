"""The mx-dot unit (issue 24): a streaming dot product of OCP MX blocks into fp32, registered with its options."""

from fmtforge.golden.arith import MX_ACCUMULATE, MX_ELEMENTS

from .mx_dot_check import MAX_BLOCKS, ROUNDINGS, SCHEMES
from .registry import Option, Unit, register

__all__ = []


def _mx_dot(a_elem, b_elem, block_size, lanes, accumulate, rounding, max_blocks, stages, flags, scheme):
    from .mx_dot import MXDot
    return MXDot(a_elem=a_elem, b_elem=b_elem, block_size=block_size, lanes=lanes, accumulate=accumulate,
                 rounding=rounding, max_blocks=max_blocks, stages=stages, flags=flags, scheme=scheme)


register(Unit(
    name="mx-dot",
    summary="streaming dot product of OCP MX blocks (E8M0 scales; fp8/fp6/fp4/int8 elements, A and B may differ) "
            "+ an fp32 addend into fp32, exact or rounded per block, L element pairs per beat",
    description="out = c + sum_i 2**(X_A + X_B - 254) sum_j a_ij b_ij (OCP MX v1.0 6.1 / 6.2), bit for bit "
                "golden.arith.mx_dot: each block's sum exact, blocks summed exactly and rounded once (exact, "
                "cvfpu MXDOTP) or added into fp32 rounded per block (block).",
    build=_mx_dot,
    options=(
        Option("a_elem", "choice", "element format of block A (int8 = MXINT8)", "fp8_e4m3", choices=MX_ELEMENTS,
               metavar="E"),
        Option("b_elem", "choice", "element format of block B (may differ from A)", "fp8_e4m3",
               choices=MX_ELEMENTS, metavar="E"),
        Option("block_size", "int", "elements per block: 16, 32 or 64", 32, range=(16, 64), metavar="K"),
        Option("lanes", "int", "element pairs per beat (divides block_size)", 1, range=(1, 32), metavar="L"),
        Option("accumulate", "choice", "across blocks: exact (rounded once) or block (rounded into fp32 per "
               "block: MX 6.2)", "exact", choices=MX_ACCUMULATE, metavar="A"),
        Option("rounding", "choice", "rounding mode", "rne", choices=ROUNDINGS, metavar="R"),
        Option("max_blocks", "int", "exact mode: the most blocks in one dot product (sizes the accumulator; "
               "default 1024)", None, range=MAX_BLOCKS, metavar="N"),
        Option("stages", "int", "optional pipeline registers: exact 0..3, block 0..1", 0, range=(0, 3),
               metavar="N"),
        Option("flags", "bool", "a 5-bit flags field beside each result (RISC-V fflags layout)", False),
        Option("scheme", "choice", "block scheme: mx (E8M0 scales)", "mx", choices=SCHEMES, metavar="S"),
    ),
    examples=(
        dict(lanes=8, flags=True),
        dict(a_elem="fp8_e4m3", b_elem="fp4_e2m1", lanes=4, accumulate="block"),
        dict(a_elem="int8", b_elem="int8", block_size=64, lanes=16, stages=3, flags=True),
    ),
    docs="docs/mx_dot.md",
))
