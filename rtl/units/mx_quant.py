"""mx-quantize: a stream of fp32 or bf16 elements in, OCP MX blocks (E8M0 scale + element codes) out.

Bit for bit ``golden.block.MX(element, block_size).quantize(x, scale_mode=...)``. docs/mx.md has the ports,
the payload layouts, the protocol and the latency.
"""

from fractions import Fraction

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.block import MX, SCALE_MODES
from fmtforge.golden.validate import check_choice, check_int

from .mx_lane import ScaledConvert, max_tree

__all__ = ["BLOCK_SIZES", "MXQuantize", "SOURCES", "check_lanes", "mx_quantize_name"]

SOURCES = ("fp32", "bf16")
BLOCK_SIZES = (16, 32, 64)
E8M0_NAN = 0xFF


def check_lanes(lanes, block_size):
    check_int("lanes", lanes, 1, block_size)
    if block_size % lanes:
        divisors = [str(d) for d in range(1, block_size + 1) if block_size % d == 0]
        raise ValueError(f"lanes must divide the block size {block_size} (one of {', '.join(divisors)}), "
                         f"not {lanes}")
    return lanes


def check_block_size(block_size):
    if block_size not in BLOCK_SIZES:
        raise ValueError(f"block_size must be one of {', '.join(map(str, BLOCK_SIZES))}, not {block_size!r}")
    return block_size


def mx_quantize_name(src, element, block_size, lanes, scale_mode):
    return f"mx_quantize_{src}_to_{element}_k{block_size}_l{lanes}_{scale_mode}"


