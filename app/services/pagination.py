"""Keyset pagination, newest first: pages stay fast and stable as tables grow."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.errors import Unprocessable
from app.models import db
from app.services.inputs import whole_number

MAX_PAGE = 500


@dataclass
class Page:
    items: list
    next_cursor: str | None


def page_size(limit) -> int:
    if limit is None:
        return current_app.config["SCOPEGATE_PAGE_SIZE"]
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise Unprocessable(f"`limit` must be an integer from 1 to {MAX_PAGE}.")
    return limit


def parse_cursor(cursor: str) -> int:
    """The row id a cursor stands for (cursors are ids this server handed out)."""
    try:
        return whole_number(cursor, "cursor")
    except Unprocessable:
        raise Unprocessable("`cursor` is not one this server handed out.") from None


def paginate(query, id_column, cursor: str | None, limit) -> Page:
    size = page_size(limit)
    if cursor:
        query = query.where(id_column < parse_cursor(cursor))
    rows = db.session.scalars(query.order_by(id_column.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, str(rows[-1].id) if more and rows else None)
