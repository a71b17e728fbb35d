"""IEEE-style binary floating-point formats of any width, with the special-value policies in use."""

from fractions import Fraction

import numpy as np

from ..validate import check_bool, check_int
from .base import Format
from .raw import FINITE, INF, NAN, QUIET, Raw, bit_length, shift_right, signaling
from .rounding import NV, NX, OF, UF, check_tininess, increment

__all__ = ["FP64", "Minifloat", "POLICIES", "raw_to_float64"]

#: Special-value policies.
#: ``ieee``: all-ones exponent is inf (mantissa 0) or NaN. ``fn`` (OCP E4M3FN): no inf; only the all-ones
#: exponent-and-mantissa pattern is NaN. ``fnuz``: no inf, no -0; the pattern of -0 is the only NaN.
#: ``none``: every pattern is a finite number (FP6, FP4, CFloat8).
POLICIES = ("ieee", "fn", "fnuz", "none")

_U64 = np.uint64


def _default_name(exp_bits, man_bits, bias, subnormals, specials, explicit_integer):
    """The parametric name ``golden.lookup`` reads back: ``e<E>m<M>[_b<bias>][_<policy>]`` (``_ieee`` only
    where the bare name is an alias of another format: ``e4m3`` is OCP's), CFloat8 as
    ``cfloat8_1_<E>_<M>_b<bias>``; ``_x87`` and ``_ftz`` mark an explicit integer bit and flushed subnormals."""
    if specials == "none" and exp_bits + man_bits == 7 and exp_bits in (4, 5) and subnormals \
            and not explicit_integer:
        return f"cfloat8_1_{exp_bits}_{man_bits}_b{bias}"
    default_bias = (1 << (exp_bits - 1)) - 1 + (specials == "fnuz")
    name = f"e{exp_bits}m{man_bits}" + ("" if bias == default_bias else f"_b{bias}")
    if specials != "ieee" or name in ("e4m3", "e2m1", "e2m3", "e3m2"):  # bare: OCP's FP8 / FP6 / FP4
        name += f"_{specials}"
    return name + ("_x87" if explicit_integer else "") + ("" if subnormals else "_ftz")


