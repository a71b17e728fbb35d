"""Replaying a solver's counterexample before anyone is told about it.

A solver that answers sat gives a model: an input ``i`` (and ``rand``) at which it claims the RTL's outputs
differ from the specification's. Solvers have been seen to return models that do not satisfy their query
(TOOLCHAIN.md), so the claim is checked by three independent means: the Verilog simulated by Icarus at that
input, golden's ``convert_flags`` at that input, and the specification evaluated on the concrete input
(z3's simplifier on the constant term, not the model). Only when the simulated RTL differs from the
concretely evaluated specification is it a counterexample; otherwise it is a solver fault.
"""

import inspect
import os
import shutil
import subprocess
import tempfile

import numpy as np
import z3

__all__ = ["ReplayError", "concrete_spec", "golden_at", "simulate"]


class ReplayError(RuntimeError):
    """The simulator could not run the module."""


def concrete_spec(spec_fn, src, dst, opts, x_value, rand_value):
    """The specification's (bits, flags or None) at one concrete input, by substitution and simplification."""
    x = z3.BitVecVal(int(x_value), src.width)
    rand = z3.BitVecVal(int(rand_value or 0), opts.rand_bits) if opts.rand_bits else None
    out = spec_fn(src, dst, opts, x, rand)
    bits = z3.simplify(out.bits).as_long()
    flags = z3.simplify(out.flags).as_long() if out.flags is not None and opts.flags else None
    return bits, flags


def _tb(top, ports, x_value, rand_value):
    """A testbench applying one input and printing every output in hex."""
    decl, conn, show = [], [], []
    for name, (direction, width) in ports.items():
        if direction == "input":
            value = x_value if name == "i" else (rand_value or 0) if name == "rand" else 0
            decl.append(f"  reg [{width - 1}:0] {name} = {width}'h{int(value):x};")
        else:
            decl.append(f"  wire [{width - 1}:0] {name};")
            show.append(name)
        conn.append(f".{name}({name})")
    fmt = " ".join(f"{n}=%h" for n in show)
    return ("`timescale 1ns/1ps\nmodule fmtforge_replay_tb;\n" + "\n".join(decl)
            + f"\n  {top} dut({', '.join(conn)});\n"
            + f"  initial begin #1; $display(\"{fmt}\", {', '.join(show)}); $finish; end\nendmodule\n")


def simulate(verilog, top, ports, x_value, rand_value=None):
    """Outputs ``{port: int}`` of module ``top`` at input ``i = x_value`` (and ``rand``), by Icarus Verilog.
    An output holding x or z is reported as :class:`ReplayError` (a 4-state fault is no answer)."""
    iverilog = shutil.which("iverilog")
    if iverilog is None:
        raise ReplayError("Icarus Verilog (iverilog) is not installed: cannot replay the counterexample")
    with tempfile.TemporaryDirectory(prefix="fmtforge-replay-") as d:
        with open(os.path.join(d, "dut.v"), "w") as fh:
            fh.write(verilog)
        with open(os.path.join(d, "tb.v"), "w") as fh:
            fh.write(_tb(top, ports, x_value, rand_value))
        comp = subprocess.run([iverilog, "-g2005", "-o", "sim", "tb.v", "dut.v"], cwd=d, capture_output=True,
                              text=True)
        if comp.returncode != 0:
            raise ReplayError("iverilog: " + (comp.stdout + comp.stderr).strip().splitlines()[-1])
        run = subprocess.run(["vvp", "-n", "sim"], cwd=d, capture_output=True, text=True)
    out = {}
    for line in run.stdout.splitlines():
        for item in line.split():
            if "=" in item:
                name, value = item.split("=", 1)
                try:
                    out[name] = int(value, 16)
                except ValueError:
                    raise ReplayError(f"output {name} is {value} (x or z) at i = 0x{int(x_value):x}") from None
    missing = [n for n, (d, _) in ports.items() if d == "output" and n not in out]
    if missing:
        raise ReplayError(f"the simulation printed no value for {', '.join(missing)}: {run.stdout.strip()!r}")
    return out


def golden_at(src, dst, opts, x_value, rand_value=None):
    """golden.convert_flags at one input: (bits, flags)."""
    from fmtforge import golden
    from fmtforge.golden.formats.convert import convert_flags
    bits = src.as_bits(np.array([int(x_value)], dtype=src.dtype))
    kw = dict(ftz=opts.ftz, daz=opts.daz)
    if "tininess" in inspect.signature(convert_flags).parameters:
        kw["tininess"] = opts.tininess
    if opts.rounding == "stochastic":
        kw.update(rand=np.array([int(rand_value or 0)], dtype=np.uint64), rand_bits=opts.rand_bits)
    out, flags = golden.convert_flags(bits, src, dst, opts.rounding, opts.saturate, **kw)
    return int(out[0]), int(flags[0])
