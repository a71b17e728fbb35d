"""Mutation score of the stream units through the stream batch lane.

Every mutant of a unit lives in one design (:func:`.mutants.make_mutants`, Yosys ``mutate`` with the ``mutsel``
input), built once by :mod:`..batch.stream_lane`, ``mutsel`` held constant for a run. Each mutant plays the
same seeded stimulus as the unmutated design (a stall-free phase, then structured and random beats in three
gap / back-pressure mixes, the same patterns and garbage for every mutant). The unmutated design is first
checked against the golden model and the documented latency; a mutant is *killed* when anything it shows
differs from that reference: an output beat's bits, its cycle, the number of beats, an input beat's accept
cycle, or an output withdrawn or changed while stalled.

A survivor first meets a fresh random stimulus (five times the beats, other seeds): a difference there makes it
*killable* (non-equivalent, missed by the scored stimulus). The rest are classified in two stages, each sound:

1. :func:`.mutants.prove_structural`: Yosys' structural equivalence passes on the original and the mutant
   (``equiv_make``, ``equiv_simple -seq 2``, ``equiv_induct -seq 2``, unproven internal wires unmatched and
   the module made again) plus the base case ``equiv_induct`` leaves out (``sat -seq 3`` from reset on every
   matched pair): all proved makes it *equivalent*. Quick (seconds) where the mutation is masked locally.
2. Else a sequential miter of what the bench observes of the two (``i__ready``, ``o__valid``, ``o__payload``
   under ``o__valid``; out of reset), reset in the first cycle (registers at their initial values, zero where
   undefined), then free inputs (``rst`` included): ``sat -seq K`` finding a difference makes it *killable*;
   else ``sat -tempinduct -tempinduct-inductonly -maxsteps K`` (from any state) holding proves it
   *equivalent*; else *bounded* (no difference in the first K cycles after reset, not proved for ever),
   counted neither as killed nor as killable; *undecided* when SAT ran past its timeout. A killable verdict
   may rest on inputs the bench never drives (a payload changed while ``i__valid`` waits, a reset mid-stream):
   it lowers the score, never raises it.

Neither stage proves a mutant equivalent whose equivalence needs an invariant of the reachable states that
induction over ``K`` cycles from any state cannot see (a register pair that only reset and the protocol keep
consistent): those stay *bounded* or *undecided*, never counted as killed or equivalent.
``score = killed / (killed + killable)``.
"""

import time
from pathlib import Path

import numpy as np

from fmtforge.verif.support.batch.stream_lane import StreamModel
from fmtforge.verif.support.campaigns.mutants import CTRL, mutant_wrapper, _yosys, make_mutants, prove_structural
from fmtforge.verif.support.sim.runner import SIM_BUILD
from fmtforge.verif.support.vectors.patterns import seed

__all__ = ["STREAM_SCORED", "mutate_stream_unit", "prove_sequential"]

#: One configuration of every stream unit (issue 23 item 3): (label, stream case name, options).
STREAM_SCORED = (
    ("qmac 4 lanes", "qmac", dict(lanes=4)),
    ("mx-quantize fp32 -> MXFP8", "mx-quantize", dict()),
    ("mx-quantize NVFP4", "nvfp4", dict(scheme="nvfp4")),
    ("mx-dequantize MXFP8 -> fp32", "mx-dequantize", dict()),
    ("w4-dequantize uint4 g128", "w4-dequantize", dict()),
    ("bfp-encode MSFP16", "bfp-encode", dict()),
    ("convert fp32 -> fp8_e4m3 sat, 2 stages", "convert", dict(src="fp32", dst="fp8_e4m3", saturate=True, flags=True,
                                                               stages=2)),
)
MIXES = ((0.0, 0.0), (0.3, 0.3), (0.05, 0.7), (0.7, 0.05))
SAT_STEPS = 8
SAT_TIMEOUT = 15  # seconds per SAT instance of stage 2 (the whole run: four times as long)


def _phases(name, o, unit, beats, rng_seed):
    from fmtforge.verif.support.benches.stream import split
    from fmtforge.verif.support.benches.stream_cases import stimulus
    rng = np.random.default_rng(rng_seed)
    s0 = stimulus(name, o, unit, rng, 300, corners=False, stall_free=True)
    return [s0] + split(stimulus(name, o, unit, rng, beats), len(MIXES) - 1), rng


