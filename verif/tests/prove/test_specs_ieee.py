"""The IEEE specification (verif/prove/specs/ieee.py) evaluated on concrete inputs, before any proof trusts it.

Against three references: golden (every pattern of the 8-bit IEEE sources into every IEEE destination; a
16-bit source exhaustively with FMTFORGE_FULL=1, sampled otherwise), numpy's IEEE casts (fp64 -> fp32,
fp32 -> fp16, an outside implementation of the same rounding), and known answers written here from IEEE
754-2019's definitions: the tininess band (7.5), x87's invalid encodings (README), the NaN payload rule.
Where golden still raises UF by its old rule (before the tininess fix), UF is compared with the known answers
only, and golden's other flags bit for bit.
"""

import inspect
import struct
from fractions import Fraction

import numpy as np
import pytest
import z3

from fmtforge import golden
from fmtforge.golden.formats.convert import convert_flags
from fmtforge.verif.prove.options import ProveOptions
from fmtforge.verif.prove.specs import spec_for
from fmtforge.verif.prove.specs.ieee import is_ieee
from fmtforge.verif.support.vectors.patterns import seed

from fmtforge.verif.tests.conftest import FULL
MODES = ("rne", "rtz", "rdn", "rup", "rmm")
NX, UF, OF, NV = golden.NX, golden.UF, golden.OF, golden.NV
GOLDEN_TININESS = "tininess" in inspect.signature(convert_flags).parameters
IEEE = [f.name for f in golden.CATALOG.values() if is_ieee(f)]
SMALL = [n for n in IEEE if golden.lookup(n).width == 8]


def evaluate(src, dst, opts, xs):
    """The specification's (bits, flags) at each input of ``xs`` (substitution + simplification)."""
    src, dst = golden.lookup(src), golden.lookup(dst)
    x = z3.BitVec("x", src.width)
    out = spec_for(src, dst, opts)(src, dst, opts, x, None)
    both = z3.Concat(out.flags, out.bits)
    res = []
    for v in xs:
        r = z3.simplify(z3.substitute(both, (x, z3.BitVecVal(int(v), src.width)))).as_long()
        res.append((r & ((1 << dst.width) - 1), r >> dst.width))
    return res


def compare_with_golden(src, dst, opts, xs):
    s, d = golden.lookup(src), golden.lookup(dst)
    kw = {"tininess": opts.tininess} if GOLDEN_TININESS else {}
    gb, gf = golden.convert_flags(np.array([int(v) for v in xs], dtype=s.dtype), s, d, opts.rounding,
                                  opts.saturate, ftz=opts.ftz, daz=opts.daz, **kw)
    mask = 0x1F if GOLDEN_TININESS else 0x1F & ~UF
    bad = []
    for k, (b, f) in enumerate(evaluate(src, dst, opts, xs)):
        if b != int(gb[k]) or (f & mask) != (int(gf[k]) & mask):
            bad.append(f"{src}->{dst} {opts}: i=0x{int(xs[k]):x} spec 0x{b:x} flags {f:#07b}, golden "
                       f"0x{int(gb[k]):x} flags {int(gf[k]):#07b}")
    assert not bad, "\n".join(bad[:8]) + f"\n({len(bad)} differ)"


def _grid():
    out = []
    for s in SMALL:
        for d in IEEE:
            modes = [(m, q) for m in MODES for q in (False, True)] if FULL else [("rne", False), ("rup", True)]
            out += [(s, d, m, q) for m, q in modes]
    return out


@pytest.mark.parametrize("src,dst,rounding,saturate", _grid())
def test_every_8bit_pattern_matches_golden(src, dst, rounding, saturate):
    opts = ProveOptions(rounding=rounding, saturate=saturate, flags=True)
    compare_with_golden(src, dst, opts, range(256))


@pytest.mark.parametrize("src,dst,ftz,daz", [("fp8_e5m2", "float8_e4m3", True, False),
                                             ("fp8_e5m2", "fp16", False, True),
                                             ("float8_e4m3", "fp8_e5m2", True, True)])
def test_ftz_daz_every_pattern(src, dst, ftz, daz):
    opts = ProveOptions(rounding="rne", flags=True, ftz=ftz, daz=daz)
    compare_with_golden(src, dst, opts, range(256))


def test_16bit_source():
    """fp16 -> fp8_e5m2 and bf16 -> fp16: every pattern with FMTFORGE_FULL=1, else 3000 seeded ones."""
    rng = np.random.default_rng(seed())
    xs = range(1 << 16) if FULL else [int(v) for v in rng.integers(0, 1 << 16, 3000)]
    print(f"seed {seed()}")
    for src, dst, mode in (("fp16", "fp8_e5m2", "rne"), ("bf16", "fp16", "rdn")):
        compare_with_golden(src, dst, ProveOptions(rounding=mode, flags=True), xs)


