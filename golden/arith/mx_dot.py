"""Dot products of OCP MX blocks (MX v1.0 sections 6.1, 6.2) and of NVFP4 blocks, into fp32 (or fp16 / bf16).

The block dot of section 6.1 is ``Dot(A, B) = X(A) X(B) sum_i P_i(A) P_i(B)``: every element product exact, the
block's sum exact, the two E8M0 scales applied as 2**(X_A + X_B - 254). Section 6.2's general dot product adds the
n block dots in float32; the standard leaves the internal precision to the implementation, so both readings are
offered: ``accumulate="exact"`` sums every block dot and the addend exactly and rounds once, ``"block"`` rounds
after each block: acc_{i+1} = round(acc_i + Dot_i), acc_0 = c (each block dot exact, one rounding per block).
"""

import math

import numpy as np

from ..formats.catalog import lookup
from ..formats.raw import FINITE, NAN, signaling
from ..formats.rounding import MODES, NV
from ..validate import check_choice
from .dot import TININESS, accumulate, addend
from .terms import Terms, output_format, product

__all__ = ["MX_ACCUMULATE", "MX_ELEMENTS", "mx_dot", "nvfp4_dot"]

#: MX element formats (the names of golden.block.MX; "int8" is MXINT8, q * 2**-6, golden's "mxint8").
MX_ELEMENTS = ("fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "int8")
#: How block dots are added (section 6.2): "exact" (rounded once) or "block" (rounded after every block).
MX_ACCUMULATE = ("exact", "block")
_E8M0_NAN = 0xFF


def _elem(name, value):
    value = check_choice(name, value, MX_ELEMENTS)
    return lookup("mxint8" if value == "int8" else value)


def _blocks(x, fmt, k, name):
    """Element codes as (N, nb, k) raw values (codes in the low bits of uint8)."""
    x = fmt.as_bits(x)
    if x.ndim < 1 or x.shape[-1] % k or x.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., n * {k}) with n >= 1 (whole blocks), not {x.shape}")
    return x


def _sum_blocks(prods, scale_exp, scale_nan, k, acc, lead, out_fmt, accumulate_mode, rounding, saturate,
                tininess, nv):
    """Apply each block's power-of-two scale to its products, then add the blocks as ``accumulate_mode`` says."""
    n, K = prods.sig.shape
    e = np.repeat(scale_exp, k, axis=1)
    bad = np.repeat(scale_nan, k, axis=1)
    fin = prods.cls == FINITE
    scaled = Terms(np.where(bad, NAN, prods.cls).astype(np.uint8), prods.sign,
                   np.where(fin, prods.exp + e, prods.exp), np.where(bad, np.uint64(0), prods.sig))
    mode = "exact" if accumulate_mode == "exact" else "beat"
    bits, flags, nv_sum = accumulate(acc, scaled, mode=mode, lanes=k, out_fmt=out_fmt, rounding=rounding,
                                     saturate=saturate, tininess=tininess)
    flags = (flags | np.where(nv | nv_sum, NV, 0)).astype(np.uint8)
    return bits.reshape(lead), flags.reshape(lead)


def _check_common(out_fmt, c_fmt, accumulate_mode, rounding, saturate, tininess):
    out_fmt, c_fmt = output_format("out_fmt", out_fmt), output_format("c_fmt", c_fmt)
    accumulate_mode = check_choice("accumulate", accumulate_mode, MX_ACCUMULATE)
    rounding = check_choice("rounding", rounding, MODES[:5])
    tininess = check_choice("tininess", tininess, TININESS)
    if not isinstance(saturate, bool):
        raise ValueError(f"saturate must be True or False, not {saturate!r}")
    return out_fmt, c_fmt, accumulate_mode, rounding, tininess


