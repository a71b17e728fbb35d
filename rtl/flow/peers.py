"""The peers fmtforge's units are compared with, and the targets set against them (issue 14).

The peers' figures were measured the way :mod:`fmtforge.rtl.flow.synth` measures (every port bit registered
by the scan wrapper, the unit's own cells, Yosys 0.70 + nextpnr 0.11.1 from PyPI, iCE40 HX8K, seed 1); they
are data here, not re-measured. A peer that flushes subnormals is also compared like for like with the
``ftz`` version of the unit (``like``: the options added to the unit's for that comparison).
"""

from dataclasses import dataclass, field

__all__ = ["PEERS", "Peer", "peer_key"]


@dataclass(frozen=True)
class Peer:
    """A peer's figures on iCE40 HX8K beside one fmtforge configuration (``unit``, ``options``: the
    options given, as the report's rows name them)."""

    unit: str
    options: dict
    name: str
    luts: int
    fmax_mhz: float
    conformance: str
    like: dict = field(default_factory=dict)  # options that make fmtforge's unit conform as the peer does
    target_luts: int = None  # fmtforge's targets for the unit (exact), None: none set
    target_fmax_mhz: float = None


def peer_key(unit, options):
    """The key a row's ``(unit, options)`` is matched by (option values by name)."""
    return unit, tuple(sorted((k, getattr(v, "name", v)) for k, v in options.items()))


_FLUSHES = "flushes subnormals"
PEERS = (
    Peer("convert", dict(src="fp32", dst="fp8_e4m3", saturate=True), "best peer", 45, 105.6, _FLUSHES,
         like=dict(ftz=True), target_luts=45, target_fmax_mhz=100),
    Peer("convert", dict(src="fp32", dst="fp8_e5m2"), "best peer", 46, 91.7, _FLUSHES, like=dict(ftz=True),
         target_luts=46, target_fmax_mhz=92),
    Peer("convert", dict(src="fp32", dst="bf16"), "best peer", 34, 87.8, _FLUSHES, like=dict(ftz=True),
         target_luts=28, target_fmax_mhz=150),
    Peer("convert", dict(src="fp32", dst="bf16"), "HardFloat", 241, 36.2, "exact", target_luts=28,
         target_fmax_mhz=150),
    Peer("convert", dict(src="fp32", dst="posit16"), "best peer", 130, 62.0,
         "truncates: no RNE, no saturation", target_luts=130, target_fmax_mhz=62),
    Peer("convert", dict(src="posit16", dst="fp32"), "best peer", 154, 53.5, "truncates, NaR read as inf",
         target_luts=110, target_fmax_mhz=75),
    Peer("posit-decode", dict(n=16), "best peer", 124, 71.0, "no NaR/zero flags", target_luts=100,
         target_fmax_mhz=77),
    Peer("posit-decode", dict(n=32), "best peer", 315, 52.2, "", target_luts=256, target_fmax_mhz=52),
    # issue 24: cvfpu's ExSdotp (MiniFloat-NN), a*b + c*d + e rounded once: fmtforge's dot in beat mode, 2 lanes
    Peer("dot", dict(a="fp8_e4m3", b="fp8_e4m3", c="fp16", out="fp16", mode="beat", lanes=2, stages=1),
         "cvfpu ExSdotp, 3 stages", 1161, 26.1, "rounded once per beat", target_luts=1066, target_fmax_mhz=60),
    Peer("dot", dict(a="fp8_e4m3", b="fp8_e4m3", c="fp16", out="fp16", mode="beat", lanes=2), "cvfpu ExSdotp",
         1066, 14.4, "rounded once per beat", target_luts=1066, target_fmax_mhz=60),
    Peer("dot", dict(a="fp16", b="fp16", c="fp32", out="fp32", mode="beat", lanes=2, flags=True), "cvfpu ExSdotp",
         2617, 10.4, "rounded once per beat", target_luts=2617, target_fmax_mhz=40),
)
