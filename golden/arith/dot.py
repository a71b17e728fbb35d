"""Dot products of small floats and integers into fp32 / fp16 / bf16, exact or as named hardware accumulates.

docs/dot.md derives every rule stated here and lists which hardware each mode and preset models.
"""

import math
from fractions import Fraction

import numpy as np

from ..formats.raw import FINITE, Raw, signaling
from ..formats.rounding import MODES, NV
from ..validate import check_choice, check_int
from .terms import Terms, float_facts, input_format, output_format, product, round_float, sum_terms
from .window import window_dot

__all__ = ["DOT_MODES", "TININESS", "dot", "exact_acc_bits"]

#: Accumulation modes of :func:`dot`.
DOT_MODES = ("exact", "beat", "window")
#: When a result is tiny (IEEE 754 7.5): after rounding (RISC-V, x86) or before (Arm).
TININESS = ("after", "before")


def dot(a, b, c=None, *, a_fmt, b_fmt, c_fmt="fp32", out_fmt="fp32", mode="exact", lanes=1, rounding="rne",
        saturate=False, window=None, acc_fmt=None, acc_rounding=None, promote_every=None, preset=None,
        tininess="after", rand=None, rand_bits=None, return_flags=True):
    """Dot products ``c + sum_k a[..., k] * b[..., k]`` of bit patterns, accumulated as ``mode`` says.

    Parameters
    ----------
    a, b : array of int, shape (..., K), K >= 1
        Bit patterns of ``a_fmt`` / ``b_fmt``, the K products of each dot product along the last axis.
    c : array of int, shape (...) (broadcast), optional
        The addend's bit patterns in ``c_fmt``; None is +0.
    a_fmt, b_fmt : str or Format
        Any float (minifloat of any special-value policy: IEEE, OCP fn, fnuz, FP6, FP4, CFloat8; P3109) or
        integer (int8, int4, uint8, mxint8 ...) format of golden's catalog of at most 16 bits; A and B may differ.
    c_fmt, out_fmt : str or Format
        IEEE-style floats with inf, NaN and subnormals, at most 32 bits: fp32, fp16, bf16 (tf32 ...).
    mode : {"exact", "beat", "window"}
        - ``"exact"``: the K products and c summed exactly, rounded once into ``out_fmt`` by ``rounding``.
        - ``"beat"``: K is split into beats of ``lanes`` products (K a multiple of ``lanes``); acc_0 = c,
          acc_{j+1} = round(acc_j + the exact sum of beat j's products) into ``out_fmt`` by ``rounding`` (each
          beat exact, rounded once: cvfpu ExSdotp, an FMA chain for lanes = 1); the result is the last acc.
        - ``"window"``: tensor-core style. Each beat, the accumulator and the beat's ``lanes`` products are
          aligned to the largest leading-bit position E among them (E = floor(log2 |t|) over nonzero terms t);
          every term's magnitude is truncated (toward zero, sign kept) to a multiple of 2**(E - window + 1),
          i.e. to ``window`` bits below and including E; the truncated terms are summed exactly and the sum
          rounded into ``acc_fmt`` by ``acc_rounding``. acc_0 = c (as an exact value). With ``promote_every =
          P`` (a multiple of ``lanes`` dividing K) the windowed accumulator restarts from +0 every P products
          and its value is added to an fp32 accumulator (starting at c) rounded to nearest even, as a CUDA-core
          FP32 add. The result is the last accumulator (the fp32 one when promoting) rounded into ``out_fmt``
          by ``rounding``.
    lanes : int >= 1
        Products per beat (beat and window modes).
    rounding : str
        One of golden.MODES; "stochastic" (mode "exact" only) needs ``rand`` (shape (...)) and ``rand_bits``.
    saturate : bool
        Finite results beyond out_fmt's (and acc_fmt's) largest finite value give +-max instead of +-inf
        (OF and NX are raised either way); infinite results from infinite operands stay infinite.
    window : int >= 2, optional
        Bits kept per aligned term (window mode); a ``preset`` gives it.
    acc_fmt, acc_rounding : optional
        The windowed accumulator's format (IEEE-style, <= 32 bits; default fp32) and rounding (default "rtz").
    promote_every : int, optional
        Window mode: promote into fp32 every this many products (None: never).
    preset : {"hopper-fp8", "ada-fp22", "b200"}, optional
        Named window settings (:data:`golden.arith.PRESETS`, sources in docs/dot.md); explicit arguments win.
        These model published descriptions, not measured silicon.
    tininess : {"after", "before"}
        UF is raised when the nonzero result is tiny and inexact; tiny "after" rounding (the exact value
        rounded to out_fmt's precision with an unbounded exponent lies strictly between +-2**emin: RISC-V, x86)
        or "before" (the exact value does: Arm).
    return_flags : bool
        Return ``(bits, flags)`` (default) or the bits alone.

    Returns
    -------
    bits : array, shape (...), out_fmt's dtype
    flags : uint8 array, shape (...)
        RISC-V fflags layout: NX bit 0, UF 1, OF 2, DZ 3 (never), NV 4; beat and window modes OR every
        step's flags.

    Special values (every mode): a NaN operand (a, b or c) gives NaN; inf x 0 gives NaN and raises NV; +inf
    meeting -inf in a sum (no NaN there) gives NaN and raises NV; a signaling NaN operand raises NV; any other
    infinity gives that infinity. Every NaN result is out_fmt's canonical quiet NaN (sign 0, only the quiet bit
    of the fraction set: fp32 0x7FC00000, fp16 0x7E00, bf16 0x7FC0), flags NV or nothing. A sum that is exactly
    zero is -0 when every term (product and addend) is a zero of sign -, +0 when every one is a +0, otherwise
    (mixed zero signs or exact cancellation) +0, or -0 under rdn (IEEE 754 6.3). Nonzero results round like
    a conversion: overflow gives +-inf, or +-max toward zero or with ``saturate``; subnormal results are kept.
    """
    a_fmt, b_fmt = input_format("a_fmt", a_fmt), input_format("b_fmt", b_fmt)
    c_fmt, out_fmt = output_format("c_fmt", c_fmt), output_format("out_fmt", out_fmt)
    mode = check_choice("mode", mode, DOT_MODES)
    rounding = check_choice("rounding", rounding, MODES)
    tininess = check_choice("tininess", tininess, TININESS)
    lanes = check_int("lanes", lanes, 1, 1 << 20)
    if not isinstance(saturate, bool):
        raise ValueError(f"saturate must be True or False, not {saturate!r}")
    if rounding == "stochastic" and mode != "exact":
        raise ValueError("rounding='stochastic' is offered in mode='exact' only (one rounding, one random draw)")
    a, b = a_fmt.as_bits(a), b_fmt.as_bits(b)
    if a.ndim < 1 or a.shape != b.shape or a.shape[-1] < 1:
        raise ValueError(f"a and b must have one shape (..., K) with K >= 1, not {a.shape} and {b.shape}")
    lead, K = a.shape[:-1], a.shape[-1]
    if mode != "exact" and K % lanes:
        raise ValueError(f"K (the last axis, {K}) must be a multiple of lanes ({lanes}) in mode={mode!r}")
    if mode != "window" and (window is not None or preset is not None or promote_every is not None
                             or acc_fmt is not None or acc_rounding is not None):
        raise ValueError("window, preset, promote_every, acc_fmt and acc_rounding belong to mode='window'")
    n = math.prod(lead)
    ra = a_fmt.decode_raw(a.reshape(n, K))
    rb = b_fmt.decode_raw(b.reshape(n, K))
    if c is None:
        rc = Raw.make(FINITE, False, 0, 0)
        rc = Raw(*(np.broadcast_to(x, (n, 1)) for x in rc))
    else:
        cb = np.broadcast_to(c_fmt.as_bits(c), lead).reshape(n, 1)
        rc = c_fmt.decode_raw(cb)
    prods, invalid = product(ra, rb)
    nv = invalid.any(axis=1) | signaling(ra).any(axis=1) | signaling(rb).any(axis=1) | signaling(rc)[:, 0]
    acc = Terms.of(rc)
    if mode == "exact":
        if rounding == "stochastic" and rand is not None:
            rand = np.broadcast_to(np.asarray(rand), lead).reshape(n)
        raw, nv_sum = sum_terms(acc.join(prods), rounding)
        bits, flags = round_float(raw, out_fmt, rounding, saturate, tininess, rand, rand_bits)
        nv |= nv_sum
    elif mode == "beat":
        bits, flags, nv_sum = _beats(acc, prods, lanes, out_fmt, rounding, saturate, tininess)
        nv |= nv_sum
    else:
        bits, flags, nv_sum = window_dot(acc, prods, lanes=lanes, out_fmt=out_fmt, rounding=rounding,
                                         saturate=saturate, tininess=tininess, window=window, acc_fmt=acc_fmt,
                                         acc_rounding=acc_rounding, promote_every=promote_every, preset=preset)
        nv |= nv_sum
    flags = (flags | np.where(nv, NV, 0)).astype(np.uint8)
    bits, flags = bits.reshape(lead), flags.reshape(lead)
    return (bits, flags) if return_flags else bits


