"""The dot unit: a streaming dot product of small floats (or int8/int4) with an fp32/fp16/bf16 addend and result.

``out = c + sum_k a_k * b_k`` in one of ``golden.arith.dot``'s accumulation modes: ``exact`` (every product and
``c`` summed exactly in a fixed-point accumulator, rounded once), ``beat`` (each beat's products plus the
running accumulator summed exactly and rounded into ``out`` every beat: an FMA chain) or ``window``. Nothing
here re-implements a format: operands go through their family's unpack, sums through ``out``'s round-and-pack
(:mod:`.dot_acc`). docs/dot_unit.md has the ports, the timing and the latency.
"""

from functools import cache

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden.arith import exact_acc_bits

from ..formats import unpack_for
from ..formats.rounding import FLAGS_WIDTH
from ..pipeline import Pipeline
from .dot_acc import Geometry, geometry, round_fixed
from .dot_beat import beat_loop, pack_word
from .dot_check import ACC_FORMATS, DSP, MODES, ROUNDINGS, WINDOW_ACCS, check_dot, dot_name
from .registry import Option, Unit, register
from .dot_window import place_mag, window_sum
from .dot_terms import SPECIALS, Term, combine_specials, merge_specials, place, product, raw_term, term_shape

__all__ = ["Dot", "dot_geometry", "dot_latency"]


def _cuts(mode, stages):
    """The optional registers ``stages`` switches on, in this order: ``place`` (between the lane shifters and
    the adder tree), then in exact mode ``fin`` (between the accumulator and the rounding) and ``norm``
    (between the normaliser and the pack)."""
    order = ("place", "fin", "norm") if mode == "exact" else ("place",)
    return set(order[:stages])


def dot_latency(mode, stages=0):
    """Clock edges from the one that accepts a dot product's ``last`` beat to the one that makes its result
    valid on ``o``, nothing stalling: unpack and multiply (1), shift and add the lanes (1), add into the
    accumulator, round and pack (1; beat mode: the beat's rounding, which is the accumulator's), plus one edge
    per optional register (``stages``). ``mode`` does not change it."""
    return 3 + stages


@cache
def _bounds(fmt):
    """The :class:`~.dot_terms.TermShape` of a format's values (cached: an unpack is built to read it)."""
    u = unpack_for(fmt)
    u._MustUse__silence = True  # built for its shape only
    return term_shape(u.shape)


def dot_geometry(a, b, c, out, mode, lanes, max_terms=None):
    """``(products word, accumulator word)`` (:class:`~.dot_acc.Geometry`): the lanes' sum holds ``lanes``
    products; exact mode's accumulator ``max_terms`` products and ``c``; beat mode's one beat's products and
    ``c`` or the rounded running sum (an ``out`` value)."""
    pa, pb = _bounds(a), _bounds(b)
    plsb, pmsb = pa.lsb + pb.lsb, pa.msb + pb.msb
    cs = _bounds(c)
    tree = geometry([(plsb, pmsb, lanes)])
    if mode == "exact":  # golden's width (from the formats' largest values), never narrower than the tree's
        acc = Geometry(lsb=min(plsb, cs.lsb), width=max(exact_acc_bits(a, b, c, max_terms),
                                                        tree.msb - min(plsb, cs.lsb) + 1))
    else:
        os_ = _bounds(out)
        acc = geometry([(plsb, pmsb, lanes), (min(cs.lsb, os_.lsb), max(cs.msb, os_.msb), 1)])
    return tree, acc


