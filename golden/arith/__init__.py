"""Arithmetic in the formats: exact dot products and the accumulation rules hardware uses (numpy only).

- :func:`dot`: small floats and integers into fp32 / fp16 / bf16 (modes exact, beat, window), with
  :func:`exact_acc_bits` for the width of an exact fixed-point accumulator;
- :func:`mx_dot`, :func:`nvfp4_dot`: OCP MX v1.0 block dots (sections 6.1, 6.2) and NVFP4 blocks;
- :func:`posit_dot`: posit dot products through a quire (Posit Standard 2022), :func:`quire_bits`,
  :func:`exact_quire_bits`;
- :data:`PRESETS`: named window settings (Hopper FP8, Ada FP22, B200) modelled from published descriptions.

docs/dot.md states every rule.
"""

from .dot import DOT_MODES, TININESS, dot, exact_acc_bits
from .mx_dot import MX_ACCUMULATE, MX_ELEMENTS, mx_dot, nvfp4_dot
from .posit_dot import exact_quire_bits, posit_dot, quire_bits
from .window import PRESETS

__all__ = ["DOT_MODES", "MX_ACCUMULATE", "MX_ELEMENTS", "PRESETS", "TININESS", "dot", "exact_acc_bits", "exact_quire_bits",
           "mx_dot", "nvfp4_dot", "posit_dot", "quire_bits"]
