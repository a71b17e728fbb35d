"""``fmtforge prove handshake UNIT`` and ``... all``: one unit's proof as a line, the table as a Markdown file."""

import json
import os
import time

from .harness import PROPERTIES
from .run import prove_harness
from .units import CASES, make

__all__ = ["describe", "prove_unit", "run_all"]


def prove_unit(name, options=None, depth=None, timeout=600):
    """Prove unit ``name`` (a :data:`CASES` label, or a registry name with ``options``); the result dict with
    ``unit``, ``options``, ``decl`` fields added."""
    dut, decl, resolved, reg = make(name, options)
    if depth is None:
        depth = CASES[name][2] if name in CASES and options is None else 12
    out = prove_harness(dut, decl, depth=depth, timeout=timeout)
    shown = {k: getattr(v, "name", v) for k, v in resolved.items()}
    return dict(out, unit=reg, module=dut.name, options=shown, latency=decl.latency, capacity=decl.capacity,
                why=decl.why, ready=decl.ready)


def describe(r):
    """One line: the verdict in words."""
    head = f"{r['module']}: "
    if r["result"] == "proven":
        return head + f"proven (k-induction at k = {r.get('k')}), {r['seconds']} s"
    if r["result"] == "bounded":
        return head + f"BMC clean to depth {r['depth']} (induction not closed), {r['seconds']} s"
    if r["result"] == "counterexample":
        lines = [head + f"{r.get('violated')} violated at cycle {r.get('cycle')} (cycle 1 is the reset cycle), "
                 f"{r['seconds']} s"]
        for row in r.get("trace", []):
            lines.append(f"  cycle {row['cycle']}: i.valid={row['iv']} i.payload={row['ip']} "
                         f"i.ready={row['i_ready_w']} o.valid={row['o_valid_w']} o.payload={row['o_payload_w']} "
                         f"o.ready={row['ordy']}"
                         + (f"  broken: {', '.join(row['broken'])}" if row["broken"] else ""))
        return "\n".join(lines)
    return head + f"unknown ({r.get('reason')}), {r['seconds']} s"


def run_all(output_dir="build/prove", depth=None, timeout=600, log=print):
    """Every :data:`CASES` entry, one at a time; writes ``handshake.md`` and ``handshake.json`` in
    ``output_dir``; returns the results."""
    os.makedirs(output_dir, exist_ok=True)
    results = []
    t0 = time.perf_counter()
    for label in CASES:
        r = prove_unit(label, depth=depth, timeout=timeout)
        r["label"] = label
        log(describe(r).splitlines()[0])
        results.append(r)
        _write(output_dir, results, time.perf_counter() - t0)
    return results


def _write(output_dir, results, seconds):
    rows = ["# Handshake proofs", "",
            "`fmtforge prove handshake all` (docs/prove.md, Handshake proofs). Properties: "
            + ", ".join(PROPERTIES) + "; latency from `verif/support/benches/stream_latency.py` (the docs).", "",
            "| unit | options | latency | capacity | ready rule | result | depth / k | seconds |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        opts = ", ".join(f"{k}={v}" for k, v in r["options"].items() if v not in (None, False))
        verdict = {"proven": "proven (k-induction)", "bounded": "BMC clean (induction not closed)",
                   "counterexample": f"VIOLATED: {r.get('violated')} at cycle {r.get('cycle')}"}.get(
                       r["result"], f"unknown: {r.get('reason')}")
        dk = f"k = {r.get('k')}" if r["result"] == "proven" else f"depth {r['depth']}"
        rows.append(f"| {r['label']} | {opts} | {r['latency']} | {r['capacity']} | {r['ready']} | {verdict} | "
                    f"{dk} | {r['seconds']} |")
    rows += ["", f"Total {seconds:.0f} s, one proof at a time."]
    with open(os.path.join(output_dir, "handshake.md"), "w") as fh:
        fh.write("\n".join(rows) + "\n")
    with open(os.path.join(output_dir, "handshake.json"), "w") as fh:
        json.dump(results, fh, indent=1, default=str)
