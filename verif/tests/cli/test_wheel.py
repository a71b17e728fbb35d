"""The wheel installs under one namespace: nothing top-level but ``fmtforge`` (PyPI has unrelated ``golden``,
``rtl`` and ``verif`` distributions), and the installed command and packages work in a fresh venv."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from fmtforge.verif.support.sim.runner import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, text=True, cwd=dist)
    (whl,) = dist.glob("fmtforge-*.whl")
    return whl


def test_wheel_installs_into_a_fresh_venv(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"fmtforge"}, tops
    assert "fmtforge/golden/__init__.py" in names and "fmtforge/verif/support/sim/lint.vlt" in names

    # A fresh venv whose only view of this venv is its third-party packages (a path line, so this venv's
    # editable fmtforge finder is not activated there): numpy and amaranth, but fmtforge only from the wheel.
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    fresh_site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                check=True, capture_output=True, text=True).stdout.strip()
    Path(fresh_site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)
    installed = {p.name for p in Path(fresh_site).iterdir()}
    assert not installed & {"golden", "rtl", "verif"}, installed
    work = tmp_path / "work"  # outside the checkout: its folders must not be what gets imported
    work.mkdir()
    # the installed copy generates its own Verilog: not from this checkout's cache of it (FMTFORGE_VERILOG_CACHE,
    # which the test suite sets and a child would inherit)
    run = dict(capture_output=True, text=True, cwd=work, env=dict(os.environ, FMTFORGE_VERILOG_CACHE=""))
    p = subprocess.run([str(py), "-c", "import fmtforge.golden, fmtforge.rtl.units, fmtforge.verif.support.vectors.patterns;"
                        " print(fmtforge.golden.__file__)"], **run)
    assert p.returncode == 0 and str(fresh_site) in p.stdout, p.stderr
    p = subprocess.run([str(py), "-c", "import golden"], **run)
    assert p.returncode != 0 and "No module named 'golden'" in p.stderr
    p = subprocess.run([str(env_dir / "bin" / "fmtforge"), "generate", "convert", "--src", "fp32", "--dst", "bf16",
                        "-o", "cvt.v"], **run)
    assert p.returncode == 0, p.stderr
    assert "module convert_fp32_to_bf16_rne(" in (work / "cvt.v").read_text()

    # The installed copy simulates: qmac --dsp ecp5 instantiates MULT18X18D, whose model ships in the wheel
    # (fmtforge/rtl/flow/targets/models); the installed test module drives it on Icarus from the fresh venv.
    assert "fmtforge/rtl/flow/targets/models/MULT18X18D.v" in names
    p = subprocess.run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                        "fmtforge.verif.tests.rtl.test_qmac_seq", "-k", "ecp5 and icarus"], **run)
    assert p.returncode == 0 and " passed" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
    logs = list((work / "sim_build" / "icarus").glob("*ecp5dsp*/build.log"))
    assert logs, "the installed copy built no ecp5 qmac under the working directory's sim_build/"
    p = subprocess.run([str(py), "-c", "from fmtforge.verif.support.sim.models import MODELS; "
                        "print(MODELS['MULT18X18D'])"], **run)
    assert p.returncode == 0 and p.stdout.startswith(str(fresh_site)), p.stdout + p.stderr


def test_the_wheel_holds_the_tree(wheel):
    """pyproject.toml names no package: everything under golden/, rtl/ and verif/ ships as fmtforge's package
    data, so the wheel's files are exactly the tracked files of those folders (a new subpackage, model or waiver
    file is in without a line of configuration; a stale copy left in build/lib by an old build would show)."""
    tracked = subprocess.run(["git", "ls-files", "golden", "rtl", "verif"], cwd=ROOT, capture_output=True,
                             text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    want = {"fmtforge/" + n for n in tracked.stdout.split()}
    got = {n for n in zipfile.ZipFile(wheel).namelist() if not n.split("/")[0].endswith(".dist-info")}
    assert got == want, f"only in the wheel: {sorted(got - want)[:10]}; missing from it: {sorted(want - got)[:10]}"
