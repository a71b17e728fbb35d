"""One converter's proof from its options to its report: the work behind ``fmtforge prove convert``."""

import inspect
import os

from .engine import SOLVERS, Problem, prove
from .build import build_verilog, command_line, make_options
from .specs import NoSpecification, spec_for

__all__ = ["build_verilog", "describe_outcome", "make_options", "run_convert"]





def _golden_tininess():
    from fmtforge.golden.formats.convert import convert_flags
    return "tininess" in inspect.signature(convert_flags).parameters


def _value(fmt, bits):
    from fmtforge.verif.support.batch.check import _fmt
    return _fmt(fmt, bits)


def _flags(f):
    from fmtforge.verif.support.batch.check import flag_text
    return "" if f is None else f" flags {flag_text(f)}"


def describe_outcome(problem, outcome):
    """The report's text: one result line, and for a counterexample the decoded values and the command."""
    head = (f"{problem.top}: {outcome.result.upper()} ({outcome.seconds:.2f} s, {outcome.solver}"
            + (f"; {outcome.reason}" if outcome.reason else "") + ")")
    lines = [head]
    cex = outcome.counterexample
    if cex:
        src, dst = problem.src, problem.dst
        x = f"  i = {_value(src, cex['i'])}" + (f", rand = 0x{cex['rand']:x}" if cex.get("rand") is not None else "")
        lines.append(x + ":")
        lines.append(f"    specification {_value(dst, cex['spec']['bits'])}{_flags(cex['spec']['flags'])}")
        if cex.get("rtl"):
            lines.append(f"    RTL (Icarus)  {_value(dst, cex['rtl']['bits'])}{_flags(cex['rtl']['flags'])}")
        lines.append(f"    solver model  {_value(dst, cex['model']['bits'])}{_flags(cex['model']['flags'])}")
        g = cex.get("golden") or {}
        if "error" in g:
            lines.append(f"    golden        ({g['error']})")
        elif g:
            agree = " (= RTL)" if cex.get("rtl") == g else " (= specification)" if g == cex["spec"] else ""
            lines.append(f"    golden        {_value(dst, g['bits'])}{_flags(g['flags'])}{agree}")
        if cex.get("note"):
            lines.append("  " + cex["note"])
        if cex.get("fault"):
            lines.append("  solver fault: " + cex["fault"])
    if problem.command:
        lines.append(f"reproduce: {problem.command}")
    return "\n".join(lines)


def _hex(cex, src, dst):
    """The counterexample with its patterns in hex (80-bit values do not fit JSON numbers everywhere)."""
    if not cex:
        return cex

    def h(v, w):
        return None if v is None else f"0x{int(v):0{(w + 3) // 4}x}"

    out = dict(cex, i=h(cex["i"], src.width))
    for k in ("spec", "model", "rtl", "golden"):
        if isinstance(cex.get(k), dict) and "bits" in cex[k]:
            out[k] = dict(cex[k], bits=h(cex[k]["bits"], dst.width))
    return out


def outcome_json(problem, outcome, extra=None):
    """The ``--json`` document."""
    doc = {"unit": problem.top, "options": dict(src=problem.src.name, dst=problem.dst.name, **problem.opts.as_dict()),
           "result": outcome.result, "seconds": round(outcome.seconds, 3), "solver": outcome.solver,
           "counterexample": _hex(outcome.counterexample, problem.src, problem.dst)}
    if outcome.reason:
        doc["reason"] = outcome.reason
    doc["times"] = outcome.times
    doc.update(extra or {})
    return doc


def run_convert(*, src, dst, rounding="rne", saturate=False, flags=False, ftz=False, daz=False, tininess="after",
                rand_bits=16, stages=0, solver="z3", timeout=None, verilog=None, top=None):
    """Prove one converter; returns ``(json document, report text)``. Bad input raises ValueError (one line)."""
    from fmtforge import golden
    from fmtforge.golden.formats.convert import check_flush

    src, dst = golden.lookup(src), golden.lookup(dst)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)} (bitwuzla's PyPI wheel has only the "
                         f"Float16/32/64/128 sorts; the specifications use wider ones), not {solver!r}")
    opts = make_options(rounding=rounding, saturate=saturate, flags=flags, ftz=ftz, daz=daz, tininess=tininess,
                        rand_bits=rand_bits)
    check_flush(src, dst, ftz, daz)
    if (verilog is None) != (top is None):
        raise ValueError("--verilog FILE and --top NAME go together: give both or neither")
    if verilog is not None and stages:
        raise ValueError("stages: --stages proves a generated pipeline; with --verilog give a combinational module")
    command = command_line(src.name, dst.name, opts, stages, verilog, top)
    if verilog is not None:
        if not os.path.isfile(verilog):
            raise ValueError(f"verilog: no such file {verilog!r}")
        with open(verilog) as fh:
            text = fh.read()
        from fmtforge.rtl.flow.verilog import check_module_name
        check_module_name(top)
    else:
        text, top = build_verilog(src, dst, opts)
    try:
        spec = spec_for(src, dst, opts)
    except NoSpecification as e:
        from .engine import Outcome
        problem = Problem(src, dst, opts, text, top, None, command=command)
        outcome = Outcome("unknown", 0.0, solver, reason=f"no specification: {e}")
        return outcome_json(problem, outcome), describe_outcome(problem, outcome)
    problem = Problem(src, dst, opts, text, top, spec, command=command)
    from .smt import YosysError
    import z3
    try:
        outcome = prove(problem, solver=solver, timeout=timeout)
    except YosysError as e:
        raise ValueError(str(e).replace("\n", " | ")) from None
    except z3.Z3Exception as e:  # the solver could not take the query: no answer, said as such
        from .engine import Outcome
        outcome = Outcome("unknown", 0.0, solver, reason=f"z3 error: {e}")
    extra = {}
    if not _golden_tininess() and opts.flags:
        extra["note"] = "golden has no tininess option yet: it detects tininess by its old rule"
    text_out = describe_outcome(problem, outcome)
    if stages and outcome.result == "proven":
        from .stages import prove_stages
        st = prove_stages(src, dst, opts, stages, timeout=timeout)
        extra["stages"] = st
        text_out += f"\n{st['unit']}: pipeline = combinational core: {st['result'].upper()} ({st['seconds']:.2f} s, {st['method']})"
        if st["result"] != "proven":
            outcome.result = "counterexample" if st["result"] == "counterexample" else "unknown"
            outcome.reason = st.get("reason", "")
        outcome.seconds += st["seconds"]
    return outcome_json(problem, outcome, extra), text_out
