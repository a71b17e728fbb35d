"""The synthesis report's arithmetic (median over seeds, peer ratios, targets) and its sharding, without the
FPGA tools except where FMTFORGE_FULL=1 asks for a Dask run of the real flow."""

import operator

import pytest

from fmtforge.rtl.flow import report, shard
from fmtforge.verif.tests.conftest import FULL
from fmtforge.rtl.flow.peers import PEERS, Peer
from fmtforge.rtl.flow.tools import SynthError


def fake_run(seed, fmax, luts=40, flat=100.0):
    return dict(module="m", target="ice40", seed=seed, luts=luts, ffs=0, carries=3, dsps=0, fmax_mhz=fmax,
                flat_fmax_mhz=flat)


def test_fmax_is_the_median_of_the_seeds(monkeypatch):
    figures = {1: 120.0, 2: 90.0, 3: 101.5}
    monkeypatch.setattr(report, "synthesize_seeds", lambda c, name, target, seeds, build_dir: [
        fake_run(seed, figures[seed], flat=seed * 10.0) for seed in seeds])
    row = report.synth_one("convert", {"src": "fp32"}, lambda: (None, "m"), "ice40", out_dir="unused")
    assert row["seeds"] == [1, 2, 3] and row["fmax_seeds"] == [120.0, 90.0, 101.5]
    assert row["fmax_mhz"] == 101.5 and row["flat_fmax_mhz"] == 20.0  # medians, not the first or the best
    assert row["luts"] == 40 and "seed" not in row and row["options"] == {"src": "fp32"}


def test_area_must_not_depend_on_the_seed(monkeypatch):
    monkeypatch.setattr(report, "synthesize_seeds", lambda c, name, target, seeds, build_dir: [
        fake_run(seed, 100.0, luts=40 + seed) for seed in seeds])
    with pytest.raises(SynthError, match="luts differs between seeds"):
        report.synth_one("convert", {}, lambda: (None, "m"), "ice40", out_dir="unused")


def test_fmax_medians_skip_seeds_without_a_figure(monkeypatch):
    """A tool that timed no path for a seed (Gowin's nextpnr-himbaechel, sometimes) gives None: the median is
    over the others, None when no seed has one, and the table prints n/a."""
    figures = {1: None, 2: 90.0, 3: 110.0}
    monkeypatch.setattr(report, "synthesize_seeds", lambda c, name, target, seeds, build_dir: [
        fake_run(seed, figures[seed], flat=figures[seed]) for seed in seeds])
    row = report.synth_one("convert", {}, lambda: (None, "m"), "gowin-gw1n9", out_dir="unused")
    assert row["fmax_mhz"] == 100.0 and row["fmax_seeds"] == [None, 90.0, 110.0]
    table = dict(lut4_equiv=40, wrapper_luts=1, wrapper_ffs=2, total_luts=41, flat_total_luts=41)
    assert "n/a / 90.0 / 110.0" in report.markdown_table([{**row, **table}])
    figures.update({2: None, 3: None})
    row = report.synth_one("convert", {}, lambda: (None, "m"), "gowin-gw1n9", out_dir="unused")
    assert row["fmax_mhz"] is None and "| n/a |" in report.markdown_table([{**row, **table}])


@pytest.mark.parametrize("seeds", [(), (1, -2), (True,)])
def test_bad_seeds(seeds):
    with pytest.raises(ValueError, match="seeds must be"):
        report.synth_one("convert", {}, lambda: (None, "m"), "ice40", seeds=seeds)


def row(module, options, luts, fmax, target="ice40"):
    return dict(unit="convert", options=options, module=module, target=target, luts=luts, fmax_mhz=fmax)


def test_peer_comparison_ratios_targets_and_like_for_like():
    peer = Peer("convert", dict(src="fp32", dst="fp8_e4m3", saturate=True), "best peer", 45, 105.6, "flushes",
                like=dict(ftz=True), target_luts=45, target_fmax_mhz=100)
    missing = Peer("convert", dict(src="fp32", dst="posit16"), "p", 130, 62.0, "truncates", target_luts=130)
    opts = dict(src="fp32", dst="fp8_e4m3", saturate=True)
    rows = [row("exact", opts, 42, 111.9), row("ftz", {**opts, "ftz": True}, 36, 120.0),
            row("exact_ecp5", opts, 1, 999.0, target="ecp5")]
    e, m = report.comparison_rows(rows, peers=(peer, missing))
    assert (e["module"], e["area_ratio"], e["fmax_ratio"], e["met"]) == ("exact", round(42 / 45, 2),
                                                                         round(111.9 / 105.6, 2), True)
    assert (e["like_module"], e["like_area_ratio"], e["like_fmax_ratio"]) == ("ftz", 0.8, round(120 / 105.6, 2))
    assert "luts" not in m and "met" not in m  # no row for it: reported as not synthesised
    text = report.comparison_table([e, m])
    assert "| exact | 42 | 111.9 | best peer | 45 | 105.6 | flushes |" in text and "--ftz: 36 LUT4" in text
    assert "not synthesised" in text
    slow = report.comparison_rows([row("exact", opts, 42, 99.0)], peers=(peer,))[0]
    assert slow["met"] is False and "**no**" in report.comparison_table([slow])


def test_every_peer_of_the_issue_is_listed():
    assert {(p.unit, tuple(sorted(p.options.items())), p.name) for p in PEERS} >= {
        ("convert", (("dst", "fp8_e4m3"), ("saturate", True), ("src", "fp32")), "best peer"),
        ("convert", (("dst", "bf16"), ("src", "fp32")), "HardFloat")}
    assert all(p.luts > 0 and p.fmax_mhz > 0 for p in PEERS)


def test_run_all_in_process_and_in_local_processes():
    items = [(k, 10 * k) for k in range(5)]
    want = [11 * k for k in range(5)]
    assert shard.run_all(operator.add, items, workers=1) == want
    assert shard.run_all(operator.add, items, workers=2) == want  # a spawned pool: order kept
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        shard.run_all(operator.add, items, workers=0)


NEEDS_FULL = pytest.mark.skipif(not FULL, reason="a Dask cluster (~15 s): FMTFORGE_FULL=1")


@NEEDS_FULL
def test_run_all_on_dask():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert shard.run_all(operator.mul, [(k, k) for k in range(6)], scheduler=client) == [k * k for k in range(6)]


@NEEDS_FULL
def test_synth_all_on_a_dask_cluster(tmp_path):
    import distributed
    from fmtforge.rtl.cli.synth import synth_jobs
    jobs = synth_jobs([("convert", dict(src="bf16", dst="fp32")), ("convert", dict(src="fp8_e4m3", dst="bf16"))])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        rows = report.synth_all(jobs, ("ice40",), out_dir=tmp_path, seeds=(1,), scheduler=cluster.scheduler_address)
    assert [r["module"] for r in rows] == ["convert_bf16_to_fp32_rne", "convert_fp8_e4m3_to_bf16_rne"]
    assert all(r["luts"] is not None and r["fmax_mhz"] > 0 for r in rows)
    assert "## Beside the peers" in (tmp_path / "report.md").read_text()
