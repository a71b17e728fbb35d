"""Stimulus of every stream unit for the one stream bench (:mod:`.stream`): input beats (and per-beat side
inputs), the output beats the golden model says must come out, the reference beats the documented latency
is measured between, and a description of each output's inputs for mismatch reports.

All vectorised over numpy: the batch lane draws 10**5-10**6 beats at a time from here, the cocotb tests a few
thousand. Payload fields sit where the component's ``in_layout`` / ``out_layout`` put them (the interface);
the values come from the unit contract's ``UNITS[name].model`` (golden), the latency from :mod:`.stream_latency`
(the docs, never the contract's own ``latency``).
"""


import numpy as np

from fmtforge import golden
from fmtforge.verif.support.batch.stream_lane import pack_fields
from fmtforge.verif.support.benches import blocks as blk
from fmtforge.verif.support.benches import mx as mxb
from fmtforge.verif.support.benches.stream_dot import DOT_CASES
from fmtforge.verif.support.benches.stimulus import Stimulus
from fmtforge.verif.support.benches.stream_latency import documented_latency
from fmtforge.verif.support.vectors import patterns as pt

__all__ = ["STREAM_UNITS", "Stimulus", "compute", "registry_name", "resolve", "stimulus"]

#: The stream units and a default configuration of each (issue 23: every one is benched, in both lanes).
STREAM_UNITS = {
    "convert": dict(src="fp32", dst="fp8_e4m3", saturate=True, flags=True, stages=2),
    "qmac": dict(lanes=4),
    "mx-quantize": dict(),
    "nvfp4": dict(scheme="nvfp4"),  # mx-quantize, scheme nvfp4
    "mx-dequantize": dict(),
    "w4-dequantize": dict(),
    "bfp-encode": dict(),
    "dot": dict(a="fp8_e4m3", b="fp8_e4m3", lanes=4, max_terms=1024, stages=1, flags=True),  # stream_dot.py
    "posit-dot": dict(lanes=4, quire="exact", stages=4),  # posit(8,2) -> posit(16,2), the target
}


def registry_name(name):
    return "mx-quantize" if name == "nvfp4" else name


def resolve(name, options):
    """Stream case ``name``'s options validated by the registry, the rest at their defaults."""
    from fmtforge.rtl.units import UNITS
    return UNITS[registry_name(name)].resolve(options)


def compute(name, options, *inputs, **kw):
    """The golden outputs of unit ``name`` (resolved ``options``): the contract's ``UNITS[name].model``."""
    from fmtforge.rtl.units import UNITS
    return UNITS[name].need("model")(options, *inputs, **kw)


def _offsets(layout):
    return {name: f.offset for name, f in layout}


def _lanes(values, width, lo=0):
    """Fields of lanes: ``values`` (n, L) -> [(offset, width, column)]."""
    return [(lo + width * k, width, values[:, k]) for k in range(values.shape[1])]


def _width(layout):
    return layout.size if hasattr(layout, "size") else int(layout)


def _convert(o, unit, rng, n, corners):
    src, dst = golden.lookup(o["src"]), golden.lookup(o["dst"])
    if src.kind == "float":
        rnd = pt.random_float_bits(src, [dst], n, rng)
    else:
        rnd = pt.random_bits(src, n, rng)
    base = (pt.int_corners(src) if src.kind == "int" else pt.posit_corners(src) if src.kind == "posit"
            else pt.float_corners(src, dst)) if corners else np.zeros(0, np.uint64)
    xs = np.concatenate([base.astype(np.uint64), np.asarray(rnd, dtype=np.uint64)])
    stoch = o["rounding"] == "stochastic"
    rands = rng.integers(0, 1 << o["rand_bits"], len(xs), dtype=np.uint64) if stoch else None
    bits, flags = compute("convert", o, xs, rands)
    fields = [(0, src.width, xs)] + ([(src.width, o["rand_bits"], rands)] if stoch else [])
    beats = pack_fields(len(xs), _width(unit.in_layout), fields)
    out = [(0, dst.width, np.asarray(bits, dtype=np.uint64))]
    if o["flags"]:
        out.append((dst.width, 5, np.asarray(flags, dtype=np.uint64)))
    expect = pack_fields(len(xs), _width(unit.out_layout), out)
    idx = np.arange(len(xs))

    def what(k):
        return f"input {pt.describe(src, xs[k])}" + (f" rand 0x{int(rands[k]):x}" if stoch else "")
    return Stimulus(beats, expect, idx, idx, documented_latency("convert", o), what)


