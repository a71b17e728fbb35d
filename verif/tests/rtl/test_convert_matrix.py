"""Every format family as source and as destination, every rounding mode, both saturation settings:
converters against golden.convert_flags (bits and flags), under Icarus and Verilator.

Converters from one source are simulated together (verif.harness.Bundle): one build and one sweep of the
source's patterns per (source, simulator). Sources of <= 16 bits are swept exhaustively; wider ones get
directed corners plus seeded random patterns (10,000; 100,000 under FMTFORGE_FULL: the bulk of wide-source
vectors runs through the batch lane). In make test Icarus gets less: corners plus 3,000 random patterns of a
wide source, corners plus 8,192 of a 16-bit one (exhaustive under FMTFORGE_FULL, and always on Verilator). `make test` runs a rotation that puts every destination, mode and
saturation setting in the matrix; FMTFORGE_FULL=1 (`make regress-cocotb`) runs every destination in every mode
with and without saturation for every source.
"""

import json
import os

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.rtl.formats.rounding import FLAGS_WIDTH
from fmtforge.verif.support.batch.bundle import Bundle, conv_id
from fmtforge.verif.support.vectors.patterns import (describe, exhaustive, float_corners, int_corners,
                                                     posit_corners, random_float_bits, random_width, seed)
from fmtforge.verif.tests.conftest import FULL

ENV = "FMTFORGE_BUNDLE"
MODES = ["rne", "rtz", "rdn", "rup", "rmm", "stochastic"]

SOURCES = ["fp64", "fp32", "fp16", "bf16", "tf32", "fp24", "pxr24", "x87", "fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz",
           "fp8_e5m2fnuz", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "cfloat8_1_4_3", "cfloat8_1_5_2_b20", "int8",
           "uint8", "int16", "int32", "nf4", "posit8", "posit8_es0", "posit8_es1", "posit16", "posit16_es0",
           "posit16_es1", "posit32", "posit64"]
DESTS = ["fp64", "fp32", "fp16", "bf16", "tf32", "fp24", "pxr24", "x87", "fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz",
         "fp8_e5m2fnuz", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1", "cfloat8_1_4_3", "cfloat8_1_5_2_b20", "int8", "uint8",
         "int16", "int32", "posit8", "posit16", "posit32", "posit64", "posit16_es1", "posit12_es3", "posit6_es0", "posit3_es2", "posit17_es4"]

# conversions every run checks, besides the rotation (issue: posits to and from fp32, fp16 and bf16)
REQUIRED = {
    "fp32": [("posit32", "rne"), ("posit16", "rne")], "fp16": [("posit16", "rne")], "bf16": [("posit16", "rne")],
    "posit8": [("fp32", "rne")], "posit8_es0": [("fp32", "rne")], "posit8_es1": [("fp32", "rne")],
    "posit16": [("fp32", "rne"), ("posit32", "rne"), ("posit8", "rne")], "posit16_es0": [("fp32", "rne")],
    "posit16_es1": [("fp32", "rne")], "posit32": [("fp32", "rne"), ("fp64", "rne"), ("int32", "rne")],
    "posit64": [("fp64", "rne")],
}


