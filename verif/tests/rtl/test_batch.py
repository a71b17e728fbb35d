"""The batch lane (verif/support/batch/lane.py) against golden, bit for bit, on both simulators; and the lane itself.

Converters of <= 16-bit sources are swept exhaustively; fp32 sources get the structured set (every sign x
exponent x sparse/dense/tie mantissas) plus 2**24 strided patterns on Verilator (the structured set only on
Icarus, which runs ~10**5 vectors/s); fp64 and x87 sources get structured sets over the exponents where fp32
rounds. Random ``rand`` inputs and the strided slice come from the printed seed (FMTFORGE_SEED).
"""

import shutil
import threading
import uuid

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden import Minifloat
from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.batch import lane as batch
from fmtforge.verif.support.batch.build import resolve
from fmtforge.verif.support.batch.icarus import UnknownBits, simulate_icarus
from fmtforge.verif.support.vectors.structured import exponent_corners, exponent_window, mantissas, strided, structured
from fmtforge.verif.support.vectors.patterns import describe, exhaustive, seed

SIMS = ("verilator", "icarus")
RAND_BITS = 8


def C(src, dst, rounding="rne", saturate=False, flags=False):
    return (src, dst, rounding, saturate, flags)


# Exhaustive sources, each to destinations of several families; over the list every destination family and
# special-value policy, every rounding mode, saturation on and off and flags on and off appear (checked by
# test_matrix_coverage).
SMALL = [
    C("fp16", "fp8_e4m3", "rne", True, True), C("fp16", "x87", "rne", False, True),
    C("fp16", "int8", "rtz", True, False), C("fp16", "posit8", "stochastic", False, True),
    C("bf16", "fp8_e5m2", "rup", False, True), C("bf16", "fp4_e2m1", "rmm", True, False),
    C("bf16", "uint8", "rdn", False, True), C("bf16", "fp32", "rne", False, False),
    C("fp8_e4m3", "fp16", "rne", False, True), C("fp8_e4m3", "fp8_e5m2fnuz", "rne", True, False),
    C("fp8_e4m3", "posit8", "rdn", True, False),
    C("fp8_e5m2", "fp8_e4m3fnuz", "rtz", False, True), C("fp8_e5m2", "fp6_e2m3", "stochastic", True, True),
    C("fp8_e5m2", "int16", "rne", False, False),
    C("fp8_e5m2fnuz", "fp8_e4m3", "rup", True, False), C("fp8_e5m2fnuz", "bf16", "rne", False, True),
    C("fp6_e3m2", "fp4_e2m1", "rne", False, True), C("fp6_e3m2", "cfloat8_1_4_3", "rdn", True, True),
    C("fp4_e2m1", "posit16", "rmm", False, False),
    C("int8", "fp8_e4m3", "rne", True, True), C("int8", "fp4_e2m1", "stochastic", False, False),
    C("uint8", "fp8_e5m2", "rmm", False, True), C("uint8", "int4", "rne", True, True),
    C("int16", "fp16", "rne", False, True), C("int16", "fp8_e4m3", "stochastic", True, True),
    C("int16", "int8", "rdn", True, False),
    C("nf4", "fp8_e4m3", "rne", False, True),
    C("posit8", "fp8_e4m3", "rne", True, True), C("posit8", "int8", "rup", False, True),
    C("posit16", "fp32", "rne", False, True), C("posit16", "bf16", "rmm", True, True),
    C("posit16", "posit8", "stochastic", False, True), C("posit16", "fp8_e5m2", "rtz", False, False),
]
FP32 = [
    C("fp32", "bf16"), C("fp32", "fp8_e4m3", "rne", True, True), C("fp32", "fp16", "rne", False, True),
    C("fp32", "posit16", "rne", False, True), C("fp32", "int8", "rne", True, True),
    C("fp32", "fp64", "rne", False, True), C("fp32", "bf16", "stochastic", False, True),
]
WIDE = [C("fp64", "fp32", "rne", False, True), C("x87", "fp32", "rne", False, True)]
STRIDED = 1 << 24
# golden's stochastic rounding runs ~10**6 values/s (its fast paths cover the deterministic modes): fewer there
STRIDED_STOCHASTIC = 1 << 20


def cid(c):
    src, dst, rounding, saturate, flags = c
    return "-".join([src, dst, rounding] + (["sat"] if saturate else []) + (["flags"] if flags else []))


_UNITS = {}


