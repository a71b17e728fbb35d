"""The mx-dot unit's parameters, validated once (one clear line per bad value), and its module name."""

from fmtforge import golden
from fmtforge.golden.arith import MX_ACCUMULATE, MX_ELEMENTS
from fmtforge.golden.validate import check_bool, check_choice, check_int

__all__ = ["BLOCK_SIZES", "MAX_BLOCKS", "ROUNDINGS", "SCHEMES", "STAGES", "check_mx_dot", "element_format",
           "mx_dot_name"]

BLOCK_SIZES = (16, 32, 64)
ROUNDINGS = ("rne", "rtz", "rup", "rdn", "rmm")
SCHEMES = ("mx",)
MAX_BLOCKS = (1, 1 << 16)
#: optional registers per accumulation mode (see mx_dot.mx_dot_latency)
STAGES = {"exact": 3, "block": 1}


def element_format(name):
    """The golden format of an MX element name ("int8" is MXINT8: golden's "mxint8", q * 2**-6)."""
    return golden.lookup("mxint8" if name == "int8" else name)


def check_mx_dot(*, a_elem, b_elem, block_size, lanes, accumulate, rounding, max_blocks, stages, flags, scheme):
    """The parameters checked and completed (``max_blocks`` defaults to 1024 in exact mode); raises ValueError
    naming the parameter and its allowed values."""
    scheme = check_choice("scheme", scheme, SCHEMES)
    a_elem = check_choice("a_elem", getattr(a_elem, "name", a_elem), MX_ELEMENTS)
    b_elem = check_choice("b_elem", getattr(b_elem, "name", b_elem), MX_ELEMENTS)
    if isinstance(block_size, bool) or block_size not in BLOCK_SIZES:
        raise ValueError(f"block_size must be one of 16, 32, 64, not {block_size!r}")
    lanes = check_int("lanes", lanes, 1, 32)
    if block_size % lanes:
        raise ValueError(f"lanes must divide block_size ({block_size}): one of "
                         f"{', '.join(str(d) for d in range(1, 33) if block_size % d == 0)}, not {lanes}")
    accumulate = check_choice("accumulate", accumulate, MX_ACCUMULATE)
    rounding = check_choice("rounding", rounding, ROUNDINGS)
    if accumulate == "exact":
        max_blocks = 1024 if max_blocks is None else check_int("max_blocks", max_blocks, *MAX_BLOCKS)
    elif max_blocks is not None:
        raise ValueError("max_blocks applies to accumulate exact only (block mode's accumulator is an fp32 value)")
    top = STAGES[accumulate]
    if isinstance(stages, bool) or not isinstance(stages, int) or not 0 <= stages <= top:
        raise ValueError(f"stages with accumulate {accumulate} must be an integer in 0..{top}, not {stages!r}")
    flags = check_bool("flags", flags)
    return dict(a_elem=a_elem, b_elem=b_elem, block_size=block_size, lanes=lanes, accumulate=accumulate,
                rounding=rounding, max_blocks=max_blocks, stages=stages, flags=flags, scheme=scheme)


def mx_dot_name(*, a_elem, b_elem, block_size, lanes, accumulate, rounding, max_blocks, stages, flags, scheme):
    """The generated module's name: every parameter that changes the hardware."""
    name = f"mx_dot_{a_elem}_{b_elem}_k{block_size}_l{lanes}_{accumulate}_{rounding}"
    if max_blocks is not None:
        name += f"_n{max_blocks}"
    if stages:
        name += f"_s{stages}"
    return name + ("_flags" if flags else "")
