"""The README's generated parts match the code (run `python -m config.readme`)."""

from config.readme import README, render


def test_readme_generated_regions_are_current():
    text = README.read_text()
    assert render(text) == text, "run: .venv/bin/python -m config.readme"


def test_readme_opens_with_the_two_commands():
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)