class Dot(wiring.Component):
    """Streaming dot-product unit: ``lanes`` products per beat, ``last`` closes a dot product.

    Parameters
    ----------
    a, b : golden format or name
        Operand formats: floats of at most 16 bits (``golden.Minifloat``) or int8 / int4; A and B may differ.
    c, out : "fp32", "fp16" or "bf16"
        Addend and result formats.
    mode : "exact", "beat" or "window"
        Accumulation, as ``golden.arith.dot``.
    lanes : int, 1..16
        Products per beat.
    rounding : rne, rtz, rup, rdn or rmm
        Every rounding the mode does.
    window : int, 1..64
        Window mode only: bits kept per term, from the largest leading-bit position down.
    acc : "fp32", "e8m13", "fp16" or "bf16"
        Window mode only: the windowed accumulator's format (default fp32).
    acc_rounding : rne, rtz, rup, rdn or rmm
        Window mode only: the accumulator's rounding (default rtz); ``rounding`` is the result's.
    max_terms : int
        Exact mode only: the most products in one dot product (default 4096); sizes the accumulator.
    stages : int
        Optional registers (:func:`dot_latency`): exact 0..3, beat and window 0..1.
    flags : bool
        A 5-bit ``flags`` field beside each result (RISC-V fflags: NX, UF, OF, DZ, NV from bit 0 up).
    dsp : "infer"
        Multipliers are written as ``*`` and mapped by synthesis.

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload from bit 0 up: ``a`` (lanes x a, lane 0 lowest), ``b``
        (lanes x b), ``c`` (the addend, read on the first beat of a dot product only), ``last``.
    o : Out(stream.Signature(out_layout)), payload ``data`` (an ``out`` value) and with flags ``flags``; one
        per dot product, in order.

    Every register advances when ``~o.valid | o.ready`` (stall-all back-pressure) and ``i.ready`` is that
    condition: one beat per cycle unless a result waits on ``o``.
    """

    def __init__(self, *, a, b, c, out, mode, lanes, rounding, window, max_terms, stages, flags, dsp, acc,
                 acc_rounding):
        try:
            p = check_dot(a=a, b=b, c=c, out=out, mode=mode, lanes=lanes, rounding=rounding, window=window,
                          max_terms=max_terms, stages=stages, flags=flags, dsp=dsp, acc=acc, acc_rounding=acc_rounding)
        except ValueError:  # refused: a half-built component is not an unused one (no UnusedElaboratable)
            self._MustUse__silence = True
            raise
        self.p = p
        self.acc, self.acc_rounding = p["acc"], p["acc_rounding"]
        self.a, self.b, self.c, self.out = p["a"], p["b"], p["c"], p["out"]
        self.mode, self.lanes, self.rounding, self.flags = mode, lanes, rounding, flags
        self.stages, self.max_terms, self.window = stages, p["max_terms"], p["window"]
        self.latency = dot_latency(mode, stages)
        self.tree_geo, self.acc_geo = dot_geometry(self.a, self.b, self.c, self.acc or self.out, mode, lanes,
                                                   self.max_terms)
        self.in_layout = data.StructLayout({
            "a": data.ArrayLayout(self.a.width, lanes), "b": data.ArrayLayout(self.b.width, lanes),
            "c": self.c.width, "last": 1})
        fields = {"data": self.out.width}
        if flags:
            fields["flags"] = FLAGS_WIDTH
        self.out_layout = data.StructLayout(fields)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.out_layout))})

    @property
    def name(self):
        return dot_name(**self.p)

    def _term(self, m, fmt, bits, name):
        u = unpack_for(fmt)
        m.submodules[name] = u
        m.d.comb += u.i.eq(bits)
        return raw_term(m, u.o, u.shape, name), term_shape(u.shape)

    def elaborate(self, platform):
        m = Module()
        cuts = _cuts(self.mode, self.stages)
        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]
        regs = Pipeline(m, advance)
        beat = self.i.payload

        # the first beat of a dot product is the one after a last (or after reset): it brings c
        first = Signal(init=1)
        with m.If(self.i.valid & advance):
            m.d.sync += first.eq(beat.last)

        # 1: unpack and multiply every lane
        prods = []
        for k in range(self.lanes):
            ta, sa = self._term(m, self.a, beat.a[k], f"a{k}")
            tb, sb = self._term(m, self.b, beat.b[k], f"b{k}")
            prods.append(product(m, ta, sa, tb, sb, f"p{k}"))
        pshape = prods[0][1]
        ctl = regs.stage("mul", valid=self.i.valid, last=beat.last, first=first, c=beat.c)
        terms = [Term(**regs.stage(f"mul{k}", **vars(t))) for k, (t, _) in enumerate(prods)]

        if self.mode == "window":
            self._window_pre(m, regs, advance, ctl, terms, pshape, cuts)
            return m

        # 2: place each product at its position in the lanes' word; add the lanes
        tgeo = self.tree_geo
        words = [place(t, pshape, tgeo.lsb, tgeo.width) for t in terms]
        specials = combine_specials(terms)
        if "place" in cuts:
            ctl = regs.stage("place", **ctl)
            words = [regs.reg(w, f"place_w{k}") for k, w in enumerate(words)]
            specials = [regs.reg(s, f"place_s{k}") for k, s in enumerate(specials)]
        tree_sum = Signal(signed(tgeo.width), name="tree_sum")
        m.d.comb += tree_sum.eq(sum(words[1:], words[0]))
        if self.mode == "beat":
            self._beat(m, regs, advance, ctl, tree_sum, specials)
            return m
        ctl = regs.stage("tree", **ctl)
        tree_sum = regs.reg(tree_sum, "tree_q")
        specials = [regs.reg(s, f"tree_s{k}") for k, s in enumerate(specials)]

        # 3: accumulate and round
        ct, cshape = self._term(m, self.c, ctl["c"], "c")
        geo = self.acc_geo
        c_word = place(ct, cshape, geo.lsb, geo.width)
        c_spec = combine_specials([ct])
        tree_w = Signal(signed(geo.width), name="tree_placed")
        m.d.comb += tree_w.eq(tree_sum.as_signed() << (tgeo.lsb - geo.lsb))
        self._exact(m, regs, advance, ctl, tree_w, specials, c_word, c_spec, cuts)
        return m

    def _exact(self, m, regs, advance, ctl, tree_w, specials, c_word, c_spec, cuts):
        geo = self.acc_geo
        acc = Signal(signed(geo.width), name="acc")
        spec = [Signal(name=f"acc_{n}") for n in SPECIALS]
        total = Signal(signed(geo.width), name="acc_total")
        first = ctl["first"]
        m.d.comb += total.eq(Mux(first, c_word, acc) + tree_w)
        tot_spec = merge_specials([Mux(first, x, y) for x, y in zip(c_spec, spec)], specials)
        with m.If(advance & ctl["valid"]):
            m.d.sync += [acc.eq(total)] + [s.eq(t) for s, t in zip(spec, tot_spec)]
        valid = ctl["valid"] & ctl["last"]
        if "fin" in cuts:
            valid = regs.reg(valid, "fin_valid")
            total = regs.reg(total, "fin_sum")
            tot_spec = [regs.reg(s, f"fin_{n}") for n, s in zip(SPECIALS, tot_spec)]
        bits, flags = round_fixed(m, total, geo, self.out, rounding=self.rounding, specials=tot_spec, name="fin",
                                  cut=regs if "norm" in cuts else None)
        if "norm" in cuts:
            valid = regs.reg(valid, "norm_valid")
        self._output(regs, valid, bits, flags)

    def _beat(self, m, regs, advance, ctl, tree_sum, specials):
        """Beat mode, 2 and 3 (:mod:`.dot_beat`): beside the lane sum, its negation and the addend's magnitude at
        the accumulator's positions are registered (so the loop holds only the add and the fixed-point
        rounding); the result is packed from the accumulator's registers."""
        geo, tgeo = self.acc_geo, self.tree_geo
        ct, cshape = self._term(m, self.c, ctl["c"], "c")
        # the lane sum is negated at its own width (|tree_sum| < 2**(tgeo.width - 1): -tree_sum fits) and both
        # are registered there; they move to the accumulator's positions after the register. Negating the
        # shifted word instead would negate constant low zeros, which Yosys trims (Verilator: WIDTHEXPAND)
        nsum = Signal(signed(tgeo.width), name="beat_nsum")
        m.d.comb += nsum.eq(-tree_sum)
        c_mag = place_mag(ct, cshape, geo.lsb, geo.width - 1)
        c_spec = combine_specials([ct])
        ctl = regs.stage("tree", **ctl)
        ts, nts, c_mag, c_sign = (regs.reg(v, f"tree_{n}") for v, n in ((tree_sum, "t"), (nsum, "nt"),
                                                                         (c_mag, "cmag"), (ct.sign, "csign")))
        t = Signal(signed(geo.width), name="beat_t")
        nt = Signal(signed(geo.width), name="beat_nt")
        m.d.comb += [t.eq(ts.as_signed() << (tgeo.lsb - geo.lsb)), nt.eq(nts.as_signed() << (tgeo.lsb - geo.lsb))]
        c_spec = [regs.reg(s, f"tree_c{n}") for n, s in zip(SPECIALS, c_spec)]
        specials = [regs.reg(s, f"tree_s{k}") for k, s in enumerate(specials)]
        acc, _ = beat_loop(m, geo=geo, out=self.out, rounding=self.rounding, en=advance & ctl["valid"],
                           first=ctl["first"], t=t, nt=nt, tspec=specials, c_sign=c_sign, c_mag=c_mag, c_spec=c_spec)
        # the result: the accumulator's registers, packed (o.valid is registered beside them)
        regs.load((self.o.valid, ctl["valid"] & ctl["last"]))
        m.d.comb += self.o.payload.data.eq(pack_word(m, acc, geo, self.out))
        if self.flags:
            m.d.comb += self.o.payload.flags.eq(acc.flags)

    def _window_pre(self, m, regs, advance, ctl, terms, pshape, cuts):
        """Window mode, 2: the products' magnitudes at their positions (the window needs the accumulator's
        leading bit too: truncation and sum are in the loop, 3)."""
        geo = self.acc_geo
        G = geo.width - 1
        mags = [place_mag(t, pshape, geo.lsb, G) for t in terms]
        signs = [t.sign for t in terms]
        specials = combine_specials(terms)[:4]
        stage_names = ["place", "tree"] if "place" in cuts else ["tree"]
        for st in stage_names:
            ctl = regs.stage(st, **ctl)
            mags = [regs.reg(w, f"{st}_m{k}") for k, w in enumerate(mags)]
            signs = [regs.reg(w, f"{st}_sg{k}") for k, w in enumerate(signs)]
            specials = [regs.reg(w, f"{st}_s{k}") for k, w in enumerate(specials)]
        # 3: the accumulator (or c on a first beat) joins; truncate, sum, round into acc; convert to out
        acc_bits = Signal(self.acc.width, name="acc_bits")
        acc_flags = Signal(FLAGS_WIDTH, name="acc_flags")
        at, ashape = self._term(m, self.acc, acc_bits, "acc")
        ct, cshape = self._term(m, self.c, ctl["c"], "c")
        first = ctl["first"]
        mag0 = Mux(first, place_mag(ct, cshape, geo.lsb, G), place_mag(at, ashape, geo.lsb, G))
        sign0 = Mux(first, ct.sign, at.sign)
        spec0 = [Mux(first, x, y) for x, y in zip(combine_specials([ct])[:4], combine_specials([at])[:4])]
        word, lost, zeros = window_sum(m, [mag0] + mags, [sign0] + signs, self.window, geo.width, "win")
        nan, pinf, ninf, nv = [x | y for x, y in zip(spec0, specials)]
        negz = posz = Const(1)
        for z, sg in zip(zeros, [sign0] + signs):
            negz, posz = negz & z & sg, posz & z & ~sg
        bits, flags = round_fixed(m, word, geo, self.acc, rounding=self.acc_rounding,
                                  specials=[nan, pinf, ninf, nv, negz, posz], name="win")
        step_flags = Signal(FLAGS_WIDTH, name="win_flags")
        m.d.comb += step_flags.eq(Cat(flags[0] | (lost & ~(nan | pinf | ninf)), flags[1:])
                                  | Mux(first, 0, acc_flags))
        with m.If(advance & ctl["valid"]):
            m.d.sync += [acc_bits.eq(bits), acc_flags.eq(step_flags)]
        if self.acc == self.out:  # the accumulator is the result
            out_bits, out_flags = bits, step_flags
        else:  # the accumulator's value rounded into out
            u = unpack_for(self.acc)
            m.submodules.res_unpack = u
            m.d.comb += u.i.eq(bits)
            rt = raw_term(m, u.o, u.shape, "res")
            rgeo = geometry([(ashape.lsb, ashape.msb, 1)])
            rword = place(rt, ashape, rgeo.lsb, rgeo.width)
            rspec = combine_specials([rt])
            out_bits, conv_flags = round_fixed(m, rword, rgeo, self.out, rounding=self.rounding, specials=rspec,
                                               name="res")
            out_flags = Signal(FLAGS_WIDTH, name="res_flags")
            m.d.comb += out_flags.eq(step_flags | conv_flags)
        self._output(regs, ctl["valid"] & ctl["last"], out_bits, out_flags)

    def _output(self, regs, valid, bits, flags):
        loads = [(self.o.valid, valid), (self.o.payload.data, bits)]
        if self.flags:
            loads.append((self.o.payload.flags, flags))
        regs.load(*loads)