def _beats(acc, prods, lanes, fmt, rounding, saturate, tininess):
    """Beat mode: acc = round(acc + beat's products) into ``fmt``, one beat of ``lanes`` products at a time."""
    n, K = prods.sig.shape
    flags = np.zeros(n, np.uint8)
    nv = np.zeros(n, bool)
    bits = None
    for j in range(0, K, lanes):
        raw, nv_j = sum_terms(acc.join(prods.take(slice(j, j + lanes))), rounding)
        bits, fl = round_float(raw, fmt, rounding, saturate, tininess)
        flags |= fl
        nv |= nv_j
        acc = Terms.of(fmt.decode_raw(bits.reshape(n, 1)))
    return bits, flags, nv


def exact_acc_bits(a_fmt, b_fmt, c_fmt="fp32", max_terms=1):
    """Width of a two's-complement fixed-point accumulator that holds every sum of ``max_terms`` products of
    ``a_fmt`` x ``b_fmt`` values plus one ``c_fmt`` addend (None: no addend) exactly.

    Its last bit weighs 2**q, q = min(lsb(a_fmt) + lsb(b_fmt), lsb(c_fmt)), where lsb(f) is the exponent of the
    smallest bit any finite value of f uses (the minimum subnormal's exponent; an integer's -frac_bits); the
    largest magnitude is M = max_terms * max|a| * max|b| + max|c|. The width is
    ``bit_length(ceil(M / 2**q)) + 1`` (magnitude bits plus a sign bit). docs/dot.md derives it.
    """
    a_fmt, b_fmt = input_format("a_fmt", a_fmt), input_format("b_fmt", b_fmt)
    max_terms = check_int("max_terms", max_terms, 1, 1 << 40)
    la, ma = float_facts(a_fmt)
    lb, mb = float_facts(b_fmt)
    q, top = la + lb, max_terms * ma * mb
    if c_fmt is not None:
        c_fmt = output_format("c_fmt", c_fmt)
        lc, mc = float_facts(c_fmt)
        q, top = min(q, lc), top + mc
    return math.ceil(top * Fraction(2) ** -q).bit_length() + 1
