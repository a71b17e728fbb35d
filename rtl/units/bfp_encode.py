"""Block floating-point encoder (MSFP12 / MSFP16 style): bf16 or fp32 elements in, one shared 8-bit exponent
and ``block`` sign-magnitude mantissas out, as ``golden.block.bfp.msfp_encode_bits``.

From bf16 or fp32 the shared biased exponent ``floor(log2(amax)) + 127`` (clamped at 0) is the largest
exponent field of the block: a max tree over each beat's fields, accumulated across the block's beats in a
register. The beats are kept in a buffer until the last one has arrived; then every element is shifted
right by its distance to the shared exponent and rounded (truncated, or RNE saturating at the largest
magnitude). See docs/bfp.md for the protocol and the payload layout.
"""

import numpy as np
from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.validate import check_choice, check_int

from ..pipeline import NO_CUTS, Cuts, Pipeline
from .max_tree import max_tree
from .registry import Option, Unit, register

__all__ = ["LANE_CUTS", "MAX_STAGES", "ROUNDINGS", "SOURCES", "BfpEncode", "BfpLane", "bfp_latency", "bfp_name",
           "check_bfp", "ring_depth", "tree_registered"]

SOURCES = ("bf16", "fp32")
ROUNDINGS = ("rtz", "rne")
#: The lane's cut points that hold registers, by the number of lane stages
LANE_CUTS = {0: (), 1: ("shift",), 2: ("dist", "round"), 3: ("dist", "shift", "round")}
MAX_STAGES = 3
#: The stages of the registry's default (docs/bfp.md: measured)
DEFAULT_STAGES = 2


def check_bfp(src, man_bits, rounding, *, lanes=1, block=1, stages=0):
    """Validated ``(src format, man_bits, rounding)``; ValueError naming the parameter (called before a
    component is made: one whose constructor raises warns when collected)."""
    check_int("lanes", lanes, 1, 64)
    check_int("stages", stages, 0, MAX_STAGES)
    check_int("block", block, 1, 256)
    if block % lanes:
        raise ValueError(f"block must be a multiple of lanes ({lanes}), not {block}")
    check_choice("src", getattr(src, "name", src), SOURCES)
    check_int("man_bits", man_bits, 1, 15)
    check_choice("rounding", rounding, ROUNDINGS)
    return golden.lookup(src), man_bits, rounding


def bfp_name(lanes, block=16, src="fp32", man_bits=7, rounding="rtz", stages=0):
    """Verilog module name: ``bfp_encode_fp32_m7_b16_l4_rtz`` (+ ``_s<stages>`` with lane registers)."""
    return (f"bfp_encode_{getattr(src, 'name', src)}_m{man_bits}_b{block}_l{lanes}_{rounding}"
            + (f"_s{stages}" if stages else ""))


def tree_registered(lanes):
    """Whether the beat's max tree holds a register (after its first two levels): with more than 4 lanes."""
    return lanes > 4


#: The ring's least depth: the words a block RAM holds anyway (SB_RAM40_4K 256 x 16, DP16KD 512 x 36); at 128
#: words Yosys' memory mapper finds block RAM cheaper than ECP5's LUT RAM (cost 4 per 16 x 4 against 128 per
#: DP16KD), which it takes for shallow memories (the Verilog carries no ram_style: its writer drops attributes)
RING_MIN_DEPTH = 128