def _model(options, a, b, c):
    """``(bits, flags)`` of ``golden.arith.dot``: ``a``, ``b`` operand patterns of shape (..., K) (K a multiple of
    lanes), ``c`` the addends (...,); the results in ``out`` with the RISC-V flags, in the unit's mode (exact:
    one rounding; beat: rounded into ``out`` every beat; window: truncated terms, rounded into ``acc``)."""
    from fmtforge.golden.arith import dot
    o = options
    kw = dict(window=o["window"], acc_fmt=o["acc"], acc_rounding=o["acc_rounding"]) if o["mode"] == "window" else {}
    return dot(a, b, c, a_fmt=o["a"], b_fmt=o["b"], c_fmt=o["c"], out_fmt=o["out"], mode=o["mode"],
               lanes=o["lanes"], rounding=o["rounding"], **kw)


def _dot(a, b, c, out, mode, lanes, rounding, window, acc, acc_rounding, max_terms, stages, flags, dsp):
    return Dot(a=a, b=b, c=c, out=out, mode=mode, lanes=lanes, rounding=rounding, window=window,
               max_terms=max_terms, stages=stages, flags=flags, dsp=dsp, acc=acc, acc_rounding=acc_rounding)


register(Unit(
    name="dot",
    summary="streaming dot product of floats <= 16 bits or int8/int4 + an fp32/fp16/bf16 addend, exact or "
            "rounded per beat, L products per beat",
    description="out = c + sum a_k * b_k, bit for bit golden.arith.dot: exact (one rounding), beat (rounded "
                "into out every beat: an FMA chain), window (terms aligned to the largest and truncated below W bits, rounded "
                "into an accumulator format every beat).",
    build=_dot,
    options=(
        Option("a", "format", "format of the a operands: a float of <= 16 bits or int8 / int4", metavar="F"),
        Option("b", "format", "format of the b operands (may differ from a)", metavar="F"),
        Option("c", "choice", "addend format (the addend comes with a dot product's first beat)", "fp32",
               choices=ACC_FORMATS, metavar="F"),
        Option("out", "choice", "result format", "fp32", choices=ACC_FORMATS, metavar="F"),
        Option("mode", "choice", "accumulation: exact (rounded once), beat (rounded every beat), window (tensor-core truncation)", "exact",
               choices=MODES, metavar="M"),
        Option("lanes", "int", "products per beat", 1, range=(1, 16), metavar="L"),
        Option("rounding", "choice", "rounding mode", "rne", choices=ROUNDINGS, metavar="R"),
        Option("window", "int", "window mode: bits kept per term from the largest leading bit down", None,
               range=(2, 64), metavar="W"),
        Option("acc", "choice", "window mode: the accumulator's format (default fp32)", None, choices=WINDOW_ACCS,
               metavar="F"),
        Option("acc_rounding", "choice", "window mode: the accumulator's rounding (default rtz)", None,
               choices=ROUNDINGS, metavar="R"),
        Option("max_terms", "int", "exact mode: the most products in one dot product (sizes the accumulator; "
               "default 4096)", None, range=(1, 1 << 20), metavar="N"),
        Option("stages", "int", "optional pipeline registers: exact 0..3, beat 0..1", 0, range=(0, 3),
               metavar="N"),
        Option("flags", "bool", "a 5-bit flags field beside each result (RISC-V fflags layout)", False),
        Option("dsp", "choice", "multipliers: infer (written as *, mapped by synthesis)", "infer", choices=DSP,
               metavar="D"),
    ),
    examples=(
        dict(a="fp8_e4m3", b="fp8_e4m3", c="fp16", out="fp16", mode="beat", lanes=2, stages=1),
        dict(a="fp8_e4m3", b="fp8_e5m2", lanes=4, max_terms=1024, flags=True),
        dict(a="fp16", b="fp16", lanes=2, mode="beat", flags=True),
        dict(a="int8", b="fp8_e4m3", c="bf16", out="bf16", lanes=4, max_terms=256),
        dict(a="fp8_e4m3", b="fp8_e4m3", mode="window", window=14, lanes=4),
    ),
    docs="docs/dot_unit.md",
    model=_model,
    latency=lambda o: dot_latency(o["mode"], o["stages"]),
    latency_from="a dot product's last beat accepted on i to its result valid on o (nothing stalling)",
    streams=lambda o: {"i": ("a", "b", "c", "last"), "o": ("data",) + (("flags",) if o["flags"] else ())},
    fuzz={"a": ("fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp4_e2m1", "int8", "int4", "fp16", "bf16"),
          "b": ("fp8_e4m3", "fp8_e5m2", "int8", "fp16"), "c": ACC_FORMATS, "out": ACC_FORMATS, "mode": MODES,
          "lanes": (1, 2, 3, 4), "rounding": ROUNDINGS, "window": (8, 14, 25), "stages": (0, 1, 2)},
))
