"""What the batch lane's simulators share: turning a unit into (Verilog, top, ports), and a build cache keyed
by content whose entries appear atomically.

Cache layout: ``sim_build/batch/<kind>/<top>-<key>/`` (``$FMTFORGE_BATCH_DIR`` in place of sim_build/batch when
set) where ``key`` is a SHA-256 over everything the build depends on (the Verilog text, the generated bench,
tool versions and flags). A build runs in a temporary
directory beside the entry and is renamed into place when it succeeded, so a reader never sees half an entry;
an ``flock`` on ``<entry>.lock`` makes a second process (pytest-xdist worker) wanting the same entry wait for
the first instead of building it again.
"""

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmtforge.rtl.flow.wrapper import unit_ports

from fmtforge.verif.support.sim.runner import SIM_BUILD

__all__ = ["BATCH_DIR", "Build", "BatchUnit", "buffer_dtype", "cached_build", "content_key", "field", "plain", "resolve",
           "words_of"]

#: The cache (FMTFORGE_BATCH_DIR overrides it: a cold build without touching the shared cache).
BATCH_DIR = Path(os.environ.get("FMTFORGE_BATCH_DIR") or SIM_BUILD / "batch")

#: Port names the lane drives and reads. Anything else (a clock, a stream handshake) means the unit is not
#: a combinational core, and evaluating it once per vector would be meaningless.
INPUT_NAMES = ("i", "rand", "mutsel")  # mutsel: the mutant selector of a mutated design (verif.support.mutants)
OUTPUT_NAMES = ("o", "flags")


@dataclass(frozen=True)
class BatchUnit:
    """A combinational unit as the lane sees it: Verilog text, top module name, ports (declaration order),
    and the golden formats of ``i`` and ``o`` when known (for decoded mismatch reports)."""
    verilog: str
    top: str
    ports: tuple
    src: object = None
    dst: object = None

    def port(self, name):
        """The port called ``name`` (escaped Verilog names match without their backslash), or None."""
        return next((p for p in self.ports if plain(p.name) == name), None)

    @property
    def inputs(self):
        return [p for p in self.ports if p.direction == "input"]

    @property
    def outputs(self):
        return [p for p in self.ports if p.direction == "output"]


def plain(name):
    """A port name without Verilog's escape (``\\rand`` -> ``rand``)."""
    return name.removeprefix("\\")


def buffer_dtype(port):
    """The numpy element type of a port's buffer: uint64 for inputs and for ports over 64 bits (as words), else
    the narrowest unsigned type that holds the output (golden's convention for patterns of that width)."""
    if port.direction == "input" or port.width > 64:
        return np.dtype(np.uint64)
    return next(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                if port.width <= 8 * np.dtype(t).itemsize)


def resolve(unit):
    """A :class:`BatchUnit` from an Amaranth component with ``.name`` or a ``(verilog_text, top)`` pair.

    Raises ValueError when the unit has ports other than ``i``/``rand`` in and ``o``/``flags`` out. Ports may be
    of any width (several 64-bit words per vector beyond 64 bits; see :func:`field`).
    """
    if isinstance(unit, BatchUnit):
        return unit
    if isinstance(unit, tuple):
        verilog, top = unit
        src = dst = None
    else:
        from fmtforge.rtl.flow import to_verilog
        top = unit.name
        verilog = to_verilog(unit, top)
        src, dst = getattr(unit, "src", None), getattr(unit, "dst", None)
    ports = tuple(unit_ports(verilog, top))
    for p in ports:
        names = INPUT_NAMES if p.direction == "input" else OUTPUT_NAMES
        if plain(p.name) not in names:
            raise ValueError(f"{top}: port {p.name!r} ({p.direction}) is not one the batch lane drives; it takes "
                             f"combinational units with inputs {'/'.join(INPUT_NAMES)} and outputs "
                             f"{'/'.join(OUTPUT_NAMES)} (use the cocotb benches for clocked units)")
    if not any(plain(p.name) == "i" for p in ports) or not any(plain(p.name) == "o" for p in ports):
        raise ValueError(f"{top}: the batch lane needs an input port i and an output port o")
    return BatchUnit(verilog, top, ports, src, dst)


