"""The proof: is there an input at which a converter's RTL differs from its specification?

The RTL (generated or the user's Verilog) is loaded as SMT (:mod:`verif.prove.smt`), the specification is
built on the same input constant (:mod:`verif.prove.specs`), and the solver is asked for an input ``i`` (and
``rand``) where the output bits, or the flags when the converter has them, differ bit for bit. unsat: proven
for every input; sat: a counterexample, replayed (:mod:`verif.prove.replay`) before it is believed;
unknown or out of time: said as such.
"""

import time
from dataclasses import dataclass, field

import z3

from .options import ProveOptions
from .replay import ReplayError, concrete_spec, golden_at, simulate
from .smt import load, to_smt2

__all__ = ["Outcome", "Problem", "SOLVERS", "check_ports", "prove"]

#: Solvers this engine drives. bitwuzla's PyPI wheel has only the Float16/32/64/128 sorts, and the
#: specifications use wider sorts (exact values, unbounded exponents, x87): z3 alone is offered.
SOLVERS = ("z3",)


@dataclass
class Problem:
    """What to prove: module ``top`` of ``verilog`` converts ``src`` to ``dst`` (golden format objects) as
    ``spec`` (a PROVE_API specification function) says, under ``opts``; ``unit`` names it in reports and
    ``command`` is the command line that reruns the proof."""

    src: object
    dst: object
    opts: ProveOptions
    verilog: str
    top: str
    spec: object
    unit: str = "convert"
    command: str = ""


@dataclass
class Outcome:
    """A proof's answer: ``result`` is ``proven``, ``counterexample`` or ``unknown`` (``reason`` says why:
    the solver's reason, a timeout, or a solver fault); ``counterexample`` holds the replayed values."""

    result: str
    seconds: float
    solver: str = "z3"
    reason: str = ""
    counterexample: dict = None
    times: dict = field(default_factory=dict)

    @property
    def exit_status(self):
        return {"proven": 0, "counterexample": 1}.get(self.result, 3)


def check_ports(ports, src, dst, opts):
    """Raise ValueError unless the module has the converter's ports (README's port contract) with their
    widths: ``i`` (src width) in, ``o`` (dst width) out, ``flags`` (5) out when proving flags, ``rand`` in
    with stochastic rounding."""
    want = {"i": ("input", src.width), "o": ("output", dst.width)}
    if opts.flags:
        want["flags"] = ("output", 5)
    if opts.rounding == "stochastic":
        want["rand"] = ("input", opts.rand_bits)
    for name, (direction, width) in want.items():
        got = ports.get(name)
        if got is None:
            raise ValueError(f"the module has no {direction} port {name!r} ({width} bits); its ports: "
                             + ", ".join(f"{d} {n}[{w}]" for n, (d, w) in ports.items()))
        if got != (direction, width):
            raise ValueError(f"port {name!r} must be an {direction} of {width} bits, not an {got[0]} of {got[1]}")
    extra = [n for n, (d, _) in ports.items() if d == "input" and n not in want]
    if extra:
        raise ValueError(f"the module has inputs the converter contract does not know: {', '.join(extra)}")


def _query(design, problem):
    x = design.port("i")
    rand = design.port("rand") if problem.opts.rounding == "stochastic" else None
    out = problem.spec(problem.src, problem.dst, problem.opts, x, rand)
    differs = design.port("o") != out.bits
    if problem.opts.flags:
        if out.flags is None:
            raise ValueError(f"the specification of {problem.src.name} -> {problem.dst.name} defines no flags: "
                             "prove without --flags")
        differs = z3.Or(differs, design.port("flags") != out.flags)
    return differs


def prove(problem, solver="z3", timeout=None, smt2=None):
    """Prove ``problem`` (:class:`Problem`); ``timeout`` in seconds (None: none); ``smt2`` the module's SMT-LIB
    text when already made. Returns an :class:`Outcome`; raises ValueError for bad input (ports)."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)} (bitwuzla's wheel has only the "
                         f"Float16/32/64/128 sorts), not {solver!r}")
    t0 = time.perf_counter()
    smt2 = smt2 if smt2 is not None else to_smt2(problem.verilog, problem.top)
    t1 = time.perf_counter()
    design = load(smt2, problem.top)
    check_ports(design.ports, problem.src, problem.dst, problem.opts)
    s = z3.Solver()
    if timeout:
        s.set("timeout", int(timeout * 1000))
    s.add(design.assertions)
    s.add(_query(design, problem))
    t2, c2 = time.perf_counter(), time.process_time()
    answer = s.check()
    t3 = time.perf_counter()
    # the solver's CPU time beside its wall time: on a shared machine the wall time measures the neighbours
    times = {"yosys": round(t1 - t0, 3), "build": round(t2 - t1, 3), "solve": round(t3 - t2, 3),
             "solve_cpu": round(time.process_time() - c2, 3)}
    if answer == z3.unsat:
        return Outcome("proven", t3 - t0, solver, times=times)
    if answer == z3.unknown:
        reason = s.reason_unknown()
        if timeout and ("timeout" in reason or "canceled" in reason):
            reason = f"timeout after {timeout:g} s"
        return Outcome("unknown", t3 - t0, solver, reason=reason, times=times)
    model = s.model()
    value = {n: model.eval(c, model_completion=True).as_long() for n, c in design.consts.items()}
    cex = replay(problem, design.ports, value)
    times["replay"] = round(time.perf_counter() - t3, 3)
    seconds = time.perf_counter() - t0
    if cex["fault"]:
        return Outcome("unknown", seconds, solver, reason="solver fault: " + cex["fault"], counterexample=cex,
                       times=times)
    return Outcome("counterexample", seconds, solver, counterexample=cex, times=times)


def replay(problem, ports, value):
    """Check a model ``value`` ({port: int}) by simulation, golden and the concrete specification. Returns
    the counterexample dict; its ``fault`` is non-empty when the model does not hold up."""
    opts = problem.opts
    x, rand = value["i"], value.get("rand")
    spec_bits, spec_flags = concrete_spec(problem.spec, problem.src, problem.dst, opts, x, rand)
    cex = {"i": x, "rand": rand if opts.rounding == "stochastic" else None,
           "spec": {"bits": spec_bits, "flags": spec_flags},
           "model": {"bits": value["o"], "flags": value.get("flags") if opts.flags else None}}
    try:
        sim = simulate(problem.verilog, problem.top, ports, x, rand)
        cex["rtl"] = {"bits": sim["o"], "flags": sim.get("flags") if opts.flags else None}
    except ReplayError as e:
        cex["rtl"], cex["fault"] = None, f"the simulation could not replay it ({e})"
        return cex
    try:
        g_bits, g_flags = golden_at(problem.src, problem.dst, opts, x, rand)
        cex["golden"] = {"bits": g_bits, "flags": g_flags if opts.flags else None}
    except Exception as e:  # golden is a witness here, not the judge: its failure is reported, not fatal
        cex["golden"] = {"error": f"{type(e).__name__}: {e}"}
    same = cex["rtl"] == {"bits": spec_bits, "flags": spec_flags if opts.flags else None}
    cex["fault"] = ("the solver's model says the RTL differs from the specification at this input, but the "
                    "simulated RTL equals the specification there") if same else ""
    if not same and cex["rtl"] != cex["model"]:
        cex["note"] = "the simulated RTL differs from the solver's model of it (both differ from the specification)"
    return cex
