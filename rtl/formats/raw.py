"""The common unpacked form every unpack component produces and every pack component consumes.

Like HardFloat's RawFloat, a raw value carries class flags, a sign, an exponent and a significand with the
hidden bit explicit. Its static description, :class:`RawShape`, travels beside the signal in Python so that a
pack component sizes its logic to what can actually arrive (a shifter only as wide as the exponent range
needs, a normaliser only where one is needed).

Signal fields (``raw_layout(shape)``, LSB first):

* ``sig`` -- ``shape.sig_width`` bits: value = sig * 2**(scale - sig_width + 1), so with the top bit set the
  value is 1.xxx * 2**scale;
* ``exp`` -- signed; ``scale = exp - shape.bias``, except that with ``shape.ieee_subnormals`` an ``exp`` of 0
  has the scale of 1 (an IEEE subnormal, whose hidden bit is 0: the field is passed on unchanged so that a
  pack into a format with the same exponent field needs no arithmetic on it);
* ``sign``, ``is_zero``, ``is_inf``, ``is_nan``.

``sig`` may have leading zeros only at scales up to ``shape.unnorm_scale_max`` (None: never). For a NaN from
an IEEE-style source, ``sig`` below its top bit holds the payload (the fraction field), as ``golden.raw`` does.
"""

from dataclasses import dataclass

from amaranth import Const, Module, Mux, Signal
from amaranth.hdl import signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RawShape", "raw_layout", "Normalize", "scale_of", "signaling_nan"]


@dataclass(frozen=True)
class RawShape:
    """What a raw value can hold.

    ``exp_min``/``exp_max`` bound the ``exp`` field; ``unnorm_scale_max`` is the largest scale at which the
    significand may have leading zeros (None when it is always normalised); ``fmt`` is the golden format the
    value came from (its NaN payload rules and name).
    """

    sig_width: int
    exp_min: int
    exp_max: int
    bias: int
    fmt: object
    unnorm_scale_max: object = None
    ieee_subnormals: bool = False

    @property
    def normalized(self):
        return self.unnorm_scale_max is None

    @property
    def exp_shape(self):
        width = max(self.exp_min.bit_length(), self.exp_max.bit_length(), (-self.exp_min - 1).bit_length()) + 1
        return signed(width)

    @property
    def scale_min(self):
        """Smallest scale (exponent of the significand's top bit position) of a nonzero value."""
        return max(self.exp_min, 1 if self.ieee_subnormals else self.exp_min) - self.bias

    @property
    def scale_max(self):
        return self.exp_max - self.bias

    @property
    def payload_bits(self):
        """Bits of NaN payload carried below the top of ``sig`` (0 unless the source is IEEE-style)."""
        f = self.fmt
        return self.sig_width - 1 if getattr(f, "specials", None) == "ieee" else 0


def raw_layout(shape):
    """The ``data.StructLayout`` of a raw value of ``shape``."""
    return data.StructLayout({
        "sig": unsigned(shape.sig_width),
        "exp": shape.exp_shape,
        "sign": unsigned(1),
        "is_zero": unsigned(1),
        "is_inf": unsigned(1),
        "is_nan": unsigned(1),
    })


def scale_of(m, raw, shape):
    """A signal holding the scale of ``raw`` (signed), with the IEEE subnormal rule applied."""
    lo, hi = shape.scale_min, shape.scale_max
    width = max(lo.bit_length(), hi.bit_length(), (-lo - 1).bit_length(), (-hi - 1).bit_length()) + 1
    scale = Signal(signed(width))
    exp = raw.exp
    if shape.ieee_subnormals:
        exp = Mux(raw.exp == 0, 1, raw.exp)
    m.d.comb += scale.eq(exp - shape.bias)
    return scale


def signaling_nan(raw, shape):
    """1 for a signaling NaN: an IEEE-style source's NaN whose quiet bit (the payload's top bit) is clear. Other
    sources have no signaling NaNs (as golden.raw.signaling)."""
    pb = shape.payload_bits
    return raw.is_nan & ~raw.sig[pb - 1] if pb else Const(0, 1)


class Normalize(wiring.Component):
    """Shift a raw significand left until its top bit is set, lowering the exponent to match.

    Logarithmic depth: stages shift by 2**k when the top 2**k bits are all zero (a leading-zero count and a
    barrel shifter in one). NaN, infinity and zero pass through unchanged.
    """

    def __init__(self, shape):
        if shape.normalized:
            raise ValueError("Normalize needs a raw shape that may hold unnormalised significands")
        self.in_shape = shape
        S = shape.sig_width
        lo = shape.scale_min - (S - 1) + shape.bias
        self.shape = RawShape(sig_width=S, exp_min=min(lo, shape.exp_min), exp_max=shape.exp_max,
                              bias=shape.bias, fmt=shape.fmt)
        super().__init__({"i": In(raw_layout(shape)), "o": Out(raw_layout(self.shape))})

    def elaborate(self, platform):
        m = Module()
        S = self.in_shape.sig_width
        exp = Signal(self.shape.exp_shape)
        if self.in_shape.ieee_subnormals:
            m.d.comb += exp.eq(Mux(self.i.exp == 0, 1, self.i.exp))
        else:
            m.d.comb += exp.eq(self.i.exp)
        sig = self.i.sig
        lz_parts = []
        k = 1 << max((S - 1).bit_length() - 1, 0)
        while k >= 1 and S > 1:
            top_zero = Signal(name=f"zero_top_{k}")
            shifted = Signal(S, name=f"sig_shl_{k}")
            m.d.comb += [top_zero.eq(sig[S - k:] == 0), shifted.eq(Mux(top_zero, sig << k, sig))]
            lz_parts.append((top_zero, k))
            sig = shifted
            k //= 2
        lz = sum(z * k for z, k in lz_parts) if lz_parts else Const(0)
        finite = ~(self.i.is_nan | self.i.is_inf | self.i.is_zero)
        m.d.comb += [
            self.o.sign.eq(self.i.sign),
            self.o.is_zero.eq(self.i.is_zero),
            self.o.is_inf.eq(self.i.is_inf),
            self.o.is_nan.eq(self.i.is_nan),
            self.o.exp.eq(Mux(finite, exp - lz, exp)),
            self.o.sig.eq(Mux(finite, sig, self.i.sig)),
        ]
        return m
