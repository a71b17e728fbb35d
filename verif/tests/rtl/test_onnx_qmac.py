# amaranth: UnusedElaboratable=no
"""``fmtforge generate qmac --from-onnx``: models built with onnx.helper, the Verilog the command writes simulated
on the model's data (cocotb, the qmac bench's driver and monitor), bit for bit against golden.quant.qmatmul, and
golden against onnx.reference's float32 runtime (within one step: see docs/onnx.md for where and why they differ).

Per tensor (QLinearMatMul, uint8 x int8 -> int8) and per channel (QLinearMatMul with one b_scale and b_zero_point
per output column, int8 x int8 -> uint8; and QuantizeLinear -> MatMulInteger -> DequantizeLinear with an int32
zero point -> QuantizeLinear). Per-channel parameters reach the bench from the FILE.mem the command writes.
Icarus runs in make test; Verilator too with FMTFORGE_FULL=1 (the qmac itself is checked on both by
test_qmac.py). Bad models end in one line naming the parameter, exit status 2, no file written.
"""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from fmtforge.golden import quant as gq
from fmtforge.verif.tests.conftest import FULL
from fmtforge.rtl.cli.main import main
from fmtforge.verif.support.vectors.patterns import seed

try:
    import cocotb
    from cocotb.clock import Clock
except ImportError:
    cocotb = None

ENV = "FMTFORGE_ONNX_QMAC"
LANES = 4

if cocotb is not None:
    @cocotb.test()
    async def check_onnx_qmac(dut):
        from fmtforge.verif.support.benches.qmac import QMacBench, config
        from fmtforge.verif.support.vectors.qmac import Job

        spec = json.loads(Path(os.environ[ENV]).read_text())
        used_seed = seed()
        c = config(LANES, [tuple(spec["types"])], per_channel=spec["per_channel"], rounding="gemmlowp")
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        tb = QMacBench(dut, c, used_seed)
        jobs = [Job("onnx", np.array(j["a"], np.uint8), np.array(j["w"], np.uint8), j["za"], j["zw"], j["bias"],
                    j["m0"], j["shift"], [tuple(spec["out"])]) for j in spec["jobs"]]
        await tb.reset()
        words, *_ = await tb.run(jobs, 0.2, 0.3, np.random.default_rng(used_seed))
        got = [tb.split(w)[0] for w in words]
        bad = [(k, g, e) for k, (g, e) in enumerate(zip(got, spec["want"])) if g != e]
        assert not bad, (f"{len(bad)} of {len(got)} results differ from golden.quant.qmatmul (seed {used_seed}): "
                         + "; ".join(f"row {k // spec['columns']} column {k % spec['columns']}: expected "
                                     f"0x{e & 0xff:02x}, got 0x{g & 0xff:02x}" for k, g, e in bad[:6]))


def _models(tmp):
    """(name, model path, float-free input feed maker) of the three models, with seeded weights and scales."""
    from fmtforge.verif.support.refs import onnx_models as om
    rng = np.random.default_rng([seed(), 7])
    K, N = 22, 5  # K not a multiple of the lanes: the last beat is padded
    w8 = rng.integers(-128, 128, (K, N)).astype(np.int8)
    models = {
        "per_tensor": om.qlinear_matmul(8, w8, a_type="uint8", a_scale=0.021, a_zero=117, b_scale=0.0137, b_zero=0,
                                        y_scale=0.083, y_zero=-5),
        "per_channel": om.qlinear_matmul(8, w8, a_type="int8", a_scale=0.03, a_zero=-4,
                                         b_scale=rng.uniform(0.004, 0.03, N), b_zero=rng.integers(-3, 4, N),
                                         y_scale=0.11, y_zero=131, y_type="uint8"),
        "matmul_integer": om.quantize_matmul_integer(8, w8, a_type="uint8", a_scale=0.02, a_zero=128, b_zero=0,
                                                     acc_scale=rng.uniform(1e-4, 4e-4, N),
                                                     acc_zero=rng.integers(-300, 300, N), y_scale=0.07, y_zero=3),
    }
    out = {}
    for name, model in models.items():
        path = tmp / f"{name}.onnx"
        path.write_bytes(model.SerializeToString())
        out[name] = (model, path)
    return out, w8


