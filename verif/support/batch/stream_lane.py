"""The stream batch lane: a clocked stream unit driven over numpy buffers of beats at simulator speed.

The sequential twin of :mod:`.lane`. Verilator turns the unit (ports ``clk``, ``rst``, ``i__valid``,
``i__payload``, ``i__ready``, ``o__valid``, ``o__payload``, ``o__ready`` and any other inputs) into a C++ model
once per Verilog text; a generated C++ loop then plays the driver and the monitor of
:mod:`fmtforge.verif.support.benches.stream`, cycle by cycle, with no Python in between:

- reset for a few cycles, then per cycle: offer the next input beat when the ``valid`` pattern says so, and
  keep offering it (payload and side inputs held) until the unit takes it; on idle cycles drive garbage on the
  payload and the side inputs (a xorshift stream, masked to each port's width);
- drive ``o__ready`` from the ``ready`` pattern; record every output beat taken (payload and cycle) and every
  input beat's accept cycle;
- check every cycle that an output offered and not taken is still offered, unchanged, on the next cycle (the
  first violation's cycle is reported);
- after the last input beat is accepted and the expected outputs are out, run ``tail`` more cycles with
  ``o__ready`` high and count whatever else comes out (a duplicated beat shows up there).

Side inputs (``za``, ``tensor_scale``...) come per input beat, presented with it; ``consts`` are held for the
whole run (``mutsel``: the mutant of a mutated design). Beats are ``(n, words)`` uint64, low word first.
The build reuses :mod:`.lane`'s precompiled Verilator runtime and :mod:`.build`'s content-keyed cache.
"""

import ctypes
import os
import shutil
from dataclasses import dataclass

import numpy as np

from fmtforge.rtl.flow.wrapper import unit_ports
from fmtforge.verif.support.batch import lane
from fmtforge.verif.support.batch.build import cached_build, content_key, plain

__all__ = ["StreamModel", "StreamRun", "pack_fields", "stream_model", "words_for"]

HARNESS_VERSION = 2
RUN_SYMBOL = "fmtforge_stream_run"
CLOCK, RESET = "clk", "rst"
HANDSHAKE = ("i__valid", "i__payload", "i__ready", "o__valid", "o__payload", "o__ready")


def words_for(width):
    """uint64 words per beat of a ``width``-bit port."""
    return (width + 63) // 64


def pack_fields(n, width, fields):
    """Beats ``(n, words_for(width))`` uint64 from ``fields``: ``(offset, field width, values)`` with
    ``values`` (n,) unsigned integers < 2**field width (field width <= 64), vectorised."""
    out = np.zeros((n, words_for(width)), dtype=np.uint64)
    for lo, w, values in fields:
        v = np.asarray(values, dtype=np.uint64)
        if w < 64:
            v = v & np.uint64((1 << w) - 1)
        q, r = divmod(lo, 64)
        out[:, q] |= v << np.uint64(r)
        if r and r + w > 64:
            out[:, q + 1] |= v >> np.uint64(64 - r)
    return out


def _cxx(port):
    """The member name Verilator gives a port (a double underscore is escaped as ``___05F``)."""
    return port.replace("__", "___05F")


