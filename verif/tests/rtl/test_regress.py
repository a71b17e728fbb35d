"""The batch lane beyond 128 bits (many converters side by side in one module, one wide output port) and
``make regress`` (verif.support.regress) on a tiny matrix through the same code path: local pool, JSON report.

The wide model is checked against golden bit for bit on both simulators, each converter's output and flags
sliced out of the wide words; a deliberately broken expectation and a corrupted output word must be reported
(input, expected and obtained in hex), so the comparison can fail.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.rtl.flow import to_verilog
from fmtforge.rtl.formats.rounding import FLAGS_WIDTH
from fmtforge.verif.support.batch import lane as batch
from fmtforge.verif.support.campaigns import regress
from fmtforge.verif.support.batch.build import field, resolve
from fmtforge.verif.support.batch.icarus import simulate_icarus
from fmtforge.verif.support.batch.bundle import Bundle
from fmtforge.verif.support.campaigns.regress_cli import run_regress, write_reports
from fmtforge.verif.support.sim.runner import require
from fmtforge.verif.support.vectors.structured import structured

SRC = "fp8_e4m3"
# 85 + 37 + 21 + 13 + 21 = 177 output bits: three 64-bit words, an x87 result straddling the first two
CONFIGS = (("x87", "rne", False), ("fp32", "rtz", True), ("posit16", "rdn", False), ("int8", "stochastic", True),
           ("fp16", "rup", True))


@pytest.fixture(scope="module")
def wide_unit():
    bundle = Bundle(SRC, [dict(dst=d, rounding=r, saturate=s, rand_bits=regress.RAND_BITS) for d, r, s in CONFIGS])
    unit = resolve((to_verilog(bundle, "regress_wide_probe"), "regress_wide_probe"))
    assert unit.port("o").width == sum(FLAGS_WIDTH + golden.lookup(d).width for d, _, _ in CONFIGS) == 177
    return unit


def _expected_words(x, rand):
    """The model's output words built from golden alone: per converter flags then bits, from bit 0 up."""
    total = 0
    off = 0
    for d, r, s in CONFIGS:
        kw = dict(rand=rand, rand_bits=regress.RAND_BITS) if r == "stochastic" else {}
        bits, flags = golden.convert_flags(x, SRC, d, r, s, **kw)
        total = total + (np.array([int(f) for f in flags], dtype=object) << off)
        total = total + (np.array([int(b) for b in bits], dtype=object) << (off + FLAGS_WIDTH))
        off += FLAGS_WIDTH + golden.lookup(d).width
    return total


@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_wide_output_port_against_golden(wide_unit, sim):
    x = np.arange(256, dtype=np.uint64)
    rand = regress.rand_of(x)
    simulate = batch.simulate if sim == "verilator" else simulate_icarus
    words, flags = simulate(wide_unit, x, rand=rand, words=True)
    assert flags is None and words.dtype == np.uint64 and words.shape == (256, 3)
    objs, _ = simulate(wide_unit, x, rand=rand)  # the same port as Python ints
    assert objs.dtype == object and max(int(v) for v in objs) >> 128  # bits beyond 128 are set
    want = _expected_words(x, rand)
    batch.assert_equal((objs, None), (want, None), inputs=x, unit=wide_unit, label=sim)
    joined = [int(a) | int(b) << 64 | int(c) << 128 for a, b, c in words]
    assert joined == [int(v) for v in objs]
    # regress.compare slices every converter out of the words and finds nothing wrong
    bad, first = regress.compare(words, x, rand, golden.lookup(SRC), CONFIGS, label=sim)
    assert bad.tolist() == [0] * len(CONFIGS) and first == []
    # a broken expectation is caught and reported in hex
    broken = want.copy()
    broken[0x38] ^= 1 << 100
    with pytest.raises(AssertionError, match=r"1 of 256 vectors differ.*\n  i = 0x38"):
        batch.assert_equal((objs, None), (broken, None), inputs=x, unit=wide_unit, label=sim)
    # a corrupted output word (bit 70: the x87 result's exponent) is pinned on that converter and input
    words = words.copy()
    words[0x41, 1] ^= np.uint64(1 << 6)
    bad, first = regress.compare(words, x, rand, golden.lookup(SRC), CONFIGS, label=sim)
    assert bad.tolist() == [1, 0, 0, 0, 0]
    assert first[0].startswith(f"x87_rne ({sim}): in 0x41") and "expected 0x" in first[0] and "got 0x" in first[0]


