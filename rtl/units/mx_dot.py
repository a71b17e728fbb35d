"""The mx-dot unit: a streaming dot product of OCP MX blocks (MX v1.0 sections 6.1, 6.2) into fp32.

``out = c + sum_i 2**(X_A,i + X_B,i - 254) * sum_j a_ij * b_ij``, bit for bit ``golden.arith.mx_dot``: every
element product exact (a small integer times a power of two), each block's sum exact in a fixed-point block
accumulator, the block sum scaled by its two E8M0 exponents (a shift: no multiplier) and then either summed
exactly across blocks with ``c`` and rounded once (``accumulate="exact"``, cvfpu MXDOTP) or added to an fp32
accumulator rounded after every block (``"block"``, section 6.2). Elements go through their family's unpack
(``rtl.formats.unpack_for``), products and placement through :mod:`.dot_terms`, the one rounding through
``fp32``'s round-and-pack (:func:`.dot_acc.round_fixed`). docs/mx_dot.md has the ports, timing and latency.
"""

from amaranth import Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.arith import MX_ACCUMULATE, MX_ELEMENTS

from ..formats import unpack_for
from ..formats.rounding import FLAGS_WIDTH
from ..pipeline import Pipeline
from .dot_acc import Geometry, geometry, round_fixed
from .dot_terms import (SPECIALS, Term, combine_specials, merge_specials, place, product, raw_term, shift_left,
                        term_shape)
from .mx_dot_block import block_add
from .mx_dot_check import MAX_BLOCKS, ROUNDINGS, SCHEMES, check_mx_dot, element_format, mx_dot_name
from .registry import Option, Unit, register

__all__ = ["MXDot", "mx_dot_geometry", "mx_dot_latency"]

#: E8M0's bias twice: the block dot's scale is 2**(X_A + X_B - SCALE_BIAS)
SCALE_BIAS = 254
E8M0_NAN = 0xFF


def _cuts(accumulate, stages):
    """The optional registers ``stages`` switches on, in this order: ``place`` (between the lanes' shifters
    and their adder tree), then in exact mode ``fin`` (between the cross-block sum and the rounding) and
    ``norm`` (between the normaliser and the pack)."""
    order = ("place", "fin", "norm") if accumulate == "exact" else ("place",)
    return set(order[:stages])


def mx_dot_latency(accumulate, stages):
    """Clock edges from the one that accepts a dot product's ``last`` beat to the one that makes its result
    valid on ``o``, nothing stalling: unpack and multiply (1), add the lanes (1), add into the block
    accumulator (1), scale, add into the cross-block accumulator, normalise, round and pack (1), plus one edge
    per optional register (``stages``)."""
    return 4 + stages


def _bounds(fmt):
    u = unpack_for(fmt)
    u._MustUse__silence = True  # built for its shape only
    return term_shape(u.shape)


def mx_dot_geometry(a_elem, b_elem, block_size, lanes, accumulate, max_blocks):
    """``(lanes word, block word, cross-block word)`` (:class:`~.dot_acc.Geometry`; block mode has no
    cross-block word: None, its adder's window is :func:`.mx_dot_block.block_window`'s).

    The lanes' and the block's words hold ``lanes`` / ``block_size`` exact products at the products' own
    last bit ``2**(lsb(a) + lsb(b))``. Exact mode's cross-block word holds ``max_blocks`` block sums scaled by
    any ``2**(x - 254)``, x = X_A + X_B in 0..508, and an fp32 value: its last bit is the lower of
    ``2**(lsb(a) + lsb(b) - 254)`` and fp32's ``2**-149``, its bound ``max_blocks`` scaled block bounds plus
    fp32's."""
    pa, pb = _bounds(element_format(a_elem)), _bounds(element_format(b_elem))
    plsb, pmsb = pa.lsb + pb.lsb, pa.msb + pb.msb
    f32 = _bounds(golden.lookup("fp32"))
    tree = geometry([(plsb, pmsb, lanes)])
    blk = geometry([(plsb, pmsb, block_size)])
    top = 2 * 255 - SCALE_BIAS  # the largest scale exponent: X_A = X_B = 254
    if accumulate != "exact":
        return tree, blk, None
    cross = geometry([(plsb - SCALE_BIAS, pmsb + top, block_size * max_blocks), (f32.lsb, f32.msb, 1)])
    return tree, blk, cross


