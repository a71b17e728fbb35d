"""The posit dot-product unit: the Posit Standard 2022's fused dot product, a quire streamed beat by beat.

``o = round(c + sum_k a_k * b_k)``: posit(n, es) pairs, ``lanes`` per beat, summed exactly in a quire
(:mod:`.quire`) until a beat with ``last``, then rounded once into posit(n_out, es_out) by the same posit pack
the converters use. NaR anywhere (an operand or the addend) gives NaR. docs/posit_dot.md has the protocol,
the quire's width and the latency.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.hdl import signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fmtforge import golden
from fmtforge.golden.validate import check_bool, check_choice, check_int

from ..formats.posit import PositUnpack
from ..pipeline import Cuts, Pipeline, place as place_cuts
from ..flow.targets.ecp5 import ecp5_mult
from .registry import Option, Unit, register
from .quire import QUIRES, QuireRound, max_scale, place, posit_place, quire_geometry, segments

__all__ = ["DSP_CHOICES", "PositDot", "posit_dot_latency", "posit_dot_name"]

#: ``infer``: a registered ``*`` that synthesis maps; ``ecp5``: instantiated MULT18X18D blocks holding the
#: significand and product registers (ECP5 only; significands of at most 17 bits).
DSP_CHOICES = ("infer", "ecp5")
#: Registers the output path (normalise and pack) can hold: ``stages`` places up to this many.
MAX_STAGES = 5


def _frac_bits(n, es):
    return max(n - 3 - es, 0)


def _tree_levels(lanes):
    return (lanes - 1).bit_length()


def posit_dot_latency(lanes, stages=2, width=128):
    """Cycles from accepting a dot product's ``last`` beat to its result on ``o`` (nothing stalling): decode 1,
    multiply 1, placement 1, adder tree ceil(log2 lanes) (a register per level), accumulate 1, the segments'
    skew G - 1 (a quire of ``width`` bits in G = ceil(width / 64) segments), ``stages`` in the rounding, the
    output register 1."""
    return 3 + _tree_levels(lanes) + 1 + len(segments(width)) - 1 + stages + 1


def posit_dot_name(n, es, n_out, es_out, lanes, quire, max_terms, addend, stages, dsp="infer"):
    """Verilog module name: ``posit_dot_l4_p8e2_p16e2_exact4096_s2`` (+ ``_c`` with an addend, + ``_ecp5dsp``)."""
    q = f"exact{max_terms}" if quire == "exact" else "std"
    return (f"posit_dot_l{lanes}_p{n}e{es}_p{n_out}e{es_out}_{q}" + ("_c" if addend else "") + f"_s{stages}"
            + ("_ecp5dsp" if dsp == "ecp5" else ""))


class PositDot(wiring.Component):
    """Streaming fused dot product of posits with a quire, rounded once.

    Parameters
    ----------
    n, es : int, 3..32 and 0..4
        The operands' format posit(n, es).
    n_out, es_out : int, 3..32 and 0..4, or None
        The result's (and the addend's) format; default posit(2n (at most 32), es).
    lanes : int, 1..16
        Products per beat.
    quire : str, "standard" or "exact"
        ``standard``: the 2022 standard's quire (16n bits for es = 2: exact for 2**31 - 1 products);
        ``exact``: the narrowest quire exact for ``max_terms`` products (see :func:`.quire.quire_geometry`).
    max_terms : int, 1..2**31 - 1
        Products (counting padding lanes, which add 0) a dot product may sum with ``quire="exact"``.
    addend : bool
        A posit(n_out, es_out) ``c`` in the payload, read on the first beat of each dot product, joins the
        exact sum.
    stages : int, 0..5
        Registers in the rounding path (quire -> posit), at its cut points.
    dsp : str, one of :data:`DSP_CHOICES`

    Ports
    -----
    i : In(stream.Signature(in_layout)), from bit 0 up: ``a`` (lanes x n bits, lane 0 lowest), ``b`` (lanes x
        n), ``last`` (this beat closes the dot product), with ``addend`` also ``c`` (n_out bits).
    o : Out(stream.Signature(n_out)): one result per dot product, in order.

    Timing: ``i.ready = ~o.valid | o.ready`` (every register advances together); a result appears
    :func:`posit_dot_latency` cycles after its last beat is accepted.
    """

    def __init__(self, *, n, es, n_out, es_out, lanes, quire, max_terms, addend, stages, dsp):
        try:
            self.n = check_int("n", n, 3, 32)
            self.es = check_int("es", es, 0, 4)
            self.n_out = check_int("n_out", min(2 * n, 32) if n_out is None else n_out, 3, 32)
            self.es_out = check_int("es_out", es if es_out is None else es_out, 0, 4)
            self.lanes = check_int("lanes", lanes, 1, 16)
            self.quire = check_choice("quire", quire, QUIRES)
            self.max_terms = check_int("max_terms", max_terms, 1, (1 << 31) - 1)
            self.addend = check_bool("addend", addend)
            self.stages = check_int("stages", stages, 0, MAX_STAGES)
            self.dsp = check_choice("dsp", dsp, DSP_CHOICES)
            if dsp == "ecp5" and _frac_bits(n, es) + 1 > 17:
                raise ValueError(f"dsp: ecp5 takes significands of at most 17 bits (posit(n, es) with n - es <= 19), "
                                 f"not {_frac_bits(n, es) + 1} (n={n}, es={es})")
        except ValueError:  # refused: a half-built component is not an unused one (no UnusedElaboratable)
            self._MustUse__silence = True
            raise
        self.fmt = golden.posit(self.n, self.es)
        self.out_fmt = golden.posit(self.n_out, self.es_out)
        self.geometry = quire_geometry(self.fmt, self.out_fmt, quire=quire, max_terms=self.max_terms,
                                       addend=self.addend)
        self.latency = posit_dot_latency(self.lanes, self.stages, self.geometry.width)
        fields = {"a": data.ArrayLayout(self.n, lanes), "b": data.ArrayLayout(self.n, lanes), "last": 1}
        if self.addend:
            fields["c"] = self.n_out
        self.in_layout = data.StructLayout(fields)
        super().__init__({"i": In(stream.Signature(self.in_layout)), "o": Out(stream.Signature(self.n_out))})

    @property
    def name(self):
        return posit_dot_name(self.n, self.es, self.n_out, self.es_out, self.lanes, self.quire, self.max_terms,
                              self.addend, self.stages, self.dsp)

    def elaborate(self, platform):
        m = Module()
        L, W, lo = self.lanes, self.geometry.width, self.geometry.lo
        F = _frac_bits(self.n, self.es)
        ms = max_scale(self.fmt)
        adv = Signal(name="advance")
        m.d.comb += [adv.eq(~self.o.valid | self.o.ready), self.i.ready.eq(adv)]
        regs = Pipeline(m, adv)

        def data_reg(value, name, shape=None):
            # no reset on data: only the valid bits and the dot product's state need one
            r = Signal(shape if shape is not None else value.shape(), name=name, reset_less=True)
            regs.load((r, value))
            return r

        beat = self.i.payload
        # 1: decode every operand (zero and NaR significands forced to 0: their products are then 0)
        dec = []
        for k in range(L):
            for op in ("a", "b"):
                u = PositUnpack(self.fmt)
                m.submodules[f"unpack_{op}{k}"] = u
                m.d.comb += u.i.eq(getattr(beat, op)[k])
                dec.append(u.o)
        sigs = [Mux(r.is_zero | r.is_nan, 0, r.sig) for r in dec]
        nar = Signal(name="beat_nar")
        m.d.comb += nar.eq(_any(r.is_nan for r in dec))
        valid = regs.reg(self.i.valid, "dec_valid")
        last = regs.reg(beat.last, "dec_last")
        nar = data_reg(nar, "dec_nar")
        exps = [data_reg(r.exp, f"dec_exp{j}") for j, r in enumerate(dec)]
        signs = [data_reg(r.sign, f"dec_sign{j}") for j, r in enumerate(dec)]
        if self.addend:
            uc = PositUnpack(self.out_fmt)
            m.submodules.unpack_c = uc
            m.d.comb += uc.i.eq(beat.c)
            c_raw = data_reg(uc.o, "dec_c")
        # 2: multiply significands, add scales
        if self.dsp == "ecp5":  # the significand and product registers are inside each MULT18X18D
            prods = [ecp5_mult(m, sigs[2 * k], sigs[2 * k + 1], adv, f"lane{k}_mult")[:2 * F + 2]
                     for k in range(L)]
        else:
            sigs = [data_reg(s, f"dec_sig{j}", F + 1) for j, s in enumerate(sigs)]
            prods = [sigs[2 * k] * sigs[2 * k + 1] for k in range(L)]
        shs = [exps[2 * k] + exps[2 * k + 1] + 2 * ms for k in range(L)]
        negs = [signs[2 * k] ^ signs[2 * k + 1] for k in range(L)]
        valid, last, nar = regs.reg(valid, "mul_valid"), regs.reg(last, "mul_last"), data_reg(nar, "mul_nar")
        if self.dsp != "ecp5":
            prods = [data_reg(p, f"mul_p{k}", 2 * F + 2) for k, p in enumerate(prods)]
        shs = [data_reg(s, f"mul_sh{k}", range(4 * ms + 1)) for k, s in enumerate(shs)]
        negs = [data_reg(s, f"mul_neg{k}") for k, s in enumerate(negs)]
        if self.addend:
            c_raw = data_reg(c_raw, "mul_c")
        # 3: each product at its absolute place in the quire (two's complement)
        terms = []
        for k in range(L):
            v = Signal(signed(2 * F + 4), name=f"lane{k}_signed")
            m.d.comb += v.eq(Mux(negs[k], -prods[k], prods[k]))
            # bit 0 of the product weighs 2**(sa + sb - 2F) = 2**(sh - 2ms - 2F)
            terms.append(place(m, v, shs[k], 2 * ms + 2 * F + lo, W, f"lane{k}_placed"))
        if self.addend:
            c_placed = posit_place(m, c_raw, self.out_fmt, lo, W, "c_placed")
            c_nar = c_raw.is_nan
        valid, last, nar = regs.reg(valid, "place_valid"), regs.reg(last, "place_last"), data_reg(nar, "place_nar")
        # Quire-wide words travel as segments of at most SEGMENT bits, segment j one cycle behind segment j - 1
        # (skewed): every adder below is a chain of one segment, its carry registered into the next segment,
        # which meets it a cycle later together with the same beat's data.
        bounds = segments(W)
        G = len(bounds)

        def skew(word, name):
            out = []
            for j, (a, b) in enumerate(bounds):
                seg = word[a:b]
                for d in range(j + 1):  # the placement register, then j more
                    seg = data_reg(seg, f"{name}_g{j}_d{d}")
                out.append(seg)
            return out

        terms = [skew(t, f"place_t{k}") for k, t in enumerate(terms)]
        if self.addend:
            c_placed = skew(c_placed, "place_c")
            c_nar = data_reg(c_nar, "place_c_nar")

        def add(xs, ys, name):  # skewed segments of x + y (mod 2**W), registered
            out, carry = [], None
            for j, (x, y) in enumerate(zip(xs, ys)):
                s = Signal(len(x) + 1, name=f"{name}_g{j}")
                m.d.comb += s.eq(x + y + (carry if carry is not None else 0))
                out.append(data_reg(s[:len(x)], f"{name}_g{j}_q"))
                carry = data_reg(s[-1], f"{name}_g{j}_carry") if j + 1 < G else None
            return out

        # 4: adder tree, a register after every level
        level = 0
        while len(terms) > 1:
            level += 1
            sums = [add(terms[k], terms[k + 1], f"tree{level}_s{k // 2}") for k in range(0, len(terms) - 1, 2)]
            terms = sums + terms[len(terms) & ~1:]
            terms = [t if k < len(sums) else [data_reg(g, f"tree{level}_t{k}_g{j}") for j, g in enumerate(t)]
                     for k, t in enumerate(terms)]
            valid, last, nar = (regs.reg(valid, f"tree{level}_valid"), regs.reg(last, f"tree{level}_last"),
                                data_reg(nar, f"tree{level}_nar"))
            if self.addend:
                c_placed = [data_reg(g, f"tree{level}_c_g{j}") for j, g in enumerate(c_placed)]
                c_nar = data_reg(c_nar, f"tree{level}_c_nar")
        # 5: accumulate, segment by segment (segment j sees the beat j cycles after segment 0, with the carry out
        # of segment j - 1). A dot product's first beat starts from the addend (or 0); its last hands the sum
        # on, each segment when the last beat reaches it; the segments are then realigned.
        tree = terms[0]
        acc_nar = Signal(name="quire_nar")
        first_nar = Signal(init=1, name="first_nar")
        base_nar = Mux(first_nar, c_nar, acc_nar) if self.addend else acc_nar
        total_nar = Signal(name="quire_total_nar")
        m.d.comb += total_nar.eq(base_nar | nar)
        with m.If(adv & valid):
            m.d.sync += [acc_nar.eq(total_nar), first_nar.eq(last)]
            if not self.addend:
                with m.If(last):
                    m.d.sync += acc_nar.eq(0)
        q_segs, carry = [], None
        seg_valid, seg_last = valid, last
        for j, (a, b) in enumerate(bounds):
            if j:
                seg_valid, seg_last = regs.reg(seg_valid, f"quire_g{j}_valid"), regs.reg(seg_last, f"quire_g{j}_last")
            acc = Signal(b - a, name=f"quire_g{j}")
            first = Signal(init=1, name=f"first_g{j}")
            base = Mux(first, c_placed[j], acc) if self.addend else acc
            total = Signal(b - a + 1, name=f"quire_total_g{j}")
            m.d.comb += total.eq(base + tree[j] + (carry if carry is not None else 0))
            with m.If(adv & seg_valid):
                m.d.sync += [acc.eq(total[:b - a]), first.eq(seg_last)]
                if not self.addend:
                    with m.If(seg_last):
                        m.d.sync += acc.eq(0)
            carry = data_reg(total[-1], f"quire_g{j}_carry") if j + 1 < G else None
            seg = data_reg(total[:b - a], f"q_g{j}")
            for d in range(G - 1 - j):
                seg = data_reg(seg, f"q_g{j}_d{d}")
            q_segs.append(seg)
        q_valid = regs.reg(seg_valid & seg_last, "q_valid")
        q_nar = data_reg(total_nar, "q_nar")
        for d in range(G - 1):
            q_nar = data_reg(q_nar, f"q_nar_d{d}")
        q = Cat(*q_segs)
        # 6: normalise and round once into posit(n_out, es_out), registers at the chosen cut points
        rnd = QuireRound(self.out_fmt, lo=lo, width=W)
        points, total_levels = rnd.points
        chosen, extra = place_cuts(points, total_levels, self.stages)
        rnd.set_cuts(Cuts(chosen, adv))
        m.submodules.round = rnd
        m.d.comb += [rnd.q.eq(q), rnd.nar.eq(q_nar)]
        out_valid = q_valid
        for k in range(self.stages):
            out_valid = regs.reg(out_valid, f"round_valid{k}")
        out = rnd.o
        for k in range(extra):
            out = data_reg(out, f"round_extra{k}")
        with m.If(adv):
            m.d.sync += [self.o.valid.eq(out_valid), self.o.payload.eq(out)]
        return m


def _any(values):
    out = 0
    for v in values:
        out = out | v
    return out


def _resolved_out(o):
    n_out = min(2 * o["n"], 32) if o["n_out"] is None else o["n_out"]
    return n_out, o["es"] if o["es_out"] is None else o["es_out"]


def _model(options, a, b, c=None):
    """``(bits, flags)`` of ``golden.arith.posit_dot``: ``a``, ``b`` posit(n, es) patterns of shape (..., K) (K a
    multiple of lanes, padding lanes zero), ``c`` the posit(n_out, es_out) addends (with ``addend``); the result
    posit(n_out, es_out) patterns, rounded once from the exact sum (NaR propagating)."""
    from fmtforge.golden.arith import posit_dot
    n_out, es_out = _resolved_out(options)
    fmt, out = golden.posit(options["n"], options["es"]), golden.posit(n_out, es_out)
    return posit_dot(a, b, c, a_fmt=fmt, b_fmt=fmt, out_fmt=out, c_fmt=out if c is not None else None)


def _latency(options):
    fmt = golden.posit(options["n"], options["es"])
    n_out, es_out = _resolved_out(options)
    geometry = quire_geometry(fmt, golden.posit(n_out, es_out), quire=options["quire"],
                              max_terms=options["max_terms"], addend=options["addend"])
    return posit_dot_latency(options["lanes"], options["stages"], geometry.width)


def _posit_dot(n, es, n_out, es_out, lanes, quire, max_terms, addend, stages, dsp):
    return PositDot(n=n, es=es, n_out=n_out, es_out=es_out, lanes=lanes, quire=quire, max_terms=max_terms,
                    addend=addend, stages=stages, dsp=dsp)


register(Unit(
    name="posit-dot",
    summary="posit(n, es) fused dot product: L pairs per beat summed exactly in a quire, rounded once into "
            "posit(n_out, es_out), NaR propagating",
    description="The Posit Standard 2022's fdp as a stream unit: every product placed at its absolute position "
                "in a two's-complement quire (16n bits, or the narrowest exact for --max-terms), the beats "
                "accumulated until last, one rounding (ties to even on the bit string, never to 0 or NaR) through "
                "the converters' posit pack; an optional posit(n_out, es_out) addend on the first beat.",
    build=_posit_dot,
    options=(
        Option("n", "int", "operand posit width", 8, range=(3, 32), metavar="N"),
        Option("es", "int", "operand exponent bits (2: the 2022 standard)", 2, range=(0, 4), metavar="ES"),
        Option("n_out", "int", "result (and addend) posit width (default 2n, at most 32)", None, range=(3, 32),
               metavar="N"),
        Option("es_out", "int", "result exponent bits (default es)", None, range=(0, 4), metavar="ES"),
        Option("lanes", "int", "products per beat", 4, range=(1, 16), metavar="L"),
        Option("quire", "choice", "standard (2022: 16n bits, 2**31 - 1 products) or exact (the narrowest exact "
               "for --max-terms products)", "standard", choices=("standard", "exact"), metavar="Q"),
        Option("max_terms", "int", "products per dot product an exact quire holds", 4096, range=(1, (1 << 31) - 1),
               metavar="T"),
        Option("addend", "bool", "a posit(n_out, es_out) addend c, read on each dot product's first beat",
               False),
        Option("stages", "int", "registers in the rounding path (quire -> posit)", 2, range=(0, 5), metavar="S"),
        Option("dsp", "choice", "significand multipliers: infer, or ecp5 (instantiated MULT18X18D; ECP5 only)",
               "infer", choices=("infer", "ecp5"), metavar="D"),
    ),
    # the targets (4 lanes, and a 1-lane quire MAC, posit(8,2) -> posit(16,2), exact quire) with the
    # registers that met the iCE40 frequency target; a posit16 unit with an addend
    examples=(dict(lanes=4, quire="exact", stages=4), dict(lanes=1, quire="exact", stages=4),
              dict(lanes=2, n=16, addend=True)),
    targets=lambda options: ("ecp5",) if options.get("dsp") == "ecp5" else None,
    docs="docs/posit_dot.md",
    model=_model,
    latency=_latency,
    latency_from="a dot product's last beat accepted on i to its result valid on o (nothing stalling)",
    streams=lambda o: {"i": ("a", "b", "last") + (("c",) if o["addend"] else ()), "o": ()},
    fuzz={"n": (3, 5, 8, 10, 16), "es": (0, 1, 2, 3), "lanes": (1, 2, 3, 4), "quire": ("standard", "exact"),
          "max_terms": (1, 7, 4096), "stages": (0, 1, 2, 5)},
))
