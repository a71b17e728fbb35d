"""``fmtforge prove handshake``: the formal harness refutes each deliberately broken toy stream with the property
it breaks, proves the correct toy and the 2-stage converter by k-induction, refutes the converter against a
wrong latency, and the command line's exit statuses. FMTFORGE_FULL=1: every stream unit of the table.
"""

import dataclasses

import pytest

from fmtforge.verif.prove.handshake.report import describe, prove_unit
from fmtforge.verif.prove.handshake.run import prove_harness
from fmtforge.verif.prove.handshake.toys import BROKEN, toy
from fmtforge.verif.prove.handshake.units import CASES, make
from fmtforge.verif.tests.conftest import full_only

CONVERT = ["--src", "fp32", "--dst", "fp8_e4m3", "--saturate", "--flags", "--stages", "2"]


@pytest.mark.parametrize("signed_payload", [False, True])
def test_correct_toy_proven(signed_payload):
    """Also with a signed payload: held payloads are compared as bits (a signed one was once sign-extended
    against its unsigned copy, and the proof refuted a correct unit)."""
    dut, decl = toy(None, signed_payload=signed_payload)
    r = prove_harness(dut, decl, depth=8)
    assert r["result"] == "proven", r


@pytest.mark.parametrize("defect", sorted(BROKEN))
def test_broken_toy_refuted_by_its_property(defect):
    dut, decl = toy(defect)
    r = prove_harness(dut, decl, depth=7)
    assert r["result"] == "counterexample", r
    assert r["violated"] == BROKEN[defect], (defect, r.get("trace"))
    assert r["cycle"] > 1  # never in the reset cycle, where nothing is asserted
    # the trace runs up to the violation and names the property there
    last = [row for row in r["trace"] if row["cycle"] == r["cycle"]][0]
    assert BROKEN[defect] in last["broken"]


def test_convert_two_stages_proven():
    dut, decl, _, _ = make("convert")
    r = prove_harness(dut, decl, depth=8)
    assert r["result"] == "proven", r
    assert r["k"] <= 8


@pytest.mark.parametrize("latency, violated", [(3, "latency_early"), (1, "latency_late")])
def test_convert_against_a_wrong_latency(latency, violated):
    """The converter's documented latency is 2: declared 3 it is early, declared 1 it is late."""
    dut, decl, _, _ = make("convert")
    wrong = dataclasses.replace(decl, latency=latency, capacity=max(latency, 2), occupancy=None)
    r = prove_harness(dut, wrong, depth=8)
    assert r["result"] == "counterexample" and r["violated"] == violated, r


def test_wrong_auxiliary_invariant_refuted():
    """An auxiliary invariant is proven like the rest: naming only one of the toy's two valid flip-flops fails."""
    dut, decl = toy(None)
    r = prove_harness(dut, dataclasses.replace(decl, occupancy="v0"), depth=6)
    assert r["result"] == "counterexample" and r["violated"] == "occupancy", r


def test_cli_counterexample_exits_1(monkeypatch, capsys):
    """The command's exit status 1 and its trace, on a broken toy put in the converter's place."""
    from fmtforge.rtl.cli.main import main
    from fmtforge.verif.prove.handshake import report
    broken, decl = toy("valid_stalled")
    monkeypatch.setattr(report, "make", lambda name, options: (broken, decl, {}, name))
    with pytest.raises(SystemExit) as e:
        main(["prove", "handshake", "convert"] + CONVERT + ["--depth", "7"])
    out = capsys.readouterr().out
    assert e.value.code == 1
    assert out.startswith(f"{broken.name}: o_held violated at cycle ") and "(cycle 1 is the reset cycle)" in out
    assert "o.valid=1" in out and "broken: o_held" in out


def test_cli_convert_proven(capsys):
    from fmtforge.rtl.cli.main import main
    main(["prove", "handshake", "convert"] + CONVERT + ["--depth", "6"])  # returns: status 0
    out = capsys.readouterr().out
    assert "proven (k-induction at k = " in out


@pytest.mark.parametrize("argv, needle", [
    (["mx-dot"], "unit: no handshake declaration for 'mx-dot'"),
    (["convert", "--src", "fp32", "--dst", "fp16"], "stages: a combinational converter has no handshake"),
    (["convert"] + CONVERT + ["--depth", "1"], "depth must be an integer in 2..60"),
    (["qmac", "--lanes", "4", "--requant-cycles", "4"], "requant_cycles: the handshake proof covers requant_cycles 1"),
    (["nosuchunit"], "invalid choice"),
])
def test_bad_input_exits_2(argv, needle, capsys):
    from fmtforge.rtl.cli.main import main
    with pytest.raises(SystemExit) as e:
        main(["prove", "handshake"] + argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert needle in err and "Traceback" not in err


@full_only
def test_nvfp4_against_a_wrong_latency():
    """mx-quantize (NVFP4) declared with latency 16 instead of the documented 15: its first output beat is
    early."""
    dut, decl, _, _ = make("nvfp4")
    assert decl.latency == 15  # docs/mx.md: 10 + stages, stages 5 by default
    r = prove_harness(dut, dataclasses.replace(decl, latency=16), depth=20)
    assert r["result"] == "counterexample" and r["violated"] == "latency_early", r


@full_only
@pytest.mark.parametrize("label", [k for k in CASES if k != "convert"])
def test_every_stream_unit(label):
    r = prove_unit(label)
    print(describe(r))
    assert r["result"] in ("proven", "bounded"), describe(r)
