"""``make prove``: every converter of ``make regress``'s matrix proven, flags included, sharded like sweeps.

The matrix is verif.support.campaigns.regress's (every catalog source x destination x rounding mode x saturation;
19,680 converters). A task proves ``batch`` converters of one source: their Verilog is generated as
``fmtforge generate convert`` makes it, one Yosys call turns all of them into SMT (Yosys' start-up is paid
once per task), and z3 proves each against its specification with a per-proof timeout. Tasks run on the
local process pool or on Dask (fmtforge.rtl.flow.shard.run_shards). Pairs whose specification is not written yet
are listed as "no specification" in the report, never skipped silently.

Report: ``build/prove/report.json`` (one record per converter: result, seconds, the time's parts, reason,
counterexample) and ``report.md`` (counts, proof times, counterexamples, unknowns, what has no specification).

The whole matrix is hours of CPU, so a run resumes: each task's records are appended to
``records.jsonl`` as the task finishes, and a later run with the same output directory proves only the
converters of its selection that have no record there, or only an unknown one (``fresh=True``, ``--fresh``: start over). The report
covers every record of the selection; ``runs.jsonl`` keeps each run's wall time, and the report sums them.
"""

import json
import os
import random
import statistics
import time

__all__ = ["converters", "prove_task", "run_matrix", "write_report"]


def converters(srcs=None, dsts=None, sample=1, pick=None, seed=0):
    """``[(src, dst, rounding, saturate), ...]``: regress' matrix (``sample`` K: its stratified one-in-K),
    or ``pick`` N of it drawn with ``seed``."""
    from fmtforge.verif.support.campaigns.regress import matrix
    grid = matrix(srcs=srcs, dsts=dsts, sample=sample)
    out = [(s, d, r, q) for s, cfgs in grid.items() for d, r, q in cfgs]
    if pick is not None and pick < len(out):
        out = sorted(random.Random(seed).sample(out, pick), key=out.index)
    return out


def _split_smt2(smt2):
    """{module: its SMT-LIB text} of a multi-module ``write_smt2`` output."""
    parts, name, buf = {}, None, []
    for line in smt2.splitlines(keepends=True):
        if line.startswith("; yosys-smt2-module "):
            if name:
                parts[name] = "".join(buf)
            name, buf = line.split()[-1], []
        buf.append(line)
    if name:
        parts[name] = "".join(buf)
    return parts


def prove_task(configs, timeout=600):
    """Prove converters ``configs`` (``(src, dst, rounding, saturate)``, flags on); a list of records."""
    from fmtforge import golden

    from .engine import Problem, prove
    from .build import build_verilog, make_options
    from .smt import YosysError, to_smt2
    from .specs import NoSpecification, spec_for
    records, todo = [], []
    for src, dst, rounding, saturate in configs:
        rec = {"src": src, "dst": dst, "rounding": rounding, "saturate": saturate}
        s, d = golden.lookup(src), golden.lookup(dst)
        opts = make_options(rounding=rounding, saturate=saturate, flags=True)
        try:
            spec = spec_for(s, d, opts)
        except NoSpecification as e:
            records.append(dict(rec, result="no specification", reason=str(e), seconds=0.0))
            continue
        t = time.perf_counter()
        text, top = build_verilog(s, d, opts)
        rec.update(unit=top, times={"generate": round(time.perf_counter() - t, 3)})
        todo.append((rec, Problem(s, d, opts, text, top, spec)))
    if todo:
        t = time.perf_counter()
        try:
            smt = _split_smt2(to_smt2("".join(p.verilog for _, p in todo), "%s" % todo[0][1].top, multi=True))
        except YosysError as e:
            for rec, _ in todo:
                records.append(dict(rec, result="unknown", reason=str(e)[:300], seconds=0.0))
            return records
        share = (time.perf_counter() - t) / len(todo)
        for rec, problem in todo:
            try:
                out = prove(problem, timeout=timeout, smt2=smt[problem.top])
            except Exception as e:  # one converter's failure is reported, never the end of the run
                records.append(dict(rec, result="unknown", reason=f"error: {type(e).__name__}: {str(e)[:300]}",
                                    seconds=0.0))
                continue
            rec["times"].update(yosys=round(share, 3), **{k: v for k, v in out.times.items() if k != "yosys"})
            seconds = sum(v for k, v in rec["times"].items() if k != "solve_cpu")
            records.append(dict(rec, result=out.result, reason=out.reason, seconds=round(seconds, 3),
                                counterexample=_plain(out.counterexample, problem)))
    return records