def _play(model, phases, k, pattern_seed):
    from fmtforge.verif.support.benches.stream import run_batch
    rng = np.random.default_rng(pattern_seed)  # the same patterns for every mutant
    return [run_batch(model, s, rng, idle, stall, consts={CTRL: k}, garbage_seed=pattern_seed + j)
            for j, (s, (idle, stall)) in enumerate(zip(phases, MIXES))]


def _same(a, b):
    return (a.n_out == b.n_out and a.violation == b.violation and np.array_equal(a.out, b.out)
            and np.array_equal(a.t_out, b.t_out) and np.array_equal(a.t_in, b.t_in))


def _observer(muts):
    """Verilog of module ``miter``: the original and the mutant side by side on the same inputs; ``trigger``
    when, out of reset, what the stream bench observes differs: ``i__ready`` or ``o__valid`` (and any other
    output), or ``o__payload`` while the original offers it (a payload under ``o__valid`` low is no beat)."""
    ins = [p for p in muts.ports if p.direction == "input"]
    outs = [p for p in muts.ports if p.direction == "output"]
    names = {p.name for p in outs}
    lines = ["module miter(" + ", ".join(f"input [{p.width - 1}:0] {p.name}" for p in ins) + ", output trigger);"]
    for side, mod in (("g", "gold_w"), ("m", "gate_w")):
        lines += [f"  wire [{p.width - 1}:0] {side}_{p.name};" for p in outs]
        conns = [f".{p.name}({p.name})" for p in ins] + [f".{p.name}({side}_{p.name})" for p in outs]
        lines.append(f"  {mod} {side}({', '.join(conns)});")
    diffs = [f"(g_{p.name} != m_{p.name})" for p in outs]
    diffs = [f"(g_o__valid & {d})" if d.startswith("(g_o__payload ") and "o__valid" in names else d for d in diffs]
    lines.append(f"  assign trigger = ~rst & ({' | '.join(diffs)});")
    return "\n".join(lines) + "\nendmodule\n"


def prove_sequential(muts, k, workdir, steps=SAT_STEPS, timeout=60):
    """``("equivalent" | "killable" | "bounded" | "undecided", how)`` for mutant ``k`` on a sequential miter of
    what the bench observes (:func:`_observer`): ``sat -seq K`` from reset (``rst`` high in the first cycle, a
    free input like the others after it, outputs unobserved while it is high) finding a difference makes it
    killable; else ``sat -tempinduct -tempinduct-inductonly -maxsteps K`` (from any state) holding proves it
    equivalent; else bounded. Two calls: with ``-set-at 1 rst 1``, ``sat -tempinduct``'s own base case held
    reset in every step here (a mutant flipping an output bit passed it)."""
    d = Path(workdir)
    (d / f"seq{k}.v").write_text(mutant_wrapper("gold_w", muts, 0) + mutant_wrapper("gate_w", muts, k) + _observer(muts))
    prelude = f"read_verilog mutated.v\nread_verilog seq{k}.v\nhierarchy -check -top miter\nproc\nflatten\nopt_clean\n"
    (d / f"seq{k}.ys").write_text(prelude + f"sat -seq {steps} -prove trigger 0 -set-at 1 rst 1 -set-init-zero "
                                  f"-show-inputs -timeout {timeout} miter\n")
    log = _yosys(f"seq{k}.ys", d, f"seq{k}.log", timeout=timeout * 2)
    if log is None or "Interrupted SAT solver: TIMEOUT" in log:
        return "undecided", None
    if "SAT proof finished - model found: FAIL!" in log:
        return "killable", f"the miter differs within {steps} cycles after reset (log {d / f'seq{k}.log'})"
    if "SAT proof finished - no model found: SUCCESS!" not in log:
        raise RuntimeError(f"unexpected SAT result for mutant {k}; log: {d / f'seq{k}.log'}")
    (d / f"ind{k}.ys").write_text(prelude + f"sat -tempinduct -tempinduct-inductonly -prove trigger 0 "
                                  f"-maxsteps {steps} -timeout {timeout} miter\n")
    log = _yosys(f"ind{k}.ys", d, f"ind{k}.log", timeout=timeout * 2)
    if log is not None and "Induction step proven: SUCCESS!" in log:
        return "equivalent", f"sat -seq {steps} from reset + induction within {steps} steps"
    return "bounded", f"no difference in {steps} cycles after reset, induction not closed"