def test_field_slices_across_words():
    rng = np.random.default_rng(5)
    words = rng.integers(0, 1 << 64, (100, 3), dtype=np.uint64)
    ints = [int(a) | int(b) << 64 | int(c) << 128 for a, b, c in words]
    for lo, width in ((0, 64), (0, 5), (60, 9), (64, 64), (70, 16), (123, 64), (150, 42), (191, 1)):
        assert field(words, lo, width).tolist() == [(v >> lo) & ((1 << width) - 1) for v in ints], (lo, width)
    with pytest.raises(ValueError, match="does not lie within 192 bits"):
        field(words, 150, 43)
    with pytest.raises(ValueError, match="width 1..64"):
        field(words, 0, 65)


def test_tiny_regress_through_the_pool(tmp_path):
    require("verilator")
    grid = regress.matrix(["fp4_e2m1", "int8"], ["fp16", "x87", "posit8"], ("rne", "stochastic"))
    report = run_regress(grid, chunk=12, icarus=32, jobs=2)
    assert report["complete"] and report["mismatches"] == 0 and report["icarus_mismatches"] == 0, report["failures"]
    assert report["converters"] == report["expected_converters"] == 2 * 3 * 2 * 2 and report["models"] == 2
    assert report["checks"] == (16 + 256) * 12 and report["icarus_checks"] == (16 + 32) * 12
    js, md = write_reports(report, tmp_path)
    data = json.loads(js.read_text())
    assert {"sources", "destinations", "modes", "saturate", "converters", "models", "checks", "mismatches",
            "icarus_checks", "icarus_mismatches", "seconds", "cpu_seconds", "checks_per_s", "digest", "seed",
            "complete", "per_source", "failures", "tasks"} <= data.keys()
    assert data["destinations"] == ["fp16", "x87", "posit8"] and data["saturate"] == [False, True]
    task_keys = {"src", "part", "converters", "inputs", "checks", "mismatches", "digest", "phases"}
    assert task_keys <= data["tasks"][0].keys()
    assert "| int8 | 256 | 12 | 1 | 3,072 | 0 |" in md.read_text()
    # a task is a pure function of its arguments: rerun one, same digest
    task = regress.tasks({"int8": grid["int8"]}, chunk=12, icarus=32)[0]
    assert regress.run_task(task)["digest"] == next(t["digest"] for t in data["tasks"] if t["src"] == "int8")


def test_sample_keeps_every_destination_mode_and_saturation():
    full, sample = regress.matrix(), regress.matrix(sample=6)
    assert sum(map(len, full.values())) == len(regress.sources()) * len(regress.destinations()) * 12
    fp32 = sample["fp32"]
    assert len(fp32) == len(full["fp32"]) // 6 and set(fp32) <= set(full["fp32"])
    assert {d for d, _, _ in fp32} == set(regress.destinations())
    assert {(r, s) for _, r, s in fp32} == {(r, s) for r in regress.MODES for s in (False, True)}


def test_shared_decoding_equals_golden():
    # regress.expected decodes once for many converters; each must still equal golden.convert_flags
    x = structured("x87", exponents=[0, 1, 0x3f80, 0x3fff, 0x7ffe, 0x7fff])[::7]
    src = golden.lookup("x87")
    decoded = {}
    rand = regress.rand_of(x)
    for dst, rounding in (("fp32", "rne"), ("x87", "rdn"), ("int8", "stochastic"), ("posit16", "rtz")):
        r = rand if rounding == "stochastic" else None
        kw = dict(rand=r, rand_bits=regress.RAND_BITS) if r is not None else {}
        got = regress.expected(x, src, golden.lookup(dst), rounding, True, r, decoded)
        want = golden.convert_flags(x, src, dst, rounding, True, **kw)
        assert [int(v) for v in got[0]] == [int(v) for v in want[0]] and (got[1] == want[1]).all(), dst