def content_key(*parts):
    """A short SHA-256 hex digest of the text parts (NUL-separated, so ("ab", "c") != ("a", "bc"))."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


@dataclass(frozen=True)
class Build:
    """A cache entry: its directory, whether this call built it, and how long the build took (0 when cached)."""
    path: Path
    built: bool
    seconds: float


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100]


def cached_build(kind, top, key, builder, marker):
    """The entry ``sim_build/batch/<kind>/<top>-<key>/``, built by ``builder(tmpdir)`` when missing.

    ``marker`` is the file name whose presence makes an entry complete (the last thing a build writes).
    ``builder`` raises on failure; the temporary directory is then kept under ``<kind>/failed/`` for its logs
    and the exception propagates.
    """
    base = BATCH_DIR / kind
    base.mkdir(parents=True, exist_ok=True)
    final = base / f"{_safe(top)}-{key}"
    if (final / marker).exists():
        return Build(final, False, 0.0)
    with open(base / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (final / marker).exists():  # another process built it while this one waited
            return Build(final, False, 0.0)
        for stale in base.glob(f".{final.name}-*"):  # left by a build killed mid-way (this lock is held now)
            shutil.rmtree(stale, ignore_errors=True)
        start = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=base))
        try:
            builder(tmp)
        except BaseException as exc:
            failed = base / "failed" / final.name
            shutil.rmtree(failed, ignore_errors=True)
            failed.parent.mkdir(exist_ok=True)
            os.replace(tmp, failed)
            if isinstance(exc, RuntimeError):  # a tool failed: point its message at where the logs now are
                raise RuntimeError(str(exc).replace(str(tmp), str(failed))) from None
            raise
        if final.exists():  # an entry without its marker: a build interrupted before this lock existed
            shutil.rmtree(final)
        os.rename(tmp, final)
        return Build(final, True, time.perf_counter() - start)


def words_of(x, width, name="patterns"):
    """Patterns wider than 64 bits (an array of Python ints) as ``(n, ceil(width / 64))`` uint64, low word first.

    Raises ValueError for a negative pattern or one that does not fit in ``width`` bits.
    """
    nw = (width + 63) // 64
    try:  # one pass of int.to_bytes: about twice as fast as shifting object arrays word by word
        raw = b"".join([int(v).to_bytes(8 * nw, "little") for v in np.asarray(x).tolist()])
    except OverflowError:
        raise ValueError(f"{name}: a pattern is negative or does not fit in {width} bits") from None
    words = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(-1, nw)
    spare = 64 * nw - width
    if spare and len(words) and (words[:, -1] >> np.uint64(64 - spare)).any():
        raise ValueError(f"{name}: a pattern does not fit in {width} bits")
    return words


def field(words, lo, width):
    """Bits ``lo .. lo + width - 1`` of each row of ``words`` (``(n, k)`` uint64, low word first: a wide port's
    buffer) as a flat uint64 array; ``width`` <= 64. Many units side by side in one module concatenate their
    outputs into one wide port: this pulls one unit's output or flags back out, vectorised."""
    words = np.asarray(words)
    if words.ndim != 2 or words.dtype != np.uint64:
        raise TypeError(f"field needs (n, words) uint64, not {words.dtype} of shape {words.shape}")
    if not 1 <= width <= 64 or lo < 0 or lo + width > 64 * words.shape[1]:
        raise ValueError(f"field {lo}+{width} bits does not lie within {64 * words.shape[1]} bits (width 1..64)")
    q, r = divmod(lo, 64)
    v = words[:, q] >> np.uint64(r) if r else words[:, q].copy()
    if r and r + width > 64:  # the field straddles two words
        v |= words[:, q + 1] << np.uint64(64 - r)
    if width < 64:
        v &= np.uint64((1 << width) - 1)
    return v
