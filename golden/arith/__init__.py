"""Arithmetic in the formats: exact dot products and the accumulation rules hardware uses (numpy only).

- :func:`dot`: small floats and integers into fp32 / fp16 / bf16 (modes exact, beat, window), with
  :func:`exact_acc_bits` for the width of an exact fixed-point accumulator;
- :data:`PRESETS`: named window settings (Hopper FP8, Ada FP22, B200) modelled from published descriptions.

docs/dot.md states every rule.
"""

from .dot import DOT_MODES, TININESS, dot, exact_acc_bits
from .window import PRESETS

__all__ = ["DOT_MODES", "PRESETS", "TININESS", "dot", "exact_acc_bits"]