def _w4(o, unit, rng, n, corners):
    L, G = o["lanes"], o["group"]
    n_random = max(1, n * L // G)
    codes, scales, zeros = blk.w4_groups(o, rng, n_random=n_random)
    if not corners:
        codes, scales = codes[-n_random:], scales[-n_random:]
        zeros = None if zeros is None else zeros[-n_random:]
    ng, per = len(scales), G // L
    want = np.asarray(compute("w4-dequantize", o, codes, scales, zeros), dtype=np.uint64)
    off = _offsets(unit.in_layout)
    first = np.tile(np.arange(per) == 0, ng)
    nb = ng * per
    sw = golden.lookup(o["scale"]).width
    junk = rng.integers(0, 1 << sw, nb, dtype=np.uint64)
    sc = np.where(first, np.repeat(scales.astype(np.uint64), per), junk)
    fields = _lanes(codes.reshape(nb, L).astype(np.uint64), unit.bits, off["codes"]) + [(off["scale"], sw, sc)]
    if "zero" in off:
        zj = rng.integers(0, 1 << unit.bits, nb, dtype=np.uint64)
        fields.append((off["zero"], unit.bits, np.where(first, np.repeat(zeros.astype(np.uint64), per), zj)))
    beats = pack_fields(nb, _width(unit.in_layout), fields)
    ow = unit.out_fmt.width
    last = np.tile(np.arange(per) == per - 1, ng).astype(np.uint64)
    expect = pack_fields(nb, _width(unit.out_layout), _lanes(want.reshape(nb, L), ow) + [(ow * L, 1, last)])
    idx = np.arange(nb)

    def what(k):
        g = k // per
        return (f"group {g} beat {k % per}: codes {codes[g, (k % per) * L:(k % per + 1) * L].tolist()} scale "
                f"0x{int(scales[g]):x}" + ("" if zeros is None else f" zero {int(zeros[g])}"))
    return Stimulus(beats, expect, idx, idx, documented_latency("w4-dequantize", o), what, align=per)


def _bfp(o, unit, rng, n, corners):
    L, B = o["lanes"], o["block"]
    blocks, names = blk.bfp_blocks(o, rng, max(1, n * L // B))
    if not corners:
        k = len(blocks) - max(1, n * L // B)
        blocks, names = blocks[k:], names[k:]
    else:  # +-inf and NaN at every element position (random patterns all but never draw them)
        fmt = golden.lookup(o["src"])
        inf = ((1 << (fmt.width - 1 - fmt.man_bits)) - 1) << fmt.man_bits
        body = blocks[len(blocks) - 1:].repeat(2 * B, axis=0)
        for p in range(B):
            body[p, p] = inf | (p % 2) << (fmt.width - 1)
            body[B + p, p] = inf | 1 << (fmt.man_bits - 1 - p % fmt.man_bits)
        blocks = np.concatenate([body, blocks])
        names = [f"inf at {p}" for p in range(B)] + [f"NaN at {p}" for p in range(B)] + list(names)
    codes, scales = compute("bfp-encode", o, blocks)
    nb, per, w = len(blocks), B // L, unit.src.width
    beats = pack_fields(nb * per, _width(unit.in_layout), _lanes(blocks.reshape(nb * per, L).astype(np.uint64), w))
    cw = o["man_bits"] + 1
    expect = pack_fields(nb, _width(unit.out_layout), _lanes(np.asarray(codes, dtype=np.uint64), cw)
                         + [(cw * B, 8, np.asarray(scales, dtype=np.uint64))])

    def what(k):
        return f"block {k} ({names[k]}): {[hex(int(v)) for v in blocks[k]]}"
    return Stimulus(beats, expect, np.arange(nb) * per + per - 1, np.arange(nb),
                    documented_latency("bfp-encode", o), what)


def _mx_quantize(o, unit, rng, n, corners):
    L, bs = unit.lanes, unit.block_size
    nblk = max(14, n * L // bs)
    bits = mxb.quantize_blocks(rng, nblk, bs, o["src"])
    if not corners:
        bits[:13] = bits[13:26] if nblk >= 26 else bits[:13]
    ts = np.full(nblk, np.nan)  # NVFP4: every candidate tensor scale in turn, one per run of blocks
    side = {}
    if unit.nvfp4:
        values = golden.lookup(o["src"]).decode(bits)
        cands = mxb.tensor_scales(rng, values)
        run = (np.arange(nblk) * len(cands)) // nblk
        ts = np.asarray(cands)[run]
        parts = [compute("mx-quantize", o, bits[run == j], cands[j]) for j in np.unique(run)]
        codes = np.concatenate([np.asarray(c).reshape(-1) for c, _ in parts])
        scales = np.concatenate([np.asarray(sc).reshape(-1) for _, sc in parts])
    else:
        codes, scales = compute("mx-quantize", o, bits, None)
    per, sw = bs // L, golden.lookup(o["src"]).width
    nb = nblk * per
    beats = pack_fields(nb, _width(unit.in_layout), _lanes(bits.reshape(nb, L).astype(np.uint64), sw))
    if unit.nvfp4:
        side["tensor_scale"] = np.repeat(mxb.FP32.encode(ts).astype(np.uint64), per)
    off = _offsets(unit.out_layout)
    ew = unit.elem.width
    fields = _lanes(np.asarray(codes, dtype=np.uint64).reshape(nb, L), ew, off["codes"])
    fields += [(off["scale"], 8, np.repeat(np.asarray(scales, dtype=np.uint64), per)),
               (off["last"], 1, np.tile(np.arange(per) == per - 1, nblk).astype(np.uint64))]
    expect = pack_fields(nb, _width(unit.out_layout), fields)

    def what(k):
        b = k // per
        return (f"block {b} beat {k % per}: {[hex(int(v)) for v in bits[b]]}"
                + (f" tensor scale {float(ts[b])!r}" if unit.nvfp4 else ""))
    return Stimulus(beats, expect, np.arange(nblk) * per + per - 1, np.arange(nblk) * per,
                    documented_latency("mx-quantize", o), what, side)


def _mx_dequantize(o, unit, rng, n, corners):
    L, ew = unit.lanes, unit.elem.width
    codes = rng.integers(0, 1 << ew, (n, L)).astype(np.uint8)
    scales = rng.integers(0, 256, n).astype(np.uint8)
    if corners:
        c2, s2 = mxb.every_code_and_scale(unit)
        codes, scales = np.concatenate([c2, codes]), np.concatenate([s2, scales])
    nb = len(scales)
    last = rng.integers(0, 2, nb).astype(np.uint64)
    ts, side = None, {}
    if unit.scheme == "nvfp4":
        ts = float(np.exp2(rng.uniform(-60, 60)))
        ts = float(mxb.FP32.decode(mxb.FP32.encode(np.array([ts])))[0])
        side["tensor_scale"] = np.full(nb, int(mxb.FP32.encode(np.array([ts]))[0]), dtype=np.uint64)
    want = np.asarray(compute("mx-dequantize", o, codes, scales, ts), dtype=np.uint64)
    off = _offsets(unit.in_layout)
    beats = pack_fields(nb, _width(unit.in_layout), _lanes(codes.astype(np.uint64), ew, off["codes"])
                        + [(off["scale"], 8, scales.astype(np.uint64)), (off["last"], 1, last)])
    dw = unit.dst.width
    expect = pack_fields(nb, _width(unit.out_layout), _lanes(want, dw) + [(dw * L, 1, last)])
    idx = np.arange(nb)

    def what(k):
        return f"codes {codes[k].tolist()} scale 0x{int(scales[k]):02x}" + (f" tensor scale {ts!r}" if ts else "")
    return Stimulus(beats, expect, idx, idx, documented_latency("mx-dequantize", o), what, side)


CASES = {"convert": _convert, "w4-dequantize": _w4, "bfp-encode": _bfp, "mx-quantize": _mx_quantize,
         "mx-dequantize": _mx_dequantize}
CASES.update(DOT_CASES)


def stimulus(name, options, unit, rng, n, corners=True, stall_free=False):
    """The :class:`Stimulus` of about ``n`` input beats for unit ``name`` (a registry name, or ``"nvfp4"``) with
    resolved ``options`` and its built component ``unit``: structured corners first (``corners``), then seeded
    random inputs. ``stall_free``: only inputs the unit takes one per cycle (the qmac's long dot products)."""
    if name == "qmac":
        from fmtforge.verif.support.benches.stream_qmac import qmac_stimulus
        return qmac_stimulus(options, unit, rng, n, corners, stall_free)
    return CASES[registry_name(name)](options, unit, rng, n, corners)
