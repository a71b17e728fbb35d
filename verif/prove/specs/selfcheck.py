"""The specifications' self-check against golden on concrete inputs (used by verif/tests/prove/test_specs_*.py).

A specification is evaluated by substituting concrete inputs (:func:`ocp.evaluate`) and compared with
``golden.convert_flags``. Two classes of disagreement are known, and each is a *golden* departure from the
README or IEEE 754, not a spec slip (the report of helper provespecs gives the cases):

- ``uf-band``: golden calls a result tiny when the *delivered* result is below ``2**emin``, which is neither
  IEEE 754-2019 7.5 rule (issue 25, item 1): the spec raises UF (after-rounding tininess) where golden does
  not; bits equal, flags differ by UF only. Counted only while golden's ``convert_flags`` has no
  ``tininess`` argument.
- ``inf-nv``: an infinity converted into a format that cannot hold it (README, flags port: NV is "an infinity
  or NaN a format cannot hold") gives the right bits, but golden raises no NV when it saturates it
  (``--saturate`` into fn / fnuz / E8M0 / P3109 finite, and NF4's clamp), while it does for FP6/FP4,
  CFloat8, posits and integers. Bits equal, the spec raises NV and golden does not (NF4: golden raises NX
  instead, as for a finite value beyond the end level).

Everything else is ``other``: a spec slip or a new golden bug, to be investigated one by one.
"""

import inspect

import numpy as np

from fmtforge import golden

from ..options import FLAG_BITS
from . import ocp

__all__ = ["GOLDEN_HAS_TININESS", "classify", "compare", "composed", "fp32_near_grid"]

GOLDEN_HAS_TININESS = "tininess" in inspect.signature(golden.convert_flags).parameters
UF, NV = 1 << FLAG_BITS["UF"], 1 << FLAG_BITS["NV"]


def classify(src, x, exp, got):
    """``uf-band``, ``inf-nv`` or ``other`` for a mismatch (see the module docstring)."""
    (eb, ef), (gb, gf) = exp, got
    if eb == gb and ef ^ gf == UF and gf & UF and not GOLDEN_HAS_TININESS:
        return "uf-band"
    if eb == gb and gf & NV and not ef & NV:
        val = src.decode(np.array([x], dtype=src.dtype))[0]
        if np.isinf(val):
            return "inf-nv"
    return "other"


def compare(spec_fn, src, dst, opts, xs, rands=None):
    """Mismatches of the spec against golden on inputs ``xs``: a list of ``(kind, message)``, each message
    naming the input, golden's and the spec's bits and flags in hex with decoded values."""
    src, dst = golden.lookup(src), golden.lookup(dst)
    xs = [int(x) for x in xs]
    got = ocp.evaluate(spec_fn, src, dst, opts, xs, rands)
    kw = {"rand": np.asarray(rands), "rand_bits": opts.rand_bits} if opts.rounding == "stochastic" else {}
    if opts.ftz or opts.daz:
        kw.update(ftz=opts.ftz, daz=opts.daz)
    if GOLDEN_HAS_TININESS:
        kw["tininess"] = opts.tininess
    if opts.ftz or opts.daz:
        bits = golden.convert(np.array(xs, dtype=src.dtype), src, dst, opts.rounding, opts.saturate, **kw)
        flags = [None] * len(xs)
    else:
        bits, flags = golden.convert_flags(np.array(xs, dtype=src.dtype), src, dst, opts.rounding, opts.saturate, **kw)
    out = []
    for i, x in enumerate(xs):
        exp = (int(bits[i]), None if flags[i] is None else int(flags[i]))
        g = got[i] if exp[1] is not None else (got[i][0], None)
        if exp != g:
            kind = classify(src, x, exp, g) if exp[1] is not None else "other"
            val = src.decode(np.array([x], dtype=src.dtype))[0]
            dec = lambda b: dst.decode(np.array([b], dtype=dst.dtype))[0]
            rand = f" rand={int(rands[i]):#x}" if rands is not None else ""
            fl = lambda f: "" if f is None else f" flags={f:#04x}"
            out.append((kind, f"{src.name} -> {dst.name} {opts.as_dict()}: x={x:#x} ({val!r}){rand}: golden "
                              f"{exp[0]:#x} ({dec(exp[0])!r}){fl(exp[1])}, spec {g[0]:#x} ({dec(g[0])!r}){fl(g[1])}"))
    return out


def fp32_near_grid(fmt16, step=1):
    """fp32 patterns at every ``fmt16`` value (every ``step``-th pattern of a 16-bit float) and their fp32
    neighbours one ulp either side: the grid, its ties (for narrower destinations) and both sides of each."""
    pats = np.arange(0, 1 << 16, step, dtype=np.uint32).astype(np.uint16)
    wide = golden.convert(pats, fmt16, "fp32").astype(np.int64)
    both = np.concatenate([wide, wide + 1, wide - 1]) & 0xFFFFFFFF
    return np.unique(both).astype(np.uint32)


def composed(src, dst, opts, x, rand=None):
    """The specification the proofs use for ``src -> dst`` (:func:`spec_for`: the destination family's encode
    of the source family's decode), in the ``spec(src, dst, opts, x, rand)`` form the self-tests evaluate."""
    from . import spec_for
    return spec_for(src, dst, opts)(src, dst, opts, x, rand)
