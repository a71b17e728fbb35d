"""Sweeps: shards are pure (local pool and a two-worker Dask cluster give the same digest), the CLI reports
and validates, and a wrong unit is caught with the input named."""

import json
import subprocess
import sys

import pytest

from fmtforge.rtl.units.registry import build_unit
from fmtforge.verif.support.sim.runner import require
from fmtforge.verif.support.campaigns.sweep import combine, make_spec, run_sweep, shard

LO, N = 0x3F7F0000, 1 << 21  # around 1.0 and the bf16 rounding of its neighbours, and 2**21 more


def spec_for(**kw):
    options = dict(src="fp32", dst="bf16", rounding="rne", saturate=False, flags=True, rand_bits=16) | kw
    component, _ = build_unit("convert", **options, stages=0)
    return make_spec(component, **options)


def test_local_pool_and_dask_cluster_agree():
    require("verilator")
    from distributed import Client, LocalCluster
    spec = spec_for()
    local = run_sweep(spec, LO, LO + N, jobs=2, shard_size=N // 4)
    assert sum(r["count"] for r in local) == N and sum(r["mismatches"] for r in local) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        remote = run_sweep(spec, LO, LO + N, scheduler=client, shard_size=N // 4)
    assert combine(remote) == combine(local)
    assert [r["digest"] for r in remote] == [r["digest"] for r in local]
    # a shard is a pure function of (spec, lo, hi): again, alone, the same digest
    assert shard(spec, LO, LO + N // 4)["digest"] == local[0]["digest"]


def test_cli_sweep_writes_the_report(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "sweep", "convert", "--src", "fp32", "--dst",
                        "fp8_e4m3", "--saturate", "--flags", "--range", f"{LO}:{LO + (1 << 20)}", "--jobs", "2",
                        "--json", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert {"unit", "options", "inputs", "mismatches", "seconds", "vectors_per_s", "digest", "shards"} <= r.keys()
    assert r["inputs"] == 1 << 20 and r["mismatches"] == 0 and r["options"]["saturate"] is True


@pytest.mark.parametrize("args, message", [
    (["--range", "5:3"], "range must satisfy 0 <= LO < HI <= 4294967296"),
    (["--range", "x"], "range must be LO:HI"),
    (["--stages", "2"], "stages must be 0 for a sweep"),
])
def test_cli_sweep_bad_input_is_one_line(args, message):
    p = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "sweep", "convert", "--src", "fp32", "--dst",
                        "bf16", *args], capture_output=True, text=True)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