class MXQuantize(wiring.Component):
    """OCP MX quantizer: blocks of ``block_size`` elements of ``src`` -> an E8M0 scale and element codes.

    Parameters
    ----------
    element : str
        One of ``golden.block.mx.ELEMENTS`` (fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1, int8).
    src : str, "fp32" or "bf16"
    block_size : int, 16, 32 or 64
    lanes : int, dividing block_size -- elements per beat
    scale_mode : str, one of ``golden.block.SCALE_MODES`` ("floor": the spec; torchao's "ceil", "even",
        "rceil")

    Ports
    -----
    i : In(stream.Signature(in_layout)) -- payload ``data``: ``lanes`` elements, lane 0 in the low bits. A
        block is ``block_size // lanes`` consecutive beats (counted from reset; no ``last`` on the input).
    o : Out(stream.Signature(out_layout)) -- payload, from bit 0 up: ``codes`` (``lanes`` element codes,
        lane 0 lowest), ``scale`` (the block's E8M0 pattern, the same on each of its beats), ``last`` (1 on a
        block's final beat).

    Two block buffers: one fills while the other drains, so one beat per cycle both ways. ``i.ready`` is low
    only while both buffers hold blocks not yet sent, and never depends on ``o.ready`` combinationally. The
    first beat of a block is on ``o`` :attr:`LATENCY` cycles after its last input beat was accepted (when the
    previous block has left).
    """

    LATENCY = 2

    def __init__(self, *, element="fp8_e4m3", src="fp32", block_size=32, lanes=4, scale_mode="floor"):
        self.scheme = MX(element=element, block_size=check_block_size(block_size))
        self.src = golden.lookup(check_choice("src", src, SOURCES))
        self.lanes = check_lanes(lanes, block_size)
        self.scale_mode = check_choice("scale_mode", scale_mode, SCALE_MODES)
        self.element, self.block_size = element, block_size
        self.elem = self.scheme.elem
        self.beats = block_size // lanes
        self.in_layout = data.StructLayout({"data": data.ArrayLayout(self.src.width, lanes)})
        self.out_layout = data.StructLayout({"codes": data.ArrayLayout(self.elem.width, lanes), "scale": 8,
                                             "last": 1})
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return mx_quantize_name(self.src.name, self.element, self.block_size, self.lanes, self.scale_mode)

    def _key(self, m, bits, k):
        """{round-up flag, exponent field} of one element: the max over a block gives amax's exponent field
        and the scale mode's flag of amax's fraction (each flag is monotonic in the fraction)."""
        F = self.src.man_bits
        frac, expf = bits[:F], bits[F:F + 8]
        if self.scheme.emax_elem == 0:
            # INT8 (emax 0) is the only element whose scale can tell fp32 subnormals apart: a subnormal amax
            # >= 2**-127 is 1.f * 2**-127 with f the field shifted up by one; a smaller one gives -127 anyway.
            sub = expf == 0
            frac = Mux(sub, Cat(Const(0, 1), frac[:F - 1]), frac)
            keep = ~sub | bits[F - 1]
        else:
            keep = Const(1)
        mode, mb = self.scale_mode, self.scheme.elem_frac_bits
        if mode == "floor":
            flag = Const(0)
        elif mode == "ceil":
            flag = frac != 0
        elif mode == "even":
            flag = frac >= (1 << F) - (1 << (F - 1 - mb))
        else:
            top = Fraction(self.scheme.max_elem) / 2 ** self.scheme.emax_elem - 1
            t = top * (1 << F)
            assert t.denominator == 1
            flag = frac > int(t)
        key = Signal(9, name=f"key{k}")
        m.d.comb += key.eq(Mux(keep, Cat(flag, expf), 0))
        return key

    def _scale(self, m, key):
        """E8M0 pattern from the block's max key: exponent field + flag - emax_elem, clamped below at 0
        (2**-127), NaN (0xFF) for an inf/NaN element or beyond 2**127."""
        raw = Signal(signed(11), name="scale_raw")
        m.d.comb += raw.eq(key[1:] + key[0] - self.scheme.emax_elem)
        scale = Signal(8, name="scale_new")
        m.d.comb += scale.eq(Mux((key[1:] == 0xFF) | (raw > 254), E8M0_NAN, Mux(raw < 0, 0, raw[:8])))
        return scale

    def elaborate(self, platform):
        m = Module()
        L, nb = self.lanes, self.beats
        W = self.src.width * L
        bufs = [[Signal(W, name=f"buf{b}_{j}") for j in range(nb)] for b in range(2)]
        full = [Signal(name=f"full{b}") for b in range(2)]
        scale_q = [Signal(8, name=f"scale{b}") for b in range(2)]
        wbank, rbank = Signal(name="wbank"), Signal(name="rbank")
        widx, ridx = Signal(range(nb), name="widx"), Signal(range(nb), name="ridx")
        acc = Signal(9, name="acc_key")

        # input side: write the beat, fold its max key into the block's
        m.d.comb += self.i.ready.eq(Mux(wbank, full[1], full[0]) == 0)
        accept = self.i.valid & self.i.ready
        beat = max_tree(m, [self._key(m, self.i.payload.data[k], k) for k in range(L)], "tree")
        total = Signal(9, name="block_key")
        m.d.comb += total.eq(Mux((widx == 0) | (acc < beat), beat, acc))
        new_scale = self._scale(m, total)
        closing = accept & (widx == nb - 1)
        with m.If(accept):
            m.d.sync += acc.eq(total)
            for b in range(2):
                for j in range(nb):
                    with m.If((wbank == b) & (widx == j)):
                        m.d.sync += bufs[b][j].eq(self.i.payload.data)
            with m.If(closing):
                m.d.sync += [widx.eq(0), wbank.eq(~wbank)]
                for b in range(2):
                    with m.If(wbank == b):
                        m.d.sync += scale_q[b].eq(new_scale)
            with m.Else():
                m.d.sync += widx.eq(widx + 1)

        # output side: scale the buffered beat's elements into the output register
        advance = ~self.o.valid | self.o.ready
        ready_block = Mux(rbank, full[1], full[0])
        send = advance & ready_block
        draining = send & (ridx == nb - 1)
        word = Signal(W, name="rd_word")
        m.d.comb += word.eq(Array(Array(row) for row in bufs)[rbank][ridx])
        scale = Signal(8, name="rd_scale")
        m.d.comb += scale.eq(Mux(rbank, scale_q[1], scale_q[0]))
        nan_block = scale == E8M0_NAN
        shift = self.scheme.int_frac_bits
        codes = []
        for k in range(L):
            lane = ScaledConvert(self.src, self.elem, offset_range=(-127, 127), shift=shift, saturate=True)
            m.submodules[f"lane{k}"] = lane
            m.d.comb += [lane.i.eq(word[k * self.src.width:(k + 1) * self.src.width]),
                         lane.offset.eq(127 - scale)]
            code = lane.o
            if self.elem.kind == "int":  # symmetric range: -2**(bits-1) is never produced
                lowest = 1 << (self.elem.bits - 1)
                code = Mux(lane.o == lowest, lowest + 1, lane.o)
            codes.append(Mux(nan_block, 0, code))
        with m.If(advance):
            m.d.sync += self.o.valid.eq(ready_block)
        with m.If(send):
            m.d.sync += [self.o.payload.codes.eq(Cat(*codes)), self.o.payload.scale.eq(scale),
                         self.o.payload.last.eq(ridx == nb - 1)]
            with m.If(draining):
                m.d.sync += [ridx.eq(0), rbank.eq(~rbank)]
            with m.Else():
                m.d.sync += ridx.eq(ridx + 1)

        for b in range(2):
            set_b = closing & (wbank == b)
            clr_b = draining & (rbank == b)
            m.d.sync += full[b].eq((full[b] | set_b) & ~clr_b)
        return m