def _plain(cex, problem):
    from .run import _hex
    return _hex(cex, problem.src, problem.dst)


def _key(src, dst, rounding, saturate):
    return f"{src}|{dst}|{rounding}|{int(bool(saturate))}"


def _read_jsonl(path):
    """The records of a JSON-lines file; a line cut short by a killed run is dropped."""
    out = []
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return out


def run_matrix(output_dir="build/prove", sample=1, pick=None, seed=0, jobs=None, scheduler=None, timeout=600,
               srcs=None, dsts=None, batch=16, progress=None, fresh=False):
    """Prove the matrix (or its sample), resuming from ``output_dir/records.jsonl`` unless ``fresh``, and write
    the report; returns a summary dict with a ``line``."""
    from fmtforge.rtl.flow.shard import run_shards
    srcs = [f.name for f in srcs] if srcs else None
    dsts = [f.name for f in dsts] if dsts else None
    selection = converters(srcs, dsts, sample, pick, seed)
    if not selection:
        raise ValueError("the selection holds no converter")
    os.makedirs(output_dir, exist_ok=True)
    rec_path, runs_path = os.path.join(output_dir, "records.jsonl"), os.path.join(output_dir, "runs.jsonl")
    if fresh:
        for p in (rec_path, runs_path):
            if os.path.exists(p):
                os.remove(p)
    done = {_key(r["src"], r["dst"], r["rounding"], r["saturate"]): r for r in _read_jsonl(rec_path)}
    # an unknown (a solver error, a timeout) is tried again: a later z3 or specification may decide it
    todo = [c for c in selection if _key(*c) not in done or done[_key(*c)]["result"] == "unknown"]
    tasks = [(tuple(todo[k:k + batch]), timeout) for k in range(0, len(todo), batch)]
    run = dict(sample=sample, pick=pick, seed=seed, batch=batch, timeout=timeout, jobs=jobs or os.cpu_count(),
               scheduler=scheduler or "local", resumed_with=len(selection) - len(todo))
    t = time.perf_counter()
    if os.path.exists(rec_path) and os.path.getsize(rec_path):
        with open(rec_path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            cut = fh.read(1) != b"\n"
        if cut:  # a killed run's last line: end it, so that the next record starts a line of its own
            with open(rec_path, "a") as fh:
                fh.write("\n")
    with open(rec_path, "a") as fh:
        def keep(records):
            for r in records:
                fh.write(json.dumps(r) + "\n")
                done[_key(r["src"], r["dst"], r["rounding"], r["saturate"])] = r
            fh.flush()
        if tasks:
            run_shards(prove_task, tasks, jobs=jobs, scheduler=scheduler, progress=progress, total=len(todo),
                       count=len, on_result=keep)
    wall = time.perf_counter() - t
    with open(runs_path, "a") as fh:
        fh.write(json.dumps(dict(run, proved=len(todo), wall=round(wall, 1))) + "\n")
    runs = _read_jsonl(runs_path)
    records = [done[_key(*c)] for c in selection]
    run["runs"], run["wall_this_run"] = len(runs), round(wall, 1)
    return write_report(records, output_dir, sum(r["wall"] for r in runs), run)


def _stats(values):
    if not values:
        return {}
    v = sorted(values)
    return {"n": len(v), "median": round(statistics.median(v), 3), "p90": round(v[int(0.9 * (len(v) - 1))], 3),
            "max": round(v[-1], 3), "sum": round(sum(v), 1)}


def write_report(records, output_dir, wall, run):
    """report.json and report.md; returns the summary."""
    from fmtforge.verif.support.campaigns.regress import matrix
    total = sum(len(v) for v in matrix().values())
    counts = {}
    for r in records:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    proven = [r["seconds"] for r in records if r["result"] == "proven"]
    solve_cpu = [r["times"]["solve_cpu"] for r in records if r["result"] == "proven" and "solve_cpu" in r["times"]]
    by_src = {}
    for r in records:
        if r["result"] == "proven":
            by_src.setdefault(r["src"], []).append(r["seconds"])
    summary = {"converters": len(records), "matrix": total, "counts": counts, "wall_seconds": round(wall, 1),
               "proof_seconds": _stats(proven), "solve_cpu_seconds": _stats(solve_cpu), "by_source": {s: _stats(v) for s, v in sorted(by_src.items())},
               "run": run, "counterexample": counts.get("counterexample", 0), "unknown": counts.get("unknown", 0)}
    summary["line"] = (f"prove: {len(records)} converters: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                       + f"; wall {wall:.0f} s; median proof {summary['proof_seconds'].get('median', 0)} s")
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "report.json"), "w") as fh:
        json.dump({"summary": summary, "proofs": records}, fh, indent=1)
    with open(os.path.join(output_dir, "report.md"), "w") as fh:
        fh.write(_markdown(summary, records))
    return summary


