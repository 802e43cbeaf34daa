"""`make mutation` runs from a copy of the tree that mutmut builds from pyproject.toml.

A module added to `app/` but left out of that copy breaks the whole run at import
time (it happened with app/metrics.py), so the configuration is checked here.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def _covered(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    prefixes = CONFIG["source_paths"] + CONFIG["also_copy"]
    return any(relative == p or (p.endswith("/") and relative.startswith(p)) for p in prefixes)


def test_every_app_module_is_mutated_or_copied_for_mutmut():
    missing = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "app").rglob("*.py"))
               if not _covered(p)]
    assert missing == []


def test_every_test_file_mutmut_selects_exists():
    selected = CONFIG["pytest_add_cli_args_test_selection"]
    assert [t for t in selected if not (ROOT / t).exists()] == []