def test_wide_sources_sampled():
    rng = np.random.default_rng(seed())
    print(f"seed {seed()}")
    for src, dst, mode in (("fp64", "fp32", "rmm"), ("x87", "fp64", "rne"), ("fp32", "x87", "rtz"),
                           ("x87", "bf16", "rup"), ("tf32", "fp24", "rdn")):
        w = golden.lookup(src).width
        xs = [int(rng.integers(0, 1 << 63)) << 17 ^ int(rng.integers(0, 1 << 63)) for _ in range(300)]
        compare_with_golden(src, dst, ProveOptions(rounding=mode, flags=True), [v % (1 << w) for v in xs])


@pytest.mark.parametrize("src,dst,np_src,np_dst", [("fp64", "fp32", np.float64, np.float32),
                                                   ("fp32", "fp16", np.float32, np.float16)])
def test_bits_match_numpy_casts(src, dst, np_src, np_dst):
    """numpy's casts round to nearest even, an implementation independent of fmtforge (NaNs left out)."""
    rng = np.random.default_rng(seed())
    w = golden.lookup(src).width
    uint = {64: np.uint64, 32: np.uint32}[w]
    xs = rng.integers(0, 1 << w, 400, dtype=np.uint64, endpoint=False).astype(uint)
    # and a band around the destination's subnormal and overflow ranges
    info = np.finfo(np_dst)
    extra = np.concatenate([np.linspace(-4, 4, 50) * float(info.tiny), np.linspace(0.9, 1.1, 50) * float(info.max)])
    xs = np.concatenate([xs, extra.astype(np_src).view(uint)])
    vals = xs.view(np_src)
    xs = xs[~np.isnan(vals)]
    with np.errstate(over="ignore"):
        want = xs.view(np_src).astype(np_dst).view({np.float32: np.uint32, np.float16: np.uint16}[np_dst])
    got = evaluate(src, dst, ProveOptions(), xs)
    bad = [(hex(int(x)), hex(g[0]), hex(int(w_))) for x, g, w_ in zip(xs, got, want) if g[0] != int(w_)]
    assert not bad, bad[:5]


def _fp64(value):
    return struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def test_tininess_band_known_answers():
    """IEEE 754-2019 7.5 at fp32's boundary (p = 24, emin = -126): |x| in [2^emin (1 - 2^-24), 2^emin
    (1 - 2^-25)) rounds to 2^emin under rne but is tiny after rounding (UF); just above that band it is tiny
    only before rounding. The issue's example: fp64 0xb80fffffe0000000 -> fp32 gives NX and UF on x86 SSE."""
    tiny = Fraction(2) ** -126
    cases = [  # (fp64 bits, tininess, expected fp32 bits, expected flags)
        (0xB80FFFFFE0000000, "after", 0x80800000, NX | UF),
        (_fp64(tiny * (1 - Fraction(1, 2**24))), "after", 0x00800000, NX | UF),
        (_fp64(tiny * (1 - Fraction(1, 2**26))), "after", 0x00800000, NX),
        (_fp64(tiny * (1 - Fraction(1, 2**26))), "before", 0x00800000, NX | UF),
        (_fp64(tiny * (1 - Fraction(1, 2**23))), "after", 0x007FFFFF, 0),  # exact subnormal: no UF
        (_fp64(tiny * 3), "before", 0x01400000, 0),  # 1.5 * 2**-125
        (_fp64(2.0 ** 128), "after", 0x7F800000, OF | NX),
    ]
    for x, rule, bits, flags in cases:
        got = evaluate("fp64", "fp32", ProveOptions(flags=True, tininess=rule), [x])[0]
        assert got == (bits, flags), (hex(x), rule, hex(got[0]), got[1])
    # rtz overflow gives max with OF|NX; saturation likewise in rne; infinities stay infinite unless saturating
    assert evaluate("fp64", "fp32", ProveOptions(rounding="rtz", flags=True), [_fp64(2.0 ** 128)])[0] == \
        (0x7F7FFFFF, OF | NX)
    assert evaluate("fp64", "fp32", ProveOptions(saturate=True, flags=True), [_fp64(-2.0 ** 128)])[0] == \
        (0xFF7FFFFF, OF | NX)
    assert evaluate("fp64", "fp32", ProveOptions(rounding="rtz", flags=True), [0x7FF0000000000000])[0] == \
        (0x7F800000, 0)
    assert evaluate("fp64", "fp32", ProveOptions(saturate=True, flags=True), [0xFFF0000000000000])[0] == \
        (0xFF7FFFFF, 0)


