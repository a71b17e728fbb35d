"""The regression's own score: Yosys mutants of a unit run against the regression's vectors for that unit.

For each scored unit (:data:`SCORED`): every mutant lives in one design (:mod:`.mutants`), built once by
the batch lane; each mutant runs on exactly the vectors ``make test`` checks that unit with
(:func:`regression_vectors`); a mutant whose outputs (or flags) differ from golden somewhere is *killed*.
A survivor is then classified. A converter's survivor is proved against the independent specification
(:mod:`.mutate_spec`, the engine of ``fmtforge prove``): *equivalent* when it meets it at every input, else
*killable*, with the replayed input. Where that proof gives no answer (a timeout), and for the requantizer,
which has no specification: *equivalent* when it computes the original's function (exhaustive simulation for
sources of <= 16 bits, else ``miter -equiv`` + ``sat -prove``), else *killable*, with the input SAT found.
``score = killed / (killed + killable)``; a survivor that SAT cannot decide within its timeout (and that a
fresh random probe does not kill either) is reported as *undecided*, outside the score.

The stream units (``Scored.stream``: one configuration of each, :data:`.mutate_stream.STREAM_SCORED`) go through
the stream batch lane instead, their survivors through Yosys' structural equivalence passes and then a
sequential miter of what the stream bench observes (:mod:`.mutate_stream`).
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fmtforge import golden

from fmtforge.verif.support.batch.lane import BatchModel
from fmtforge.verif.support.batch.build import resolve
from fmtforge.verif.support.campaigns.mutants import CTRL, make_mutants, prove_equivalent
from fmtforge.verif.support.campaigns.mutate_spec import prove_mutant
from fmtforge.verif.support.campaigns.mutate_stream import STREAM_SCORED, mutate_stream_unit
from fmtforge.verif.support.sim.runner import SIM_BUILD
from fmtforge.verif.support.vectors.patterns import describe, seed

__all__ = ["SCORED", "Scored", "mutate_unit", "regression_vectors", "write_report"]


@dataclass(frozen=True)
class Scored:
    """A unit the mutation study scores: its registry name and options, or ``"requant"`` (the qmac's
    requantize datapath as one combinational core). ``stream``: a clocked stream unit, scored through the
    stream batch lane (:mod:`.mutate_stream`; ``unit`` then names its stream case, ``"nvfp4"`` included)."""
    label: str
    unit: str
    options: dict = field(default_factory=dict)
    stream: bool = False


SCORED = (
    Scored("fp32 -> bf16", "convert", dict(src="fp32", dst="bf16", flags=True)),
    Scored("fp32 -> fp8_e4m3 sat", "convert", dict(src="fp32", dst="fp8_e4m3", saturate=True, flags=True)),
    Scored("fp32 -> posit16", "convert", dict(src="fp32", dst="posit16", flags=True)),
    Scored("posit16 -> fp32", "convert", dict(src="posit16", dst="fp32", flags=True)),
    Scored("fp64 -> fp32", "convert", dict(src="fp64", dst="fp32", flags=True)),
    Scored("posit32 decode", "convert", dict(src="posit32", dst="fp64", flags=True)),
    Scored("requantize (gemmlowp)", "requant", dict(mode="gemmlowp")),
) + tuple(Scored(label, name, options, stream=True) for label, name, options in STREAM_SCORED)


def _component(s):
    if s.unit == "requant":
        from fmtforge.rtl.units.requant import RequantCore
        return RequantCore(**s.options)
    from fmtforge.rtl.units.registry import build_unit
    return build_unit(s.unit, **s.options)[0]


def regression_vectors(s):
    """The inputs ``make test`` checks unit ``s`` with (verif/tests/rtl/test_batch.py draws on the same)."""
    from fmtforge.verif.support.vectors.sets import requant_vectors, vectors_for
    if s.unit == "requant":
        return requant_vectors()
    return vectors_for(s.options["src"], s.options["dst"])


def _golden(s, x):
    if s.unit == "requant":
        from fmtforge.verif.support.vectors.sets import requant_golden
        return requant_golden(x, **s.options), None
    o = s.options
    return golden.convert_flags(x, o["src"], o["dst"], o.get("rounding", "rne"), o.get("saturate", False))


def _run(m, x, k):
    """Outputs and flags of mutant ``k`` (0: the original) over inputs ``x``."""
    return m.run(x, consts={CTRL: k})


def _killed(m, x, k, want, want_flags, chunk=1 << 16):
    """Whether mutant ``k`` differs from golden on some input of ``x``: chunk by chunk, growing, stopping at
    the first difference (most mutants die in the first chunk; survivors run every vector)."""
    lo = 0
    while lo < len(x):
        hi = min(lo + chunk, len(x))
        got, got_flags = _run(m, x[lo:hi], k)
        if np.any(_differs(got, got_flags, want[lo:hi], None if want_flags is None else want_flags[lo:hi])):
            return True
        lo, chunk = hi, chunk * 4
    return False


def _differs(got, got_flags, want, want_flags):
    bad = np.asarray(got != want) if got.dtype != object else np.array([int(a) != int(b) for a, b in zip(got, want)])
    if want_flags is not None and got_flags is not None:
        bad = bad | (got_flags.astype(np.uint8) != want_flags)
    return bad


def _probe(s, m, k, n, count=1 << 18):
    """An input on which mutant ``k`` differs from golden among ``count`` fresh random inputs, or None."""
    from fmtforge.verif.support.vectors.patterns import random_width
    width = m.unit.port("i").width
    x = random_width(width, count, np.random.default_rng([seed(), k, 17]))
    if s.unit == "requant":
        from fmtforge.verif.support.vectors.sets import requant_vectors
        x = requant_vectors(n_random=1 << 16)[-(1 << 16):]
    want, want_flags = _golden(s, x)
    got, got_flags = _run(m, x, k)
    bad = np.nonzero(_differs(got, got_flags, want, want_flags))[0]
    return int(x[bad[0]]) if len(bad) else None


def mutate_unit(s, count=200, mutant_seed=1, workdir=None, log=print):
    """Score unit ``s`` on ``count`` mutants; returns the report row (see the module docstring)."""
    if s.stream:
        return mutate_stream_unit(s.label, s.unit, s.options, count=count, mutant_seed=mutant_seed, workdir=workdir,
                                  log=log)
    t = time.perf_counter()
    comp = _component(s)
    from fmtforge.rtl.flow import to_verilog
    top = comp.name
    d = Path(workdir or SIM_BUILD / "mutate" / f"{top}_n{count}_s{mutant_seed}")
    muts = make_mutants(to_verilog(comp, top), top, count, mutant_seed, d)
    m = BatchModel(resolve((muts.verilog, top)))
    x = regression_vectors(s)
    want, want_flags = _golden(s, x)
    got, got_flags = _run(m, x, 0)
    if np.any(_differs(got, got_flags, want, want_flags)):
        raise AssertionError(f"{top}: the unmutated design differs from golden on the regression's vectors")
    src_width = int(muts.ports[[p.name for p in muts.ports].index("i")].width)
    exhaustive = src_width <= 16 and len(np.unique(x)) == 1 << src_width
    killed, equivalent, killable, undecided = [], [], [], []
    by_spec, unanswered = 0, []
    for mut in muts.mutations:
        k = mut["k"]
        if _killed(m, x, k, want, want_flags):
            killed.append(k)
            continue
        if s.unit == "convert":  # judged against the specification, not against the original (mutate_spec)
            verdict, detail = prove_mutant(s.options, muts, k)
            if verdict is not None:
                by_spec += 1
                (equivalent if verdict == "meets" else killable).append(
                    k if verdict == "meets" else {**mut, "input": detail, "by": "specification"})
                continue
            unanswered.append({"k": k, "reason": detail})
        if exhaustive:
            equivalent.append(k)
        else:
            same, cex = prove_equivalent(muts, k, d)
            if same is None:  # SAT undecided: a wide random probe may still show a difference
                probe = _probe(s, m, k, len(x))
                if probe is not None:
                    killable.append({**mut, "input": {"i": probe}})
                else:
                    undecided.append(k)
            else:
                (equivalent if same else killable).append(k if same else {**mut, "input": cex})
    fmt_in = s.options.get("src")
    examples = []
    for mut in killable[:5]:
        value = mut["input"].get("i")
        examples.append({**mut, "input_hex": None if value is None else f"0x{value:x}",
                         "input_decoded": describe(fmt_in, value) if (fmt_in and value is not None) else None})
    # the score: killed / (killed + killable); survivors SAT could not decide in time are neither,
    # and are reported on their own (``undecided``) rather than counted either way
    score = len(killed) / max(len(killed) + len(killable), 1)
    row = {"unit": s.label, "module": top, "options": s.options, "mutants": len(muts.mutations),
           "killed": len(killed), "equivalent": len(equivalent), "killable": len(killable),
           "undecided": len(undecided), "by_spec": by_spec, "spec_unanswered": unanswered,
           "score": round(score, 4), "vectors": int(len(x)), "exhaustive": exhaustive,
           "mutant_seed": mutant_seed, "vector_seed": seed(), "examples": examples,
           "seconds": round(time.perf_counter() - t, 1)}
    log(f"{s.label}: {row['mutants']} mutants, {row['killed']} killed, {row['equivalent']} equivalent, "
        f"{row['killable']} killable, {row['undecided']} undecided ({by_spec} survivors judged by proof against the "
        f"specification, {len(unanswered)} unanswered): score {100 * score:.2f}% "
        f"({row['seconds']} s)")
    return row


def write_report(rows, out_dir="build/mutate"):
    """``report.json`` and ``report.md`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"results": rows}, indent=1) + "\n")
    lines = ["# fmtforge: mutation score of the regression", "",
             "| unit | mutants | killed | equivalent | killable | undecided | by proof vs specification | score "
             "| vectors |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    # stream units: 'equivalent' is proved by k-induction; survivors with no difference in the bounded
    # check that induction could not prove are counted under 'undecided' with a note
    for r in rows:
        bounded = f" + {r['bounded']} bounded" if r.get("bounded") else ""
        lines.append(f"| {r['unit']} | {r['mutants']} | {r['killed']} | {r['equivalent']} | {r['killable']} "
                     f"| {r['undecided']}{bounded} | {r['by_spec'] if 'by_spec' in r else '-'} "
                     f"| {100 * r['score']:.2f}% | {r['vectors']}{' (exhaustive)' if r['exhaustive'] else ''}"
                     f"{' beats (stream lane)' if r.get('lane') == 'stream' else ''} |")
    lines += ["", "by proof vs specification: survivors of a converter classified by `fmtforge prove`'s engine "
              "against the independent specification (equivalent: meets it at every input; killable: a replayed "
              "input where it does not)", ""]
    for r in rows:
        for e in r["examples"]:
            lines.append(f"- {r['unit']}: mutant {e['k']} ({e['mode']} on {e['cell']} port {e['port']} bit {e.get('bit')}) "
                         f"survives; input {e['input_hex']} {e['input_decoded'] or ''} kills it")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out
