"""The README and the guides in docs/ stay true: generated parts match the
code (run `python -m config.readme`), and every link leads somewhere."""

import re

import pytest

from config.readme import README, ROOT, documents, regions, render

#: Guides other branches are adding; linked from the README's map already.
PENDING: set[str] = set()


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_regions_are_current(path):
    text = path.read_text()
    assert render(text) == text, "run: .venv/bin/python -m config.readme"


@pytest.mark.parametrize("name", sorted(regions()))
def test_each_generated_region_is_in_exactly_one_document(name):
    holders = [p for p in documents() if f"<!-- {name}:start -->" in p.read_text()]
    assert len(holders) == 1, holders


def test_readme_opens_with_the_two_commands():
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_readme_maps_every_guide():
    text = README.read_text()
    guides = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} | PENDING
    assert all(f"]({guide})" in text for guide in guides), guides


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_leads_to_a_file_and_heading(path):
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if str(linked.relative_to(ROOT)) in PENDING:
            continue
        assert linked.exists(), f"{path.name}: {target}"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{path.name}: {target}"