def _markdown(summary, records):
    st = summary["proof_seconds"]
    lines = ["# Proofs of the converter matrix (`make prove`)", "",
             f"{summary['converters']} of the matrix's {summary['matrix']} converters (flags included), "
             f"run {summary['run']}; wall {summary['wall_seconds']} s.", "",
             "| result | converters |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(summary["counts"].items())]
    if st:
        lines += ["", f"Proof time per converter (generate + Yosys share + solve + replay): median {st['median']} s, "
                  f"90th percentile {st['p90']} s, max {st['max']} s, sum {st['sum']} s (wall). The solver's CPU "
                  f"time alone: {summary['solve_cpu_seconds']}.", "",
                  "| source | proofs | median s | max s |", "|---|---|---|---|"]
        lines += [f"| {s} | {v['n']} | {v['median']} | {v['max']} |" for s, v in summary["by_source"].items()]
    for kind in ("counterexample", "unknown"):
        bad = [r for r in records if r["result"] == kind]
        if bad:
            lines += ["", f"## {kind} ({len(bad)})", ""]
            for r in bad:
                cex = r.get("counterexample") or {}
                what = (f"i = {cex.get('i')}: specification {cex.get('spec')}, RTL {cex.get('rtl')}" if cex
                        else r.get("reason", ""))
                lines.append(f"- {r.get('unit', r['src'] + ' -> ' + r['dst'])} ({r['rounding']}"
                             f"{', sat' if r['saturate'] else ''}): {what}")
    nospec = [r for r in records if r["result"] == "no specification"]
    if nospec:
        lines += ["", f"## no specification ({len(nospec)})", "", "| reason | converters |", "|---|---|"]
        reasons = {}
        for r in nospec:
            reasons.setdefault(r["reason"], []).append(f"{r['src']}->{r['dst']} {r['rounding']}"
                                                       + (" sat" if r["saturate"] else ""))
        lines += [f"| {k} | {len(v)}: {', '.join(v)} |" for k, v in sorted(reasons.items())]
    lines += ["", "| converter | result | seconds |", "|---|---|---|"]
    lines += [f"| {r['src']} -> {r['dst']} {r['rounding']}{' sat' if r['saturate'] else ''} | {r['result']} | "
              f"{r['seconds']} |" for r in records]
    return "\n".join(lines) + "\n"
