"""One declaration per stream unit configuration: its groups, capacity (with the reason), documented ready rule
and documented latency. Written from the units' docs pages; the latency comes from
:func:`fmtforge.verif.support.benches.stream_latency.documented_latency` (the docs, never the contract's own
``latency``); only the beat mapping and the block sizes are taken from the contract's ``streams`` and options.
"""

from fmtforge.verif.support.benches.stream_latency import documented_latency

from .harness import Decl

__all__ = ["CASES", "declare", "make"]

#: label -> (registry name, options, default BMC depth)
CASES = {
    "convert": ("convert", dict(src="fp32", dst="fp8_e4m3", saturate=True, flags=True, stages=2), 12),
    "qmac": ("qmac", dict(lanes=4), 14),
    "mx-quantize": ("mx-quantize", dict(), 14),
    "nvfp4": ("mx-quantize", dict(scheme="nvfp4"), 20),
    "mx-dequantize": ("mx-dequantize", dict(), 10),
    "w4-dequantize": ("w4-dequantize", dict(), 10),
    # the default's 128-deep block RAM ring is ~16k bits of state in the SAT model: past 20 minutes; the ring
    # and its control are the same logic at this size (docs/prove.md)
    "bfp-encode": ("bfp-encode", dict(lanes=1, block=2, src="bf16", man_bits=3), 12),
    "dot": ("dot", dict(a="fp8_e4m3", b="fp8_e4m3", c="fp16", out="fp16", mode="beat", lanes=2), 10),
    "posit-dot": ("posit-dot", dict(), 14),
}

_DECLARED = ("convert", "qmac", "mx-quantize", "mx-dequantize", "w4-dequantize", "bfp-encode", "dot", "posit-dot")
_STALL_ALL = "the docs' stall-all rule i.ready = ~o.valid | o.ready"