def _activations(rng, a_type, za, rows=8, K=22):
    """Codes at the ends of the type and at the zero point, then random."""
    f = gq.int_format(a_type)
    a = rng.integers(f.min_int, f.max_int + 1, (rows, K))
    a[0], a[1], a[2] = f.min_int, f.max_int, za
    return a.astype(np.uint8 if a_type == "uint8" else np.int8)


def _per_column(p, key, columns):
    return np.array(p[key] if isinstance(p[key], list) else [p[key]] * columns, dtype=np.int64)


def _from_mem(path, columns):
    """bias, m0, shift, zw of each column, read back from the $readmemh file the command wrote."""
    words = [int(line, 16) for line in path.read_text().split()]
    assert len(words) == columns
    sext = lambda v, b: v - (1 << b) if v >> (b - 1) else v  # noqa: E731
    return {"bias": [sext(w & 0xffffffff, 32) for w in words], "m0": [(w >> 32) & 0x7fffffff for w in words],
            "shift": [sext((w >> 63) & 0x3f, 6) for w in words], "zw": [sext((w >> 69) & 0xff, 8) for w in words]}


def _reference(model, name, a, p, tmp):
    from fmtforge.verif.support.refs.onnx_models import run_reference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if name != "matmul_integer":
            return run_reference(model, a=a)
        # the chain starts from floats: x chosen so that its QuantizeLinear gives exactly the codes a
        x = ((a.astype(np.float64) - p["za"]) * np.float64(np.float32(0.02))).astype(np.float32)
        assert np.array_equal(gq.quantize(x, np.float32(0.02), p["za"], "uint8", arithmetic="float32"), a)
        return run_reference(model, x=x)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """name -> (model, weights, Verilog path, the FILE.json's parameters): the command run once per model."""
    pytest.importorskip("onnx")
    tmp = tmp_path_factory.mktemp("onnx_qmac")
    models, w8 = _models(tmp)
    out = {}
    for name, (model, path) in models.items():
        v = tmp / name / "q.v"
        assert main(["generate", "qmac", "--lanes", str(LANES), "--from-onnx", str(path), "-o", str(v)]) == 0
        out[name] = (model, w8, v, json.loads(v.with_suffix(".json").read_text()))
    return out


SIMS = ["icarus"] + (["verilator"] if FULL else [])


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", ["per_tensor", "per_channel", "matmul_integer"])
def test_from_onnx_simulated(name, sim, generated, tmp_path):
    from fmtforge.verif.support.sim.runner import run

    model, w8, out, p = generated[name]
    K, N = w8.shape
    assert p["per_channel"] == (name != "per_tensor") and p["columns"] == N
    if p["per_channel"]:
        mem = _from_mem(out.with_suffix(".mem"), N)
        assert {k: mem[k] for k in ("bias", "m0", "shift", "zw")} == {
            k: _per_column(p, k, N).tolist() for k in ("bias", "m0", "shift", "zw")}
    else:
        assert not out.with_suffix(".mem").exists()
    o = p["options"]
    rng = np.random.default_rng([seed(), 11])
    a = _activations(rng, o["a_type"], p["za"])
    cols = {k: _per_column(p, k, N) for k in ("zw", "m0", "shift", "bias")}
    want = gq.qmatmul(a, p["za"], w8, cols["zw"], M0=cols["m0"], shift=cols["shift"], z3=p["z3"], qmin=p["qmin"],
                      qmax=p["qmax"], bias=cols["bias"], mode=o["rounding"], acc_bits=o["acc_bits"])
    # golden against the float32 runtime: the integer pipeline's M0 and two roundings move a few results by one
    ref = _reference(model, name, a, p, tmp_path).astype(np.int64)
    diff = np.abs(want.astype(np.int64) - ref)
    assert diff.max() <= 1, f"golden and onnx.reference differ by {diff.max()} (> 1) somewhere"
    print(f"{name}: {int(np.sum(diff == 0))} of {diff.size} results equal onnx.reference, the others differ by one")
    bits = lambda v: int(v) & 0xff  # noqa: E731
    jobs = [{"a": a[i].view(np.uint8).tolist(), "w": w8[:, k].view(np.uint8).tolist(), "za": bits(p["za"]),
             "zw": bits(cols["zw"][k]), "bias": int(cols["bias"][k]), "m0": int(cols["m0"][k]),
             "shift": int(cols["shift"][k])} for i in range(a.shape[0]) for k in range(N)]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"types": [o["a_type"], o["w_type"], o["out_type"]], "per_channel": p["per_channel"],
                                "out": [p["z3"], p["qmin"], p["qmax"]], "columns": N, "jobs": jobs,
                                "want": [int(v) for v in want.ravel()]}))
    run(sim, out.read_text(), p["module"], "fmtforge.verif.tests.rtl.test_onnx_qmac", f"onnx_{name}",
        extra_env={ENV: str(spec), "FMTFORGE_SEED": str(seed())})


