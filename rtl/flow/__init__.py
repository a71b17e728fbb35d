"""The flow: Verilog out of built components, lint, FPGA synthesis and its report.

It takes components (and their module names); it knows nothing of the unit registry or the command line.
"""

from .lint import LintError, lint
from .report import markdown_table, synth_all, synth_one
from .synth import synthesize, synthesize_seeds
from .targets import FREQ_MHZ, TARGETS, Target
from .tools import SynthError, tool_versions
from .verilog import to_verilog
from .wrapper import WRAPPER, Port, unit_ports, wrapper_verilog

__all__ = ["FREQ_MHZ", "TARGETS", "WRAPPER", "LintError", "Port", "SynthError", "Target", "lint", "markdown_table",
           "synth_all", "synth_one", "synthesize", "synthesize_seeds", "to_verilog", "tool_versions", "unit_ports", "wrapper_verilog"]
