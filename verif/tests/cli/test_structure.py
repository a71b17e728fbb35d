"""The house's shape, checked: no import cycle between fmtforge's modules (counting imports inside functions
too), dependencies pointing one way (verif -> rtl -> golden), and small files (a module over 400 lines, a test
over 600, is probably two ideas)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FLOORS = ("golden", "rtl", "verif")
FILES = sorted(p for floor in FLOORS for p in (ROOT / floor).rglob("*.py"))


def _module(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return "fmtforge." + ".".join(parts)


MODULES = {_module(p): p for p in FILES}


def _imports(path):
    """The fmtforge modules ``path`` imports, anywhere in it (``from x import y`` counts ``x.y`` when that is a
    module, else ``x``)."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in MODULES and t != name}
    return out


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_no_import_cycle():
    """Tarjan's strongly connected components: every one must be a single module. A package importing its
    own submodules (its __init__ filling a registry) is the one allowed shape, as long as no submodule
    imports the package's __init__ back."""
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v), on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    import sys
    sys.setrecursionlimit(10000)
    for v in GRAPH:
        if v not in index:
            visit(v)
    # a package's __init__ importing its own submodules while they import names from the package: allowed
    # only when every member of the cycle is that package or inside it, and the package's __init__ only
    # registers (re-exports); report anything else
    real = [c for c in cycles if not _package_registry(c)]
    assert not real, "import cycles: " + "; ".join(" <-> ".join(c) for c in real)


def _package_registry(component):
    """A cycle made only of a package's __init__ and its own submodules (``rtl.flow.targets`` importing its
    vendor modules, which register themselves through it)."""
    inits = [m for m in component if MODULES[m].name == "__init__.py"]
    return len(inits) == 1 and all(m == inits[0] or m.startswith(inits[0] + ".") for m in component)


def test_dependencies_point_down():
    order = {"golden": 0, "rtl": 1, "verif": 2}
    bad = [(a, b) for a, deps in GRAPH.items() for b in deps
           if order[b.split(".")[1]] > order[a.split(".")[1]]]
    assert not bad, f"imports pointing up a floor: {bad[:5]}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_are_small(path):
    limit = 600 if path.name.startswith("test_") else 400
    n = path.read_text().count("\n")
    assert n <= limit, f"{path.relative_to(ROOT)} has {n} lines (limit {limit}): two ideas in one file?"



def _reads_full(path):
    """Whether ``path`` reads the FMTFORGE_FULL environment variable (``environ.get("FMTFORGE_FULL")`` or
    ``environ["FMTFORGE_FULL"]``)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "FMTFORGE_FULL"):
            return True
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                and isinstance(node.slice, ast.Constant) and node.slice.value == "FMTFORGE_FULL"):
            return True
    return False


def test_one_definition_of_full():
    """FMTFORGE_FULL is read in one place (verif/tests/conftest.py); every other module imports FULL from there,
    so "the long runs" means the same everywhere."""
    readers = [p.relative_to(ROOT).as_posix() for p in FILES if _reads_full(p)]
    assert readers == ["verif/tests/conftest.py"], readers
