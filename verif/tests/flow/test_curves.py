"""Pipelining curves (rtl/flow/curves.py, `fmtforge synth UNIT --curve`): bad requests are one clear line, and
(FMTFORGE_FULL=1: it synthesises) a small decoder's curve has a row per stage count whose flip-flops grow and
whose Fmax rises with the registers placed inside the datapath."""


import pytest

from fmtforge.verif.tests.conftest import FULL


@pytest.mark.parametrize("args, message", [
    (["qmac", "--lanes", "1", "--curve"], "curve: unit qmac has no stages option"),
    (["convert", "--src", "fp32", "--dst", "bf16", "--stages", "2", "--curve"],
     "stages: --curve sets the stages itself (0..3)"),
    (["posit-decode", "--n", "99", "--curve"], "n must be an integer in 3..64, not 99"),
])
def test_curve_bad_input_is_one_clear_line(args, message, capsys):
    from fmtforge.rtl.cli.main import main
    with pytest.raises(SystemExit) as e:
        main(["synth", *args])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out


@pytest.mark.skipif(not FULL, reason="synthesises 3 configurations (FMTFORGE_FULL=1)")
def test_curve_of_a_decoder(tmp_path):
    from fmtforge.rtl.flow.curves import curve, curve_table
    from fmtforge.rtl.units.registry import build_unit
    rows = curve(lambda s: build_unit("posit-decode", n=16, es=2, stages=s), "ice40", stages=(0, 1, 2),
                 seeds=(1,), out_dir=tmp_path)
    print(curve_table(rows))
    assert [r["stages"] for r in rows] == [0, 1, 2]
    assert rows[0]["ffs"] == 0 < rows[1]["ffs"] < rows[2]["ffs"]
    assert rows[0]["fmax_mhz"] < rows[1]["fmax_mhz"] < rows[2]["fmax_mhz"]
