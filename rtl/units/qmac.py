"""INT8 affine MAC: the integer-only inference datapath of Jacob et al. 2018 as one pipelined stream unit.

``q3 = clamp(Z3 + M * sum_j (a_j - Za)(w_j - Zw), qmin, qmax)``, ``M = M0 * 2**(shift - 31)``, exactly as
``golden.quant.qmatmul`` computes one output element (``acc = wrap_acc_bits(bias + sum ...)``, then
``golden.quant.requantize``). See docs/qmac.md for the protocol, a waveform and the latency.
"""

from amaranth import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

import numpy as np

from fmtforge.golden import quant
from fmtforge.golden.validate import check_bool, check_choice, check_int

from ..pipeline import Pipeline
from ..flow.targets.ecp5 import ecp5_mult
from .requant import M0_SHAPE, MODES, SHIFT_SHAPE, Requantize, int_shape
from .registry import Option, Unit, register
from .requant_seq import SeqRequantize

__all__ = ["DSP_CHOICES", "QMac", "TYPES", "qmac_name"]

#: Operand and result formats (golden integer format names).
TYPES = ("int8", "uint8")
BIAS_SHAPE = signed(32)


#: How the lane multipliers are built: ``infer`` (a registered multiply that synthesis maps as it can: LUTs,
#: SB_MAC16 with ``synth_ice40 -dsp``, MULT18X18D with fabric registers on the ECP5) or ``ecp5`` (an instantiated
#: MULT18X18D with its operand and product registers inside the block: ECP5 only).
DSP_CHOICES = ("infer", "ecp5")


def qmac_name(lanes, a_type="int8", w_type="int8", out_type="int8", acc_bits=32, per_channel=False,
              rounding="gemmlowp", requant_cycles=1, dsp="infer"):
    """Verilog module name of a :class:`QMac`: ``qmac_l4_int8_int8_int8_acc32_gemmlowp`` (+ ``_pc``, + ``_rqN``
    for a multi-cycle requantizer, + ``_ecp5dsp`` for instantiated ECP5 multipliers)."""
    return (f"qmac_l{lanes}_{a_type}_{w_type}_{out_type}_acc{acc_bits}_{rounding}"
            + ("_pc" if per_channel else "") + (f"_rq{requant_cycles}" if requant_cycles > 1 else "")
            + ("_ecp5dsp" if dsp == "ecp5" else ""))


def _tree_levels(lanes):
    return (lanes - 1).bit_length()  # ceil(log2(lanes))


def _tree_stages(lanes, dsp="infer"):
    """Registers in the adder tree: after every second level and after the last one; with ``dsp="ecp5"``
    after every level (the route out of a MULT18X18D takes about one adder's time)."""
    levels = _tree_levels(lanes)
    return levels if dsp == "ecp5" else (levels + 1) // 2


