# amaranth: UnusedElaboratable=no
"""The converter's ``tininess`` option (UF per IEEE 754-2019 7.5: ``after`` rounding, the default, or ``before``):
the RTL against golden, bits and flags, on the boundary band below each destination's smallest normal, under
Verilator and Icarus, through each pack path (narrowing, aligned exponent fields, general, P3109, x87 source).
Golden itself is checked against an exact-rational reference in verif/tests/golden/test_tininess.py.

make test runs the cases below; FMTFORGE_FULL=1 adds every deterministic mode and both rules for each pair.
"""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import NX, UF
from fmtforge.rtl.flow import to_verilog
from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.batch import lane as batch
from fmtforge.verif.support.batch.icarus import simulate_icarus
from fmtforge.verif.support.vectors.patterns import exhaustive, seed

from fmtforge.verif.tests.conftest import FULL
MODES = ("rne", "rtz", "rdn", "rup", "rmm")



def _convert(src, dst, **options):
    """The convert unit from the registry (its defaults are the registry's alone)."""
    return UNITS["convert"].create(src=src, dst=dst, **options)

def pattern(fmt, value):
    """The pattern of the exact positive ``value`` in an IEEE-style ``fmt`` (normal or subnormal)."""
    e = value.numerator.bit_length() - value.denominator.bit_length()
    e -= Fraction(2) ** e > value
    e = max(e, fmt.emin)
    f = fmt.frac_bits
    m = value / Fraction(2) ** (e - f)
    assert m.denominator == 1 and m < 1 << (f + 1), (fmt.name, value)
    m = int(m)
    field = e + fmt.bias if m >> f else 0
    return (field << fmt.man_bits) | (m if fmt.explicit_integer else m & ((1 << f) - 1))


