"""Unpack for codebook formats (NF4): a table of the levels' exact raw values."""

import numpy as np
from amaranth import Cat, Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fmtforge.golden import Codebook

from .raw import RawShape, raw_layout

__all__ = ["CodebookUnpack"]


class CodebookUnpack(wiring.Component):
    """Code -> raw form of its level, exact (the levels are float64s; significands normalised here)."""

    def __init__(self, fmt):
        if not isinstance(fmt, Codebook):
            raise TypeError(f"fmt must be a golden.Codebook, not {fmt!r}")
        self.fmt = fmt
        raw = fmt.decode_raw(np.arange(1 << fmt.width))
        self.entries = []

        def significant(v):  # the significand without its trailing zeros
            v = int(v)
            return v >> ((v & -v).bit_length() - 1) if v else 0
        S = max(max(significant(s).bit_length() for s in raw.sig), 1)
        for sign, exp, sig in zip(raw.sign, raw.exp, raw.sig):
            sig = int(sig)
            if sig == 0:
                self.entries.append((bool(sign), 0, 0, True))
                continue
            scale = int(exp) + sig.bit_length() - 1  # exponent of the leading one
            sig = significant(sig)
            self.entries.append((bool(sign), scale, sig << (S - sig.bit_length()), False))
        scales = [e[1] for e in self.entries if not e[3]]
        self.shape = RawShape(sig_width=S, exp_min=min(scales), exp_max=max(scales), bias=0, fmt=fmt)
        super().__init__({"i": In(fmt.width), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        # One table per output bit, indexed by the code (a shift of a constant): plain logic, no case
        # statement, so every output bit is a small function of the code bits.
        fields = {"sign": [int(e[0]) for e in self.entries],
                  "exp": [e[1] & ((1 << len(self.o.exp)) - 1) for e in self.entries],
                  "sig": [e[2] for e in self.entries],
                  "is_zero": [int(e[3]) for e in self.entries]}
        for name, values in fields.items():
            target = getattr(self.o, name)
            width = len(target)
            bits = []
            for b in range(width):
                column = sum(((v >> b) & 1) << code for code, v in enumerate(values))
                if column in (0, (1 << len(values)) - 1):
                    bits.append(Const(column & 1, 1))
                else:
                    bits.append(Const(column, len(values)).bit_select(self.i, 1))
            m.d.comb += target.eq(Cat(*bits))
        return m