class QMac(wiring.Component):
    """Pipelined affine-quantized dot-product unit: lanes of ``(a - Za)(w - Zw)`` summed into a wrapping
    accumulator until a beat with ``last``, then requantized into one output code.

    Parameters
    ----------
    lanes : int, 1..64
        Products per input beat (MACs per cycle).
    a_type, w_type, out_type : str, "int8" or "uint8"
        Formats of the activations, the weights and the result.
    acc_bits : int, 16..32
        Signed accumulator width. ``bias + sum (a - Za)(w - Zw)`` wraps modulo ``2**acc_bits`` (no
        saturation), as ``golden.quant.qmatmul_acc``; the wrapped value is sign-extended to int32.
    per_channel : bool
        ``bias``, ``m0``, ``shift`` come in the payload of each dot product's ``last`` beat instead of ports.
    rounding : str
        "gemmlowp" (TFLite's default, two roundings) or "single" (TFLite's single-rounding build), as
        ``golden.quant.requantize``'s ``mode``.
    requant_cycles : int, 1..32
        1: the pipelined :class:`Requantize` (a result every cycle). N >= 2: :class:`SeqRequantize`, which
        multiplies by ``M0`` ``ceil(31 / N)`` bits per cycle and takes one accumulator every N cycles: dot
        products shorter than ``N * lanes`` back-pressure the input (docs/qmac.md).
    dsp : str, one of :data:`DSP_CHOICES`
        ``infer``: the lane multiply is written as a registered ``*``. ``ecp5``: each lane is an instantiated
        ECP5 ``MULT18X18D`` holding the operand and product registers
        (:func:`fmtforge.rtl.flow.targets.ecp5.ecp5_mult`): same timing and bits, Verilog for the ECP5 only
        (simulated with the model of :data:`fmtforge.rtl.flow.targets.ecp5.MULT18X18D`).

    Ports
    -----
    i : In(stream.Signature(in_layout)), payload fields from bit 0 up: ``a`` (lanes x a_type, lane 0 lowest),
        ``w`` (lanes x w_type), ``last`` (1 bit: this beat closes the dot product) and, with per_channel,
        ``bias`` signed(32), ``m0`` unsigned(31), ``shift`` signed(6) (read on ``last`` beats only).
    o : Out(stream.Signature(out_type shape)) -- one result per dot product, in order.
    za : In(a_type), zw : In(w_type) -- zero points; read with every accepted beat, so they must be the
        same for all beats of one dot product.
    z3, qmin, qmax : In(out_type) -- output zero point and range (``qmin <= z3 <= qmax``).
    bias : In(signed(32)), m0 : In(unsigned(31)), shift : In(signed(6), -31..30) -- without per_channel.
        ``z3``, ``qmin``, ``qmax`` (and ``bias``, ``m0``, ``shift``) are read on the cycle the ``last`` beat
        is accepted (``i.valid & i.ready``) and travel with the dot product: they may change at any other
        time, including while earlier dot products are still in the pipeline.

    A ragged dot product (K not a multiple of lanes) is padded in its last beat with ``a = Za`` (or
    ``w = Zw``): the padded products are exactly 0.

    Timing: ``i.ready = ~o.valid | o.ready`` (every register advances together), so one beat is accepted
    per cycle unless a result waits on ``o``; a result appears ``UNITS["qmac"].latency(options)`` cycles
    after its ``last`` beat is accepted. ``i.ready`` depends combinationally on ``o.ready``. With
    ``requant_cycles`` N >= 2 the pipeline advances while the register in front of the requantizer is empty
    or the requantizer takes its accumulator (``i.ready = ~pending | rq.i.ready``).
    """

    def __init__(self, *, lanes, a_type, w_type, out_type, acc_bits, per_channel, rounding, requant_cycles, dsp):
        self.lanes = check_int("lanes", lanes, 1, 64)
        self.dsp = check_choice("dsp", dsp, DSP_CHOICES)
        self.a_type = check_choice("a_type", a_type, TYPES)
        self.w_type = check_choice("w_type", w_type, TYPES)
        self.out_type = check_choice("out_type", out_type, TYPES)
        self.acc_bits = check_int("acc_bits", acc_bits, 16, 32)
        check_bool("per_channel", per_channel)
        self.per_channel = per_channel
        self.rounding = check_choice("rounding", rounding, MODES)
        self.requant_cycles = check_int("requant_cycles", requant_cycles, 1, 32)
        self.a_shape, self.w_shape, self.out_shape = int_shape(a_type), int_shape(w_type), int_shape(out_type)
        fields = {"a": data.ArrayLayout(self.a_shape, lanes), "w": data.ArrayLayout(self.w_shape, lanes), "last": 1}
        scale = {"bias": BIAS_SHAPE, "m0": M0_SHAPE, "shift": SHIFT_SHAPE}
        if per_channel:
            fields.update(scale)
        self.in_layout = data.StructLayout(fields)
        ports = {
            "i": In(stream.Signature(self.in_layout)),
            "o": Out(stream.Signature(self.out_shape)),
            "za": In(self.a_shape), "zw": In(self.w_shape),
            "z3": In(self.out_shape), "qmin": In(self.out_shape), "qmax": In(self.out_shape),
        }
        if not per_channel:
            ports.update({k: In(v) for k, v in scale.items()})
        super().__init__(ports)

    @property
    def name(self):
        return qmac_name(self.lanes, self.a_type, self.w_type, self.out_type, self.acc_bits, self.per_channel,
                         self.rounding, self.requant_cycles, self.dsp)

    def elaborate(self, platform):
        m = Module()
        if self.requant_cycles == 1:
            rq = Requantize(acc_bits=self.acc_bits, out_type=self.out_type, mode=self.rounding)
            advance = rq.i.ready  # ~o.valid | o.ready: the whole pipeline moves together
        else:  # busy for requant_cycles cycles: the pipeline moves while its input register is free
            rq = SeqRequantize(cycles=self.requant_cycles, acc_bits=self.acc_bits, out_type=self.out_type,
                               mode=self.rounding)
            advance = Signal(name="advance")
            m.d.comb += advance.eq(~rq.i.valid | rq.i.ready)
        m.submodules.requant = rq
        wiring.connect(m, rq.o, wiring.flipped(self.o))
        m.d.comb += self.i.ready.eq(advance)

        # What a dot product carries to its requantization, read with its last beat. The bias is added
        # into the accumulator with the last beat (0 on the others): modular, so where it enters is free.
        job = data.StructLayout({"bias": BIAS_SHAPE, "m0": M0_SHAPE, "shift": SHIFT_SHAPE, "z3": self.out_shape,
                                 "qmin": self.out_shape, "qmax": self.out_shape})
        src = self.i.payload if self.per_channel else self
        beat = self.i.payload
        params = Signal(job)
        with m.If(beat.last):
            m.d.comb += [params.bias.eq(src.bias), params.m0.eq(src.m0), params.shift.eq(src.shift),
                         params.z3.eq(self.z3), params.qmin.eq(self.qmin), params.qmax.eq(self.qmax)]

        regs = Pipeline(m, advance)

        def data_reg(value, name, shape=None):
            # Data registers have no reset (only the valid bits and the accumulator need one): a multiply's
            # operand and product registers without reset are what synth_ice40 -dsp packs into an SB_MAC16.
            r = Signal(shape if shape is not None else value.shape(), name=name, reset_less=True)
            regs.load((r, value))
            return r

        def stage(name, valid, last, params, values):
            return (regs.reg(valid, f"{name}_valid"), regs.reg(last, f"{name}_last"),
                    data_reg(params, f"{name}_job", job), [data_reg(v, f"{name}_{k}") for k, v in enumerate(values)])

        # Sums are kept to at most acc_bits bits: the accumulator wraps modulo 2**acc_bits anyway.
        def fit(value, width):
            return value[:min(width, self.acc_bits)].as_signed()

        # 1: subtract the zero points (9-bit signed differences, exact for both int8 and uint8)
        diffs = [v for k in range(self.lanes) for v in (beat.a[k] - self.za, beat.w[k] - self.zw)]
        if self.dsp == "ecp5":  # the difference and product registers are inside each MULT18X18D
            prods = [ecp5_mult(m, diffs[2 * k], diffs[2 * k + 1], advance, f"lane{k}_mult")
                     for k in range(self.lanes)]
            valid, last, params, _ = stage("sub", self.i.valid, beat.last, params, [])
            valid, last, params, _ = stage("mul", valid, last, params, [])
            terms = [fit(p, 17) for p in prods]
        else:
            valid, last, params, diffs = stage("sub", self.i.valid, beat.last, params, diffs)
            # 2: lane multipliers, |(a - Za)(w - Zw)| <= 255 * 255 < 2**16
            prods = [fit(diffs[2 * k] * diffs[2 * k + 1], 17) for k in range(self.lanes)]
            valid, last, params, terms = stage("mul", valid, last, params, prods)
        # adder tree, a register after every second level (and after the last; ecp5: after every level)
        level = 0
        every = 1 if self.dsp == "ecp5" else 2
        while len(terms) > 1:
            terms = ([fit(terms[k] + terms[k + 1], 18 + level) for k in range(0, len(terms) - 1, 2)]
                     + terms[len(terms) & ~1:])
            level += 1
            if level % every == 0 or len(terms) == 1:
                valid, last, params, terms = stage(f"tree{level}", valid, last, params, terms)
        # accumulate: acc + tree + bias (bias is 0 but on last beats); a last beat hands the sum on and
        # restarts from 0. Wrapping to acc_bits is the truncation of the sum.
        acc = Signal(signed(self.acc_bits), name="acc")
        total = Signal(signed(self.acc_bits), name="acc_total")
        m.d.comb += total.eq(acc + terms[0] + params.bias)
        with m.If(advance & valid):
            m.d.sync += acc.eq(total)
            with m.If(last):
                m.d.sync += acc.eq(0)
        with m.If(advance):
            m.d.sync += [
                rq.i.valid.eq(valid & last), rq.i.payload.acc.eq(total), rq.i.payload.m0.eq(params.m0),
                rq.i.payload.shift.eq(params.shift), rq.i.payload.zero_point.eq(params.z3),
                rq.i.payload.qmin.eq(params.qmin), rq.i.payload.qmax.eq(params.qmax),
            ]
        return m


