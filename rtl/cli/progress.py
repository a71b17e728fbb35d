"""Progress of a long command (``synth-all``, ``mutate all``, ``sweep``): done / total, elapsed time and an ETA.

On a terminal, one line rewritten in place (``\\r``) after every step; anywhere else (a CI log, a file, a pipe)
plain lines, one per ``every`` seconds at most plus the last one, so that a log neither floods nor falls
silent. The ETA is the remaining work at the mean rate so far: ``elapsed * (total - done) / done``.

    progress = Progress(len(jobs), "synth-all")
    for job in jobs:
        run(job)
        progress.step(job.name)      # "synth-all: 3/20 (15%), 42 s elapsed, ETA 3 min 58 s  qmac_l4 ..."
"""

import sys
import threading
import time

__all__ = ["Progress", "duration"]


def duration(seconds):
    """``seconds`` as ``"7 s"``, ``"3 min 58 s"``, ``"2 h 05 min"`` (``"?"`` when unknown)."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """A counter of ``total`` steps that reports to ``stream`` (default: stderr).

    Parameters
    ----------
    total : int
        Steps of the whole command (> 0).
    label : str
        What runs, at the head of each line.
    stream : text file, optional
        Where the lines go (default ``sys.stderr``).
    tty : bool, optional
        Terminal style (``\\r``, one line); default: ``stream.isatty()``.
    every : float
        Seconds between plain lines (not a terminal); 0 gives a line per step.
    rate : callable, optional
        ``rate(done, seconds) -> str`` appended to the line (``sweep``'s vectors per second).
    clock : callable
        Monotonic seconds (tests pass a fake clock).

    ``step`` and ``update`` may be called from several threads (``synth-all`` runs flows in a pool).
    """

    def __init__(self, total, label, *, stream=None, tty=None, every=15.0, rate=None, clock=time.monotonic):
        if total < 1:
            raise ValueError(f"total must be a positive integer, not {total}")
        self.total, self.label, self.every, self.rate, self.clock = total, label, every, rate, clock
        self.stream = sys.stderr if stream is None else stream
        self.tty = self._isatty(self.stream) if tty is None else tty
        self.done = 0
        self.t0 = self.last = clock()
        self._lock = threading.Lock()
        self._width = 0  # length of the line on the terminal, to blank a longer one's tail

    @staticmethod
    def _isatty(stream):
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    def line(self, note=""):
        """The report of the current state (without ``\\r`` or newline)."""
        elapsed = self.clock() - self.t0
        eta = elapsed * (self.total - self.done) / self.done if self.done else None
        text = (f"{self.label}: {self.done}/{self.total} ({100 * self.done // self.total}%), "
                f"{duration(elapsed)} elapsed, "
                + ("done" if self.done >= self.total else f"ETA {duration(eta)}"))
        if self.rate is not None:
            text += f", {self.rate(self.done, elapsed)}"
        return text + (f"  {note}" if note else "")

    def step(self, note=""):
        """One more step done (``note``: what just finished)."""
        with self._lock:
            self._report(self.done + 1, note)

    def update(self, done, note=""):
        """``done`` steps are done (monotonic; clipped to ``total``)."""
        with self._lock:
            self._report(done, note)

    def message(self, text):
        """A line of its own (a unit's result, say): on a terminal, above the progress line, redrawn below it."""
        with self._lock:
            if self.tty and self._width:
                redraw = self.line()
                self.stream.write("\r" + text.ljust(self._width) + "\n" + redraw)
                self._width = len(redraw)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def _report(self, done, note):
        self.done = min(max(done, self.done), self.total)
        now = self.clock()
        final = self.done >= self.total
        if not self.tty and not final and now - self.last < self.every:
            return
        self.last = now
        text = self.line(note)
        if self.tty:
            pad = max(self._width - len(text), 0)
            self._width = 0 if final else len(text)
            self.stream.write("\r" + text + " " * pad + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