def unit_of(c):
    """The converter as the lane sees it (Verilog generated once per worker process)."""
    if c not in _UNITS:
        src, dst, rounding, saturate, flags = c
        _UNITS[c] = resolve(UNITS["convert"].create(src=src, dst=dst, rounding=rounding, saturate=saturate, flags=flags,
                                           rand_bits=RAND_BITS))
    return _UNITS[c]


def check(c, xs, sim, rng):
    """Simulate ``xs`` on ``sim`` and compare with golden (bits and flags)."""
    src, dst, rounding, saturate, _ = c
    unit = unit_of(c)
    rand = rng.integers(0, 1 << RAND_BITS, len(xs), dtype=np.uint64) if rounding == "stochastic" else None
    got = (batch.simulate if sim == "verilator" else simulate_icarus)(unit, xs, rand=rand)
    kw = {"rand": rand, "rand_bits": RAND_BITS} if rand is not None else {}
    want = golden.convert_flags(xs, src, dst, rounding, saturate, **kw)
    batch.assert_equal(got, want, inputs=xs, unit=unit, rand=rand, label=f"{sim}, {len(xs)} vectors")
    assert (got[1] is not None) == c[4], "flags port present exactly when asked for"


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("c", SMALL, ids=cid)
def test_exhaustive(c, sim):
    print(f"seed {seed()}")
    check(c, exhaustive(golden.lookup(c[0])), sim, np.random.default_rng(seed()))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("c", FP32, ids=cid)