def _latency(options):
    """Cycles from accepting a dot product's ``last`` beat to its result on ``o`` (nothing stalling, and with
    a multi-cycle requantizer nothing waiting for it): zero-point subtraction 1, multiply 1, adder tree
    ceil(ceil(log2 lanes) / 2) (``dsp="ecp5"``: ceil(log2 lanes)), accumulate 1, requantize 5
    (:class:`Requantize`, ``requant_cycles`` 1) or ``requant_cycles + 6`` (:class:`SeqRequantize`)."""
    cycles = options["requant_cycles"]
    return 2 + _tree_stages(options["lanes"], options["dsp"]) + 1 + (5 if cycles == 1 else cycles + 6)


def _model(options, a, w, *, za, zw, bias, m0, shift, z3, qmin, qmax):
    """The result code of one dot product: ``golden.quant.qmatmul`` of the row ``a`` and the column ``w``
    (1-d integer arrays of K codes, K a multiple of ``lanes`` or padded with ``a = za``) with the configuration's
    ``acc_bits`` and ``rounding`` and the scalars as the unit's ports (or, with ``per_channel``, the last beat's
    payload) give them."""
    a, w = np.asarray(a, dtype=np.int64), np.asarray(w, dtype=np.int64)
    q = quant.qmatmul(a[None, :], za, w[:, None], zw, M0=m0, shift=shift, z3=z3, qmin=qmin, qmax=qmax,
                      bias=np.array([bias], dtype=np.int64), mode=options["rounding"], acc_bits=options["acc_bits"])
    return int(np.asarray(q).reshape(-1)[0])


