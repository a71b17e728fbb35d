"""The qmac's stimulus for the one stream bench: dot products (:class:`vectors.qmac.Job`) as beats on ``i`` with
the zero points, output parameters and (without ``per_channel``) the scale on side ports, garbage wherever the
unit must not look (the padding lanes of a ragged dot product take random bits or the zero point as the job
says; z3, qmin, qmax and the scale matter only with the ``last`` beat)."""

import numpy as np

from fmtforge.verif.support.batch.stream_lane import pack_fields
from fmtforge.verif.support.benches.stimulus import Stimulus
from fmtforge.verif.support.benches.stream_latency import documented_latency
from fmtforge.verif.support.vectors.qmac import as_type, edge_jobs, long_job, random_job

__all__ = ["job_beats", "qmac_jobs", "qmac_stimulus"]

SCALE_BITS = {"bias": 32, "m0": 31, "shift": 6}


def qmac_jobs(o, rng, n, corners, stall_free):
    """Jobs of about ``n`` beats: edge jobs and one long one (``corners``), then random ones, ragged K included;
    with ``stall_free`` only dot products of at least ``requant_cycles`` beats (the unit then never refuses a
    beat, docs/qmac.md)."""
    L, N = o["lanes"], o["requant_cycles"]
    types = [(o["a_type"], o["w_type"], o["out_type"])]
    c = dict(o)
    jobs = []
    if corners and not stall_free:
        jobs += edge_jobs(c, types, rng)
        jobs.append(random_job(c, types, rng, 0, "K = 0 (padding only)"))
        jobs.append(long_job(c, types, rng, 4 * L + 1))
    beats = sum(max(1, -(-len(j.a) // L)) for j in jobs)
    while beats < n:
        if stall_free:
            K = L * int(rng.integers(N, N + 4))
        else:
            K = int(rng.integers(1, 5 * L + 1)) if rng.random() < 0.5 else L * int(rng.integers(1, 5))
        jobs.append(random_job(c, types, rng, K, "ragged" if K % L else "random"))
        beats += max(1, -(-K // L))
    return jobs


def job_beats(o, unit, jobs, rng):
    """(beats (n, words), side {port: (n,)}, index of each job's last beat)."""
    L = o["lanes"]
    off = {name: f.offset for name, f in unit.in_layout}
    ow = unit.out_shape.width
    mask = (1 << ow) - 1
    a_rows, w_rows, last, side_rows, lasts = [], [], [], [], []
    total = 0
    for job in jobs:
        K = len(job.a)
        nb = max(1, -(-K // L))
        pad = nb * L - K
        fill = np.full(pad, job.za if job.pad == "a" else job.zw, dtype=np.uint8)
        rnd = rng.integers(0, 256, pad).astype(np.uint8)
        a = np.concatenate([job.a, fill if job.pad == "a" else rnd]).reshape(nb, L)
        w = np.concatenate([job.w, fill if job.pad == "w" else rnd]).reshape(nb, L)
        a_rows.append(a)
        w_rows.append(w)
        fl = np.zeros(nb, dtype=np.uint64)
        fl[-1] = 1
        last.append(fl)
        z3, qmin, qmax = job.outs[0]
        vals = {"za": job.za, "zw": job.zw, "z3": z3 & mask, "qmin": qmin & mask, "qmax": qmax & mask,
                "bias": job.bias & 0xffffffff, "m0": job.m0, "shift": job.shift & 0x3f}
        side_rows.append((nb, vals))
        total += nb
        lasts.append(total - 1)
    a, w, fl = np.concatenate(a_rows), np.concatenate(w_rows), np.concatenate(last)
    n = len(fl)
    fields = [(off["a"] + 8 * k, 8, a[:, k]) for k in range(L)] + [(off["w"] + 8 * k, 8, w[:, k]) for k in range(L)]
    fields.append((off["last"], 1, fl))
    widths = dict(za=8, zw=8, z3=ow, qmin=ow, qmax=ow, **SCALE_BITS)
    per_beat = {}
    for name, width in widths.items():
        held = name in ("za", "zw")  # read with every beat; the others only with the last one
        col = np.concatenate([np.full(nb, v[name], dtype=np.uint64) for nb, v in side_rows])
        if not held:
            col = np.where(fl == 1, col, rng.integers(0, 1 << width, n, dtype=np.uint64))
        per_beat[name] = col
    side = {}
    for name, col in per_beat.items():
        if name in SCALE_BITS and o["per_channel"]:
            fields.append((off[name], SCALE_BITS[name], col))
        else:
            side[name] = col
    beats = pack_fields(n, unit.in_layout.size, fields)
    return beats, side, np.array(lasts, dtype=np.int64)


def job_result(o, job):
    """The contract's model (``UNITS["qmac"].model``: one dot product) of ``job``, its bit patterns read as the
    configuration's types. Only the job's own K codes are passed: a padded lane holds ``a = za`` or ``w = zw``
    and so adds nothing to the sum."""
    from fmtforge.rtl.units import UNITS
    at, wt, _ = o["a_type"], o["w_type"], o["out_type"]
    z3, qmin, qmax = job.outs[0]
    return UNITS["qmac"].need("model")(o, as_type(job.a, at), as_type(job.w, wt), za=int(as_type(job.za, at)),
                                       zw=int(as_type(job.zw, wt)), bias=job.bias, m0=job.m0, shift=job.shift,
                                       z3=z3, qmin=qmin, qmax=qmax)


def qmac_stimulus(o, unit, rng, n, corners=True, stall_free=False):
    jobs = qmac_jobs(o, rng, n, corners, stall_free)
    beats, side, lasts = job_beats(o, unit, jobs, rng)
    want = np.array([job_result(o, job) for job in jobs], dtype=np.int64)
    ow = unit.out_shape.width
    expect = (want & ((1 << ow) - 1)).astype(np.uint64).reshape(-1, 1)

    types = [(o["a_type"], o["w_type"], o["out_type"])]

    def what(k):
        da, dw = jobs[k].operands(types[0])
        exact = int(da @ dw) + jobs[k].bias
        bits = o["acc_bits"]
        acc = (exact + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))  # the accumulator wraps at acc_bits
        return jobs[k].describe(0, types, o, acc, exact)
    return Stimulus(beats, expect, lasts, np.arange(len(jobs)), documented_latency("qmac", o), what, side)