def test_cli_bad_input_is_one_line():
    p = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "regress", "--src", "fp33"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "src must be among" in p.stderr and "fp33" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run([sys.executable, "-m", "fmtforge.verif.support.campaigns.regress_cli", "--chunk", "0"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "chunk must be an integer >= 1, not 0" in p.stderr, p.stderr


# -- bugs make regress found ------------------------------------------------------------------------------
def test_aligned_pack_gives_a_non_ieee_nan_no_payload():
    # fp8_e4m3 (OCP E4M3FN: one NaN per sign, no payload) -> float8_e4m3 (IEEE-like, same exponent field and
    # bias: the pack's aligned path) gave 0x7f, the source's mantissa bits as a payload; golden (and ml_dtypes,
    # through float32) give the canonical quiet NaN 0x7c. Every pattern, every mode, on both simulators.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    nan = np.array([0x7f, 0xff], dtype=np.uint8).view(ml_dtypes.float8_e4m3fn)
    via = nan.astype(np.float32).astype(ml_dtypes.float8_e4m3).view(np.uint8)
    assert [int(v) & 0x7f for v in via] == [0x7c, 0x7c]
    assert [int(v) for v in golden.convert(np.array([0x7f, 0xff], np.uint8), "fp8_e4m3", "float8_e4m3")] == [0x7c, 0xfc]
    task = regress.Task("fp8_e4m3", tuple(("float8_e4m3", r, s) for r in regress.MODES for s in (False, True)), 0,
                        icarus=256)
    r = regress.run_task(task)
    assert r["checks"] == r["icarus_checks"] == 256 * 12 and r["mismatches"] == r["icarus_mismatches"] == 0, \
        r["failures"]


def test_posit64_stochastic_from_x87_uses_the_true_discarded_fraction():
    # x87 -> posit64 near 1.0 drops 4 of the 63 fraction bits; golden folded the lowest two into one sticky bit
    # before reading the top rand_bits of the discarded part (t), so 1/16 of an ulp read as 1/4. Reference:
    # the two neighbours (rtz and away from zero, golden's deterministic modes) and the exact fraction between
    # them (Fractions): round away from zero exactly when floor(frac * 2**16) + rand >= 2**16.
    from fractions import Fraction
    fixed = structured("x87", exponents=[0x3ffe, 0x3fff, 0x4000, 0x400e, 0x3fe5])
    fixed = fixed[np.array([int(v) & 0xff != 0 for v in fixed])][::3]  # low bits set: what the fold touched
    rng = np.random.default_rng(11)
    xs = np.array(list(fixed) + [0x3fff8000000000080001], dtype=object)
    rand = rng.integers(0, 1 << 16, len(xs), dtype=np.uint64)
    rand[-1] = 0xec03  # found by make regress: RTL 0x4000000000008000, golden said ...8001
    got = golden.convert(xs, "x87", "posit64", "stochastic", True, rand=rand, rand_bits=16)
    down = golden.convert(xs, "x87", "posit64", "rtz")
    neg = np.array([int(v) >> 79 == 1 for v in xs])
    away = np.where(neg, golden.convert(xs, "x87", "posit64", "rdn"), golden.convert(xs, "x87", "posit64", "rup"))
    p64 = golden.lookup("posit64")
    exact = golden.lookup("x87").decode_raw(xs).to_fractions()
    lo, hi = p64.decode_raw(down).to_fractions(), p64.decode_raw(away).to_fractions()
    for k, x in enumerate(xs):
        if lo[k] == hi[k]:
            want = int(down[k])
        else:
            frac = (abs(exact[k]) - abs(lo[k])) / (abs(hi[k]) - abs(lo[k]))
            assert 0 < frac < 1
            want = int(away[k]) if int(frac * (1 << 16)) + int(rand[k]) >= 1 << 16 else int(down[k])
        assert int(got[k]) == want, f"x87 0x{int(x):020x}, rand 0x{int(rand[k]):04x}: expected 0x{want:016x}, " \
                                    f"golden 0x{int(got[k]):016x} (frac {Fraction(frac) if lo[k] != hi[k] else 0})"
    assert int(got[-1]) == 0x4000000000008000
