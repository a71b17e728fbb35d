# amaranth: UnusedElaboratable=no
"""QMac (fmtforge.rtl.units.qmac) and its requantizer (fmtforge.rtl.units.requant) against golden.quant, bit for bit, on both simulators.

Every result is compared with ``golden.quant.qmatmul`` of the unpadded dot product (its accumulator from
``golden.quant.qmatmul_acc`` is shown in mismatch reports). A build covers much: the harness below puts
several QMacs (one per (a, w, out) type combination) behind one input stream, so that the three builds per
simulator (CONFIGS) check all eight combinations, lanes 1, 4 and 16. Per configuration:

- directed requantization corners, the accumulator set through ``bias`` with ``a = Za`` (products 0):
  ties in SRDHM and in RoundingDivideByPOT / the single rounding, shift 0, -31 and 30 (``acc * 2**30``
  wrapping to int32), ``acc * 2**shift == INT32_MIN`` times ``M0 = 2**31 - 1``, ``M0 = 0``, saturation at
  both ends, narrowed ``[qmin, qmax]``;
- zero points at the range ends (bit patterns 0x00, 0x7f, 0x80, 0xff: both ends of int8 and of uint8);
- accumulator wrap-around (bias near the int32 ends, and acc_bits 16/24), K = lanes and one long K;
- ragged K padded with ``a = Za`` or ``w = Zw``, and random dot products;
- first with no idle cycle and no back-pressure (one beat per cycle, latency exactly docs/qmac.md's), then
  with random valid gaps and random back-pressure. Ports that are read only with a dot product's ``last``
  beat carry random garbage on every other cycle, and the zero points on idle cycles.

``SRDHM`` alone (beside the first harness's units) is checked against ``golden.quant.srdhm``, with random
enable: its ``INT32_MIN * INT32_MIN`` case cannot occur inside Requantize, whose ``M0`` is non-negative.
``end_to_end`` runs a float matrix product quantized by golden.quant through the unit and bounds the error of
the dequantized result (see its docstring).

Run: ``.venv/bin/pytest -n 2 verif/tests/rtl/test_qmac.py`` (FMTFORGE_SEED=N for another seed), or
``.venv/bin/python verif/tests/rtl/test_qmac.py``.
"""

import json
import os
import sys

import numpy as np
import pytest

from fmtforge.golden import quant as gq
from fmtforge.rtl.units import UNITS
from fmtforge.rtl.units.qmac import TYPES, qmac_name
from fmtforge.verif.support.vectors.patterns import seed

from fmtforge.verif.support.benches.qmac import QMacBench, config, config_id, make_dut
from fmtforge.verif.support.vectors.qmac import Job, edge_jobs, long_job, random_job

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ReadOnly, RisingEdge
except ImportError:  # collected by pytest without cocotb: the launchers below still import
    cocotb = None

ENV = "FMTFORGE_QMAC"
INT32_MIN, INT32_MAX = gq.INT32_MIN, gq.INT32_MAX
ALL_TYPES = [(a, w, o) for a in TYPES for w in TYPES for o in TYPES]
SCALE_PORTS = ("bias", "m0", "shift")



# Three builds per simulator (a Verilator build costs ~25 s here, mostly its runtime library): every
# (a_type, w_type) pair at 1 and at 4 lanes, each out_type with each, all eight combinations over the two
# harnesses; both roundings, both ways of feeding the scale, acc_bits 16 and 32; the third configuration is
# the unit exactly as the CLI writes it (no harness), with the end-to-end check.
CONFIGS = [
    config(4, [("int8", "int8", "int8"), ("int8", "uint8", "uint8"), ("uint8", "int8", "uint8"),
               ("uint8", "uint8", "int8")], acc_bits=16, long_k=1024),
    config(1, [("int8", "int8", "uint8"), ("int8", "uint8", "int8"), ("uint8", "int8", "int8"),
               ("uint8", "uint8", "uint8")], per_channel=True, rounding="single", long_k=600),
    config(16, [("uint8", "int8", "int8")], per_channel=True, long_k=34000, e2e=True),
]
assert sorted(t for c in CONFIGS[:2] for t in c["types"]) == sorted(ALL_TYPES)
SRDHM_CONFIG = 0
#: docs/qmac.md's latency (last beat to result, pipelined requantizer) by lanes: subtract 1, multiply 1,
#: ceil(ceil(log2 lanes) / 2) adder-tree stages, accumulate 1, requantize 5; written here from the page, not
#: computed by the code under test
DOC_LATENCY = {1: 8, 2: 9, 4: 9, 8: 10, 16: 10, 32: 11, 64: 11}  # the harness of this configuration also holds a bare SRDHM (check_srdhm)