def _streams(options):
    scale = ("bias", "m0", "shift") if options["per_channel"] else ()
    return {"i": ("a", "w", "last") + scale, "o": ()}


register(Unit(
    name="qmac",
    summary="INT8 affine MAC + requantize (Jacob et al. 2018), pipelined streams, N MACs per cycle",
    description="q3 = Z3 + M * sum (a - Za)(w - Zw) (+ bias), M = M0 * 2**(shift - 31), gemmlowp or TFLite "
                "single-rounding requantization; N lanes, one beat per cycle.",
    build=QMac,
    options=(
        Option("lanes", "int", "multipliers per beat", range=(1, 64), metavar="N"),
        Option("a_type", "choice", "activations", "int8", choices=TYPES, metavar="T"),
        Option("w_type", "choice", "weights", "int8", choices=TYPES, metavar="T"),
        Option("out_type", "choice", "results", "int8", choices=TYPES, metavar="T"),
        Option("acc_bits", "int", "accumulator width", 32, range=(16, 32), metavar="B"),
        Option("per_channel", "bool", "bias, M0, shift come with each dot product", False),
        Option("rounding", "choice", "requantization: gemmlowp (TFLite default) or single (TFLite "
               "single-rounding)", "gemmlowp", choices=MODES, metavar="R"),
        Option("requant_cycles", "int", "1: pipelined requantizer, a result per cycle; N >= 2: multiply by M0 "
               "ceil(31/N) bits per cycle, one result per N cycles (shorter dot products back-pressure)", 1,
               range=(1, 32), metavar="N"),
        Option("dsp", "choice", "lane multipliers: infer (a registered multiply, mapped by synthesis) or ecp5 "
               "(instantiated MULT18X18D blocks holding the operand and product registers; ECP5 only)", "infer",
               choices=DSP_CHOICES, metavar="D"),
    ),
    examples=(dict(lanes=1), dict(lanes=4), dict(lanes=16, a_type="uint8", per_channel=True),
              dict(lanes=1, requant_cycles=8), dict(lanes=4, requant_cycles=8),
              dict(lanes=4, requant_cycles=32, dsp="ecp5")),
    targets=lambda options: ("ecp5",) if options["dsp"] == "ecp5" else None,
    docs="docs/qmac.md",
    model=_model,
    latency=_latency,
    latency_from="a dot product's last beat accepted on i to its result valid on o",
    streams=_streams,
    fuzz={"lanes": (1, 2, 3), "a_type": TYPES, "acc_bits": tuple(range(16, 33)), "rounding": MODES},
))
