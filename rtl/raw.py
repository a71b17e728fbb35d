"""The common unpacked form every unpack component produces and every pack component consumes.

Like HardFloat's RawFloat, a raw value carries class flags, a sign, an exponent and a significand with the
hidden bit explicit. Its static description, :class:`RawShape`, travels beside the signal in Python so that a
pack component sizes its logic to what can actually arrive (a shifter only as wide as the exponent range
needs, no normaliser when none is needed).

Signal fields (``raw_layout(shape)``, LSB first):

* ``sig`` -- ``shape.sig_width`` bits, the hidden bit at the top: value = sig * 2**(scale - sig_width + 1);
* ``exp`` -- signed; ``scale = exp - shape.bias``, except that with ``shape.normalized == False`` an ``exp``
  of 0 has the scale of 1 (an IEEE subnormal: the hidden bit is then 0);
* ``sign``, ``is_zero``, ``is_inf``, ``is_nan``.

For a NaN, ``sig`` below its top bit holds the source's payload (its fraction field), MSB-aligned, as in
``golden.raw``.
"""

from dataclasses import dataclass

from amaranth.lib import data
from amaranth.hdl import signed, unsigned

__all__ = ["RawShape", "raw_layout"]


@dataclass(frozen=True)
class RawShape:
    """What a raw stream can hold: significand width, exponent field range and bias.

    ``exp_min``/``exp_max`` bound the ``exp`` field; ``normalized`` says whether the significand always has
    its top bit set for nonzero finite values; ``fmt`` is the golden format it came from.
    """

    sig_width: int
    exp_min: int
    exp_max: int
    bias: int
    normalized: bool
    fmt: object

    @property
    def exp_shape(self):
        width = max(self.exp_min.bit_length(), self.exp_max.bit_length(),
                    (-self.exp_min - 1).bit_length()) + 1
        return signed(width)

    @property
    def scale_min(self):
        """Smallest scale (unbiased exponent of the significand's top bit) of a nonzero value."""
        return max(self.exp_min, 0 if self.normalized else 1) - self.bias

    @property
    def scale_max(self):
        return self.exp_max - self.bias


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