def mx_dot(a, b, xa, xb, c=None, *, a_elem, b_elem, block_size=32, c_fmt="fp32", out_fmt="fp32",
           accumulate="exact", rounding="rne", saturate=False, tininess="after", return_flags=True):
    """Dot products of two vectors of OCP MX blocks, plus an addend: ``c + sum_i Dot(A_i, B_i)``.

    Parameters
    ----------
    a, b : array of int, shape (..., n * block_size)
        Element codes (low bits of uint8) of ``a_elem`` / ``b_elem``; n blocks of ``block_size`` along the last
        axis.
    xa, xb : array of int, shape (..., n)
        E8M0 scale codes of each block (value 2**(x - 127); 0xFF is NaN).
    c : array of int, shape (...), optional
        Addend patterns of ``c_fmt`` (None: +0).
    a_elem, b_elem : {"fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "int8"}
        Element formats (A and B may differ); "int8" is MXINT8 (q * 2**-6).
    block_size : {16, 32, 64}
        k, the elements per block (MX v1.0: 32).
    c_fmt, out_fmt : str
        fp32 (default), fp16 or bf16.
    accumulate : {"exact", "block"}
        "exact": every block dot (exact) and c summed exactly, rounded once into out_fmt; "block" (section 6.2 as
        an fp32 accumulator adds block dots): acc_0 = c, acc_{i+1} = round(acc_i + Dot_i) into out_fmt.
    rounding : {"rne", "rtz", "rdn", "rup", "rmm"}
    saturate, tininess, return_flags
        As for :func:`golden.arith.dot`.

    Returns
    -------
    bits, flags : arrays of shape (...)
        out_fmt patterns and RISC-V fflags bits (NX 1, UF 2, OF 4, NV 16).

    A NaN scale (0xFF) makes its block's dot NaN (quiet: no flag); element NaNs and infinities (E4M3's NaN,
    E5M2's inf and NaN) follow :func:`golden.arith.dot`'s rules (inf x 0 and inf - inf give NaN with NV, an
    E5M2 signaling NaN raises NV); every NaN result is out_fmt's canonical quiet NaN; an exact zero sum's sign
    as in dot (+0, -0 under rdn, the common sign when every term is a zero of one sign).
    """
    fa, fb = _elem("a_elem", a_elem), _elem("b_elem", b_elem)
    if block_size not in (16, 32, 64) or isinstance(block_size, bool):
        raise ValueError(f"block_size must be one of 16, 32, 64, not {block_size!r}")
    k = int(block_size)
    out_fmt, c_fmt, acc_mode, rounding, tininess = _check_common(out_fmt, c_fmt, accumulate, rounding, saturate,
                                                                 tininess)
    a, b = _blocks(a, fa, k, "a"), _blocks(b, fb, k, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, not {a.shape} and {b.shape}")
    lead, K = a.shape[:-1], a.shape[-1]
    nb, n = K // k, math.prod(lead)
    e8m0 = lookup("e8m0")
    xa = np.broadcast_to(e8m0.as_bits(xa), lead + (nb,)).reshape(n, nb).astype(np.int64)
    xb = np.broadcast_to(e8m0.as_bits(xb), lead + (nb,)).reshape(n, nb).astype(np.int64)
    ra, rb = fa.decode_raw(a.reshape(n, K)), fb.decode_raw(b.reshape(n, K))
    rc = addend(c, c_fmt, lead)
    prods, invalid = product(ra, rb)
    nv = invalid.any(axis=1) | signaling(ra).any(axis=1) | signaling(rb).any(axis=1) | signaling(rc)[:, 0]
    scale_nan = (xa == _E8M0_NAN) | (xb == _E8M0_NAN)
    bits, flags = _sum_blocks(prods, xa + xb - 254, scale_nan, k, Terms.of(rc), lead, out_fmt, acc_mode, rounding,
                              saturate, tininess, nv)
    return (bits, flags) if return_flags else bits


def nvfp4_dot(a, b, sa, sb, ta=None, tb=None, c=None, *, c_fmt="fp32", out_fmt="fp32", accumulate="exact",
              rounding="rne", saturate=False, tininess="after", return_flags=True):
    """Dot products of two vectors of NVFP4 blocks: ``c + ta * tb * sum_i sa_i * sb_i * sum_j a_ij * b_ij``.

    Parameters
    ----------
    a, b : array of int, shape (..., n * 16)
        FP4 E2M1 element codes (low nibble), 16 per block.
    sa, sb : array of int, shape (..., n)
        UE4M3 block scale codes (E4M3 with the sign bit 0; 0x7F is NaN).
    ta, tb : array of int, shape (...), optional
        fp32 patterns of the per-tensor scales (None: 1.0).
    c, c_fmt, out_fmt, accumulate, rounding, saturate, tininess, return_flags
        As for :func:`mx_dot`.

    Every product ``a_ij * b_ij * sa_i * sb_i * ta * tb`` is exact (at most 60 significant bits); "exact" sums
    them all with c and rounds once, "block" rounds after each block. A NaN block scale or tensor scale makes
    the result NaN; an infinite tensor scale times a zero gives NaN with NV (as in dot), a signaling NaN tensor
    scale raises NV.
    """
    e2m1, e4m3, fp32 = lookup("fp4_e2m1"), lookup("fp8_e4m3"), lookup("fp32")
    out_fmt, c_fmt, acc_mode, rounding, tininess = _check_common(out_fmt, c_fmt, accumulate, rounding, saturate,
                                                                 tininess)
    k = 16
    a, b = _blocks(a, e2m1, k, "a"), _blocks(b, e2m1, k, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, not {a.shape} and {b.shape}")
    lead, K = a.shape[:-1], a.shape[-1]
    nb, n = K // k, math.prod(lead)
    scales = []
    for name, s in (("sa", sa), ("sb", sb)):
        s = np.broadcast_to(e4m3.as_bits(s), lead + (nb,)).reshape(n, nb)
        if np.any(s & 0x80):
            raise ValueError(f"{name} must hold UE4M3 codes (sign bit 0), not 0x{int(s[(s & 0x80) != 0][0]):02X}")
        scales.append(e4m3.decode_raw(np.repeat(s, k, axis=1)))
    tens = [fp32.decode_raw(np.broadcast_to(fp32.as_bits(np.uint32(0x3F800000) if t is None else t), lead)
                            .reshape(n, 1)) for t in (ta, tb)]
    p, inv = product(e2m1.decode_raw(a.reshape(n, K)), e2m1.decode_raw(b.reshape(n, K)))
    nv = inv.any(axis=1) | signaling(tens[0])[:, 0] | signaling(tens[1])[:, 0]
    for f in (scales[0], scales[1], _wide(tens[0], K), _wide(tens[1], K)):
        p, inv = product(p, f)
        nv |= inv.any(axis=1)
    rc = addend(c, c_fmt, lead)
    nv |= signaling(rc)[:, 0]
    zeros = np.zeros((n, nb), np.int64)
    bits, flags = _sum_blocks(p, zeros, zeros.astype(bool), k, Terms.of(rc), lead, out_fmt, acc_mode, rounding,
                              saturate, tininess, nv)
    return (bits, flags) if return_flags else bits


def _wide(raw, K):
    """A (N, 1) raw broadcast to (N, K)."""
    return Terms(*(np.repeat(x, K, axis=1) for x in (raw.cls, raw.sign, raw.exp, raw.sig)))
