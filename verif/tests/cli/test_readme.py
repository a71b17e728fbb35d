"""The README's Python examples run as written (its quick start is checked by CI itself)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_example_runs(k):
    exec(compile(BLOCKS[k], f"README.md example {k}", "exec"), {})


def test_readme_units_table_is_the_registry_s():
    from fmtforge.rtl.units.registry import units_table
    text = README.read_text()
    start, end = text.index("<!-- units-table"), text.index("<!-- /units-table -->")
    assert text[start:end].split("\n", 1)[1] == units_table(), "README's units table is stale: paste `fmtforge units --markdown`"