class Minifloat(Format):
    """A sign-exponent-mantissa binary float.

    Parameters
    ----------
    exp_bits : int, 1..15
        Exponent field width.
    man_bits : int, 0..63 (0..64 with ``explicit_integer``)
        Stored mantissa bits: the fraction, plus the integer bit when it is explicit.
    bias : int, optional
        Exponent bias; default ``2**(exp_bits-1) - 1`` (one more for ``fnuz``).
    subnormals : bool
        ``False`` flushes: exponent field 0 decodes to zero whatever the mantissa, and results that round
        below the smallest normal become zero.
    specials : str
        One of :data:`POLICIES`.
    explicit_integer : bool
        The integer bit is stored (x87 extended precision). Encodings whose integer bit contradicts the
        exponent (unnormals, pseudo-denormals, pseudo-inf/NaN) decode as NaN and are never produced.
    name : str, optional

    Rounding (``encode``/``encode_raw``) is exact from the input value. Overflow, after rounding: a mode that
    rounds toward zero for that sign, and ``saturate=True``, give +-max; otherwise ``ieee`` gives +-inf,
    ``fn`` and ``fnuz`` give NaN, ``none`` gives +-max. Infinite inputs follow the same rule. NaN inputs give
    NaN (``ieee``: sign and payload kept, the payload MSB-aligned and truncated or zero-extended, quiet bit set,
    as x86 and Arm convert; ``fn``: sign kept, all ones; ``fnuz``: 0x80..);
    ``none`` formats have no NaN and give +0, raising the NV flag. A signaling NaN input (an IEEE-policy
    source's NaN with its quiet bit, the top fraction bit, clear) raises NV in every format.
    """

    __slots__ = ("name", "width", "exp_bits", "man_bits", "bias", "subnormals", "specials",
                 "explicit_integer", "kind")

    def __init__(self, *, exp_bits, man_bits, bias=None, subnormals=True, specials="ieee",
                 explicit_integer=False, name=None):
        exp_bits = check_int("exp_bits", exp_bits, 1, 15)
        check_bool("explicit_integer", explicit_integer)
        man_bits = check_int("man_bits", man_bits, 0, 63 + explicit_integer)
        if specials not in POLICIES:
            raise ValueError(f"specials must be one of {', '.join(POLICIES)}, not {specials!r}")
        if bias is None:
            bias = (1 << (exp_bits - 1)) - 1 + (specials == "fnuz")
        bias = check_int("bias", bias, -(1 << 20), 1 << 20)
        check_bool("subnormals", subnormals)
        if specials == "ieee" and (exp_bits < 2 or man_bits < 1):
            raise ValueError("specials='ieee' needs exp_bits >= 2 and man_bits >= 1 (room for inf and NaN), "
                             f"not exp_bits={exp_bits}, man_bits={man_bits}")
        if specials == "fn" and man_bits < 1:
            raise ValueError(f"specials='fn' needs man_bits >= 1, not {man_bits}")
        if explicit_integer and man_bits < 1:
            raise ValueError("explicit_integer=True needs man_bits >= 1 (the integer bit is the top stored bit)")
        width = 1 + exp_bits + man_bits
        if name is None:
            name = _default_name(exp_bits, man_bits, bias, subnormals, specials, explicit_integer)
        self._init(name=name, width=width, exp_bits=exp_bits, man_bits=man_bits, bias=bias,
                   subnormals=subnormals, specials=specials, explicit_integer=explicit_integer, kind="float")

    def _key(self):
        return (self.exp_bits, self.man_bits, self.bias, self.subnormals, self.specials, self.explicit_integer)

    def __repr__(self):
        return (f"Minifloat(name={self.name!r}, exp_bits={self.exp_bits}, man_bits={self.man_bits}, "
                f"bias={self.bias}, subnormals={self.subnormals}, specials={self.specials!r}"
                + (", explicit_integer=True" if self.explicit_integer else "") + ")")

    # -- derived parameters ------------------------------------------------------------------------------
    @property
    def frac_bits(self):
        """Fraction bits below the binary point (``man_bits`` less a stored integer bit)."""
        return self.man_bits - self.explicit_integer

    @property
    def emin(self):
        """Unbiased exponent of the smallest normal."""
        return 1 - self.bias

    @property
    def max_biased(self):
        """Largest exponent field of a finite value."""
        return (1 << self.exp_bits) - 1 - (self.specials == "ieee")

    @property
    def max_frac(self):
        """Largest fraction field at ``max_biased``."""
        return (1 << self.frac_bits) - 1 - (self.specials == "fn")

    @property
    def emax(self):
        return self.max_biased - self.bias

    @property
    def signed(self):
        return True

    # -- subnormal patterns (ftz / daz) -------------------------------------------------------------------
    def subnormal_patterns(self, bits):
        """Boolean mask of the patterns of ``bits`` that encode subnormals: exponent field 0 and a nonzero
        fraction (x87: integer bit clear as well; a set one is a pseudo-denormal, read as NaN). All False
        for a format without subnormals."""
        b = self.as_bits(bits)
        if not self.subnormals:
            return np.zeros(np.shape(b), dtype=bool)
        f = self.frac_bits
        one = type(b.flat[0]) if b.dtype == object and b.size else b.dtype.type
        expf = (b >> one(self.man_bits)) & one((1 << self.exp_bits) - 1)
        mask = (expf == 0) & ((b & one((1 << f) - 1)) != 0)
        if self.explicit_integer:
            mask &= ((b >> one(f)) & one(1)) == 0
        return np.asarray(mask, dtype=bool)

    def zero_patterns(self, bits):
        """The zero with each pattern's sign (+0 for fnuz, which has no -0: its pattern is the NaN)."""
        b = self.as_bits(bits)
        if self.specials == "fnuz":
            return np.zeros_like(b)
        one = type(b.flat[0]) if b.dtype == object and b.size else b.dtype.type
        return b & one(1 << (self.width - 1))

    # -- facts -------------------------------------------------------------------------------------------
    @property
    def max(self):
        f = self.frac_bits
        return Fraction(2) ** self.emax * Fraction((1 << f) + self.max_frac, 1 << f)

    @property
    def min_normal(self):
        return Fraction(2) ** self.emin

    @property
    def min_subnormal(self):
        if not self.subnormals or self.frac_bits == 0:
            return None
        return Fraction(2) ** (self.emin - self.frac_bits)

    @property
    def epsilon(self):
        return Fraction(1, 1 << self.frac_bits)

    # -- bit fields --------------------------------------------------------------------------------------
    def _split(self, bits):
        """(sign, exponent field, stored mantissa field) of each pattern."""
        bits = self.as_bits(bits)
        e, m = self.exp_bits, self.man_bits
        if self.dtype == object:
            flat = bits.ravel()
            sign = np.array([b >> (e + m) for b in flat], dtype=bool).reshape(bits.shape)
            expf = np.array([(b >> m) & ((1 << e) - 1) for b in flat], dtype=np.int64).reshape(bits.shape)
            manf = np.array([b & ((1 << m) - 1) for b in flat], dtype=_U64).reshape(bits.shape)
            return sign, expf, manf
        b = bits.astype(_U64)
        sign = ((b >> _U64(e + m)) & _U64(1)).astype(bool)
        expf = ((b >> _U64(m)) & _U64((1 << e) - 1)).astype(np.int64)
        manf = b & _U64((1 << m) - 1)
        return sign, expf, manf

    def _join(self, sign, expf, manf):
        e, m = self.exp_bits, self.man_bits
        if self.dtype == object:
            out = [(int(s) << (e + m)) | (int(x) << m) | int(f)
                   for s, x, f in zip(np.ravel(sign), np.ravel(expf), np.ravel(manf))]
            return np.array(out, dtype=object).reshape(np.shape(sign))
        b = (np.asarray(sign).astype(_U64) << _U64(e + m)) | (np.asarray(expf).astype(_U64) << _U64(m)) \
            | np.asarray(manf).astype(_U64)
        return b.astype(self.dtype)

    # -- decode ------------------------------------------------------------------------------------------
    def decode_raw(self, bits):
        sign, expf, manf = self._split(bits)
        f = self.frac_bits
        all_e = (1 << self.exp_bits) - 1
        frac = manf & _U64((1 << f) - 1)
        cls = np.full(sign.shape, FINITE, np.uint8)
        if self.specials == "ieee":
            cls[(expf == all_e) & (frac == 0)] = INF
            cls[(expf == all_e) & (frac != 0)] = NAN
        elif self.specials == "fn":
            cls[(expf == all_e) & (frac == (1 << f) - 1)] = NAN
        elif self.specials == "fnuz":
            cls[sign & (expf == 0) & (manf == 0)] = NAN
        sub = expf == 0
        invalid = np.zeros(sign.shape, bool)
        if self.explicit_integer:
            intbit = (manf >> _U64(f)).astype(bool)
            invalid = intbit != ~sub
            cls[invalid] = NAN
        sig = np.where(sub, frac if self.subnormals else _U64(0), frac | _U64(1 << f))
        exp = np.where(sub, self.emin, expf - self.bias) - f
        sig = np.where(cls == FINITE, sig, np.where(cls == NAN, QUIET, _U64(0)))
        if self.specials == "ieee":  # keep NaN payloads, MSB-aligned: bit 63 is the quiet bit (see golden.raw)
            nan = (cls == NAN) & (expf == all_e)
            sig = np.where(nan, frac << _U64(64 - f), sig)
            # x87's invalid encodings are read as signaling NaNs (the 387 and later raise invalid on them)
            sig = np.where(invalid, np.where(expf == all_e, sig & ~QUIET, _U64(0)), sig)
        return Raw(cls, sign, exp.astype(np.int64), sig)

    def _decode_exact(self, bits):
        if self.frac_bits <= 52 and self.emax <= 1023 and self.emin - self.frac_bits >= -1074:
            raw = self.decode_raw(bits)  # every value fits float64 exactly: scale the integer significand
            v = np.ldexp(raw.sig.astype(np.float64), raw.exp)
            v = np.where(raw.cls == INF, np.inf, np.where(raw.cls == NAN, np.nan, v))
            return np.where(raw.sign, -v, v)
        return raw_to_float64(self.decode_raw(bits))

    # -- encode ------------------------------------------------------------------------------------------
    def encode_raw(self, raw, rounding="rne", saturate=False, *, rand=None, rand_bits=None, tininess="after"):
        """Round exact values into this format. Returns ``(bits, flags)``.

        ``tininess`` (``after`` or ``before`` rounding, golden.rounding) decides when an inexact result below
        the smallest normal raises UF."""
        rand = self._prepare(raw, rounding, rand, rand_bits)
        check_tininess(tininess)
        f = self.frac_bits
        cls, sign, exp, sig = raw
        finite_nz = (cls == FINITE) & (sig != 0)
        e_msb = exp + bit_length(sig) - 1
        # Quantum: the last fraction bit of the binade, or of the subnormal range below emin.
        e_eff = np.maximum(e_msb, self.emin) if self.subnormals else e_msb
        shift = e_eff - f - exp
        exact_fit = shift <= 0  # no more significant bits than the format keeps
        kept, rbit, sticky = shift_right(sig, np.maximum(shift, 0))
        kept = np.where(exact_fit, sig << np.clip(-shift, 0, 63).astype(_U64), kept)
        if f == 0:
            # No fraction bits: the encoding's last bit is the exponent field's.
            lsb = (kept != 0) & ((e_eff - self.emin) % 2 == 0)
        else:
            lsb = (kept & _U64(1)).astype(bool)
        inc = increment(rounding, sig, shift, sign, lsb, rbit, sticky, rand, rand_bits) & ~exact_fit
        inexact = (rbit | sticky) & ~exact_fit
        carry = inc & (kept == _U64((1 << (f + 1)) - 1))  # rounds up into the next binade
        kept = np.where(carry, _U64(1 << f), kept + inc.astype(_U64))
        e_eff = e_eff + carry
        normal = (kept >> _U64(f)) != 0
        expf = np.where(normal, e_eff - self.emin + 1, 0)
        frac = kept & _U64((1 << f) - 1)
        tiny = self._tiny(tininess, rounding, finite_nz, sign, exp, sig, e_msb, rand, rand_bits)
        if not self.subnormals:
            flushed = finite_nz & (expf <= 0)
            inexact = inexact | flushed
            expf = np.where(flushed, 0, expf)
            frac = np.where(flushed, _U64(0), frac)
        over = finite_nz & ((expf > self.max_biased) | ((expf == self.max_biased) & (frac > _U64(self.max_frac))))

        # Assemble: finite results first, then overwrite with the special cases.
        zero = (cls == FINITE) & ~finite_nz
        out_e = np.where(zero, 0, expf)
        out_f = np.where(zero, _U64(0), frac)
        out_s = sign.copy()
        flags = np.where(finite_nz & inexact, NX, 0) | np.where(tiny & inexact, UF, 0)

        toward_zero = {"rtz": np.ones_like(sign), "rdn": ~sign, "rup": sign}.get(rounding, np.zeros_like(sign))
        to_max = over & (toward_zero | saturate | (self.specials == "none"))
        inf_in = cls == INF
        to_special = (over & ~to_max) | inf_in
        flags = flags | np.where(over, OF | NX, 0)
        max_e, max_f = self.max_biased, _U64(self.max_frac)
        out_e = np.where(to_max, max_e, out_e)
        out_f = np.where(to_max, max_f, out_f)
        nan_in = cls == NAN
        flags = flags | np.where(signaling(raw), NV, 0)  # IEEE 754 7.2: a signaling NaN signals invalid
        if self.specials == "ieee":
            all_e = (1 << self.exp_bits) - 1
            out_e = np.where(to_special, all_e, out_e)
            out_f = np.where(to_special, _U64(0), out_f)
            if saturate:
                out_e = np.where(inf_in, max_e, out_e)
                out_f = np.where(inf_in, max_f, out_f)
            # NaN payload: the source's fraction, MSB-aligned and truncated, quiet bit set.
            payload = shift_right(sig, np.full(sig.shape, 64 - f))[0]
            out_e = np.where(nan_in, all_e, out_e)
            out_f = np.where(nan_in, payload | _U64(1 << (f - 1)), out_f)
        else:
            # No infinity: an infinite input saturates when asked (or when there is no NaN to give).
            sat_inf = inf_in & (saturate or self.specials == "none")
            out_e = np.where(sat_inf, max_e, out_e)
            out_f = np.where(sat_inf, max_f, out_f)
            nan_out = (to_special & ~sat_inf) | nan_in
            if self.specials == "none":
                flags = flags | np.where(nan_in | inf_in, NV, 0)
                out_e = np.where(nan_in, 0, out_e)
                out_f = np.where(nan_in, _U64(0), out_f)
                out_s = np.where(nan_in, False, out_s)
            elif self.specials == "fn":
                out_e = np.where(nan_out, (1 << self.exp_bits) - 1, out_e)
                out_f = np.where(nan_out, _U64((1 << f) - 1), out_f)
                flags = flags | np.where(inf_in & ~sat_inf, NV, 0)
            else:  # fnuz: NaN is the pattern of -0, and there is no -0
                out_e = np.where(nan_out, 0, out_e)
                out_f = np.where(nan_out, _U64(0), out_f)
                out_s = np.where(nan_out, True, np.where(zero | ((out_e == 0) & (out_f == 0)), False, out_s))
                flags = flags | np.where(inf_in & ~sat_inf, NV, 0)
        if self.explicit_integer:
            out_f = out_f | np.where(out_e != 0, _U64(1 << f), _U64(0))
        return self._join(out_s, out_e, out_f), flags.astype(np.uint8)

    def _tiny(self, tininess, rounding, finite_nz, sign, exp, sig, e_msb, rand, rand_bits):
        """IEEE 754 7.5 tininess of each nonzero exact value ``sig * 2**exp`` (``e_msb``: its binade).

        ``before``: the value lies below 2**emin. ``after``: the value rounded to this format's precision
        ``p = frac_bits + 1`` with an unbounded exponent does, which differs only in the binade just below
        2**emin, where rounding up at ``p`` bits reaches 2**emin."""
        below = finite_nz & (e_msb < self.emin)
        if tininess == "before":
            return below
        f = self.frac_bits
        band = below & (e_msb == self.emin - 1)
        shift = e_msb - f - exp  # bits below the p-bit quantum of the value's own binade
        kept, rbit, sticky = shift_right(sig, np.maximum(shift, 0))
        # p = 1: the quantum's "last bit" is the exponent field's, as in the delivered rounding (even at emin - 1)
        lsb = (kept & _U64(1)).astype(bool) if f else (e_msb - self.emin) % 2 == 0
        inc = increment(rounding, sig, shift, sign, lsb, rbit, sticky, rand, rand_bits) & (shift > 0)
        carry = inc & (kept == _U64((1 << (f + 1)) - 1))  # p ones rounding up: 2**emin
        return below & ~(band & carry)


#: IEEE binary64: also the float64 every format's ``decode`` rounds its exact values into.
FP64 = Minifloat(name="fp64", exp_bits=11, man_bits=52)


def raw_to_float64(raw):
    """The float64 nearest (ties to even) to each exact value of ``raw`` (NaN for NaN, +-inf for infinities)."""
    return FP64.encode_raw(raw)[0].view(np.float64)
