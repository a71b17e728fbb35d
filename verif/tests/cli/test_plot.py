"""`fmtforge plot`: the atlas data against golden (not pixels), the files written, bad input refused."""

from fractions import Fraction

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden.atlas import atlas_data
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
    assert list(d.values[d.values > 0]) == [float(x) for x in pos]
    assert np.allclose(np.exp2(d.log2_magnitude), [float(x) for x in pos[:-1]], rtol=1e-12, atol=0)
    assert list(d.rel_precision) == [float((b - a) / a) for a, b in zip(pos, pos[1:])]
    assert d.dynamic_range_binades == pytest.approx(float(np.log2(float(pos[-1] / pos[0]))))


def test_posit_layout_shows_regime():
    assert atlas_data(golden.lookup("posit16")).layout == (
        ("sign", "0"), ("regime", "10"), ("exponent", "01"), ("fraction", "10100000000"))


@pytest.mark.parametrize("suffix, head", [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<svg")])
def test_files_are_written(tmp_path, suffix, head):
    out = tmp_path / f"atlas{suffix}"
    formats = ["posit16", "fp8_e4m3", "bf16"] + (["x87"] if suffix == ".png" else [])  # x87: beyond float64
    assert main(["plot", *formats, "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(head) if suffix == ".png" else head in data[:2000] and data.rstrip().endswith(b"</svg>")


@pytest.mark.parametrize("args, message", [
    (["fp9", "-o", "x.png"], "argument FORMAT: unknown format 'fp9'"),
    (["fp32", "-o", "x.pdf"], "--output must end in .png or .svg, not 'x.pdf'"),
    (["fp32", "-o", "/proc/no/such/x.png"], "--output '/proc/no/such/x.png' cannot be written"),
])
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["plot", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["fp64", "x87", "fp32", "posit32", "posit64"])
def test_wide_formats_are_sampled_exactly(name):
    """Formats wider than 16 bits are sampled: every sampled point's spacing is the exact distance to the
    next value, checked from the format's definition (floats: the spacing in a binade [2**e, 2**(e+1)) is
    2**(e - frac_bits), below the normal range 2**(emin - frac_bits); posits: n - 3 - es fraction bits under
    the regime 10, one fewer under 110, and coarser steps far from 1), and the range ends are the format's
    exact extremes (x87's beyond float64: 2**-16445 .. 2**16384)."""
    fmt = golden.lookup(name)
    d = atlas_data(fmt)
    assert not d.exhaustive and len(d.log2_magnitude) > 4000
    assert d.log2_max == pytest.approx(float(np.log2(float(fmt.max))) if name != "x87" else 16384.0, abs=1e-9)
    lo = fmt.min_subnormal or fmt.min_normal
    assert d.log2_min == pytest.approx(np.log2(float(lo)) if name != "x87" else -16445.0)
    assert d.dynamic_range_binades == pytest.approx(d.log2_max - d.log2_min)
    x = d.log2_magnitude
    if fmt.kind == "float":
        # relative step at x: 2**(e - frac_bits) / x, e = floor(log2 x) clipped to emin; float64's log2 of a
        # value within an ulp of a power of two may round onto it, so either neighbouring binade is accepted
        def want(e):
            return np.exp2(np.maximum(e, fmt.emin) - fmt.frac_bits - x)
        ok = np.isclose(d.rel_precision, want(np.floor(x - 1e-9)), rtol=1e-9) | np.isclose(
            d.rel_precision, want(np.floor(x + 1e-9)), rtol=1e-9)
        assert ok.all(), f"{name}: wrong spacing at 2**{x[~ok][:4]}"
    else:
        # within [1, 2): regime 10, es bits, n - 3 - es fraction bits; in [2**4es.., ...) one bit fewer
        useed = 2 ** fmt.es
        for k, lo_k in ((0, 0), (1, useed)):  # regimes 10 and 110: binades [0, useed) and [useed, 2 useed)
            sel = (x >= lo_k + 1e-9) & (x < lo_k + useed - 1e-9)
            assert sel.sum() > 10
            n_frac = fmt.n - 3 - k - fmt.es
            assert np.allclose(d.rel_precision[sel], np.exp2(np.floor(x[sel]) - n_frac - x[sel]), rtol=1e-9)
        # tapered: coarser far from 1 than near it
        assert d.rel_precision[np.abs(x) > 50].min() > d.rel_precision[np.abs(x) < 4].max()



def test_committed_atlas_page_is_generated():
    """docs/atlas.md is exactly what `fmtforge atlas` writes (make atlas), and every figure it shows exists."""
    import re
    from pathlib import Path

    from fmtforge.rtl.cli.atlas_doc import atlas_markdown
    docs = Path(__file__).parents[3] / "docs"
    text = (docs / "atlas.md").read_text()
    assert text == atlas_markdown(), "docs/atlas.md is stale: run make atlas"
    figures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(figures) == 5 and all((docs / f).is_file() for f in figures)


def test_atlas_command_writes_the_page(tmp_path, capsys):
    out = tmp_path / "a.md"
    assert main(["atlas", "-o", str(out), "--no-figures"]) == 0
    assert out.read_text().startswith("# Format atlas\n")
    with pytest.raises(SystemExit) as e:
        main(["atlas", "-o", str(tmp_path / "a.txt")])
    assert e.value.code == 2 and "--output must end in .md, not" in capsys.readouterr().err