X87_CASES = [  # (x87 bits, fp32 bits, flags): README's NaN rule, written here from the encodings
    (0x7FFF_C000000000000000 | 0x1234 << 40, 0x7FC01234, 0),  # quiet NaN: fraction bits 62..40 kept
    (0xFFFF_A000000000000000, 0xFFE00000, NV),  # signaling NaN: NV, quiet bit set, sign and payload kept
    (0x4000_0000000000000001, 0x7FC00000, NV),  # unnormal (integer bit 0): the default NaN, sign kept (+)
    (0xC000_4000000000000000, 0xFFC00000, NV),  # negative unnormal
    (0x0000_8000000000000001, 0x7FC00000, NV),  # pseudo-denormal (exponent 0, integer bit 1)
    (0x7FFF_2000000000000000, 0x7FE00000, NV),  # pseudo-NaN (integer bit 0): payload kept, quiet set
    (0xFFFF_0000000000000000, 0xFFC00000, NV),  # pseudo-infinity: a NaN with its (zero) payload
    (0x7FFF_8000000000000000, 0x7F800000, 0),  # +inf
    (0x0000_0000000000000001, 0x00000000, NX | UF),  # the smallest subnormal: 0 in fp32
]


@pytest.mark.parametrize("x,bits,flags", X87_CASES, ids=lambda v: hex(v) if isinstance(v, int) else str(v))
def test_x87_encodings(x, bits, flags):
    opts = ProveOptions(flags=True)
    assert evaluate("x87", "fp32", opts, [x])[0] == (bits, flags)
    g = golden.convert_flags(np.array([x], dtype=object), "x87", "fp32")
    assert (int(g[0][0]), int(g[1][0])) == (bits, flags), "golden disagrees with the README's rule"


def test_x87_destination_sets_the_integer_bit():
    opts = ProveOptions(flags=True)
    one, nan, sub = evaluate("fp32", "x87", opts, [0x3F800000, 0xFFC00001, 0x00000001])
    assert one == (0x3FFF_8000000000000000, 0)
    assert nan == (0xFFFF_C000010000000000, 0)  # payload MSB-aligned, integer and quiet bits set
    assert sub == (0x3F6A_8000000000000000, 0)  # fp32 subnormals are normal in x87


@pytest.mark.parametrize("src,dst,rand_bits,opts", [
    ("fp16", "fp8_e5m2", 4, {}), ("fp32", "bf16", 16, {}), ("bf16", "fp8_e5m2", 3, {"saturate": True}),
    ("fp16", "float8_e4m3", 5, {"ftz": True, "tininess": "before"}), ("x87", "fp64", 8, {}),
    ("fp64", "x87", 8, {}),
])
def test_stochastic_matches_golden(src, dst, rand_bits, opts):
    """Stochastic rounding (README: the top rand_bits discarded bits plus rand round up on carry): seeded
    random (input, rand) pairs against golden, every flag compared."""
    s, d = golden.lookup(src), golden.lookup(dst)
    o = ProveOptions(rounding="stochastic", flags=True, rand_bits=rand_bits, **opts)
    rng = np.random.default_rng(seed())
    print(f"seed {seed()}")
    n = 200 if s.width > 32 else 400
    xs = [int(v) for v in rng.integers(0, 1 << min(s.width, 63), n)]
    rs = [int(v) for v in rng.integers(0, 1 << rand_bits, n)]
    x, r = z3.BitVec("x", s.width), z3.BitVec("r", rand_bits)
    out = spec_for(s, d, o)(s, d, o, x, r)
    both = z3.Concat(out.flags, out.bits)
    kw = {"tininess": o.tininess} if GOLDEN_TININESS else {}
    gb, gf = golden.convert_flags(np.array(xs, dtype=s.dtype), s, d, "stochastic", o.saturate,
                                  rand=np.array(rs, dtype=np.uint64), rand_bits=rand_bits, ftz=o.ftz, **kw)
    mask = 0x1F if GOLDEN_TININESS else 0x1F & ~UF
    bad = []
    for k in range(n):
        v = z3.simplify(z3.substitute(both, (x, z3.BitVecVal(xs[k], s.width)),
                                      (r, z3.BitVecVal(rs[k], rand_bits)))).as_long()
        b, f = v & ((1 << d.width) - 1), v >> d.width
        if b != int(gb[k]) or (f & mask) != (int(gf[k]) & mask):
            bad.append(f"i=0x{xs[k]:x} rand=0x{rs[k]:x}: spec 0x{b:x} {f:#07b}, golden 0x{int(gb[k]):x} {int(gf[k]):#07b}")
    assert not bad, "\n".join(bad[:8])