@pytest.mark.parametrize("name", ["per_tensor", "per_channel", "matmul_integer"])
def test_golden_against_float32_runtime(name, generated, tmp_path):
    """2000 rows of random codes through golden.quant.qmatmul (the unit's function) and onnx.reference: never
    more than one step apart, mostly equal (the counts are printed; docs/onnx.md quotes them)."""
    model, w8, out, p = generated[name]
    o, N = p["options"], w8.shape[1]
    rng = np.random.default_rng([seed(), 13])
    a = _activations(rng, o["a_type"], p["za"], rows=2000)
    cols = {k: _per_column(p, k, N) for k in ("zw", "m0", "shift", "bias")}
    want = gq.qmatmul(a, p["za"], w8, cols["zw"], M0=cols["m0"], shift=cols["shift"], z3=p["z3"], qmin=p["qmin"],
                      qmax=p["qmax"], bias=cols["bias"]).astype(np.int64)
    diff = want - _reference(model, name, a, p, tmp_path).astype(np.int64)
    print(f"{name} (seed {seed()}): {int(np.sum(diff == 0))} of {diff.size} equal, {int(np.sum(diff == 1))} one "
          f"above onnx.reference, {int(np.sum(diff == -1))} one below")
    assert np.abs(diff).max() <= 1 and np.mean(diff == 0) > 0.95


# ------------------------------------------------------------------------------------------------ bad input

def _expect_error(capsys, tmp_path, args, message):
    with pytest.raises(SystemExit) as e:
        main(["generate", "qmac", "--lanes", "4", *args, "-o", str(tmp_path / "out" / "q.v")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_bad_models(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from fmtforge.verif.support.refs import onnx_models as om
    models, w8 = _models(tmp_path)
    path = str(models["per_tensor"][1])
    _expect_error(capsys, tmp_path, ["--from-onnx", path, "--node", "nope"],
                  "--node 'nope': no such node in")
    relu = tmp_path / "relu.onnx"
    onnx.save(om.other_op(), relu)
    _expect_error(capsys, tmp_path, ["--from-onnx", str(relu)], "no QLinearMatMul or MatMulInteger node (the model has Relu)")
    _expect_error(capsys, tmp_path, ["--from-onnx", str(relu), "--node", "relu"],
                  "--node 'relu' is a Relu node; supported: QLinearMatMul, MatMulInteger")
    dyn = tmp_path / "dyn.onnx"
    onnx.save(om.qlinear_matmul(2, w8, a_type="uint8", a_scale=0.1, a_zero=0, b_scale=0.1, b_zero=0, y_scale=0.1,
                                y_zero=0, scale_input=True), dyn)
    _expect_error(capsys, tmp_path, ["--from-onnx", str(dyn)], "a_scale ('a_scale') of node 'mm' is not a constant")
    _expect_error(capsys, tmp_path, ["--from-onnx", str(tmp_path / "none.onnx")], "no such file")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a model")
    _expect_error(capsys, tmp_path, ["--from-onnx", str(junk)], "is not an ONNX model")
    _expect_error(capsys, tmp_path, ["--from-onnx", path, "--a-type", "int8", "--out-type", "uint8"],
                  "--out-type uint8 contradicts the model (int8)")
    _expect_error(capsys, tmp_path, ["--node", "mm"], "--node needs --from-onnx MODEL")


def test_generate_without_onnx_does_not_import_it(tmp_path):
    code = ("import sys; from fmtforge.rtl.cli.main import main; "
            f"main(['generate', 'qmac', '--lanes', '2', '-o', {str(tmp_path / 'q.v')!r}]); "
            "assert 'onnx' not in sys.modules, 'onnx was imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "q.v").read_text().startswith("/*") or "module qmac_l2" in (tmp_path / "q.v").read_text()
