"""`fmtforge plot`: the atlas data against golden (not pixels), the files written, bad input refused."""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.rtl.cli.atlas import atlas_data
from fmtforge.rtl.cli.main import main


@pytest.mark.parametrize("name", ["fp8_e4m3", "fp6_e3m2", "posit8", "int4", "nf4", "e8m0", "bf16"])
def test_every_finite_value_is_plotted(name):
    fmt = golden.lookup(name)
    v = fmt.decode(fmt.all_bits())
    d = atlas_data(fmt)
    assert d.exhaustive and set(d.values) == set(v[np.isfinite(v)])


def test_relative_precision_from_fractions():
    """fp6_e3m2 (no specials): its values from the fields, exactly, then spacing / value."""
    fmt = golden.lookup("fp6_e3m2")
    vals = set()
    for e in range(8):
        for m in range(4):
            vals.add(Fraction(m, 4) * 2 ** (1 - fmt.bias) if e == 0 else (1 + Fraction(m, 4)) * Fraction(2) ** (e - fmt.bias))
    pos = sorted(x for x in vals if x > 0)
    d = atlas_data(fmt)
    assert list(d.magnitude) == [float(x) for x in pos[:-1]]
    assert list(d.rel_precision) == [float((b - a) / a) for a, b in zip(pos, pos[1:])]
    assert d.dynamic_range_binades == pytest.approx(float(np.log2(float(pos[-1] / pos[0]))))


def test_posit_layout_shows_regime():
    assert atlas_data(golden.lookup("posit16")).layout == (
        ("sign", "0"), ("regime", "10"), ("exponent", "01"), ("fraction", "10100000000"))


@pytest.mark.parametrize("suffix, head", [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<svg")])
def test_files_are_written(tmp_path, suffix, head):
    out = tmp_path / f"atlas{suffix}"
    assert main(["plot", "posit16", "fp8_e4m3", "bf16", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(head) if suffix == ".png" else head in data[:2000] and data.rstrip().endswith(b"</svg>")


@pytest.mark.parametrize("args, message", [
    (["fp9", "-o", "x.png"], "argument FORMAT: unknown format 'fp9'"),
    (["fp32", "-o", "x.pdf"], "--output must end in .png or .svg, not 'x.pdf'"),
    (["fp32", "-o", "/proc/no/such/x.png"], "--output '/proc/no/such/x.png' cannot be written"),
    (["fp64", "-o", "x.png"], "format fp64 has 64 bits; plot draws formats of up to 32 bits"),
])
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["plot", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())
