"""Fast conversion plans by binade: per source exponent a prefix and a cut, then one rounding step on
integers (see fastconv; the x87 destination repacks its fp64 result: fastconv_wide)."""

import numpy as np

from .minifloat import Minifloat
from .posit import Posit
from .rounding import NV, NX, OF, UF

from .fastconv_tables import CHUNK, _U8, _U32, _U64, _Plan  # noqa: F401


class _Rows:
    """Per-row parameters of the binade plan, as arrays of the plan's dtype."""

    def __init__(self, rows, dt, rounding):
        col = lambda k: np.array([r[k] for r in rows], dtype=object)
        self.Apre = col("Apre").astype(dt)
        self.T0 = col("T0").astype(dt)
        self.has_T0 = bool(self.T0.any())
        self.S = col("S").astype(dt)
        self.L1 = col("L1").astype(dt)
        self.shift = bool(self.L1.any())
        M = [(1 << r["S"]) - 1 for r in rows]
        self.M = np.array(M, dtype=object).astype(dt)
        if rounding == "rne":
            self.B = np.array([m >> 1 for m in M], dtype=object).astype(dt)
        elif rounding == "rmm":
            self.B = np.array([(m >> 1) + 1 for m in M], dtype=object).astype(dt)
        elif rounding == "rup":
            self.B = np.array([0 if r["sign"] else m for r, m in zip(rows, M)], dtype=object).astype(dt)
        elif rounding == "rdn":
            self.B = np.array([m if r["sign"] else 0 for r, m in zip(rows, M)], dtype=object).astype(dt)
        else:
            self.B = None
        for k in ("SB", "CL", "NM", "LIM", "TH"):
            if k in rows[0]:
                setattr(self, k, col(k).astype(dt))


class _Specials:
    """Zeros, infinities and NaNs of an IEEE source: the exact path's results for each sign (zeros,
    infinities) computed once, and for NaNs its flags by sign and quiet bit with the payload formula
    ``base(sign) | payload`` (an IEEE destination keeps the top fraction bits, or all of them shifted up). The
    formula is checked against the exact path here on every NaN with at most 2 payload bits set and random
    ones; should it disagree (``nan_exact``), NaNs take the exact path."""

    def __init__(self, plan):
        self.exact, src, d = plan.exact, plan.src, plan.dst
        self.F, self.sw, self.all_e = F, sw, all_e = src.frac_bits, src.width - 1, (1 << src.exp_bits) - 1
        self.dtype, self.frac_mask = d.dtype, (1 << F) - 1
        top = all_e << F
        neg = 1 << sw
        # probes: +0 -0 +inf -inf, quiet NaNs (+ -), signaling NaNs (+ -)
        pats = [0, neg, top, neg | top, top | (1 << (F - 1)), neg | top | (1 << (F - 1)), top | 1, neg | top | 1]
        pb, pf = self.exact(np.array(pats, dtype=src.dtype))
        self.p_bits, self.p_flags = pb, pf.astype(_U8)
        self.payload_bits = d.frac_bits if isinstance(d, Minifloat) and d.specials == "ieee" else None
        fr = sorted({1 << i for i in range(F)} | {(1 << i) | (1 << j) for i in range(F) for j in range(i)}
                    | {(1 << F) - 1, (1 << (F - 1)) - 1}
                    | set(np.random.default_rng(F).integers(1, 1 << F, 64).tolist()))
        sample = np.array([sg | top | f for sg in (0, neg) for f in fr], dtype=src.dtype)
        (wb, wf), (gb, gf) = self.exact(sample), self._nan(sample)
        self.nan_exact = not (np.array_equal(wb, gb) and np.array_equal(wf, gf))

    def _nan(self, xs):
        xs = xs.astype(_U64)
        F = self.F
        sg = (xs >> _U64(self.sw)).astype(np.intp)
        fr = xs & _U64(self.frac_mask)
        quiet = ((fr >> _U64(F - 1)) & _U64(1)).astype(np.intp)
        base = self.p_bits.take(4 + sg)
        flags = self.p_flags.take(6 + sg - 2 * quiet)
        f = self.payload_bits
        if f is not None:
            pay = fr >> _U64(F - f) if f <= F else fr << _U64(f - F)
            base = base | pay.astype(self.dtype)
        return base, flags

    def __call__(self, xs):
        """Results for patterns with exponent field 0 or all ones (those of subnormals: garbage)."""
        out = np.empty(xs.size, self.dtype)
        flags = np.empty(xs.size, _U8)
        xs = xs.astype(_U32)
        E = (xs >> _U32(self.F)) & _U32(self.all_e)
        fr = xs & _U32(self.frac_mask)
        sg = (xs >> _U32(self.sw)).astype(np.intp)
        for cls, probe in ((E != self.all_e, 0), ((E == self.all_e) & (fr == 0), 2)):
            out[cls] = self.p_bits.take(probe + sg[cls])
            flags[cls] = self.p_flags.take(probe + sg[cls])
        nan = np.flatnonzero((E == self.all_e) & (fr != 0))
        if nan.size:
            ob, of = self.exact(xs[nan]) if self.nan_exact else self._nan(xs[nan])
            out[nan] = ob
            flags[nan] = of
        return out, flags