if cocotb is not None:
    def _setup(dut):
        c = json.loads(os.environ[ENV])
        used_seed = seed()
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        return c, used_seed, QMacBench(dut, c, used_seed)

    @cocotb.test()
    async def check_qmac(dut):
        c, used_seed, tb = _setup(dut)
        rng = np.random.default_rng([used_seed, c["lanes"], c["acc_bits"]])
        types, L = tb.types, c["lanes"]
        await tb.reset()
        dut._log.info("%s: seed %d, latency %d", config_id(c), used_seed, tb.latency)
        # 1: no gaps, no back-pressure: one beat accepted per cycle, each result exactly `latency` after its
        # last beat. Single-beat dot products (K = lanes: one result per cycle), then multi-beat ones.
        jobs1 = [random_job(c, types, rng, L, "K = lanes") for _ in range(100)]
        jobs1 += [random_job(c, types, rng, L * int(rng.integers(2, 6)), "multi-beat") for _ in range(30)]
        got, t_beat, t_last, t_out = await tb.run(jobs1, 0.0, 0.0, rng)
        assert t_beat == list(range(t_beat[0], t_beat[0] + len(t_beat))), "a beat was refused without back-pressure"
        lat = sorted(set(b - a for a, b in zip(t_last, t_out)))
        want = DOC_LATENCY[L]
        assert lat == [want], f"latency {lat}, expected [{want}] (docs/qmac.md, lanes {L})"
        assert t_out[:100] == list(range(t_out[0], t_out[0] + 100)), "K = lanes: not one result per cycle"
        stats = [tb.check(jobs1, got, "no stalls")]
        # 2: corners, ragged tails, long K and random dot products, with valid gaps and back-pressure
        jobs2 = edge_jobs(c, types, rng)
        for _ in range(60):
            K = int(rng.integers(1, 4 * L + 1))
            jobs2.append(random_job(c, types, rng, K, "ragged" if K % L else "random"))
        jobs2.append(random_job(c, types, rng, 0, "K = 0 (padding only)"))
        if c["long_k"]:
            jobs2.append(long_job(c, types, rng, c["long_k"]))
        jobs2 += [random_job(c, types, rng, L * int(rng.integers(1, 5))) for _ in range(c["jobs"])]
        order = rng.permutation(len(jobs2))
        jobs2 = [jobs2[k] for k in order]
        half = len(jobs2) // 2
        got_a, *_ = await tb.run(jobs2[:half], 0.3, 0.3, rng)
        got_b, *_ = await tb.run(jobs2[half:], 0.1, 0.7, rng)  # mostly back-pressured
        stats.append(tb.check(jobs2, got_a + got_b, "gaps and back-pressure"))
        total = {k: sum(s[k] for s in stats) for k in stats[0]}
        dut._log.info("%s: %d dot products, %d results checked, %d at qmin, %d at qmax, %d accumulators wrapped",
                      config_id(c), len(jobs1) + len(jobs2), total["results"], total["at_qmin"], total["at_qmax"],
                      total["acc_wrapped"])
        assert total["at_qmin"] and total["at_qmax"] and total["acc_wrapped"], f"corners not reached: {total}"

    @cocotb.test()
    async def end_to_end(dut):
        """A float product ``Y = A @ W + b`` (8x40 @ 40x6) through the unit, TFLite style: uint8 activations
        (asymmetric, per tensor), int8 weights (symmetric, per output column), int32 bias ``round(b / (S1
        S2))``, int8 output with ``(S3, Z3)`` from Y's range, ``M = S1 S2 / S3`` by quantize_multiplier.
        K = 40 is not a multiple of the 16 lanes: the last beat is padded with ``a = Za``.

        The results must equal golden.quant.qmatmul, and ``|S3 (q3 - Z3) - Y|`` must stay within, per
        element, ``S3 * r`` (rounding of the rescale: r = 1 for gemmlowp's two roundings, 1/2 for single)
        ``+ S3 |acc| 2**(shift - 32)`` (M0 rounded to 31 bits) ``+ sum_j (|A| S2 / 2 + |W| S1 / 2 + S1 S2 / 4)``
        (operands rounded to half a step) ``+ S1 S2 / 2`` (bias rounded) ``+`` float64 slack ``2**-40`` times
        ``sum_j |A||W| + |acc| S1 S2``. No result is clamped: Y's range is the output range.
        """
        c, used_seed, tb = _setup(dut)
        assert tb.types == [("uint8", "int8", "int8")] and c["per_channel"]
        rng = np.random.default_rng([used_seed, 2018])
        A = rng.normal(0.3, 1.0, (8, 40))
        Wf = rng.normal(0.0, 0.2, (40, 6)) * rng.uniform(0.2, 2.0, 6)
        b = rng.normal(0.0, 0.5, 6)
        Y = A @ Wf + b
        S1, Z1 = gq.choose_qparams(A.min(), A.max(), "uint8")
        S2, Z2 = gq.choose_qparams(Wf.min(axis=0), Wf.max(axis=0), "int8", symmetric=True)
        assert np.all(Z2 == 0)
        S3, Z3 = gq.choose_qparams(Y.min(), Y.max(), "int8")
        qA = gq.quantize(A, S1, Z1, "uint8")
        qW = gq.quantize(Wf, S2, 0, "int8", axis=1)
        qb = gq.quantize(b, S1 * S2, 0, "int32", axis=0).astype(np.int64)
        M0, shift = gq.quantize_multiplier(S1 * S2 / S3)
        mode = c["rounding"]
        want = gq.qmatmul(qA, Z1, qW, 0, M0=M0, shift=shift, z3=Z3, qmin=-128, qmax=127, bias=qb, mode=mode)
        acc = gq.qmatmul_acc(qA, Z1, qW, 0, bias=qb)
        jobs = [Job("end to end", qA[i], qW[:, k].view(np.uint8), Z1, 0, int(qb[k]), int(M0[k]), int(shift[k]),
                    [(Z3, -128, 127)]) for i in range(A.shape[0]) for k in range(Wf.shape[1])]
        await tb.reset()
        words, *_ = await tb.run(jobs, 0.2, 0.3, rng)
        q3 = np.array([tb.split(wd)[0] for wd in words]).reshape(want.shape)
        assert np.array_equal(q3, want), f"unit != golden.quant.qmatmul (seed {used_seed}):\n{q3}\n{want}"
        err = np.abs(gq.dequantize(q3, S3, Z3) - Y)
        r = 1.0 if mode == "gemmlowp" else 0.5
        absA, absW = np.abs(A), np.abs(Wf)
        bound = (S3 * r + S3 * np.abs(acc) * np.exp2(shift - 32.0)
                 + (absA.sum(axis=1)[:, None] * S2 + S1 * absW.sum(axis=0)) / 2 + A.shape[1] * S1 * S2 / 4
                 + S1 * S2 / 2 + 2.0 ** -40 * (absA @ absW + np.abs(acc) * S1 * S2))
        assert np.all(err <= bound), (f"dequantized error beyond the bound (seed {used_seed}): "
                                      f"worst error/bound {np.max(err / bound):.3f}")
        dut._log.info("end to end: max |error| %.4g (S3 = %.4g), max error/bound %.3f, %d of %d results exact "
                      "to half a step", err.max(), S3, np.max(err / bound), int(np.sum(err <= S3 / 2)), err.size)

    @cocotb.test()
    async def check_srdhm(dut):
        """SRDHM alone: corners (INT32_MIN * INT32_MIN, ties, the ends) and random, with random enable."""
        used_seed = seed()
        rng = np.random.default_rng([used_seed, 31])
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        ends = [INT32_MIN, INT32_MIN + 1, -(1 << 30), -3, -1, 0, 1, 3, 1 << 30, (1 << 30) + 1, INT32_MAX - 1,
                INT32_MAX]
        pairs = [(a, b) for a in ends for b in ends]
        pairs += [(int(a), 1 << 30) for a in rng.integers(-1000, 1000, 200)]  # ties when a is odd
        pairs += [(int(a), int(b)) for a, b in rng.integers(INT32_MIN, INT32_MAX + 1, (4000, 2))]
        want_all = gq.srdhm(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
        dut.rst.value = 1
        dut.srdhm_en.value = 0
        dut.i__valid.value = 0
        dut.o__ready.value = 1
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        stage1 = out = None  # the model of the two registers: index of the pair each holds
        loaded, k, seen = None, 0, []
        while len(seen) < len(pairs):
            await RisingEdge(dut.clk)
            if loaded is not None:  # the edge just passed loaded both registers
                out, stage1 = stage1, loaded[0]
            en = int(rng.random() >= 0.2)
            a, b = pairs[k] if k < len(pairs) else (0, 0)
            dut.srdhm_en.value = en
            dut.srdhm_a.value = a & 0xffffffff
            dut.srdhm_b.value = b & 0xffffffff
            await ReadOnly()
            if loaded is not None and out is not None:
                seen.append((out, int(dut.srdhm_o.value.to_signed())))
            loaded = (k if k < len(pairs) else None,) if en else None
            k += en
        bad = [(i, g) for i, g in seen if g != int(want_all[i])]
        if bad:
            lines = [f"srdhm: {len(bad)} of {len(pairs)} results differ (seed {used_seed})"]
            for i, g in bad[:8]:
                a, b = pairs[i]
                lines.append(f"  a=0x{a & 0xffffffff:08x} ({a}) b=0x{b & 0xffffffff:08x} ({b}): expected "
                             f"0x{int(want_all[i]) & 0xffffffff:08x}, got 0x{g & 0xffffffff:08x}")
            lines.append(f"reproduce: FMTFORGE_SEED={used_seed} .venv/bin/pytest verif/tests/rtl/test_qmac.py "
                         f"-k '{config_id(CONFIGS[SRDHM_CONFIG])}'")
            raise AssertionError("\n".join(lines))


# ------------------------------------------------------------------------------------------------ pytest

SIMS = ["icarus", "verilator"]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("c", CONFIGS, ids=config_id)
def test_qmac(c, sim):
    from fmtforge.rtl.flow.verilog import to_verilog
    from fmtforge.verif.support.sim.runner import run

    dut, name = make_dut(c, srdhm=c is CONFIGS[SRDHM_CONFIG])
    print(f"seed {seed()}")
    run(sim, to_verilog(dut, name), name, "fmtforge.verif.tests.rtl.test_qmac", name,
        extra_env={ENV: json.dumps(c), "FMTFORGE_SEED": str(seed())},
        testcase=(["check_qmac"] + (["end_to_end"] if c["e2e"] else [])
                  + (["check_srdhm"] if c is CONFIGS[SRDHM_CONFIG] else [])))


# ------------------------------------------------------------------------------------------------ no simulator

@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=0), "lanes must be an integer in 1..64, not 0"),
    (dict(lanes=65), "lanes must be an integer in 1..64, not 65"),
    (dict(lanes=True), "lanes must be an integer in 1..64, not True"),
    (dict(lanes=4, acc_bits=15), "acc_bits must be an integer in 16..32, not 15"),
    (dict(lanes=4, acc_bits=33), "acc_bits must be an integer in 16..32, not 33"),
    (dict(lanes=4, a_type="int4"), "a_type must be one of int8, uint8, not 'int4'"),
    (dict(lanes=4, w_type="fp8"), "w_type must be one of int8, uint8, not 'fp8'"),
    (dict(lanes=4, out_type="int16"), "out_type must be one of int8, uint8, not 'int16'"),
    (dict(lanes=4, rounding="float-rne"), "rounding must be one of gemmlowp, single, not 'float-rne'"),
    (dict(lanes=4, per_channel=1), "per_channel must be True or False, not 1"),
])
def test_qmac_parameters(kwargs, message):
    with pytest.raises(ValueError) as info:
        UNITS["qmac"].create(**kwargs)
    assert str(info.value) == message