class MXDot(wiring.Component):
    """Streaming OCP MX dot-product unit: ``lanes`` element pairs per beat, ``last`` closes a dot product.

    Parameters
    ----------
    a_elem, b_elem : {"fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "int8"}
        Element formats of blocks A and B ("int8" is MXINT8); they may differ.
    block_size : {16, 32, 64}
        Elements per block (k).
    lanes : int, 1..32, dividing block_size
        Element pairs per beat; a block is ``block_size / lanes`` beats.
    accumulate : {"exact", "block"}
        "exact": every block dot and ``c`` summed exactly, rounded once; "block": rounded into fp32 after each
        block (OCP MX 6.2 read as an fp32 accumulator).
    rounding : {"rne", "rtz", "rup", "rdn", "rmm"}
        Every rounding.
    max_blocks : int or None, exact mode only
        The most blocks in one dot product (None: 1024): sizes the cross-block accumulator (more wraps it).
    stages : int
        Optional registers (:func:`mx_dot_latency`): exact 0..3, block 0..1.
    flags : bool
        A 5-bit ``flags`` field beside each result (RISC-V fflags: NX, UF, OF, DZ, NV from bit 0 up).
    scheme : "mx"
        Block scheme (OCP MX, E8M0 scales).

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload from bit 0 up: ``a`` (lanes x a_elem, lane 0 lowest),
        ``b`` (lanes x b_elem), ``xa``, ``xb`` (E8M0 scale codes, read on a block's first beat only), ``c``
        (fp32 addend, read on a dot product's first beat only), ``last`` (on a block's last beat: closes the
        dot product).
    o : Out(stream.Signature(out_layout)), payload ``data`` (fp32) and with flags ``flags``; one per dot product.

    Every register advances when ``~o.valid | o.ready`` (stall-all back-pressure) and ``i.ready`` is that.
    """

    def __init__(self, *, a_elem, b_elem, block_size, lanes, accumulate, rounding, max_blocks, stages, flags,
                 scheme):
        try:
            p = check_mx_dot(a_elem=a_elem, b_elem=b_elem, block_size=block_size, lanes=lanes,
                             accumulate=accumulate, rounding=rounding, max_blocks=max_blocks, stages=stages,
                             flags=flags, scheme=scheme)
        except ValueError:  # refused: a half-built component is not an unused one (no UnusedElaboratable)
            self._MustUse__silence = True
            raise
        self.p = p
        self.a_elem, self.b_elem = p["a_elem"], p["b_elem"]
        self.a, self.b = element_format(self.a_elem), element_format(self.b_elem)
        self.out = golden.lookup("fp32")
        self.block_size, self.lanes, self.accumulate = block_size, p["lanes"], p["accumulate"]
        self.rounding, self.max_blocks, self.stages, self.flags = p["rounding"], p["max_blocks"], stages, p["flags"]
        self.beats_per_block = block_size // self.lanes
        self.latency = mx_dot_latency(self.accumulate, stages)
        self.tree_geo, self.blk_geo, self.acc_geo = mx_dot_geometry(
            self.a_elem, self.b_elem, block_size, self.lanes, self.accumulate, self.max_blocks)
        L = self.lanes
        self.in_layout = data.StructLayout({
            "a": data.ArrayLayout(self.a.width, L), "b": data.ArrayLayout(self.b.width, L),
            "xa": 8, "xb": 8, "c": 32, "last": 1})
        fields = {"data": 32}
        if self.flags:
            fields["flags"] = FLAGS_WIDTH
        self.out_layout = data.StructLayout(fields)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return mx_dot_name(**self.p)

    def _term(self, m, fmt, bits, name):
        u = unpack_for(fmt)
        m.submodules[name] = u
        m.d.comb += u.i.eq(bits)
        return raw_term(m, u.o, u.shape, name), term_shape(u.shape)

    def elaborate(self, platform):
        m = Module()
        cuts = _cuts(self.accumulate, self.stages)
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        regs = Pipeline(m, advance)
        beat = self.i.payload
        take = self.i.valid & advance

        # where the beat sits: the first of a dot product (after a last, or reset) and its place in its block
        first = Signal(init=1)
        nb = self.beats_per_block
        idx = Signal(range(nb), name="beat_idx")
        bfirst, blast = Signal(name="blk_first"), Signal(name="blk_last")
        m.d.comb += [bfirst.eq(idx == 0), blast.eq(idx == nb - 1)]
        with m.If(take):
            m.d.sync += [first.eq(beat.last), idx.eq(Mux(beat.last | blast, 0, idx + 1))]
        x = Signal(9, name="scale_sum")
        xnan = Signal(name="scale_nan")
        m.d.comb += [x.eq(beat.xa + beat.xb), xnan.eq((beat.xa == E8M0_NAN) | (beat.xb == E8M0_NAN))]

        # 1: unpack and multiply every lane (exact products)
        prods = []
        for k in range(self.lanes):
            ta, sa = self._term(m, self.a, beat.a[k], f"a{k}")
            tb, sb = self._term(m, self.b, beat.b[k], f"b{k}")
            prods.append(product(m, ta, sa, tb, sb, f"p{k}"))
        pshape = prods[0][1]
        ctl = regs.stage("mul", valid=self.i.valid, last=beat.last | blast, end=beat.last, first=first,
                         bfirst=bfirst, x=x, xnan=xnan, c=beat.c)
        terms = [vars(t) for t, _ in prods]
        terms = [type(prods[0][0])(**regs.stage(f"mul{k}", **t)) for k, t in enumerate(terms)]

        # 2: each product at its place in the lanes' word; the lanes' sum
        tgeo = self.tree_geo
        words = [place(t, pshape, tgeo.lsb, tgeo.width) for t in terms]
        specials = combine_specials(terms)
        if "place" in cuts:
            ctl = regs.stage("place", **ctl)
            words = [regs.reg(w, f"place_w{k}") for k, w in enumerate(words)]
            specials = [regs.reg(s, f"place_s{k}") for k, s in enumerate(specials)]
        tree_sum = Signal(signed(tgeo.width), name="tree_sum")
        m.d.comb += tree_sum.eq(sum(words[1:], words[0]))
        ctl = regs.stage("tree", **ctl)
        tree_sum = regs.reg(tree_sum, "tree_q")
        specials = [regs.reg(s, f"tree_s{k}") for k, s in enumerate(specials)]

        # 3: the block accumulator (exact); the block's scale and its dot product's first flag and c are those
        # of its first beat
        blk = self._block(m, regs, ctl, tree_sum, specials)

        # 4: the block sum scaled by 2**(x - 254), a shift into the cross-block word; accumulate; round
        self._cross(m, regs, blk, cuts)
        return m

    def _block(self, m, regs, ctl, tree_sum, specials):
        bgeo, tgeo = self.blk_geo, self.tree_geo
        acc = Signal(signed(bgeo.width), name="blk_acc")
        spec = [Signal(name=f"blk_{n}") for n in SPECIALS]
        held = dict(x=Signal(9, name="blk_x"), xnan=Signal(name="blk_xnan"), first=Signal(name="blk_dfirst"),
                    c=Signal(32, name="blk_c"))
        bf = ctl["bfirst"]
        total = Signal(signed(bgeo.width), name="blk_total")
        m.d.comb += total.eq(Mux(bf, 0, acc) + tree_sum)
        init = [Const(0), Const(0), Const(0), Const(0), Const(1), Const(1)]
        tot_spec = merge_specials([Mux(bf, p, q) for p, q in zip(init, spec)], specials)
        now = {k: Mux(bf, ctl[k], v) for k, v in held.items()}
        with m.If(regs.en & ctl["valid"]):
            m.d.sync += [acc.eq(total)] + [s.eq(t) for s, t in zip(spec, tot_spec)]
            m.d.sync += [v.eq(now[k]) for k, v in held.items()]
        blk = regs.stage("blk", valid=ctl["valid"] & ctl["last"], end=ctl["end"], word=total, **now)
        blk["spec"] = [regs.reg(s, f"blk_q_{n}") for n, s in zip(SPECIALS, tot_spec)]
        del tgeo
        return blk

    def _cross(self, m, regs, blk, cuts):
        bspec = list(blk["spec"])
        bspec[0] = bspec[0] | blk["xnan"]  # a NaN scale: the block dot is NaN (quiet: no flag)
        ct, cshape = self._term(m, self.out, blk["c"], "c")
        c_spec = combine_specials([ct])
        first = blk["first"]
        valid = blk["valid"] & blk["end"]
        if self.accumulate == "exact":
            geo, bgeo = self.acc_geo, self.blk_geo
            W = geo.width
            up0 = bgeo.lsb - SCALE_BIAS - geo.lsb  # the block word's bit 0 at x = 0, above the cross word's
            ext = Signal(signed(W - up0), name="blk_ext")
            m.d.comb += ext.eq(blk["word"])
            scaled = Signal(signed(W), name="blk_scaled")
            shifted = shift_left(ext.as_unsigned(), blk["x"], W - up0)
            m.d.comb += scaled.eq(shifted << up0 if up0 else shifted)
            c_word = place(ct, cshape, geo.lsb, W)
            acc = Signal(signed(W), name="acc")
            spec = [Signal(name=f"acc_{n}") for n in SPECIALS]
            total = Signal(signed(W), name="acc_total")
            m.d.comb += total.eq(Mux(first, c_word, acc) + scaled)
            tot_spec = merge_specials([Mux(first, p, q) for p, q in zip(c_spec, spec)], bspec)
            with m.If(regs.en & blk["valid"]):
                m.d.sync += [acc.eq(total)] + [s.eq(t) for s, t in zip(spec, tot_spec)]
            if "fin" in cuts:
                valid = regs.reg(valid, "fin_valid")
                total = regs.reg(total, "fin_sum")
                tot_spec = [regs.reg(s, f"fin_{n}") for n, s in zip(SPECIALS, tot_spec)]
            bits, flags = round_fixed(m, total, geo, self.out, rounding=self.rounding, specials=tot_spec,
                                      name="fin", cut=regs if "norm" in cuts else None)
            if "norm" in cuts:
                valid = regs.reg(valid, "norm_valid")
        else:  # acc = round(acc + block dot) into fp32 (c stands in for acc on a first block): mx_dot_block
            acc_bits = Signal(32, name="acc_bits")  # the running sum, rounded after every block
            acc_flags = Signal(FLAGS_WIDTH, name="acc_flags")
            at, _ = self._term(m, self.out, acc_bits, "acc")
            a_spec = combine_specials([at])
            op = Term(**{k: Mux(first, getattr(ct, k), getattr(at, k)) for k in vars(at)})
            tot_spec = merge_specials([Mux(first, p, q) for p, q in zip(c_spec, a_spec)], bspec)
            bits, step = block_add(m, op, blk["word"], blk["x"], self.blk_geo, self.out, rounding=self.rounding,
                                   specials=tot_spec, name="rnd")
            flags = Signal(FLAGS_WIDTH, name="run_flags")
            m.d.comb += flags.eq(step | Mux(first, 0, acc_flags))
            with m.If(regs.en & blk["valid"]):
                m.d.sync += [acc_bits.eq(bits), acc_flags.eq(flags)]
        loads = [(self.o.valid, valid), (self.o.payload.data, bits)]
        if self.flags:
            loads.append((self.o.payload.flags, flags))
        regs.load(*loads)