class _Binade(_Plan):
    """Per source binade: a prefix, the source fraction, one cut (see the module doc)."""

    kind = "binade"

    def __init__(self, src, dst, rounding, saturate, tininess="after"):
        super().__init__(src, dst, rounding, saturate, tininess)
        F, eb = src.frac_bits, src.exp_bits
        self.F, self.eb = F, eb
        self.all_e = all_e = (1 << eb) - 1
        self.frac_mask = (1 << F) - 1
        self.sw = src.width - 1  # the sign's bit
        self._setup_dst()
        main = [self._row(sg, E - src.bias if 1 <= E < all_e else None) for sg in (0, 1) for E in range(all_e + 1)]
        # Source subnormals, normalised: row sign << 5 | bit length of the fraction.
        sub = [self._row(sg, src.emin - F + bl - 1 if 1 <= bl <= F else None) for sg in (0, 1) for bl in range(32)]
        real = [r for r in main + sub if not r["dummy"]]
        self.dt = dt = _U32 if self._fits(real, 32) else _U64
        if not self._fits(real, 64):
            raise AssertionError(f"binade plan {src} -> {dst} does not fit 64 bits")
        self.main, self.sub = _Rows(main, dt, rounding), _Rows(sub, dt, rounding)
        self.can_tiny = any(r.get("tiny") for r in real)
        if self.family == "float":
            # An overflow gives +-max or the pattern just above max (inf; fn's NaN; fnuz's NaN 0x80, the sign bit):
            # one clamp of the magnitude, then the sign. The clamp is per row only when it depends on the sign.
            for r in main + sub:
                assert r["CL"] | r["SB"] == r["OVF"], (src, dst, r)
            cl = {r["CL"] for r in main + sub}
            self.clamp = dt(cl.pop()) if len(cl) == 1 else None
        self.spec = _Specials(self)

    # -- rows ------------------------------------------------------------------------------------------
    def _fits(self, rows, width):
        lim = 1 << width
        for r in rows:
            M = (1 << r["S"]) - 1
            low = (r["T0"] | self.frac_mask) << r["L1"]
            if low + M >= lim or r["Apre"] + ((low + M) >> r["S"]) >= lim:
                return False
            if any(r.get(k, 0) >= lim for k in ("SB", "OVF", "CL", "NM", "LIM")):
                return False
        return all(c < lim for c in self.consts)

    def _cut_row(self, A, s):
        """Row for ``encoding = round((A << F | f) / 2**s)``."""
        F = self.F
        if s <= 0:  # the whole fraction fits: shift it left (one spare bit keeps S >= 1, the bias <= 1)
            return {"Apre": A << (F - s), "T0": 0, "S": 1, "L1": 1 - s}
        if s <= F:
            return {"Apre": A << (F - s), "T0": 0, "S": s, "L1": 0}
        s = min(s, F + A.bit_length() + 1)  # further cuts: round bit 0, sticky = (A, f) != 0, the same
        return {"Apre": A >> (s - F), "T0": (A & ((1 << (s - F)) - 1)) << F, "S": s, "L1": 0}

    def _force_row(self, Apre, inexact):
        """A row whose result is Apre or Apre + 1 (clamped afterwards); inexact always, or when f != 0."""
        return {"Apre": Apre, "T0": (1 << self.F) if inexact else 0, "S": self.F + 2, "L1": 0}

    def _row(self, sign, e):
        if e is None:
            row = {"Apre": 0, "T0": 0, "S": 1, "L1": 0, "dummy": True}
        else:
            row = self._dst_row(e)
            row["dummy"] = False
        if self.family == "float":
            row["TH"] = 0 if e is None else self._tiny_threshold(e, sign)
        row["sign"] = sign
        row.update(self._sign_consts(sign))
        return row

    # -- destinations ----------------------------------------------------------------------------------
    def _setup_dst(self):
        d = self.dst
        if isinstance(d, Minifloat):
            self.family = "float"
            f = d.frac_bits
            self.maxmag = (d.max_biased << f) | d.max_frac
            self.consts = [self.maxmag, 1 << f]
        elif isinstance(d, Posit):
            self.family = "posit"
            self.maxpos = (1 << (d.n - 1)) - 1
            self.nmask = (1 << d.n) - 1
            self.has_big = self.has_small = False
            self.consts = [self.nmask]
        else:
            self.family = "int"
            self.nmask = (1 << d.bits) - 1
            self.consts = [self.nmask]

    def _dst_row(self, e):
        d, F = self.dst, self.F
        if self.family == "float":
            f = d.frac_bits
            if e >= d.emin:
                expf = e + d.bias
                row = self._cut_row(min(expf, d.max_biased + 1), F - f)  # beyond max_biased: overflows
                row["tiny"] = False
            else:
                row = self._cut_row(1, F - f + (d.emin - e))
                row["tiny"] = True
            return row
        if self.family == "posit":
            ms = d.max_scale
            if e >= ms:
                self.has_big = True
                return self._force_row(self.maxpos, e > ms)  # maxpos; exact only for 2**max_scale
            if e < -ms:
                self.has_small = True
                return self._force_row(0, True)  # then clamped up to minpos
            es = d.es
            k, ex = e >> es, e & ((1 << es) - 1)
            if k >= 0:
                rl, regime = k + 2, ((1 << (k + 1)) - 1) << 1
            else:
                rl, regime = 1 - k, 1
            return self._cut_row((regime << es) | ex, rl + es + F - (d.n - 1))
        e += d.frac_bits  # the scale of q = value * 2**frac_bits
        if e >= d.bits:  # above both signs' limits (2**(bits-1) or 2**bits - 1), even plus 1: saturates
            return self._force_row((1 << (d.bits - 1)) + 2 if d.signed else (1 << d.bits) + 1, False)
        return self._cut_row(1, F - e)

    def _tiny_threshold(self, e, sign):
        """Tininess of a source value ``1.f * 2**e`` (``f``: its F-bit fraction) is ``f < TH``: never at or
        above the destination's smallest normal, always in lower binades, and in the binade just below it
        (tininess after rounding) unless ``f`` rounds up to the next binade at the destination's precision
        (``d.frac_bits`` fraction bits; the carry thresholds are those of golden.Minifloat._tiny)."""
        d, F = self.dst, self.F
        never, always = 0, 1 << F
        if e >= d.emin:
            return never
        if e < d.emin - 1 or self.tininess == "before" or F <= d.frac_bits:
            return always  # (F <= frac_bits: exact, so never inexact either)
        s = F - d.frac_bits  # discarded fraction bits at the destination's precision
        top = ((1 << d.frac_bits) - 1) << s  # the kept bits all ones: a round up carries
        half = 1 << (s - 1)
        if self.rounding == "rne":  # the tie goes to the even neighbour: 2**emin, or with no fraction bits
            return top + half if d.frac_bits else half + 1  # 2**(emin - 1) (exponent field 0)
        if self.rounding == "rmm":
            return top + half
        up = (self.rounding == "rup" and not sign) or (self.rounding == "rdn" and sign)
        return top + 1 if up else always

    def _sign_consts(self, sign):
        d = self.dst
        if self.family == "float":
            w, f = d.width, d.frac_bits
            sb = sign << (w - 1)
            toward_zero = self.rounding == "rtz" or (self.rounding == "rdn" and not sign) \
                or (self.rounding == "rup" and sign)
            if toward_zero or self.saturate or d.specials == "none":
                ovf = sb | self.maxmag
            elif d.specials == "ieee":
                ovf = sb | (((1 << d.exp_bits) - 1) << f)
            elif d.specials == "fn":
                ovf = sb | ((1 << (w - 1)) - 1)
            else:  # fnuz: NaN is the pattern of -0
                ovf = 1 << (w - 1)
            clamp = self.maxmag if ovf == sb | self.maxmag else self.maxmag + 1
            return {"SB": sb, "OVF": ovf, "CL": clamp}
        if self.family == "posit":
            return {"NM": self.nmask if sign else 0}
        lim = (1 << (d.bits - 1)) - 1 + (sign and not d.symmetric) if d.signed else (0 if sign else (1 << d.bits) - 1)
        return {"NM": self.nmask if sign else 0, "LIM": lim}

    def _specials(self, xs):
        """Results for source patterns with exponent field 0 or all ones."""
        out, flags = self.spec(xs)  # zeros, infinities, NaNs
        xs = xs.astype(_U32)
        F = self.F
        fr = xs & _U32(self.frac_mask)
        sub = np.flatnonzero((((xs >> _U32(F)) & _U32(self.all_e)) == 0) & (fr != 0))
        if sub.size:  # subnormals, normalised onto rows of their own: sign << 5 | bit length
            f = fr[sub]
            bl = np.frexp(f.astype(np.float64))[1].astype(_U32)
            fn = (f << (_U32(F + 1) - bl)) & _U32(self.frac_mask)
            r = (((xs[sub] >> _U32(self.sw)) << _U32(5)) | bl).astype(np.intp)
            ob, of = self._compute(self.sub, r, fn.astype(self.dt, copy=False))
            out[sub] = ob
            flags[sub] = of
        return out, flags

    # -- the core --------------------------------------------------------------------------------------
    def _compute(self, T, r, frac):
        dt = self.dt
        if T.has_T0:
            low = T.T0.take(r)
            low |= frac
        else:
            low = frac.copy()
        if T.shift:
            low <<= T.L1.take(r)
        S = T.S.take(r)
        inexact = low & T.M.take(r)
        inexact = inexact != 0
        if self.rounding == "rne":
            Ap = T.Apre.take(r)
            mag = low >> S
            mag += Ap
            mag &= dt(1)
            mag += T.B.take(r)
            mag += low
            mag >>= S
            mag += Ap
        elif T.B is None:
            mag = low >> S
            mag += T.Apre.take(r)
        else:
            mag = T.B.take(r)
            mag += low
            mag >>= S
            mag += T.Apre.take(r)
        if self.family == "float":
            return self._finish_float(T, r, mag, inexact, frac)
        return getattr(self, "_finish_" + self.family)(T, r, mag, inexact)

    def _finish_float(self, T, r, mag, inexact, frac):
        dt, d = self.dt, self.dst
        maxmag = dt(self.maxmag)
        over = mag > maxmag
        flags = inexact.view(_U8) * _U8(NX)
        if self.can_tiny:
            tiny = frac < T.TH.take(r)  # the rule of _tiny_threshold
            tiny &= inexact
            flags |= tiny.view(_U8) * _U8(UF)
        flags |= over.view(_U8) * _U8(OF | NX)
        np.minimum(mag, self.clamp if self.clamp is not None else T.CL.take(r), out=mag)
        sb = T.SB.take(r)
        if d.specials == "fnuz":
            sb *= mag != 0  # no -0
        mag |= sb
        return mag, flags

    def _finish_posit(self, T, r, mag, inexact):
        dt = self.dt
        if self.has_big:
            np.minimum(mag, dt(self.maxpos), out=mag)
        if self.has_small:
            np.maximum(mag, dt(1), out=mag)
        nm = T.NM.take(r)
        mag ^= nm
        mag -= nm
        if self.dst.n < 8 * np.dtype(dt).itemsize:
            mag &= dt(self.nmask)
        return mag, inexact.view(_U8) * _U8(NX)

    def _finish_int(self, T, r, mag, inexact):
        dt = self.dt
        lim = T.LIM.take(r)
        oor = mag > lim
        np.minimum(mag, lim, out=mag)
        nm = T.NM.take(r)
        mag ^= nm
        mag -= nm
        mag &= dt(self.nmask)
        flags = oor.view(_U8) * _U8(NV)
        inexact &= ~oor
        flags |= inexact.view(_U8) * _U8(NX)
        return mag, flags

    def _chunk(self, x, out, flags):
        x = x.astype(_U32, copy=False)
        r = (x >> _U32(self.F)).astype(np.intp)
        frac = x & _U32(self.frac_mask)
        mag, fl = self._compute(self.main, r, frac.astype(self.dt, copy=False))
        np.copyto(out, mag, casting="unsafe")
        flags[...] = fl
        # exponent field 0 (zeros, subnormals) or all ones (infinities, NaNs)
        e = x & _U32(self.all_e << self.F)
        e -= _U32(1 << self.F)
        sp = np.flatnonzero(e >= _U32((self.all_e - 1) << self.F))
        if sp.size:
            ob, of = self._specials(x[sp])
            out[sp] = ob
            flags[sp] = of
