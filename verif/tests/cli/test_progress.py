"""The shared progress helper (fmtforge.rtl.cli.progress): a rewritten line on a terminal, plain lines in a log,
the ETA from the mean rate so far; and that synth-all, mutate and sweep report through it."""

import io
import os
import pty

import pytest

from fmtforge.rtl.cli.progress import Progress, duration


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59.4, "59 s"), (60, "1 min 0 s"), (238, "3 min 58 s"),
                                           (7500, "2 h 05 min"), (None, "?"), (float("inf"), "?")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_plain_lines_off_a_terminal():
    """Not a terminal: whole lines, at most one per `every` seconds, and always the last one."""
    out, clock = io.StringIO(), Clock()
    p = Progress(4, "synth-all", stream=out, every=10, clock=clock)
    assert not p.tty  # a StringIO is no terminal
    clock.t += 5
    p.step("a")  # 5 s after the start: within `every`, not shown
    clock.t += 10
    p.step("b")  # 2 of 4 in 15 s: 15 s to go
    clock.t += 1
    p.step("c")
    clock.t += 4
    p.step("d")  # the last: always shown
    assert out.getvalue() == ("synth-all: 2/4 (50%), 15 s elapsed, ETA 15 s  b\n"
                              "synth-all: 4/4 (100%), 20 s elapsed, done  d\n")


def test_every_step_with_every_zero():
    out, clock = io.StringIO(), Clock()
    p = Progress(3, "mutate", stream=out, every=0, clock=clock)
    for k in range(3):
        clock.t += 60
        p.step(f"unit {k}")
    assert out.getvalue().splitlines() == ["mutate: 1/3 (33%), 1 min 0 s elapsed, ETA 2 min 0 s  unit 0",
                                           "mutate: 2/3 (66%), 2 min 0 s elapsed, ETA 1 min 0 s  unit 1",
                                           "mutate: 3/3 (100%), 3 min 0 s elapsed, done  unit 2"]


def test_terminal_rewrites_one_line():
    """A terminal: every step rewrites the line (\\r, a shorter line blanks the longer one's tail), messages go
    above it, and the last step ends the line."""
    out, clock = io.StringIO(), Clock()
    p = Progress(2, "sweep", stream=out, tty=True, every=1000, clock=clock,
                 rate=lambda n, s: f"{n / s:.1f}/s")
    clock.t += 2
    p.step("a long note")
    first = "sweep: 1/2 (50%), 2 s elapsed, ETA 2 s, 0.5/s  a long note"
    assert out.getvalue() == "\r" + first
    p.message("unit x: score 100%")
    second = "sweep: 1/2 (50%), 2 s elapsed, ETA 2 s, 0.5/s"
    assert out.getvalue() == "\r" + first + "\r" + "unit x: score 100%".ljust(len(first)) + "\n" + second
    clock.t += 2
    p.step()
    last = "sweep: 2/2 (100%), 4 s elapsed, done, 0.5/s"
    assert out.getvalue().endswith("\r" + last + " " * (len(second) - len(last)) + "\n")


def test_a_pty_is_a_terminal():
    """The style follows the stream: a pseudo-terminal gets the \\r line, a pipe plain lines."""
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as tty:
        assert Progress(1, "x", stream=tty).tty
    os.close(master)
    r, w = os.pipe()
    with os.fdopen(w, "w") as pipe:
        assert not Progress(1, "x", stream=pipe).tty
    os.close(r)


def test_update_is_monotonic_and_clipped():
    out = io.StringIO()
    p = Progress(10, "x", stream=out, every=0, clock=Clock())
    p.update(7)
    p.update(3)  # a late report from a slower shard does not move it back
    assert p.done == 7
    p.update(12)
    assert p.done == 10 and out.getvalue().splitlines()[-1].startswith("x: 10/10 (100%)")


