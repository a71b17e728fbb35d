"""Where a pipelined unit's registers go (rtl/pipeline.py: Cuts, place): inside the datapath, cutting it
into nearly equal parts, not at the ends. Latency and bits of the pipelined units are checked by
test_posit_decode.py and test_convert_stream.py on both simulators; the curves (fmtforge synth --curve) measure
what each stage buys."""

import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from fmtforge import golden
from fmtforge.rtl.units import UNITS
from fmtforge.rtl.pipeline import NO_CUTS, Cuts, place
from fmtforge.rtl.units.posit_decode import PositDecoder


def test_place_balances_the_path():
    points = [("a", 2), ("b", 4), ("c", 6), ("d", 8)]
    assert place(points, 10, 1) == (["b"], 0)  # 5: b (4) and c (6) tie; the first wins
    assert place(points, 10, 0) == ([], 0)
    assert place(points, 12, 2) == (["b", "d"], 0)
    assert place(points, 10, 4) == (["a", "b", "c", "d"], 0)
    assert place(points, 10, 6) == (["a", "b", "c", "d"], 2)  # the rest at the output
    assert place([], 10, 2) == ([], 2)


def test_cuts_pass_values_through_unless_chosen():
    m = Module()
    m._MustUse__silence = True  # a container for the registers, never elaborated
    a, b = Signal(4), Signal()
    assert NO_CUTS.at(m, "x", a, b) == (a, b)
    assert Cuts({"y"}).at(m, "x", a, b) == (a, b)
    ra, rb = Cuts({"x"}).at(m, "x", a, b)
    assert ra is not a and len(ra) == 4 and len(rb) == 1


@pytest.mark.parametrize("stages, cuts", [(1, {"shift_half"}), (2, {"count", "shift"}),
                                          (3, {"count", "shift_half", "shift"})])
def test_posit_decoder_registers_sit_inside(stages, cuts):
    d = PositDecoder(golden.posit(16, 2), stages=stages)
    d._MustUse__silence = d._unpack._MustUse__silence = True  # built to be inspected, not elaborated
    assert d._unpack.cuts.points == cuts and d._out_regs == 0


def test_posit_decoder_latency_in_amaranth():
    """Every pattern of posit8 through 3 internal stages comes out 3 cycles later, equal to the combinational
    decoder (Amaranth's simulator; the HDL simulators check against golden)."""
    fmt = golden.posit(8, 2)
    comb, piped = PositDecoder(fmt, stages=0), PositDecoder(fmt, stages=3)
    top = Module()
    top.submodules.c, top.submodules.p = comb, piped
    x = Signal(8)
    top.d.comb += [comb.i.eq(x), piped.i.eq(x)]
    sim = Simulator(top)
    sim.add_clock(1e-6)
    seen = []

    async def bench(ctx):
        history = []
        for v in list(range(256)) + [0] * 3:
            ctx.set(x, v)
            history.append(ctx.get(comb.o.as_value()))
            await ctx.tick()
            seen.append((len(history), ctx.get(piped.o.as_value())))
        for k, (t, got) in enumerate(seen):
            if t >= 3 and k < 256 + 2:
                assert got == history[t - 3], f"pattern 0x{t - 3:02x}: got 0x{got:x}, expected 0x{history[t - 3]:x}"

    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("src, dst", [("fp32", "posit16"), ("posit16", "fp32"), ("posit16", "posit8")])
@pytest.mark.parametrize("stages", [1, 2, 3])
def test_posit_converters_register_inside(src, dst, stages):
    """Up to three stages, every register of a converter touching posits sits inside the datapath."""
    c = UNITS["convert"].create(src=src, dst=dst, stages=stages)
    parts = [comp for comp in (c._unpack, c._normalize, c._pack) if comp is not None]
    for comp in [c, *parts]:
        comp._MustUse__silence = True  # built to be inspected, not elaborated
    inner = sum(len(getattr(comp, "cuts", NO_CUTS).points) for comp in parts)
    assert c._out_regs == 0 and inner + len(c._after) == stages


@pytest.mark.parametrize("src, dst, stages, cuts", [
    ("fp32", "fp8_e4m3", 1, {"classify"}), ("fp32", "fp8_e4m3", 2, {"classify", "round"}),
    ("fp32", "fp8_e5m2fnuz", 3, {"classify", "round"}), ("fp16", "fp8_e4m3", 2, {"classify", "round"})])
def test_narrowing_pack_registers_sit_inside(src, dst, stages, cuts):
    """The narrowing float pack (fp32 -> fp8 and the like) takes registers after the input's classification and
    before the rounding adder: at 2 stages both sit inside the pack, none at the output."""
    c = UNITS["convert"].create(src=src, dst=dst, saturate=True, stages=stages)
    for comp in (c, c._unpack, c._pack):
        comp._MustUse__silence = True  # built to be inspected, not elaborated
    assert c._pack.cuts.points == cuts
    assert c._out_regs == 0 and len(cuts) + len(c._after) == stages