def test_qmac_names_and_latency():
    assert UNITS["qmac"].create(lanes=4).name == "qmac_l4_int8_int8_int8_acc32_gemmlowp"
    assert (UNITS["qmac"].create(lanes=16, a_type="uint8", out_type="uint8", acc_bits=24, per_channel=True,
                                 rounding="single").name
            == "qmac_l16_uint8_int8_uint8_acc24_single_pc")
    # the contract's latency is the one docs/qmac.md states
    assert {n: UNITS["qmac"].configure(lanes=n).latency for n in DOC_LATENCY} == DOC_LATENCY
    dut = UNITS["qmac"].create(lanes=4, per_channel=True)
    assert [(name, f.offset, f.width) for name, f in dut.in_layout] == [
        ("a", 0, 32), ("w", 32, 32), ("last", 64, 1), ("bias", 65, 32), ("m0", 97, 31), ("shift", 128, 6)]


@pytest.mark.parametrize("kwargs", [
    dict(lanes=1, acc_bits=16, out_type="uint8"),
    dict(lanes=16, a_type="uint8", per_channel=True, rounding="single"),
    dict(lanes=64, w_type="uint8", acc_bits=24),
], ids=lambda kw: qmac_name(**kw))
def test_qmac_verilog_lint(kwargs):
    """`verilator --lint-only -Wall` with the project's waivers (verif/support/sim/lint.vlt) reports nothing."""
    from fmtforge.verif.support.sim.lint import verilator_lint
    verilator_lint(UNITS["qmac"].create(**kwargs))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-n", "2"] + sys.argv[1:]))