def mutate_stream_unit(label, name, options, count=200, mutant_seed=1, beats=20_000, workdir=None, log=print,
                       steps=SAT_STEPS, sat_timeout=SAT_TIMEOUT):
    """Score stream unit ``name`` (a stream case name) with ``options`` on ``count`` mutants; the report row."""
    from fmtforge.rtl.flow import to_verilog
    from fmtforge.rtl.units.registry import UNITS
    from fmtforge.verif.support.benches.stream import check_trace
    from fmtforge.verif.support.benches.stream_cases import registry_name, resolve
    t = time.perf_counter()
    o = resolve(name, options)
    comp = UNITS[registry_name(name)].build(**o)
    top = comp.name
    d = Path(workdir or SIM_BUILD / "mutate" / f"{top}_n{count}_s{mutant_seed}")
    muts = make_mutants(to_verilog(comp, top), top, count, mutant_seed, d)
    model = StreamModel(muts.verilog, top, consts=(CTRL,))
    vseed = seed()
    phases, _ = _phases(name, o, comp, beats, [vseed, 23])
    gold = _play(model, phases, 0, vseed)
    again = f"FMTFORGE_SEED={vseed} fmtforge mutate all"
    for j, (s, tr) in enumerate(zip(phases, gold)):  # the reference itself meets the model and the docs
        check_trace(f"{top} (unmutated) phase {j}", s, tr, j == 0, vseed, again)
    killed, equivalent, killable, bounded, undecided = [], [], [], [], []
    proofs, probe, by_struct = {}, None, 0
    for mut in muts.mutations:
        k = mut["k"]
        if not all(_same(a, b) for a, b in zip(_play(model, phases, k, vseed), gold)):
            killed.append(k)
            continue
        if probe is None:  # a survivor: five times the beats, fresh seeds, against the unmutated design
            probe = _phases(name, o, comp, 5 * beats, [vseed, 99])[0]
            probe_gold = _play(model, probe, 0, vseed + 99)
        if not all(_same(a, b) for a, b in zip(_play(model, probe, k, vseed + 99), probe_gold)):
            proofs[k] = "a fresh random stimulus (5x the beats, other seeds) shows a difference"
            killable.append({**mut, "detail": proofs[k]})
            continue
        same, detail = prove_structural(muts, k, d)
        if same:
            equivalent.append(k)
            by_struct += 1
            proofs[k] = detail
            continue
        verdict, detail = prove_sequential(muts, k, d, steps, timeout=sat_timeout)
        proofs[k] = detail
        {"equivalent": equivalent, "killable": killable, "bounded": bounded,
         "undecided": undecided}[verdict].append(k if verdict != "killable" else {**mut, "detail": detail})
    score = len(killed) / max(len(killed) + len(killable), 1)
    row = {"unit": label, "module": top, "options": options, "mutants": len(muts.mutations), "killed": len(killed),
           "equivalent": len(equivalent), "killable": len(killable), "bounded": len(bounded),
           "undecided": len(undecided), "score": round(score, 4), "vectors": int(sum(len(s.beats) for s in phases)),
           "exhaustive": False, "mutant_seed": mutant_seed, "vector_seed": vseed, "lane": "stream",
           "equivalence": f"{by_struct} by equiv_make/equiv_simple/equiv_induct -seq 2 + base case, the rest by sat "
                          f"-seq {steps} from reset + induction-only on a miter of what the bench observes "
                          f"('bounded': no difference in {steps} cycles, induction not closed)",
           "equivalent_structural": by_struct,
           "examples": [{**m, "input_hex": None, "input_decoded": m["detail"]} for m in killable[:5]],
           "seconds": round(time.perf_counter() - t, 1)}
    log(f"{label}: {row['mutants']} mutants, {row['killed']} killed, {row['equivalent']} equivalent ({by_struct} by "
        f"equiv_*), {row['bounded']} bounded ({steps} cycles), {row['killable']} killable, {row['undecided']} undecided: "
        f"score {100 * score:.2f}% ({row['seconds']} s)")
    return row
