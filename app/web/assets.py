"""``/favicon.ico``: every browser asks each site for it, on every page."""

from __future__ import annotations

from app.web import bp


@bp.get("/favicon.ico")
def favicon():
    """The dashboard's icon (SVG; browsers read the content type, not the name)."""
    return bp.send_static_file("favicon.svg")