def test_fp32(c, sim):
    """Verilator: every sign x exponent x the structured mantissas, plus a strided slice of all 2**32 patterns.
    Icarus (~6x10**4 vectors/s here): the structured mantissas over the corner exponents."""
    count = STRIDED if c[2] != "stochastic" else STRIDED_STOCHASTIC
    offset = seed() % ((1 << 32) // count)  # which strided slice: rotates with the seed
    print(f"seed {seed()}, strided slice {offset} of {count} patterns")
    if sim == "verilator":
        xs = np.concatenate([structured("fp32", c[1]), strided(32, count, offset)])
    else:
        xs = structured("fp32", c[1], exponents=exponent_corners("fp32", c[1]))
    check(c, xs, sim, np.random.default_rng(seed()))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("c", WIDE, ids=cid)
def test_wide_source(c, sim):
    print(f"seed {seed()}")
    src = golden.lookup(c[0])
    # Icarus (and 80-bit Python ints) are slow: the corner exponents there, the whole rounding window on Verilator
    exps = (exponent_window if sim == "verilator" else exponent_corners)(src, c[1])
    check(c, structured(src, c[1], exponents=exps), sim, np.random.default_rng(seed()))


def test_matrix_coverage():
    """Every destination family and policy, every rounding mode, both saturation and flags settings are in the
    exhaustive matrix; and each listed source is swept."""
    dsts = [golden.lookup(c[1]) for c in SMALL]
    policies = {d.specials for d in dsts if isinstance(d, Minifloat)}
    assert policies == {"ieee", "fn", "fnuz", "none"}, policies
    assert {d.kind for d in dsts} >= {"float", "int", "posit"}
    assert {"fp32", "x87"} <= {d.name for d in dsts}
    assert {c[2] for c in SMALL} == set(golden.MODES)
    assert {c[3] for c in SMALL} == {c[4] for c in SMALL} == {False, True}
    assert {c[0] for c in SMALL} == {"fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "fp8_e5m2fnuz", "fp6_e3m2", "fp4_e2m1",
                                     "int8", "uint8", "int16", "nf4", "posit8", "posit16"}


# -- the lane itself ---------------------------------------------------------------------------------------
PROBE = C("fp16", "fp8_e4m3", "rne", True, True)


def test_cache_builds_once_even_when_raced():
    """Two builders of a Verilog text no run has seen: one builds, the other waits and reuses; later
    simulate() calls load that library without rebuilding."""
    unit = unit_of(PROBE)
    fresh = (unit.verilog + f"// cache probe {uuid.uuid4().hex}\n", unit.top)
    results = []
    racers = [threading.Thread(target=lambda: results.append(batch.build_verilator(fresh))) for _ in range(2)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert sorted(r.built for r in results) == [False, True]
    assert results[0].path == results[1].path
    lib = results[0].path / "libbatch.so"
    stamp = lib.stat().st_mtime_ns
    xs = exhaustive(golden.lookup("fp16"))
    first = batch.simulate(fresh, xs)
    again = batch.BatchModel(fresh)  # a second load of the same text
    assert not again.build.built and again.build.path == results[0].path
    second = again.run(xs)
    assert lib.stat().st_mtime_ns == stamp
    batch.assert_equal(second, first, inputs=xs, unit=unit)
    batch.assert_equal(first, golden.convert_flags(xs, "fp16", "fp8_e4m3", "rne", True), inputs=xs, unit=unit)
    leftovers = [p for p in results[0].path.parent.iterdir() if p.name.startswith(f".{results[0].path.name}")]
    assert not leftovers, leftovers
    shutil.rmtree(results[0].path)  # a probe nobody will ask for again (the loaded library stays mapped)
    results[0].path.with_name(results[0].path.name + ".lock").unlink()


def test_mismatch_report_names_everything():
    unit = unit_of(PROBE)
    xs = np.array([0x3c00, 0x7c00, 0x3c01], dtype=np.uint64)  # 1.0, +inf, 1 + 2**-10
    got = batch.simulate(unit, xs)
    want = golden.convert_flags(xs, "fp16", "fp8_e4m3", "rne", True)
    batch.assert_equal(got, want, inputs=xs, unit=unit)
    wrong_o, wrong_f = want[0].copy(), want[1].copy()
    wrong_o[1] ^= 1  # a fabricated mismatch in the output of +inf ...
    wrong_f[2] ^= golden.OF  # ... and one in the flags of 1 + 2**-10
    with pytest.raises(AssertionError) as err:
        batch.assert_equal(got, (wrong_o, wrong_f), inputs=xs, unit=unit, label="verilator")
    msg = str(err.value)
    print(msg)
    assert msg.startswith(f"{unit.top} (verilator): 2 of 3 vectors differ (seed {seed()})")
    assert f"i = {describe('fp16', 0x7c00)}: expected {describe('fp8_e4m3', wrong_o[1])}" in msg
    assert f"got {describe('fp8_e4m3', got[0][1])}" in msg
    assert f"flags {batch.flag_text(wrong_f[2])}; got {describe('fp8_e4m3', got[0][2])} flags " \
           f"{batch.flag_text(got[1][2])}" in msg
    assert "OF" in batch.flag_text(wrong_f[2]) and "NX" in batch.flag_text(got[1][2])
    assert describe("fp16", 0x3c00) not in msg  # the agreeing vector is not listed
    assert f"reproduce: FMTFORGE_SEED={seed()} " in msg
    assert "verif/tests/rtl/test_batch.py::test_mismatch_report_names_everything" in msg


XZ = """module xz_probe(i, o);
  input [3:0] i;
  output [3:0] o;
  assign o = i[0] ? 4'bx01z : i;
endmodule
"""


def test_icarus_reports_x_and_z():
    xs = np.array([0, 2, 5, 8], dtype=np.uint64)
    with pytest.raises(UnknownBits) as err:
        simulate_icarus((XZ, "xz_probe"), xs)
    msg = str(err.value)
    assert "xz_probe: 1 of 4 vectors give x/z output bits" in msg and "i = 0x5" in msg
    o, flags = batch.simulate((XZ, "xz_probe"), xs)  # Verilator is 2-state: it sees a number, no failure
    assert flags is None and list(o[[0, 1, 3]]) == [0, 2, 8]


WIDE_PROBE = """module wide_probe(i, \\rand , o, flags);
  input [127:0] i;
  input [15:0] \\rand ;
  output [127:0] o;
  output [4:0] flags;
  assign o = {i[63:0], i[127:64]} ^ {112'd0, \\rand };
  assign flags = i[4:0] ^ i[127:123];
endmodule
"""


@pytest.mark.parametrize("sim", SIMS)
def test_128_bit_ports_and_5_bit_flags(sim):
    from fmtforge.verif.support.vectors.patterns import random_width
    rng = np.random.default_rng(seed())
    print(f"seed {seed()}")
    edges = np.array([0, (1 << 128) - 1, 1 << 64, (1 << 64) - 1, 1 << 127, 1], dtype=object)
    xs = np.concatenate([edges, random_width(128, 2000, rng)])
    rand = rng.integers(0, 1 << 16, len(xs), dtype=np.uint64)
    m64 = (1 << 64) - 1
    want_o = np.array([(((int(x) & m64) << 64) | (int(x) >> 64)) ^ int(r) for x, r in zip(xs, rand)], dtype=object)
    want_f = np.array([(int(x) ^ (int(x) >> 123)) & 31 for x in xs], dtype=np.uint8)
    got = (batch.simulate if sim == "verilator" else simulate_icarus)((WIDE_PROBE, "wide_probe"), xs, rand=rand)
    assert got[0].dtype == object and got[1].dtype == np.uint8 and got[1].max() > 15
    batch.assert_equal(got, (want_o, want_f), inputs=xs, unit="wide_probe", rand=rand, label=sim)


def test_chunks_threads_eval_and_input_checks():
    unit = unit_of(PROBE)
    model = batch.model(unit)
    xs = exhaustive(golden.lookup("fp16"))
    whole = model.run(xs)
    batch.assert_equal(model.run(xs, chunk=1000, threads=2), whole, inputs=xs, unit=unit)
    # the harness calls the model's scheduling loop directly; the public eval() gives the same bits
    public = batch.BatchModel(unit, direct_eval=False)
    assert public.build.path != model.build.path
    batch.assert_equal(public.run(xs), whole, inputs=xs, unit=unit, label="public eval()")
    assert "FMTFORGE_DIRECT_EVAL 1" in (model.build.path / "fmtforge_batch_config.h").read_text()
    assert "FMTFORGE_DIRECT_EVAL 0" in (public.build.path / "fmtforge_batch_config.h").read_text()
    with pytest.raises(ValueError, match="does not fit in 16 bits"):
        batch.simulate(unit, np.array([1 << 16], dtype=np.uint64))
    with pytest.raises(ValueError, match="no rand input"):
        batch.simulate(unit, xs, rand=xs)
    with pytest.raises(ValueError, match="pass rand="):
        batch.simulate(unit_of(C("fp16", "posit8", "stochastic", False, True)), xs)
    with pytest.raises(ValueError, match="not one the batch lane drives"):
        resolve(UNITS["convert"].create(src="fp16", dst="fp8_e4m3", stages=1))


def test_structured_sets():
    # strided slices partition the space, each spread over all of it
    slices = [strided(12, 256, k) for k in range(16)]
    assert sorted(np.concatenate(slices).tolist()) == list(range(1 << 12))
    assert all(s.min() < 256 and s.max() >= (1 << 12) - 256 for s in slices)
    big = np.sort(strided(32, 1 << 20, 5))  # (sort, not np.unique: its hash path is slow on millions here)
    assert big.dtype == np.uint64 and bool((big[1:] > big[:-1]).all()) and int(big[-1]) < 1 << 32
    assert int(big[0]) < 1 << 12 and int(big[-1]) >= (1 << 32) - (1 << 13)
    # small fields: the structured mantissas are every pattern
    assert mantissas(4) == set(range(16))
    # fp32 -> bf16: every sign and exponent with the sparse, dense and tie mantissas
    xs = structured("fp32", "bf16")
    assert len(xs) == 2 * 256 * len(mantissas(23, "bf16")) and bool((xs[1:] > xs[:-1]).all())
    have = set(xs.tolist())
    ties = [0x8000, 0x7fff, 0x8001, 0x18000, 0x17fff, 0x18001, 0x7f8000, 0x7f7fff]
    sparse = [0, 1, 1 << 22, 3 << 21, (1 << 22) | 1, 0x7fffff, 0x7ffffe, 0x3fffff, 0x7ff800]
    for s in (0, 1):
        for e in (0, 4, 8, 16, 32, 64, 128, 255):
            for m in ties + sparse:
                assert (s << 31) | (e << 23) | m in have, hex((s << 31) | (e << 23) | m)
    # x87: canonical patterns plus unnormals and pseudo-denormals
    x87 = structured("x87", "fp32", exponents=[0, 1, 0x3fff])
    assert x87.dtype == object and list(x87) == sorted(set(x87))
    assert (1 << 63) in set(x87) and ((0x3fff << 64) | 1) in set(x87)  # pseudo-denormal, unnormal


def test_build_failure_is_reported():
    broken = ("module broken_probe(i, o);\n  input [3:0] i;\n  output [3:0] o;\n  assign o = i +;\nendmodule\n",
              "broken_probe")
    with pytest.raises(RuntimeError, match=r"verilator failed \(exit \d+\); log .*failed.*build\.log"):
        batch.build_verilator(broken)
    with pytest.raises(RuntimeError, match="iverilog failed on broken_probe"):
        simulate_icarus(broken, [1])