def configs_for(src_index, full=FULL):
    if full:
        return [dict(dst=d, rounding=r, saturate=s, rand_bits=8)
                for d in DESTS for r in MODES for s in (False, True)]
    # rotation: 7 destinations per source; over all sources every destination appears in several modes and
    # both saturation settings, and every mode with every destination family
    out = [dict(dst=d, rounding=r, saturate=False, rand_bits=8) for d, r in REQUIRED.get(SOURCES[src_index], [])]
    for j in range(7):
        d = DESTS[(src_index * 8 + j) % len(DESTS)]
        r = MODES[(src_index + j) % len(MODES)]
        out.append(dict(dst=d, rounding=r, saturate=bool((src_index // 2 + j) % 2), rand_bits=8))
    return out


def vectors(src, dsts, n_random, rng):
    if src.width <= 16 and not n_random:
        return exhaustive(src)
    if src.kind in ("int", "posit"):
        corners = int_corners(golden.Integer(bits=min(src.width, 32))) if src.kind == "int" else posit_corners(src)
        return np.concatenate([corners, random_width(src.width, n_random, rng)])
    corners = np.concatenate([float_corners(src, d) for d in dsts if isinstance(d, golden.Minifloat)]
                             + [float_corners(src)])
    rnd = random_float_bits(src, dsts, n_random, rng)
    if src.width > 64:
        return np.array(sorted(set(int(x) for x in corners)) + [int(x) for x in rnd], dtype=object)
    return np.concatenate([np.unique(corners), rnd.astype(np.uint64)])


# -- cocotb --------------------------------------------------------------------------------------------------
try:
    import cocotb
    from cocotb.triggers import Timer
except ImportError:
    cocotb = None

if cocotb is not None:
    @cocotb.test()
    async def check_bundle(dut):
        cfg = json.loads(os.environ[ENV])
        src = golden.lookup(cfg["src"])
        configs = cfg["configs"]
        dsts = [golden.lookup(c["dst"]) for c in configs]
        used_seed = seed()
        rng = np.random.default_rng([used_seed, src.width])
        xs = vectors(src, dsts, cfg["random"], rng)
        R = len(dut.rand)
        rand = rng.integers(0, 1 << R, len(xs), dtype=np.uint64)
        dut._log.info("%s: %d converters x %d vectors, seed %d", src.name, len(configs), len(xs), used_seed)
        outs = []
        for k, x in enumerate(xs):
            dut.i.value = int(x)
            dut.rand.value = int(rand[k])
            await Timer(1, "ns")
            outs.append(dut.o.value.to_unsigned())
        failures = []
        offset = 0
        for c, d in zip(configs, dsts):
            kw = {}
            if c["rounding"] == "stochastic":
                kw = dict(rand=rand & np.uint64((1 << c["rand_bits"]) - 1), rand_bits=c["rand_bits"])
            want, want_flags = golden.convert_flags(xs, src, d, c["rounding"], c["saturate"], **kw)
            fl_mask, o_mask = (1 << FLAGS_WIDTH) - 1, (1 << d.width) - 1
            bad = []
            for k, word in enumerate(outs):
                got_f = (word >> offset) & fl_mask
                got = (word >> (offset + FLAGS_WIDTH)) & o_mask
                if got != int(want[k]) or got_f != int(want_flags[k]):
                    bad.append((k, got, got_f))
            offset += FLAGS_WIDTH + d.width
            if bad:
                lines = [f"{src.name} -> {conv_id(c['dst'], c['rounding'], c['saturate'])}: {len(bad)} of {len(xs)} vectors differ (seed {used_seed})"]
                for k, got, got_f in bad[:8]:
                    extra = f", rand 0x{int(rand[k]):x}" if kw else ""
                    lines.append(f"  in {describe(src, xs[k])}: expected {describe(d, want[k])} flags "
                                 f"{int(want_flags[k]):05b}, got {describe(d, got)} flags {got_f:05b}"
                                 f" (flags: NV DZ OF UF NX){extra}")
                failures.append("\n".join(lines))
        if failures:
            failures.append(f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest "
                            f"verif/tests/rtl/test_convert_matrix.py -k '{src.name}'")
            raise AssertionError("\n".join(failures))


# -- pytest --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("src", SOURCES)
def test_matrix(src, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    configs = configs_for(SOURCES.index(src))
    top = Bundle(src, configs)
    name = f"bundle_{golden.lookup(src).name}" + ("_full" if FULL else "")
    print(f"seed {seed()}; converters: {', '.join(conv_id(c['dst'], c['rounding'], c['saturate']) for c in configs)}")
    # the bulk of wide-source vectors runs through the batch lane (test_batch, test_regress, make regress);
    # the cocotb matrix keeps the corners plus a seeded random sample (100,000 under FMTFORGE_FULL)
    n_random = (100_000 if FULL else 10_000) if golden.lookup(src).width > 16 else 0
    if sim == "icarus" and not FULL:
        # Icarus is the slower simulator by far: make test gives it the corners plus 3,000 random patterns of a
        # wide source, and of a 16-bit one the corners plus 8,192 random patterns instead of all 65,536
        # (Verilator sweeps every pattern here, and the batch lane every pattern of every converter)
        width = golden.lookup(src).width
        n_random = 3_000 if width > 16 else 8_192 if width > 12 else 0
    run(sim, to_verilog(top, name), name, "fmtforge.verif.tests.rtl.test_convert_matrix", name,
        extra_env={ENV: json.dumps({"src": src, "configs": configs, "random": n_random}),
                   "FMTFORGE_SEED": str(seed())})


def test_rotation_covers_everything():
    seen = [(c["dst"], c["rounding"], c["saturate"]) for i in range(len(SOURCES)) for c in configs_for(i, False)]
    assert {d for d, _, _ in seen} == set(DESTS)
    assert {r for _, r, _ in seen} == set(MODES)
    fam = {(golden.lookup(d).kind, r, s) for d, r, s in seen}
    assert {(k, r, s) for k in ("float", "int", "posit") for r in MODES for s in (False, True)} <= fam
