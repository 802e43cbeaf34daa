"""Whole numbers typed by people (``limit``, ``cursor``, epoch ``since``): one
parser, so that ``²``, ``٣`` or 5,000 digits are a 422 and never reach ``int()``
(which refuses them with ``ValueError``) or a 64-bit database column."""

from __future__ import annotations

from app.errors import Unprocessable

#: The largest value a BIGINT / SQLite INTEGER holds.
INT64_MAX = 2**63 - 1


def whole_number(value: str, name: str, maximum: int = INT64_MAX) -> int:
    """``value`` (ASCII digits only) as an int from 0 to ``maximum``, else 422."""
    if (not value.isascii() or not value.isdigit() or len(value) > len(str(maximum))
            or int(value) > maximum):
        raise Unprocessable(f"`{name}` must be a whole number from 0 to {maximum}.")
    return int(value)
