"""Block floating-point encoder (MSFP12 / MSFP16 style): bf16 or fp32 elements in, one shared 8-bit exponent
and ``block`` sign-magnitude mantissas out, as ``golden.block.bfp.msfp_encode_bits``.

From bf16 or fp32 the shared biased exponent ``floor(log2(amax)) + 127`` (clamped at 0) is the largest
exponent field of the block: a max tree over each beat's fields, accumulated across the block's beats in a
register. The beats are kept in a buffer until the last one has arrived; then every element is shifted
right by its distance to the shared exponent and rounded (truncated, or RNE saturating at the largest
magnitude). See docs/bfp.md for the protocol and the payload layout.
"""

import numpy as np
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.validate import check_choice, check_int

from ..pipeline import Pipeline
from .max_tree import max_tree
from .registry import Option, Unit, register

__all__ = ["ROUNDINGS", "SOURCES", "BfpEncode", "BfpLane", "bfp_name", "check_bfp"]

SOURCES = ("bf16", "fp32")
ROUNDINGS = ("rtz", "rne")


def check_bfp(src, man_bits, rounding, *, lanes=1, block=1):
    """Validated ``(src format, man_bits, rounding)``; ValueError naming the parameter (called before a
    component is made: one whose constructor raises warns when collected)."""
    check_int("lanes", lanes, 1, 64)
    check_int("block", block, 1, 256)
    if block % lanes:
        raise ValueError(f"block must be a multiple of lanes ({lanes}), not {block}")
    check_choice("src", getattr(src, "name", src), SOURCES)
    check_int("man_bits", man_bits, 1, 15)
    check_choice("rounding", rounding, ROUNDINGS)
    return golden.lookup(src), man_bits, rounding


def bfp_name(lanes, block=16, src="fp32", man_bits=7, rounding="rtz"):
    """Verilog module name: ``bfp_encode_fp32_m7_b16_l4_rtz``."""
    return f"bfp_encode_{getattr(src, 'name', src)}_m{man_bits}_b{block}_l{lanes}_{rounding}"


