"""Window mode: tensor-core-style accumulation, terms aligned to the largest and truncated below W bits.

The rule (docs/dot.md, "window"): each beat, the accumulator and the beat's products are aligned to the largest
leading-bit position E among the nonzero ones; each term's magnitude is truncated toward zero (its sign kept) to a
multiple of 2**(E - W + 1); the truncated terms are summed exactly and rounded into the accumulator's format.
Sign-magnitude truncation, not truncation of the aligned two's complement: Fasi, Higham, Mikaitis and Pranesh
(2021) observed round-toward-zero behaviour for negative as for positive sums on NVIDIA tensor cores.
"""

import numpy as np

from ..formats.catalog import lookup
from ..formats.raw import FINITE, bit_length, shift_right
from ..formats.rounding import MODES, NX
from ..validate import check_choice, check_int
from .terms import Terms, output_format, round_float, sum_terms

__all__ = ["PRESETS", "truncate_window", "window_dot"]

_U64, _I64 = np.uint64, np.int64

#: Named window settings; docs/dot.md gives each one's source. Models of published descriptions, not silicon.
PRESETS = {
    # DeepSeek-V3 technical report, section 3.5.2: Hopper FP8 GEMM keeps about 14 bits of the aligned products;
    # DeepSeek promotes the partial sums to FP32 CUDA-core registers every 128 products (N_C = 128).
    "hopper-fp8": {"window": 14, "acc_fmt": "fp32", "acc_rounding": "rtz", "promote_every": 128},
    # SageAttention2 (Zhang et al. 2024): the FP8 MMA accumulator of Ada / Hopper is about FP22
    # (1 sign, 8 exponent, 13 mantissa bits), truncating.
    "ada-fp22": {"window": 14, "acc_fmt": "e8m13", "acc_rounding": "rtz", "promote_every": None},
    # DeepGEMM's issue tracker: about 25 bits kept on B200's FP8 tensor cores.
    "b200": {"window": 25, "acc_fmt": "fp32", "acc_rounding": "rtz", "promote_every": None},
}


def truncate_window(t, window):
    """Terms ``t`` (N, T) with each finite magnitude truncated toward zero to a multiple of 2**(E - window + 1),
    E the row's largest leading-bit position among nonzero finite terms. Returns ``(terms, inexact)``."""
    fin = (t.cls == FINITE) & (t.sig != 0)
    msb = t.exp + bit_length(t.sig) - 1
    E = np.where(fin, msb, np.iinfo(_I64).min).max(axis=1)
    cut = (E - window + 1)[:, None]
    drop = np.where(fin, np.maximum(cut - t.exp, 0), 0)
    kept, rbit, sticky = shift_right(t.sig, drop)
    lost = ((rbit | sticky) & fin).any(axis=1)
    sig = np.where(fin, kept, t.sig)
    exp = np.where(fin, t.exp + drop, t.exp)
    return Terms(t.cls, t.sign, exp.astype(_I64), sig), lost


def _settings(window, acc_fmt, acc_rounding, promote_every, preset):
    base = {"window": None, "acc_fmt": "fp32", "acc_rounding": "rtz", "promote_every": None}
    if preset is not None:
        base = dict(PRESETS[check_choice("preset", preset, tuple(PRESETS))])
    given = {"window": window, "acc_fmt": acc_fmt, "acc_rounding": acc_rounding, "promote_every": promote_every}
    s = {k: (v if v is not None else base[k]) for k, v in given.items()}
    if s["window"] is None:
        raise ValueError("mode='window' needs window= (bits kept per aligned term, 2..128) or a preset= "
                         f"({', '.join(PRESETS)})")
    s["window"] = check_int("window", s["window"], 2, 128)
    s["acc_fmt"] = output_format("acc_fmt", lookup(s["acc_fmt"]))
    s["acc_rounding"] = check_choice("acc_rounding", s["acc_rounding"], MODES[:5])
    if s["promote_every"] is not None:
        s["promote_every"] = check_int("promote_every", s["promote_every"], 1, 1 << 30)
    return s


def _zeros(n):
    """One +0 term per row."""
    return Terms(np.zeros((n, 1), np.uint8), np.zeros((n, 1), bool), np.zeros((n, 1), _I64), np.zeros((n, 1), _U64))


def window_dot(acc, prods, *, lanes, out_fmt, rounding, saturate, tininess, window, acc_fmt, acc_rounding,
               promote_every, preset):
    """Window mode over ``prods`` (Terms, (N, K)) from the addend ``acc`` (Terms, (N, 1)); returns
    ``(bits, flags, nv)``."""
    s = _settings(window, acc_fmt, acc_rounding, promote_every, preset)
    W, afmt, arnd, P = s["window"], s["acc_fmt"], s["acc_rounding"], s["promote_every"]
    n, K = prods.sig.shape
    if P is not None and (P % lanes or K % P):
        raise ValueError(f"promote_every ({P}) must be a multiple of lanes ({lanes}) and divide K ({K})")
    flags = np.zeros(n, np.uint8)
    nv = np.zeros(n, bool)
    fp32 = lookup("fp32")
    group = K if P is None else P
    main = acc  # the promoted (fp32) accumulator, or the window accumulator's start when not promoting
    for g in range(0, K, group):
        wacc = acc if P is None else _zeros(n)
        for j in range(g, g + group, lanes):
            t, lost = truncate_window(wacc.join(prods.take(slice(j, j + lanes))), W)
            raw, nv_j = sum_terms(t, arnd)
            bits, fl = round_float(raw, afmt, arnd, saturate, tininess)
            flags |= fl | np.where(lost & (raw.cls == FINITE), NX, 0).astype(np.uint8)
            nv |= nv_j
            wacc = Terms.of(afmt.decode_raw(bits.reshape(n, 1)))
        if P is None:
            main = wacc
        else:
            raw, nv_j = sum_terms(main.join(wacc), "rne")
            bits, fl = round_float(raw, fp32, "rne", saturate, tininess)
            flags |= fl
            nv |= nv_j
            main = Terms.of(fp32.decode_raw(bits.reshape(n, 1)))
    raw, nv_j = sum_terms(main, rounding)
    bits, fl = round_float(raw, out_fmt, rounding, saturate, tininess)
    return bits, flags | fl, nv | nv_j
