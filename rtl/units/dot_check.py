"""The dot unit's parameters: validated once (one clear line per bad value), and its module name."""

from fmtforge import golden
from fmtforge.golden import Integer, Minifloat
from fmtforge.golden.validate import check_bool, check_choice, check_int

__all__ = ["ACC_FORMATS", "DSP", "MODES", "ROUNDINGS", "check_dot", "dot_name"]

MODES = ("exact", "beat", "window")
ACC_FORMATS = ("fp32", "fp16", "bf16")
ROUNDINGS = ("rne", "rtz", "rup", "rdn", "rmm")  # golden's modes but stochastic (no rand port here)
DSP = ("infer",)
INTS = ("int8", "int4")
MAX_TERMS = (1, 1 << 20)
WINDOW = (2, 64)
STAGES = {"exact": 3, "beat": 1, "window": 1}
WINDOW_ACCS = ("fp32", "e8m13", "fp16", "bf16")  # e8m13: Ada's FP22 (SageAttention2)
ACC_ROUNDINGS = ROUNDINGS


def _operand(name, value):
    try:
        fmt = golden.lookup(value) if isinstance(value, str) else value
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    ok = (isinstance(fmt, Minifloat) and fmt.width <= 16 and fmt.subnormals and not fmt.explicit_integer) \
        or (isinstance(fmt, Integer) and fmt.name in INTS)
    if not ok:
        raise ValueError(f"{name} must be a float of at most 16 bits (e.g. fp8_e4m3, fp8_e5m2, fp6_e2m3, fp4_e2m1, "
                         f"fp16, bf16) or one of {', '.join(INTS)}, not {getattr(fmt, 'name', value)!r}")
    return fmt


def _acc(name, value):
    value = getattr(value, "name", value)
    return golden.lookup(check_choice(name, value, ACC_FORMATS))


def check_dot(*, a, b, c, out, mode, lanes, rounding, window, max_terms, stages, flags, dsp, acc=None,
              acc_rounding=None):
    """Every parameter validated (formats become golden objects); returns them as a dict. ``window`` is
    needed (and allowed) in window mode only, ``max_terms`` in exact mode only (default 4096)."""
    p = dict(a=_operand("a", a), b=_operand("b", b), c=_acc("c", c), out=_acc("out", out),
             mode=check_choice("mode", mode, MODES), lanes=check_int("lanes", lanes, 1, 16),
             rounding=check_choice("rounding", rounding, ROUNDINGS), flags=check_bool("flags", flags),
             dsp=check_choice("dsp", dsp, DSP))
    if mode == "window":
        if window is None:
            raise ValueError("window (--window) is needed in window mode: the bits kept below the largest "
                             f"exponent, an integer in {WINDOW[0]}..{WINDOW[1]}")
        p["window"] = check_int("window", window, *WINDOW)
        p["acc"] = golden.lookup(check_choice("acc", "fp32" if acc is None else getattr(acc, "name", acc),
                                              WINDOW_ACCS))
        p["acc_rounding"] = check_choice("acc_rounding", "rtz" if acc_rounding is None else acc_rounding,
                                         ACC_ROUNDINGS)
    else:
        for name, v in (("window", window), ("acc", acc), ("acc_rounding", acc_rounding)):
            if v is not None:
                raise ValueError(f"{name} applies to mode window only, not to mode {mode}")
        p["window"] = p["acc"] = p["acc_rounding"] = None
    if mode == "exact":
        p["max_terms"] = check_int("max_terms", 4096 if max_terms is None else max_terms, *MAX_TERMS)
        if p["max_terms"] < p["lanes"]:
            raise ValueError(f"max_terms must be an integer in {p['lanes']}..{MAX_TERMS[1]} (at least lanes), "
                             f"not {p['max_terms']}")
    elif max_terms is not None:
        raise ValueError(f"max_terms applies to mode exact only (the other modes round every beat), not to "
                         f"mode {mode}")
    else:
        p["max_terms"] = None
    p["stages"] = check_int("stages" if mode == "exact" else f"stages in {mode} mode", stages, 0, STAGES[mode])
    return p


def dot_name(*, a, b, c, out, mode, lanes, rounding, window, max_terms, stages, flags, dsp, acc=None,
             acc_rounding=None):
    """The Verilog module name: ``dot_fp8_e4m3_fp8_e4m3_c_fp16_to_fp16_beat_l2_rne`` (+ ``_w14_acc_fp32_rtz``,
    ``_t4096``, ``_flags``, ``_s1``)."""
    return (f"dot_{a.name}_{b.name}_c_{c.name}_to_{out.name}_{mode}_l{lanes}_{rounding}"
            + (f"_w{window}_acc_{acc.name}_{acc_rounding}" if window is not None else "") + (f"_t{max_terms}" if max_terms is not None else "")
            + ("_flags" if flags else "") + (f"_s{stages}" if stages else "")
            + (f"_{dsp}" if dsp != "infer" else ""))