def band_vectors(src, dst, rng, spread=300):
    """Source patterns around 2**emin (1 - 2**-p), 2**emin (1 - 2**-(p+1)) and 2**emin of ``dst`` (the band
    where the rules differ and its ends), at the source's last bit and at the destination's last two bits,
    both signs; every pattern of a 16-bit source; plus seeded random patterns near and below 2**emin."""
    if src.width <= 16:
        return exhaustive(src).astype(src.dtype)
    small = Fraction(2) ** dst.emin
    p = dst.frac_bits + 1
    centres = [pattern(src, small * (1 - Fraction(1, 2 ** q))) for q in (p, p + 1)] + [pattern(src, small)]
    steps = [1, 1 << max(src.frac_bits - p - 1, 0), 1 << max(src.frac_bits - p, 0)]
    xs = [c + k * s for c in centres for s in steps for k in range(-spread // 3, spread // 3)]
    width, mb = src.width, src.man_bits
    below = rng.integers(0, 8, 2000)  # binades 2**emin .. eight below, random fractions (x87: integer bit kept)
    fracs = [int(a) << 32 | int(b) for a, b in zip(*rng.integers(0, 1 << 32, (2, 2000), dtype=np.uint64))]
    xs += [(centres[2] - (int(k) << mb)) | (r & ((1 << min(mb, 63)) - 1)) for k, r in zip(below, fracs)]
    xs += [x | (1 << (width - 1)) for x in xs]
    return np.array(xs, dtype=src.dtype)


# (src, dst, modes in make test, simulators): the narrowing pack (fp32 -> fp8, fp64 -> fp32), the aligned one
# (fp16 -> e5m2), the general one (P3109's inner pack; e6m2_b15, whose unnormalised fp16 subnormals reach the
# band; x87 sources), stochastic rounding's second carry
CASES = [("fp32", "fp8_e4m3", ("rne", "rup"), ("verilator", "icarus")),
         ("fp64", "fp32", ("rne", "rdn"), ("verilator",)),
         ("fp16", "fp8_e5m2", ("rmm",), ("verilator", "icarus")),
         ("fp16", "p3109_k8p3", ("rne",), ("verilator",)),
         ("fp16", "e6m2_b15", ("rdn",), ("verilator",)),
         ("x87", "fp64", ("rne",), ("verilator", "icarus")),
         ("fp32", "fp4_e2m1", ("rmm",), ("icarus",)),
         ("fp32", "fp8_e4m3", ("stochastic",), ("verilator",)),
         ("fp16", "e6m2_b15", ("stochastic",), ("icarus",))]


def cases():
    out = []
    for src, dst, modes, sims in CASES:
        if FULL and "stochastic" not in modes:
            modes = MODES
        out += [(src, dst, m, rule, sims) for m in modes for rule in ("after", "before")]
    return out


@pytest.mark.parametrize("src, dst, mode, rule, sims", cases())
def test_rtl_tininess_equals_golden(src, dst, mode, rule, sims):
    used = seed()
    rng = np.random.default_rng(used)
    s, d = golden.lookup(src), golden.lookup(dst)
    xs = band_vectors(s, d, rng)
    rand = rng.integers(0, 1 << 8, len(xs), dtype=np.uint64) if mode == "stochastic" else None
    kw = dict(rand=rand, rand_bits=8) if rand is not None else {}
    want = golden.convert_flags(xs, s, d, mode, tininess=rule, **kw)
    other = golden.convert_flags(xs, s, d, mode, tininess="before" if rule == "after" else "after", **kw)
    if mode != "rtz":  # the vectors reach values where the rules differ: the comparison can see a swapped rule
        assert np.any(want[1] != other[1])
    dut = _convert(s, d, rounding=mode, flags=True, rand_bits=8, tininess=rule)
    for sim in sims:
        if sim == "icarus" and len(xs) > 20000:
            sub = rng.choice(len(xs), 20000, replace=False)  # Icarus is slower: a seeded sample, band included
            x, r = xs[sub], (rand[sub] if rand is not None else None)
            w = (want[0][sub], want[1][sub])
        else:
            x, r, w = xs, rand, want
        got = batch.simulate(dut, x, rand=r) if sim == "verilator" else simulate_icarus(dut, x, rand=r)
        batch.assert_equal(got, w, inputs=x, unit=dut, rand=r, label=f"{sim}, seed {used}",
                           reproduce=f"FMTFORGE_SEED={used} .venv/bin/pytest {__file__} -k '{src} and {dst} and "
                                     f"{mode} and {rule}'")


def test_module_names_and_option():
    after = _convert("fp32", "fp8_e4m3", flags=True)
    before = _convert("fp32", "fp8_e4m3", flags=True, tininess="before")
    assert after.name == "convert_fp32_to_fp8_e4m3_rne_flags"  # the default keeps today's names
    assert before.name == "convert_fp32_to_fp8_e4m3_rne_tiny_before_flags"
    assert to_verilog(after, after.name) != to_verilog(before, after.name)  # (the UF logic differs)
    piped = _convert("fp32", "fp8_e4m3", flags=True, tininess="before", stages=2)
    assert piped.name == "convert_fp32_to_fp8_e4m3_rne_tiny_before_flags_s2"
    assert "module convert_fp32_to_fp8_e4m3_rne_tiny_before_flags_s2" in to_verilog(piped, piped.name)
    with pytest.raises(ValueError, match="tininess must be one of after, before, not 'arm'"):
        _convert("fp32", "fp8_e4m3", tininess="arm")


def test_without_flags_the_rule_changes_no_hardware():
    a = _convert("fp32", "fp8_e4m3", saturate=True)
    b = _convert("fp32", "fp8_e4m3", saturate=True, tininess="before")
    assert to_verilog(a, "u") == to_verilog(b, "u")


def test_the_issue_example_in_rtl():
    """fp64 -0x1.fffffep-127 -> fp32: -2**-126 with UF and NX, as x86 SSE's cvtsd2ss; NX alone before the fix."""
    x = np.array([0xB80FFFFFE0000000], dtype=np.uint64)
    dut = _convert("fp64", "fp32", flags=True)
    bits, flags = batch.simulate(dut, x)
    assert (int(bits[0]), int(flags[0])) == (0x80800000, UF | NX)


@pytest.mark.parametrize("mode, rule", [("rne", "after"), ("stochastic", "after"), ("rup", "before")])
def test_pipelined_narrowing_pack_carries_the_rule(mode, rule):
    """fp32 -> fp8_e4m3 with 2 stages: registers inside the narrowing pack (its classify and round cut points,
    where the stage plan puts them), the extra rounding decision carried across them: Amaranth's simulator, one
    input per cycle, against golden on the band vectors (a slice)."""
    from amaranth.sim import Simulator

    used = seed()
    rng = np.random.default_rng(used)
    s, d = golden.lookup("fp32"), golden.lookup("fp8_e4m3")
    xs = band_vectors(s, d, rng, spread=90)[::3]
    rand = rng.integers(0, 1 << 8, len(xs), dtype=np.uint64) if mode == "stochastic" else None
    kw = dict(rand=rand, rand_bits=8) if rand is not None else {}
    want = golden.convert_flags(xs, s, d, mode, tininess=rule, **kw)
    other = golden.convert_flags(xs, s, d, mode, tininess="before" if rule == "after" else "after", **kw)
    assert np.any(want[1] != other[1])  # the slice reaches values where the rules differ
    dut = _convert(s, d, rounding=mode, flags=True, rand_bits=8, stages=2, tininess=rule)
    got = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for k in range(len(xs) + 2):
            ctx.set(dut.i.valid, k < len(xs))
            if k < len(xs):
                ctx.set(dut.i.payload.data, int(xs[k]))
                if rand is not None:
                    ctx.set(dut.i.payload.rand, int(rand[k]))
            await ctx.tick()
            if ctx.get(dut.o.valid):
                got.append((ctx.get(dut.o.payload.data), ctx.get(dut.o.payload.flags)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(got) == len(xs)
    bad = [k for k, (b, f) in enumerate(got) if (b, f) != (int(want[0][k]), int(want[1][k]))]
    assert not bad, "; ".join(f"fp32 0x{int(xs[k]):08x}: expected 0x{int(want[0][k]):02x} flags {int(want[1][k]):05b}, "
                              f"got 0x{got[k][0]:02x} flags {got[k][1]:05b} (seed {used})" for k in bad[:5])