def test_total_must_be_positive():
    with pytest.raises(ValueError, match="total must be a positive integer, not 0"):
        Progress(0, "x")


def test_synth_all_reports_each_flow(tmp_path, monkeypatch):
    """synth_all calls the progress once per (unit, target) flow; the flow itself is replaced by a stub here
    (test_synth.py runs the real one)."""
    from fmtforge.rtl.flow import report

    monkeypatch.setattr(report, "_synth_or_report", lambda unit, options, build, target, seed, out_dir:
                        dict(unit=unit, options=options, target=target, module=f"m_{unit}", error=None))
    monkeypatch.setattr(report, "tool_versions", lambda: {"yosys": "stub"})
    monkeypatch.setattr(report, "markdown_table", lambda rows: "")
    out, bars = io.StringIO(), []

    def make(total):
        bars.append(Progress(total, "synth-all", stream=out, every=0, clock=Clock()))
        return bars[-1]

    report.synth_all([("a", {}, None), ("b", {}, None)], ("ice40", "ecp5"), out_dir=tmp_path, workers=1,
                     progress=make)
    lines = out.getvalue().splitlines()
    assert len(bars) == 1 and bars[0].total == 4 and len(lines) == 4
    assert lines[-1].startswith("synth-all: 4/4 (100%)") and lines[0].endswith("m_a on ice40")


def test_mutate_all_reports_each_unit(tmp_path, monkeypatch, capsys):
    """`fmtforge mutate all` steps the helper once per scored unit, its log lines above the progress (the study
    itself is replaced by a stub: test_mutate runs the real one)."""
    from fmtforge.rtl.cli.main import main
    from fmtforge.verif.support.campaigns import mutate

    def fake_unit(s, count, mutant_seed, log):
        log(f"{s.label}: scored")
        return {"unit": s.label}

    def fake_report(rows, out_dir):
        out = tmp_path / "m"
        out.mkdir(exist_ok=True)
        (out / "report.md").write_text(f"{len(rows)} rows\n")
        return out

    monkeypatch.setattr(mutate, "mutate_unit", fake_unit)
    monkeypatch.setattr(mutate, "write_report", fake_report)
    assert main(["mutate", "all", "--count", "1", "--output-dir", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err.splitlines()
    n = len(mutate.SCORED)
    progress = [ln for ln in err if ln.startswith("mutate: ")]
    assert len(progress) == n and progress[-1].startswith(f"mutate: {n}/{n} (100%)") and " done  " in progress[-1]
    assert err.index(f"{mutate.SCORED[0].label}: scored") < err.index(progress[0])


def test_synth_all_skips_targets_a_job_is_not_written_for(tmp_path, monkeypatch):
    """A job naming its targets (qmac --dsp ecp5 instantiates ECP5 primitives) runs on those only; the flow
    itself is a stub here."""
    from fmtforge.rtl.cli.synth import synth_jobs
    from fmtforge.rtl.flow import report

    monkeypatch.setattr(report, "_synth_or_report", lambda unit, options, build, target, seed, out_dir:
                        dict(unit=unit, options=options, target=target, module=f"m_{unit}", error=None))
    monkeypatch.setattr(report, "tool_versions", lambda: {"yosys": "stub"})
    monkeypatch.setattr(report, "markdown_table", lambda rows: "")
    rows = report.synth_all([("a", {}, None, ("ecp5",)), ("b", {}, None, None), ("c", {}, None)],
                            ("ice40", "ecp5"), out_dir=tmp_path, workers=1)
    assert sorted((r["unit"], r["target"]) for r in rows) == [("a", "ecp5"), ("b", "ecp5"), ("b", "ice40"),
                                                              ("c", "ecp5"), ("c", "ice40")]
    jobs = synth_jobs([("qmac", dict(lanes=4, requant_cycles=32, dsp="ecp5")), ("qmac", dict(lanes=4))])
    assert [job[3] for job in jobs] == [("ecp5",), None]