_ = Geometry  # re-exported type of mx_dot_geometry's results


def _model(options, a, b, xa, xb, c):
    """``(bits, flags)`` of ``golden.arith.mx_dot`` in the unit's configuration: ``a``, ``b`` element codes of
    shape (..., n * block_size) (whole blocks along the last axis), ``xa``, ``xb`` E8M0 scale codes (..., n),
    ``c`` fp32 addend patterns (...); the fp32 results and their RISC-V flags (NX 1, UF 2, OF 4, NV 16), the
    blocks summed exactly (``exact``) or rounded into fp32 per block (``block``)."""
    from fmtforge.golden.arith import mx_dot
    o = options
    return mx_dot(a, b, xa, xb, c, a_elem=o["a_elem"], b_elem=o["b_elem"], block_size=o["block_size"],
                  accumulate=o["accumulate"], rounding=o["rounding"])


def _mx_dot(a_elem, b_elem, block_size, lanes, accumulate, rounding, max_blocks, stages, flags, scheme):
    return MXDot(a_elem=a_elem, b_elem=b_elem, block_size=block_size, lanes=lanes, accumulate=accumulate,
                 rounding=rounding, max_blocks=max_blocks, stages=stages, flags=flags, scheme=scheme)


register(Unit(
    name="mx-dot",
    summary="streaming dot product of OCP MX blocks (E8M0 scales; fp8/fp6/fp4/int8 elements, A and B may differ) "
            "+ an fp32 addend into fp32, exact or rounded per block, L element pairs per beat",
    description="out = c + sum_i 2**(X_A + X_B - 254) sum_j a_ij b_ij (OCP MX v1.0 6.1 / 6.2), bit for bit "
                "golden.arith.mx_dot: each block's sum exact, blocks summed exactly and rounded once (exact, "
                "cvfpu MXDOTP) or added into fp32 rounded per block (block).",
    build=_mx_dot,
    options=(
        Option("a_elem", "choice", "element format of block A (int8 = MXINT8)", "fp8_e4m3", choices=MX_ELEMENTS,
               metavar="E"),
        Option("b_elem", "choice", "element format of block B (may differ from A)", "fp8_e4m3",
               choices=MX_ELEMENTS, metavar="E"),
        Option("block_size", "int", "elements per block: 16, 32 or 64", 32, range=(16, 64), metavar="K"),
        Option("lanes", "int", "element pairs per beat (divides block_size)", 1, range=(1, 32), metavar="L"),
        Option("accumulate", "choice", "across blocks: exact (rounded once) or block (rounded into fp32 per "
               "block: MX 6.2)", "exact", choices=MX_ACCUMULATE, metavar="A"),
        Option("rounding", "choice", "rounding mode", "rne", choices=ROUNDINGS, metavar="R"),
        Option("max_blocks", "int", "exact mode: the most blocks in one dot product (sizes the accumulator; "
               "default 1024)", None, range=MAX_BLOCKS, metavar="N"),
        Option("stages", "int", "optional pipeline registers: exact 0..3, block 0..1", 0, range=(0, 3),
               metavar="N"),
        Option("flags", "bool", "a 5-bit flags field beside each result (RISC-V fflags layout)", False),
        Option("scheme", "choice", "block scheme: mx (E8M0 scales)", "mx", choices=SCHEMES, metavar="S"),
    ),
    # the target configuration (E4M3 x E4M3, k = 32, 8 lanes, exact) and per-block accumulation with
    # mixed element types
    examples=(
        dict(lanes=8, stages=3, flags=True),
        dict(a_elem="fp8_e4m3", b_elem="fp4_e2m1", lanes=4, accumulate="block", flags=True),
    ),
    docs="docs/mx_dot.md",
    model=_model,
    latency=lambda o: mx_dot_latency(o["accumulate"], o["stages"]),
    latency_from="a dot product's last beat accepted on i to its result valid on o (nothing stalling)",
    streams=lambda o: {"i": ("a", "b", "xa", "xb", "c", "last"), "o": ("data",) + (("flags",) if o["flags"] else ())},
    fuzz={"a_elem": MX_ELEMENTS, "b_elem": ("fp8_e4m3", "fp4_e2m1", "int8"), "block_size": (16, 32, 64),
          "lanes": (1, 2, 4), "accumulate": MX_ACCUMULATE, "rounding": ROUNDINGS, "max_blocks": (1, 16),
          "stages": (0, 1)},
))