def _set(port, src, width):
    """C++ statements driving input ``port`` from the uint64 words at ``src`` (an expression of a pointer)."""
    port = _cxx(port)
    if width <= 64:
        return [f"m->{port} = {src}[0];"]
    return [f"m->{port}[{q}] = (uint32_t)({src}[{q // 2}] >> {32 * (q % 2)});" for q in range((width + 31) // 32)]


def _get(port, dst, width):
    port = _cxx(port)
    if width <= 64:
        return [f"{dst}[0] = m->{port};"]
    out = []
    for q in range(words_for(width)):
        hi = f" | ((uint64_t)m->{port}[{2 * q + 1}] << 32)" if 2 * q + 1 < (width + 31) // 32 else ""
        out.append(f"{dst}[{q}] = (uint64_t)m->{port}[{2 * q}]{hi};")
    return out


def _junk(port, width):
    """Garbage on ``port``: fresh xorshift words, the top word masked to the port's width."""
    lines = []
    for q in range(words_for(width)):
        bits = min(64, width - 64 * q)
        mask = "~0ULL" if bits == 64 else f"0x{(1 << bits) - 1:x}ULL"
        lines.append(f"junk[{q}] = next_junk(&rng) & {mask};")
    return lines + _set(port, "junk", width)


def harness_cpp(top, widths, side, consts):
    """C++ of ``int fmtforge_stream_run(int64_t *cfg, void *const *bufs)`` (see :meth:`StreamModel.run` for the
    buffers' order)."""
    cls = f"V{top}"
    wi, wo = widths["i__payload"], widths["o__payload"]
    niw, now = words_for(wi), words_for(wo)
    drive, idle = _set("i__payload", f"(bin + cur * {niw})", wi), _junk("i__payload", wi)
    for k, name in enumerate(side):
        w = widths[name]
        drive += _set(name, f"(bs{k} + cur * {words_for(w)})", w)
        idle += _junk(name, w)
    const_set = []
    for k, name in enumerate(consts):
        const_set += _set(name, f"bc{k}", widths[name])
    decls = [f"  const uint64_t *bs{k} = static_cast<const uint64_t *>(bufs[{2 + k}]);" for k in range(len(side))]
    decls += [f"  const uint64_t *bc{k} = static_cast<const uint64_t *>(bufs[{2 + len(side) + k}]);"
              for k in range(len(consts))]
    base = 2 + len(side) + len(consts)
    nl = "\n"
    ind = "\n      "
    junk_words = max([words_for(widths[n]) for n in ("i__payload", *side)] + [1])
    return f"""\
// Stream batch harness of {top} (generated by fmtforge.verif.support.batch.stream_lane, version {HARNESS_VERSION}).
#include <cstdint>
#include <cstring>
#include <memory>
#include "{cls}__ALL.cpp"
#include "fmtforge_batch_config.h"

#if FMTFORGE_DIRECT_EVAL
// eval() is eval_step(): housekeeping, then the root's scheduling loop; after the first eval() (static and
// initial blocks, settle) the loop alone does the work: about twice as fast per cycle (see lane.py).
void {cls}___024root___eval({cls}___024root *vlSelf);
#define EVAL() {cls}___024root___eval(root)
#else
#define EVAL() m->eval()
#endif

static inline uint64_t next_junk(uint64_t *s) {{
  uint64_t x = *s;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return *s = x;
}}

// cfg: [0] input beats, [1] output beats to record, [2] cycle limit, [3] reset cycles, [4] tail cycles,
//      [5] garbage seed; results: [6] output beats seen, [7] cycles run, [8] first hold violation (-1: none),
//      [9] input beats accepted
extern "C" __attribute__((visibility("default"))) int {RUN_SYMBOL}(int64_t *cfg, void *const *bufs) {{
  const uint64_t *bin = static_cast<const uint64_t *>(bufs[0]);
  const uint8_t *vpat = static_cast<const uint8_t *>(bufs[1]);
{nl.join(decls)}
  const uint8_t *rpat = static_cast<const uint8_t *>(bufs[{base}]);
  uint64_t *bout = static_cast<uint64_t *>(bufs[{base + 1}]);
  int64_t *tout = static_cast<int64_t *>(bufs[{base + 2}]);
  int64_t *tin = static_cast<int64_t *>(bufs[{base + 3}]);
  const int64_t n_in = cfg[0], n_rec = cfg[1], limit = cfg[2], n_reset = cfg[3], tail = cfg[4];
  uint64_t rng = (uint64_t)cfg[5] | 1;
  uint64_t junk[{junk_words}];
  uint64_t seen[{now}], prev[{now}];
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<{cls}>(ctx.get(), "dut");
  auto *root = m->rootp;
  (void)root;
  {ind.join(const_set) or ";"}
  m->clk = 0; m->rst = 1; m->i___05Fvalid = 0; m->o___05Fready = 0;
  m->eval();
  for (int64_t r = 0; r < n_reset; ++r) {{ m->clk = 1; EVAL(); m->clk = 0; EVAL(); }}
  m->rst = 0;
  int64_t cur = 0, n_out = 0, t = 0, violation = -1, done_at = -1;
  bool holding = false, stalled = false;
  for (; t < limit; ++t) {{
    if (done_at < 0 && cur == n_in && n_out >= n_rec) done_at = t;
    if (done_at >= 0 && t - done_at >= tail) break;
    const bool offer = holding || (cur < n_in && vpat[t]);
    if (offer) {{
      m->i___05Fvalid = 1;
      {ind.join(drive)}
    }} else {{
      m->i___05Fvalid = 0;
      {ind.join(idle)}
    }}
    const bool ready = done_at >= 0 ? true : rpat[t] != 0;
    m->o___05Fready = ready;
    m->clk = 0;
    EVAL();
    const bool ovalid = m->o___05Fvalid;
    {ind.join(_get("o__payload", "seen", wo))}
    if (stalled && violation < 0 && (!ovalid || std::memcmp(seen, prev, sizeof seen))) violation = t;
    if (ovalid && ready) {{
      if (n_out < n_rec) {{ std::memcpy(bout + n_out * {now}, seen, sizeof seen); tout[n_out] = t; }}
      ++n_out;
    }}
    stalled = ovalid && !ready;
    std::memcpy(prev, seen, sizeof seen);
    if (offer && m->i___05Fready) {{ tin[cur++] = t; holding = false; }} else holding = offer;
    m->clk = 1;
    EVAL();
  }}
  m->final();
  cfg[6] = n_out; cfg[7] = t; cfg[8] = violation; cfg[9] = cur;
  return 0;
}}
"""


@dataclass(frozen=True)
class StreamRun:
    """What one run saw: ``out`` (recorded output beats, ``(k, words)`` uint64), ``t_out`` their cycles,
    ``t_in`` each accepted input beat's cycle, ``n_out`` every output beat seen (recorded or not, the tail's
    included), ``cycles`` run, ``violation`` the first cycle on which an offered output was withdrawn or changed
    before it was taken (-1: none), ``accepted`` input beats taken."""
    out: np.ndarray
    t_out: np.ndarray
    t_in: np.ndarray
    n_out: int
    cycles: int
    violation: int
    accepted: int


class StreamModel:
    """A clocked stream unit's batch library, built (or found in the cache) and loaded once.

    Parameters
    ----------
    verilog, top : str
        The unit's Verilog and its module (ports as in the module docstring).
    direct_eval : bool
        Call the model's scheduling loop directly after the first ``eval()`` (see :mod:`.lane`).
    """

    def __init__(self, verilog, top, consts=(), direct_eval=True):
        self.verilog, self.top = verilog, top
        ports = unit_ports(verilog, top)
        self.widths = {plain(p.name): p.width for p in ports}
        names = {plain(p.name): p.direction for p in ports}
        missing = [p for p in (CLOCK, RESET, *HANDSHAKE) if p not in names]
        if missing:
            raise ValueError(f"{top}: the stream lane needs ports {', '.join(missing)} (a clocked valid/ready unit)")
        extra_out = [p for p, d in names.items() if d == "output" and p not in HANDSHAKE]
        if extra_out:
            raise ValueError(f"{top}: outputs {', '.join(extra_out)} are not read by the stream lane")
        self.consts = tuple(consts)
        self.side = tuple(p for p, d in names.items() if d == "input" and p not in (CLOCK, RESET, *HANDSHAKE)
                          and p not in self.consts)
        lane._require_tools()
        cpp = harness_cpp(top, self.widths, self.side, self.consts)
        runtime = lane._runtime()
        key = content_key(HARNESS_VERSION, verilog, cpp, lane._verilator_version(), lane.VERILATOR_ARGS,
                          lane.MAKE_VARS, direct_eval)

        def build(tmp):
            (tmp / "fmtforge_stream.cpp").write_text(cpp)
            lane._verilate(tmp, verilog, top, ["fmtforge_stream.cpp"], [f"V{top}__ALL.cpp", "fmtforge_stream.o"],
                           direct_eval)
            obj = tmp / "obj"
            lane._run(["c++", "-shared", "-o", "libstream.so", str(obj / "fmtforge_stream.o"), str(runtime),
                       "-pthread", "-Wl,--exclude-libs,ALL"], tmp, tmp / "build.log")
            os.replace(obj / "fmtforge_batch_config.h", tmp / "fmtforge_batch_config.h")  # records direct_eval
            shutil.rmtree(obj)  # megabytes of objects; the library, sources and log stay
        self.build = cached_build("stream", top, key, build, "libstream.so")
        self._fn = getattr(ctypes.CDLL(str(self.build.path / "libstream.so")), RUN_SYMBOL)
        self._fn.argtypes = [ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_void_p)]
        self._fn.restype = ctypes.c_int

    @property
    def in_width(self):
        return self.widths["i__payload"]

    @property
    def out_width(self):
        return self.widths["o__payload"]

    def _buf(self, name, x, n):
        w = words_for(self.widths[name])
        x = np.asarray(x, dtype=np.uint64)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        if x.shape != (n, w):
            raise ValueError(f"{self.top}: {name} needs ({n}, {w}) uint64 words, not shape {x.shape}")
        return np.ascontiguousarray(x)

    def run(self, beats, valid, ready, n_out, side=None, consts=None, seed=1, reset=3, tail=16, limit=None):
        """Play ``beats`` (``(n, words)`` uint64, or flat uint64 for payloads <= 64 bits) through the unit.

        ``valid`` / ``ready``: uint8 patterns indexed by cycle (1: offer the next beat / take an output),
        at least ``limit`` long (default: their length); ``n_out``: output beats to record; ``side``: {port:
        per-beat values}; ``consts``: {port: value} held throughout; ``seed``: the garbage stream's.
        Returns a :class:`StreamRun`.
        """
        n = len(beats)
        bufs = [self._buf("i__payload", beats, n)]
        limit = min(len(valid), len(ready)) if limit is None else limit
        if len(valid) < limit or len(ready) < limit:
            raise ValueError(f"{self.top}: valid and ready patterns need {limit} cycles")
        bufs.append(np.ascontiguousarray(valid, dtype=np.uint8))
        side = side or {}
        if set(side) != set(self.side):
            raise ValueError(f"{self.top}: side inputs {sorted(self.side)} need per-beat values, got {sorted(side)}")
        bufs += [self._buf(p, side[p], n) for p in self.side]
        consts = consts or {}
        if set(consts) != set(self.consts):
            raise ValueError(f"{self.top}: consts {sorted(self.consts)} need values, got {sorted(consts)}")
        bufs += [self._buf(p, np.array([[int(consts[p]) >> (64 * q) & ((1 << 64) - 1)
                                         for q in range(words_for(self.widths[p]))]], dtype=np.uint64), 1)
                 for p in self.consts]
        bufs.append(np.ascontiguousarray(ready, dtype=np.uint8))
        out = np.zeros((n_out, words_for(self.out_width)), dtype=np.uint64)
        t_out = np.full(n_out, -1, dtype=np.int64)
        t_in = np.full(n, -1, dtype=np.int64)
        bufs += [out, t_out, t_in]
        cfg = np.array([n, n_out, limit, reset, tail, seed, 0, 0, 0, 0], dtype=np.int64)
        ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
        if self._fn(cfg.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ptrs) != 0:
            raise RuntimeError(f"{self.top}: the stream harness failed")
        got = min(int(cfg[6]), n_out)
        return StreamRun(out[:got], t_out[:got], t_in[:int(cfg[9])], int(cfg[6]), int(cfg[7]), int(cfg[8]),
                         int(cfg[9]))


_MODELS = {}


def stream_model(verilog, top, consts=()):
    """The :class:`StreamModel` of ``(verilog, top)``, loaded once per process."""
    key = (top, verilog, tuple(consts))
    if key not in _MODELS:
        _MODELS[key] = StreamModel(verilog, top, consts)
    return _MODELS[key]