def ring_depth(lanes, block):
    """Beats the block RAM ring holds: a power of two >= beats per block + the cycles from a block's last beat
    accepted to its first beat read (1, + 1 with a registered tree), so that no beat is overwritten before it
    is read; at least :data:`RING_MIN_DEPTH`."""
    return max(1 << (block // lanes + 1 + tree_registered(lanes) - 1).bit_length(), RING_MIN_DEPTH)


def bfp_latency(lanes, block, stages):
    """Cycles from a block's last beat accepted to the block valid on o, nothing stalling: the tree register
    (with more than 4 lanes), the scan register, the read of the block's B/N beats (the read port's register,
    then the register before the lanes), the lane registers, the output register."""
    return tree_registered(lanes) + 1 + block // lanes + 1 + stages + 1


def _cut(cuts, m, point, *values):
    """``values`` past the cut ``point`` (registered where the unit put a register); constants pass as they are."""
    live = [k for k, v in enumerate(values) if not isinstance(v, Const)]
    regs = cuts.at(m, point, *(values[k] for k in live))
    out = list(values)
    for k, r in zip(live, regs):
        out[k] = r
    return tuple(out)


class BfpLane(wiring.Component):
    """One element, combinational: ``i`` = {x (src bits), scale (the block's biased shared exponent, 8 bits),
    special (the block holds a NaN or an infinity)} -> ``o`` = sign << man_bits | magnitude.

    ``scale`` must be at least the element's exponent field (as the block maximum is); with ``special`` the
    magnitude is ``2**man_bits - 1`` for an infinity and 0 otherwise. Cut points (``cuts``, set by the unit
    for its registers), in path order: ``dist`` (after the shift distance), ``shift`` (half way through the
    shifter), ``round`` (before the rounding adder and the saturation).

    With ``prepared`` the block's terms of the shift distance (:meth:`block_terms`, the same for every element
    of a block) come in precomputed instead of ``scale``: ``i`` = {x, plus, lim, special}; the unit computes
    them once per block, before the registers in front of the lanes.
    """

    cuts = NO_CUTS

    def __init__(self, *, src, man_bits, rounding, prepared=False):
        self.src, self.man_bits, self.rounding = check_bfp(src, man_bits, rounding)
        self.prepared = prepared
        f = self.src.man_bits
        self.Wx = max(f + 1, man_bits + 1)  # the significand, with zeros below it up to man_bits + 1 bits
        terms = {"plus": 9, "lim": signed(10)} if prepared else {"scale": 8}
        self.in_layout = data.StructLayout({"x": self.src.width, **terms, "special": 1})
        super().__init__({"i": In(self.in_layout), "o": Out(man_bits + 1)})

    def block_terms(self, scale):
        """``(plus, lim)`` of a block's ``scale``: the element's shift distance is ``plus - max(field, 1)``,
        and is beyond the significand (capped) when ``max(field, 1) < lim``."""
        base = self.Wx - self.man_bits
        return (scale + base)[:9], Cat(scale, Const(0, 2)).as_signed() - (self.man_bits + 1)

    @property
    def name(self):
        return f"bfp_lane_{self.src.name}_m{self.man_bits}_{self.rounding}"

    def elaborate(self, platform):
        m = Module()
        f, mb = self.src.man_bits, self.man_bits
        x = self.i.x
        frac, expf, sign = x[:f], x[f:f + 8], x[-1]
        W = f + 1
        X = max(mb - W + 1, 0)  # zeros below the significand so that the shift below is never negative
        Wx = W + X
        sig = Signal(Wx, name="sig")
        m.d.comb += sig.eq(Cat(Const(0, X), frac, expf != 0) if X else Cat(frac, expf != 0))
        # |x| * 2**(mb - 1 - E) = sig >> sh with sh = Wx - mb + scale - max(expf, 1) >= 0 (scale >= expf, and
        # scale = 0 only holds subnormals, whose top bit is clear); beyond Wx + 1 everything is sticky. With
        # plus = scale + Wx - mb: sh > Wx + 1 iff max(expf, 1) < lim = scale - mb - 1, a comparison beside the
        # subtraction (not after it), and below the cap only sh's low bits matter: a short subtraction
        assert Wx == self.Wx
        cap = Wx + 1
        if self.prepared:
            plus, lim = self.i.plus, self.i.lim
        else:
            plus, lim = Signal(9, name="plus"), Signal(signed(10), name="lim")
            p, q = self.block_terms(self.i.scale)
            m.d.comb += [plus.eq(p), lim.eq(q)]
        e1 = Signal(8, name="field1")
        m.d.comb += e1.eq(Mux(expf == 0, 1, expf))
        shc = Signal(range(cap + 1), name="shift")
        k = len(shc)
        low = Signal(k, name="dist_low")
        m.d.comb += [low.eq(plus[:k] - e1[:k]), shc.eq(Mux(e1 < lim, cap, low))]
        is_inf = Signal(name="is_inf")
        m.d.comb += is_inf.eq((expf == 0xFF) & (frac == 0))
        cut = lambda point, *v: _cut(self.cuts, m, point, *v)  # noqa: E731
        sig, shc, sign, special, is_inf = cut("dist", sig, shc, sign, self.i.special, is_inf)
        # a logarithmic shifter of constant shifts (a stage per bit of the distance), collecting the bits it
        # drops: kept magnitude, the round bit below it, and the sticky OR of the rest (rne only)
        v, lost = Cat(Const(0, 1), sig), Const(0, 1)
        half = (len(shc) + 1) // 2
        for k in range(len(shc)):
            if k == half:
                v, lost, shc, sign, special, is_inf = cut("shift", v, lost, shc, sign, special, is_inf)
            step = 1 << k
            nv = Signal(len(v), name=f"shr{step}")
            m.d.comb += nv.eq(Mux(shc[k], v >> step, v))
            if self.rounding == "rne":
                nl = Signal(name=f"sticky{step}")
                m.d.comb += nl.eq(lost | (shc[k] & (v[:min(step, len(v))] != 0)))
                lost = nl
            v = nv
        if half >= len(shc):
            v, lost, sign, special, is_inf = cut("shift", v, lost, sign, special, is_inf)
        kept, rbit = v[1:mb + 2], v[0]
        kept, rbit, lost, sign, special, is_inf = cut("round", kept, rbit, lost, sign, special, is_inf)
        mag = Signal(mb + 1, name="mag")
        top = (1 << mb) - 1
        if self.rounding == "rne":
            m.d.comb += mag.eq(kept + (rbit & (lost | kept[0])))
        else:
            m.d.comb += mag.eq(kept)
        out = Signal(mb, name="magnitude")
        with m.If(special):
            m.d.comb += out.eq(Mux(is_inf, top, 0))
        with m.Else():
            m.d.comb += out.eq(Mux(mag > top, top, mag))
        m.d.comb += self.o.eq(Cat(out, sign))
        return m


class BfpEncode(wiring.Component):
    """Streaming MSFP-style encoder: ``lanes`` elements per beat, ``block // lanes`` beats per block, one
    encoded block per output beat.

    Parameters
    ----------
    lanes : int, 1..64 -- elements per input beat
    block : int, 1..256, a multiple of ``lanes`` -- elements sharing one exponent (MSFP: 16)
    src : "bf16" or "fp32"
    man_bits : int, 1..15 -- magnitude bits per element (MSFP12: 3, MSFP16: 7)
    rounding : "rtz" (golden MSFP's default: truncation) or "rne" (saturating at ``2**man_bits - 1``)
    stages : int, 0..3 -- registers inside the lanes (:data:`LANE_CUTS`)

    Ports
    -----
    i : In(stream.Signature(ArrayLayout(src.width, lanes))) -- element 0 of the beat lowest; the unit counts
        beats: beat ``k`` of a block holds its elements ``k*lanes .. k*lanes + lanes - 1``.
    o : Out(stream.Signature(out_layout)), payload from bit 0 up: ``codes`` (block x (man_bits + 1): sign <<
        man_bits | magnitude, element 0 lowest) and ``scale`` (8 bits: E + 127, 0xFF for a block holding a
        NaN or an infinity).

    Structure: every beat is written into a block RAM ring (``amaranth.lib.memory``, one write and one read
    port) while a max tree (a register half way when it has more than two levels) and a running maximum find
    the block's exponent; once the block's last beat has been through the tree, its beats are read back one
    per cycle, registered, and encoded by ``lanes`` lanes, and the encoded beats are gathered into the output
    beat. Timing: ``i.ready = ~o.valid | o.ready`` (everything advances together); one beat per cycle; a block
    leaves :func:`bfp_latency` cycles after its last beat is accepted. Every option is required (the registry
    holds the defaults).
    """

    def __init__(self, *, lanes, block, src, man_bits, rounding, stages):
        self.src, self.man_bits, self.rounding = check_bfp(src, man_bits, rounding, lanes=lanes, block=block,
                                                           stages=stages)
        self.lanes, self.block, self.stages = lanes, block, stages
        self.in_layout = data.ArrayLayout(self.src.width, lanes)
        self.out_layout = data.StructLayout({"codes": data.ArrayLayout(man_bits + 1, block), "scale": 8})
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return bfp_name(self.lanes, self.block, self.src, self.man_bits, self.rounding, self.stages)

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        L, n, f = self.lanes, self.block // self.lanes, self.src.man_bits
        beat = self.i.payload
        take = Signal()
        m.d.comb += take.eq(self.i.valid & advance)
        count = Signal(range(n), name="beat_in_block")
        first, last = count == 0, count == n - 1
        with m.If(take):
            m.d.sync += count.eq(Mux(last, 0, count + 1))
        regs = Pipeline(m, advance)

        # the block RAM ring: beats in, in order; read back in the same order once their exponent is known
        tree_cut = tree_registered(L)
        R = ring_depth(L, self.block)
        m.submodules.buffer = mem = Memory(shape=self.in_layout, depth=R, init=[])
        wp, rp = mem.write_port(), mem.read_port(domain="sync")
        wptr = Signal(range(R), name="wptr")
        rptr = Signal(range(R), name="rptr")
        m.d.comb += [wp.addr.eq(wptr), wp.data.eq(beat), wp.en.eq(take), rp.addr.eq(rptr), rp.en.eq(advance)]
        with m.If(take):
            m.d.sync += wptr.eq(wptr + 1)

        # the exponent: the beat's maximum field (a register half way through a deeper tree), then the running one
        fields = [beat[k][f:f + 8] for k in range(L)]
        special = Signal(name="beat_special")
        m.d.comb += special.eq(Cat(e == 0xFF for e in fields).any())
        valid, is_first, is_last = take, first, last
        if tree_cut:
            parts = [max_tree(m, fields[k:k + 4], f"beat{k // 4}") for k in range(0, L, 4)]
            parts = regs.regs(*((p, f"tree_max{k}") for k, p in enumerate(parts)))
            valid, is_first, is_last, special = regs.regs((valid, "tree_valid"), (is_first, "tree_first"),
                                                          (is_last, "tree_last"), (special, "tree_special"))
            beat_max = max_tree(m, list(parts), "part")
        else:
            beat_max = max_tree(m, fields, "beat")
        scan = regs.stage("scan", valid=valid, first=is_first, last=is_last, max=beat_max, special=special)
        run_max = Signal(8, name="run_max")
        run_special = Signal(name="run_special")
        block_max = Signal(8, name="block_max")
        block_special = Signal(name="block_special")
        m.d.comb += [block_max.eq(Mux(scan["first"] | (scan["max"] > run_max), scan["max"], run_max)),
                     block_special.eq(scan["special"] | (~scan["first"] & run_special))]
        start = Signal(name="read_start")
        m.d.comb += start.eq(scan["valid"] & scan["last"])
        rd_left = Signal(range(n), name="rd_left")
        rd_scale = Signal(8, name="rd_scale")
        rd_special = Signal(name="rd_special")
        # the block's terms of the lanes' shift distance, once for all lanes (BfpLane.block_terms), from the
        # held exponent while the block's beats are read
        lanes = [BfpLane(src=self.src, man_bits=self.man_bits, rounding=self.rounding, prepared=True)
                 for _ in range(L)]
        rd_plus, rd_lim = lanes[0].block_terms(rd_scale)
        issuing = Signal(name="read_issue")
        m.d.comb += issuing.eq(start | (rd_left != 0))
        with m.If(advance):
            with m.If(scan["valid"]):
                m.d.sync += [run_max.eq(block_max), run_special.eq(block_special)]
            with m.If(issuing):
                m.d.sync += rptr.eq(rptr + 1)
            with m.If(start):
                m.d.sync += [rd_left.eq(n - 1), rd_scale.eq(block_max), rd_special.eq(block_special)]
            with m.Elif(rd_left != 0):
                m.d.sync += rd_left.eq(rd_left - 1)
        # the read port's own register (mem_*), then a register between the buffer and the lanes (rd_*)
        out_last = (rd_left == 1) | (start if n == 1 else Const(0))
        mem_valid, mem_last = regs.regs((issuing, "mem_valid"), (out_last, "mem_last"))
        rd_valid, rd_last, x, scale, blk_special, blk_plus, blk_lim = regs.regs(
            (mem_valid, "rd_valid"), (mem_last, "rd_last"), (rp.data, "rd_x"), (rd_scale, "rd_blk_scale"),
            (rd_special, "rd_blk_special"), (rd_plus, "rd_blk_plus"), (rd_lim, "rd_blk_lim"))
        x = data.View(self.in_layout, x)
        valid, is_last = rd_valid, rd_last
        out_scale = Signal(8, name="out_scale")
        m.d.comb += out_scale.eq(Mux(blk_special, 0xFF, scale))
        for k in range(self.stages):
            valid, is_last, out_scale = regs.regs((valid, f"lane_valid{k}"), (is_last, f"lane_last{k}"),
                                                  (out_scale, f"lane_scale{k}"))
        points = LANE_CUTS[self.stages]
        lane_out = Signal(data.ArrayLayout(self.man_bits + 1, L), name="lane_out")
        for k, lane in enumerate(lanes):
            m.submodules[f"lane{k}"] = lane
            lane.cuts = Cuts(points, en=advance)
            m.d.comb += [lane.i.x.eq(x[k]), lane.i.plus.eq(blk_plus), lane.i.lim.eq(blk_lim),
                         lane.i.special.eq(blk_special), lane_out[k].eq(lane.o)]
        # the encoded beats gathered: beat 0 lowest
        result = Signal(self.out_layout)
        if n > 1:
            Lb = L * (self.man_bits + 1)
            gathered = Signal(Lb * (n - 1), name="gathered")
            with m.If(advance & valid):
                m.d.sync += gathered.eq(Cat(gathered[Lb:], lane_out) if n > 2 else lane_out)
            m.d.comb += result.codes.eq(Cat(gathered, lane_out))
        else:
            m.d.comb += result.codes.eq(lane_out)
        m.d.comb += result.scale.eq(out_scale)
        regs.load((self.o.payload, result), (self.o.valid, valid & is_last))
        return m


def _build(lanes, block, src, man_bits, rounding, stages):
    check_bfp(src, man_bits, rounding, lanes=lanes, block=block, stages=stages)  # before the component exists
    return BfpEncode(lanes=lanes, block=block, src=src, man_bits=man_bits, rounding=rounding, stages=stages)


def _model(options, bits):
    """``(codes, scales)`` of blocks of ``src`` patterns ``bits`` (shape (blocks, block)): ``golden.block.bfp.
    msfp_encode_bits`` (codes (blocks, block) ``sign << man_bits | magnitude``, scales (blocks,) biased, 0xFF
    marking a block that holds a NaN or an infinity)."""
    from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
    o = options
    bits = np.asarray(bits)
    scheme = MSFP(man_bits=o["man_bits"], block_size=o["block"], rounding=o["rounding"])
    codes, scales = msfp_encode_bits(scheme, bits.reshape(-1), o["src"])
    return np.asarray(codes).reshape(-1, o["block"]), np.asarray(scales).reshape(-1)


register(Unit(
    name="bfp-encode",
    summary="MSFP12/MSFP16-style block floating point encoder: a shared 8-bit exponent per block, streaming",
    description="bf16 or fp32 elements in, N per beat; per block of B (16) one biased shared exponent "
                "floor(log2(amax)) + 127 and B sign-magnitude mantissas out, as golden.block.bfp.msfp_encode_bits "
                "(man_bits 3: MSFP12, 7: MSFP16; truncation or RNE).",
    build=_build,
    options=(
        Option("lanes", "int", "elements per beat", 4, range=(1, 64), metavar="N"),
        Option("block", "int", "elements per shared exponent, a multiple of lanes", 16, range=(1, 256),
               metavar="B"),
        Option("src", "choice", "element format", "fp32", choices=SOURCES, metavar="S"),
        Option("man_bits", "int", "magnitude bits per element (3: MSFP12, 7: MSFP16)", 7, range=(1, 15),
               metavar="M"),
        Option("rounding", "choice", "rtz (truncation, MSFP's) or rne (saturating)", "rtz", choices=ROUNDINGS,
               metavar="R"),
        Option("stages", "int", "registers inside the lanes", DEFAULT_STAGES, range=(0, MAX_STAGES), metavar="S"),
    ),
    examples=(
        dict(lanes=4, src="fp32", man_bits=7),
        dict(lanes=16, src="bf16", man_bits=3, rounding="rne"),
    ),
    docs="docs/bfp.md",
    model=_model,
    latency=lambda o: bfp_latency(o["lanes"], o["block"], o["stages"]),
    latency_from="a block's last beat accepted on i to the encoded block valid on o",
    streams=lambda o: {"i": (), "o": ("codes", "scale")},
    fuzz={"lanes": (1, 2), "block": (2, 4), "src": SOURCES, "man_bits": tuple(range(1, 16)), "rounding": ROUNDINGS,
          "stages": tuple(range(MAX_STAGES + 1))},
))