def declare(name, options):
    """The :class:`Decl` of registry unit ``name`` with resolved ``options`` (ValueError for a unit without
    one)."""
    from fmtforge.rtl.units.registry import UNITS
    if name not in _DECLARED:
        raise ValueError(f"unit: no handshake declaration for {name!r} (no documented latency in "
                         f"stream_latency.py); declared: {', '.join(_DECLARED)}")
    if name == "convert" and not options["stages"]:
        raise ValueError("stages: a combinational converter has no handshake; give --stages 1..8")
    streams = UNITS[name].need("streams")(options)
    if set(streams) != {"i", "o"}:
        raise ValueError(f"unit: {name} has no i / o streams; the handshake proofs cover convert, qmac, "
                         "mx-quantize, mx-dequantize, w4-dequantize, bfp-encode")
    # occupancy (below): the unit's valid flip-flops by name, for the auxiliary invariant that closes
    # k-induction (harness.Decl); a wrong name or a wrong count is refuted like any property
    lat = documented_latency(name, options)
    if name == "convert":
        return Decl(lat, lat, f"stall-all pipeline of {lat} registers: one beat per stage (docs/convert.md)",
                    doc="docs/convert.md: " + _STALL_ALL + ", latency N per beat", occupancy=r"valid_o?q\d+")
    if name == "qmac":
        if options["requant_cycles"] != 1:
            raise ValueError("requant_cycles: the handshake proof covers requant_cycles 1 (i.ready = advance)")
        # "last" is an input field of every beat (streams lists it): a dot product ends on it
        assert "last" in streams["i"]
        return Decl(lat, lat, f"stall-all pipeline, {lat} stages from a last beat to o: at most one dot "
                    "product's result per stage", in_group="last", doc="docs/qmac.md: " + _STALL_ALL,
                    invariant=_qmac_invariant)
    if name == "mx-quantize":
        nvfp4 = options["scheme"] == "nvfp4"
        k = options["block_size"] or (16 if nvfp4 else 32)  # docs/mx.md's defaults
        beats = k // options["lanes"]
        # docs/mx.md: NB banks, the smallest power of two >= 2 + ceil((W - 1) / (K / L)), W = 3 (MX) or 8 (NVFP4);
        # a block is held from its last beat in until its last beat leaves o, and the read pipeline (the block
        # RAM's read, the stages, the output register) holds the last beats of at most ceil(S / (K / L)) blocks
        # already drained from their banks
        wait = 8 if nvfp4 else 3
        banks = 1 << (1 + -(-(wait - 1) // beats)).bit_length()
        stages = options["stages"] if options["stages"] is not None else (5 if nvfp4 else 3)
        capacity = banks + -(-(stages + 2) // beats)
        return Decl(lat, capacity, f"{banks} block RAM banks, plus the last beats of drained blocks in the "
                    f"{stages + 2}-stage read pipeline", invariant=_mx_quantize_invariant,
                    in_group=("block", beats), out_group=("block", beats), ready="two_buffers", when_empty=True,
                    doc="docs/mx.md: i.ready falls only while every bank holds a block not yet read; latency "
                    "from a block's last beat to its first output beat, nothing else held")
    if name == "mx-dequantize":
        return Decl(lat, lat, f"stall-all pipeline of {lat} registers: one beat per stage",
                    doc="docs/mx.md: " + _STALL_ALL, occupancy=r"(in|norm|scaled)_valid|o__valid")
    if name == "w4-dequantize":
        return Decl(lat, lat, f"stall-all pipeline of {lat} registers: one beat per stage",
                    doc="docs/weights.md: " + _STALL_ALL, occupancy=r"in_valid|lane_valid\d+|o__valid")
    if name == "bfp-encode":
        beats = options["block"] // options["lanes"]
        return Decl(lat, lat, f"stall-all: a block held from its last beat to its output beat, at most one per "
                    f"cycle of its {lat}-cycle latency", in_group=("block", beats),
                    doc="docs/bfp.md: " + _STALL_ALL + "; one output beat per block of B/N beats",
                    invariant=_bfp_invariant, in_counter="beat_in_block")
    if name in ("dot", "posit-dot"):
        assert "last" in streams["i"]
        return Decl(lat, lat, f"stall-all pipeline, {lat} stages from a last beat to o: at most one dot "
                    "product's result per stage", in_group="last",
                    doc=("docs/dot_unit.md" if name == "dot" else "docs/posit_dot.md")
                    + ": every register advances when ~o.valid | o.ready, and i.ready is that",
                    invariant=_dot_invariant)
    raise ValueError(f"unit: no handshake declaration for {name!r}; declared: {', '.join(CASES)}")


def _bfp_invariant(r, dut, h):
    """bfp-encode's state against the harness' counters (auxiliary, for k-induction): blocks held = the stages
    holding a block's last beat (every ``<stage>_valid`` register with a ``<stage>_last`` beside it: ``tree``,
    ``scan``, ``mem``, ``rd``, ``lane<k>``) + a block whose read-back is under way (``rd_left`` nonzero: its last
    beat not yet read) + ``o.valid``."""
    stages = [n[:-len("_valid")] for n in r if n.endswith("_valid") and n[:-len("_valid")] + "_last" in r]
    held = sum(r[f"{s}_valid"] & r[f"{s}_last"] for s in stages)
    held += sum(r[n] & r["lane_last" + n[len("lane_valid"):]] for n in r if n.startswith("lane_valid"))
    reading = (r["rd_left"] != 0) if "rd_left" in r else 0
    return h["held"] == held + reading + r["o__valid"]


def _dot_invariant(r, dut, h):
    """dot's and posit-dot's state against the harness' counters (auxiliary, for k-induction): dot products
    held = the beat stages holding a ``last`` beat (every ``<stage>_valid`` register with a ``<stage>_last``
    beside it: dot's ``mul``, ``place``, ``tree``; posit-dot's ``dec`` .. ``quire_g1``) + the result stages
    after the accumulator (every other ``*valid*`` register: dot's ``fin_valid``, ``norm_valid``; posit-dot's
    ``q_valid``, ``round_valid<k>``) + ``o.valid``. A register misnamed or miscounted is refuted like any
    property."""
    stages = [n[:-len("_valid")] for n in r if n.endswith("_valid") and n[:-len("_valid")] + "_last" in r]
    beats = sum(r[f"{s}_valid"] & r[f"{s}_last"] for s in stages)
    results = sum(r[n] for n in r if "valid" in n and n[:-len("_valid")] not in stages)
    return h["held"] == beats + results


def _qmac_invariant(r, dut, h):
    """qmac's state against the harness' counters (auxiliary, for k-induction): dot products held = the beat
    stages (``sub``, ``mul``, ``tree2``) holding a ``last`` beat + the accumulator's result register (the
    requantizer's ``i__valid``) + the requantizer's stages ``rq1`` .. ``rq4`` + ``o.valid``."""
    beats = sum(r[f"{s}_valid"] & r[f"{s}_last"] for s in ("sub", "mul", "tree2"))
    results = sum(r[n] for n in ("i__valid", "rq1_valid", "rq2_valid", "rq3_valid", "rq4_valid", "o__valid"))
    return h["held"] == beats + results


def _mx_quantize_invariant(r, dut, h):
    """mx-quantize's state against the harness' counters (auxiliary, for k-induction). The block buffer's
    ``used`` (closed blocks not yet read out) and ``avail`` (of those, the ones whose scale is stored), its
    write / read banks and beat indices, and the read pipeline's stages (``rd``, ``word``, ``norm``,
    ``scaled``, nvfp4's ``div<k>``, then ``o``), each a ``<stage>_valid`` with a ``<stage>_last``: blocks held
    = used + stages holding a last beat; the blocks between close and stored scale = the scale pipeline's valid
    registers; the stages' beats are consecutive, from the harness' output position to the next read."""
    import re
    nb, NB = dut.beats, dut.banks
    used, avail = r["used"], r["avail"]
    order = ["o"] + sorted((n[:-6] for n in r if re.fullmatch(r"div\d+_valid", n)), reverse=True) + [
        s for s in ("scaled", "norm", "word", "rd") if f"{s}_valid" in r]
    valid = {s: (dut.o.valid if s == "o" else r[f"{s}_valid"]) for s in order}
    last = {s: (dut.o.payload.last if s == "o" else r[f"{s}_last"]) for s in order}
    pending = [r["beat_valid"] & r["beat_close"], r["block_valid"]] + [
        r[n] for n in r if re.fullmatch(r"scale_(op|q\d+)_side0", n)]
    ok = ((h["held"] == used + sum(valid[s] & last[s] for s in order)) & (used <= NB)
          & (used - avail == sum(pending)) & (r["wbank"] == (r["rbank"] + used)[:len(r["wbank"])])
          & (h["in_pos"] == r["widx"]) & (~r["beat_valid"] | (r["beat_close"] == (r["widx"] == 0))))
    k = h["out_pos"]
    for s in order:  # the beat each valid stage holds: the next one of the output order
        ok &= ~valid[s] | (last[s] == (k == nb - 1))
        k = (k + valid[s])[:max(1, (nb - 1).bit_length())] if nb > 1 else k
    return ok & ((r["ridx"] == k) if nb > 1 else 1)


def make(label_or_name, options=None):
    """``(component, decl, resolved options, registry name)`` for a label of :data:`CASES` (its options) or a
    registry name with ``options``."""
    from fmtforge.rtl.units.registry import UNITS
    import fmtforge.rtl.units  # noqa: F401  (registers the units)
    if options is None and label_or_name in CASES:
        name, options, _ = CASES[label_or_name]
    else:
        name = "mx-quantize" if label_or_name == "nvfp4" else label_or_name
        options = dict(options or {})
        if label_or_name == "nvfp4":
            options.setdefault("scheme", "nvfp4")
    if name not in UNITS:
        raise ValueError(f"unit: unknown unit {name!r}; handshake units: {', '.join(CASES)}")
    resolved = UNITS[name].resolve(options)
    decl = declare(name, resolved)
    return UNITS[name].build(**resolved), decl, resolved, name
