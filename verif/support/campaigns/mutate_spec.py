"""A converter mutant that survives the regression, judged by proof against the independent specification.

A survivor of :func:`.mutate.mutate_unit` agrees with golden on every regression vector. Whether it is a
correct converter is then asked of the same SMT proof ``fmtforge prove convert --verilog`` runs
(:mod:`fmtforge.verif.prove.engine`): the mutant, wrapped with its selector tied to its number, against the
specification written from the standards (:mod:`fmtforge.verif.prove.specs`), which shares nothing with golden
or the RTL. unsat: the mutant meets the specification at every input (it computes the same function as the
original, which is proven too); sat: an input at which it does not, replayed by Icarus before it is believed
(a solver model that does not replay is no answer). Where this proof finishes, no survivor is left undecided.
"""

from fmtforge import golden

from fmtforge.verif.support.campaigns.mutants import mutant_wrapper

__all__ = ["spec_problem", "prove_mutant"]


def _options(options):
    """The converter's source, destination and proof options, its defaults from the registry (one source)."""
    from fmtforge.rtl.units.registry import UNITS
    from fmtforge.verif.prove.build import make_options
    o = UNITS["convert"].resolve(options)
    opts = make_options(rounding=o["rounding"], saturate=o["saturate"], flags=o["flags"], ftz=o["ftz"],
                        daz=o["daz"], tininess=o["tininess"], rand_bits=o["rand_bits"])
    return golden.lookup(o["src"]), golden.lookup(o["dst"]), opts


def spec_problem(options, muts, k):
    """The proof problem of mutant ``k`` of a ``convert`` unit with registry ``options``, or None when the
    pair has no specification (the caller falls back to equivalence with the original)."""
    from fmtforge.verif.prove.engine import Problem
    from fmtforge.verif.prove.specs import NoSpecification, spec_for
    src, dst, opts = _options(options)
    try:
        spec = spec_for(src, dst, opts)
    except NoSpecification:
        return None
    top = f"{muts.top}_mutant{k}"
    return Problem(src, dst, opts, muts.verilog + mutant_wrapper(top, muts, k), top, spec, unit=top,
                   command=f"mutant {k} of {muts.top} (mutsel = {k} in the mutated design)")


def prove_mutant(options, muts, k, timeout=120):
    """``("meets", None)`` when mutant ``k`` meets the specification at every input; ``("violates", {"i": x})``
    with the replayed input where it does not; ``(None, reason)`` when the proof gives no answer (no
    specification, a timeout, a solver fault)."""
    from fmtforge.verif.prove.engine import prove
    problem = spec_problem(options, muts, k)
    if problem is None:
        return None, "no specification"
    import z3
    try:
        outcome = prove(problem, timeout=timeout)
    except z3.Z3Exception as e:
        return None, f"z3 error: {e}"
    if outcome.result == "proven":
        return "meets", None
    if outcome.result == "counterexample":
        cex = outcome.counterexample
        return "violates", {"i": int(cex["i"]), **({"rand": int(cex["rand"])} if cex.get("rand") is not None else {})}
    return None, outcome.reason
