"""Regenerate the generated regions of the README and the guides in docs/:
``python -m config.readme``.

The configuration table comes from :data:`config.SETTINGS` and the audit
actions from ``app.services.audit.ACTIONS``, so the docs cannot drift from
the code (``tests/test_readme.py`` checks it). A region is written between
``<!-- name:start -->`` and ``<!-- name:end -->`` in whichever file holds it.
"""

from __future__ import annotations

import re
from pathlib import Path

from config import markdown_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def documents() -> list[Path]:
    """Every Markdown file the generated regions may live in."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def audit_table() -> str:
    from app.services.audit import ACTIONS

    rows = ["| action | recorded when |", "| --- | --- |"]
    rows += [f"| `{name}` | {meaning} |" for name, meaning in ACTIONS.items()]
    return "\n".join(rows)


def regions() -> dict[str, str]:
    return {"config-table": markdown_table(), "audit-actions": audit_table()}


def render(text: str) -> str:
    for name, body in regions().items():
        text = re.sub(
            rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
            lambda m, body=body: f"{m.group(1)}{body}\n{m.group(2)}", text, flags=re.S)
    return text


if __name__ == "__main__":
    for path in documents():
        path.write_text(render(path.read_text()))
