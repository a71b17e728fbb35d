"""The options a proof runs under and the value a specification returns.

Shared by the proof engine (``verif/prove/engine.py``) and every specification module in
``verif/prove/specs/``: a specification is a function ``spec(src, dst, opts, x, rand) -> SpecOut``.
"""

from dataclasses import dataclass
from typing import Any

__all__ = ["FLAG_BITS", "ProveOptions", "SpecOut", "TININESS"]

#: RISC-V ``fflags`` layout of the 5-bit flags vector: bit index of each flag.
FLAG_BITS = {"NX": 0, "UF": 1, "OF": 2, "DZ": 3, "NV": 4}

#: IEEE 754-2019 7.5: tininess detected after rounding (RISC-V, x86) or before rounding (Arm).
TININESS = ("after", "before")


@dataclass(frozen=True)
class ProveOptions:
    """The converter's options, as the proof and the specification read them.

    Parameters
    ----------
    rounding : str
        ``rne``, ``rtz``, ``rdn``, ``rup``, ``rmm`` or ``stochastic``.
    saturate : bool
        Overflow gives the largest finite value of the destination instead of its overflow encoding.
    flags : bool
        The converter has a flags output; the proof compares it with ``SpecOut.flags``.
    ftz : bool
        Results that would be subnormal in the destination are flushed to zero (sign kept).
    daz : bool
        Subnormal source inputs are read as zero (sign kept).
    tininess : str
        ``after`` (default) or ``before``: when UF is raised (IEEE 754-2019 7.5).
    rand_bits : int
        Width of the ``rand`` input of stochastic rounding; 0 when the mode is deterministic.
    """

    rounding: str = "rne"
    saturate: bool = False
    flags: bool = False
    ftz: bool = False
    daz: bool = False
    tininess: str = "after"
    rand_bits: int = 0

    def as_dict(self):
        """The options as a plain dict (for JSON reports)."""
        return {"rounding": self.rounding, "saturate": self.saturate, "flags": self.flags, "ftz": self.ftz,
                "daz": self.daz, "tininess": self.tininess, "rand_bits": self.rand_bits}


@dataclass(frozen=True)
class SpecOut:
    """What a specification says the converter outputs for the symbolic input.

    Members
    -------
    bits : z3.BitVecRef
        The destination pattern, a bit-vector of the destination width.
    flags : z3.BitVecRef or None
        ``BitVec(5)`` in the :data:`FLAG_BITS` layout (NX bit 0, UF 1, OF 2, DZ 3, NV 4), or ``None`` when the
        specification defines no flags for the pair (the proof then refuses ``--flags``).
    """

    bits: Any
    flags: Any = None