class BfpLane(wiring.Component):
    """One element, combinational: ``i`` = {x (src bits), scale (the block's biased shared exponent, 8 bits),
    special (the block holds a NaN or an infinity)} -> ``o`` = sign << man_bits | magnitude.

    ``scale`` must be at least the element's exponent field (as the block maximum is); with ``special`` the
    magnitude is ``2**man_bits - 1`` for an infinity and 0 otherwise.
    """

    def __init__(self, *, src, man_bits, rounding):
        self.src, self.man_bits, self.rounding = check_bfp(src, man_bits, rounding)
        self.in_layout = data.StructLayout({"x": self.src.width, "scale": 8, "special": 1})
        super().__init__({"i": In(self.in_layout), "o": Out(man_bits + 1)})

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
        # scale = 0 only holds subnormals, whose top bit is clear); beyond Wx + 1 everything is sticky.
        base = Wx - mb
        sh = Signal(range(-1, base + 256), name="dist")
        m.d.comb += sh.eq(base + self.i.scale - Mux(expf == 0, 1, expf))
        cap = Wx + 1
        shc = Signal(range(cap + 1), name="shift")
        m.d.comb += shc.eq(Mux(sh > cap, cap, sh))
        # a logarithmic shifter of constant shifts (a stage per bit of the distance), collecting the bits it
        # drops: kept magnitude, the round bit below it, and the sticky OR of the rest
        v, lost = Cat(Const(0, 1), sig), Const(0, 1)
        for k in range(len(shc)):
            step = 1 << k
            nv = Signal(len(v), name=f"shr{step}")
            nl = Signal(name=f"sticky{step}")
            m.d.comb += [nv.eq(Mux(shc[k], v >> step, v)), nl.eq(lost | (shc[k] & (v[:min(step, len(v))] != 0)))]
            v, lost = nv, nl
        kept, rbit = v[1:mb + 2], v[0]
        mag = Signal(mb + 1, name="mag")
        top = (1 << mb) - 1
        if self.rounding == "rne":
            m.d.comb += mag.eq(kept + (rbit & (lost | kept[0])))
        else:
            m.d.comb += mag.eq(kept)
        out = Signal(mb, name="magnitude")
        is_inf = (expf == 0xFF) & (frac == 0)
        with m.If(self.i.special):
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

    Ports
    -----
    i : In(stream.Signature(ArrayLayout(src.width, lanes))) -- element 0 of the beat lowest; the unit counts
        beats: beat ``k`` of a block holds its elements ``k*lanes .. k*lanes + lanes - 1``.
    o : Out(stream.Signature(out_layout)), payload from bit 0 up: ``codes`` (block x (man_bits + 1): sign <<
        man_bits | magnitude, element 0 lowest) and ``scale`` (8 bits: E + 127, 0xFF for a block holding a
        NaN or an infinity).

    Timing: ``i.ready = ~o.valid | o.ready`` (everything advances together); one beat per cycle; a block
    leaves 2 cycles after its last beat is accepted. Every option is required (the registry holds the
    defaults).
    """

    def __init__(self, *, lanes, block, src, man_bits, rounding):
        self.src, self.man_bits, self.rounding = check_bfp(src, man_bits, rounding, lanes=lanes, block=block)
        self.lanes, self.block = lanes, block
        self.in_layout = data.ArrayLayout(self.src.width, lanes)
        self.out_layout = data.StructLayout({"codes": data.ArrayLayout(man_bits + 1, block), "scale": 8})
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return bfp_name(self.lanes, self.block, self.src, self.man_bits, self.rounding)

    def elaborate(self, platform):
        m = Module()
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        L, n, f = self.lanes, self.block // self.lanes, self.src.man_bits
        beat = self.i.payload
        count = Signal(range(n), name="beat_in_block")
        first, last = count == 0, count == n - 1
        fields = [beat[k][f:f + 8] for k in range(L)]
        beat_max = max_tree(m, fields, "beat")
        beat_special = Signal(name="beat_special")
        m.d.comb += beat_special.eq(Cat(e == 0xFF for e in fields).any())
        run_max = Signal(8, name="run_max")
        run_special = Signal(name="run_special")
        block_max = Signal(8, name="block_max")
        block_special = Signal(name="block_special")
        m.d.comb += [block_max.eq(Mux(first | (beat_max > run_max), beat_max, run_max)),
                     block_special.eq(beat_special | (~first & run_special))]
        buffer = [Signal(self.in_layout, name=f"buffer{k}") for k in range(n - 1)]
        with m.If(self.i.valid & advance):
            m.d.sync += [count.eq(Mux(last, 0, count + 1)), run_max.eq(block_max), run_special.eq(block_special)]
            for k, b in enumerate(buffer):
                with m.If(count == k):
                    m.d.sync += b.eq(beat)
        regs = Pipeline(m, advance)
        valid = regs.reg(self.i.valid & last, "blk_valid")
        elements = regs.reg(Cat(*buffer, beat), "blk_elements", data.ArrayLayout(self.src.width, self.block))
        scale = regs.reg(block_max, "blk_scale")
        special = regs.reg(block_special, "blk_special")
        result = Signal(self.out_layout)
        for k in range(self.block):
            m.submodules[f"lane{k}"] = lane = BfpLane(src=self.src, man_bits=self.man_bits, rounding=self.rounding)
            m.d.comb += [lane.i.x.eq(elements[k]), lane.i.scale.eq(scale), lane.i.special.eq(special),
                         result.codes[k].eq(lane.o)]
        m.d.comb += result.scale.eq(Mux(special, 0xFF, scale))
        regs.load((self.o.payload, result), (self.o.valid, valid))
        return m


def _build(lanes, block, src, man_bits, rounding):
    check_bfp(src, man_bits, rounding, lanes=lanes, block=block)  # before the component exists
    return BfpEncode(lanes=lanes, block=block, src=src, man_bits=man_bits, rounding=rounding)


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
    ),
    examples=(
        dict(lanes=4, src="fp32", man_bits=7),
        dict(lanes=16, src="bf16", man_bits=3, rounding="rne"),
    ),
    docs="docs/bfp.md",
    model=_model,
    latency=lambda o: 2,
    latency_from="a block's last beat accepted on i to the encoded block valid on o",
    streams=lambda o: {"i": (), "o": ("codes", "scale")},
    fuzz={"lanes": (1, 2), "block": (2, 4), "src": SOURCES, "man_bits": tuple(range(1, 16)), "rounding": ROUNDINGS},
))
