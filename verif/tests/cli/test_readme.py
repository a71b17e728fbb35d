"""The README's and the docs pages' Python examples run as written (the README's quick start is checked by CI
itself), and the README stays a front page."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
#: the pages the README's sections moved to (docs/amaranth.md's example runs in test_readme_amaranth.py)
PAGES = ["README.md", "docs/convert.md", "docs/posit.md", "docs/golden.md", "docs/verification.md",
         "docs/synthesis.md"]
BLOCKS = [(page, k, block) for page in PAGES
          for k, block in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.S))]


def test_readme_has_examples():
    assert sum(page == "README.md" for page, _, _ in BLOCKS) >= 1 and len(BLOCKS) >= 2


@pytest.mark.parametrize("page, k, block", BLOCKS, ids=[f"{p}-{k}" for p, k, _ in BLOCKS])
def test_example_runs(page, k, block):
    exec(compile(block, f"{page} example {k}", "exec"), {})


def test_readme_is_a_front_page():
    """At most 250 lines; every docs page it links exists, and every docs page is linked from it or from a
    page it links (no orphan page)."""
    text = README.read_text()
    assert text.count("\n") <= 250, f"README.md has {text.count(chr(10))} lines: move detail into docs/"
    links = set(re.findall(r"\]\((docs/[\w./-]+\.md)\)", text))
    assert links and all((ROOT / link).exists() for link in links), sorted(l for l in links if not (ROOT / l).exists())
    reached = set(links)
    for link in links:
        reached |= {"docs/" + m for m in re.findall(r"\]\(([\w./-]+\.md)\)", (ROOT / link).read_text())}
    pages = {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")}
    assert pages <= reached, f"docs pages no README path reaches: {sorted(pages - reached)}"


def test_readme_units_table_is_the_registry_s():
    from fmtforge.rtl.units.registry import units_table
    text = README.read_text()
    start, end = text.index("<!-- units-table"), text.index("<!-- /units-table -->")
    assert text[start:end].split("\n", 1)[1] == units_table(), "README's units table is stale: paste `fmtforge units --markdown`"
