"""The revocation feed: every revoked, not yet expired token, in the order
``(revoked_at, id)``, for resource servers that cache or validate locally.

It reads the ``token`` table only (``revoked_at`` set by any path: by id, by
value, user deletion, and whatever later revokes by setting ``revoked_at``),
so a new way of revoking needs nothing here.

The cursor problem: ``revoked_at`` is stamped when the revoking statement
runs, but the row becomes visible when its transaction commits, so rows
appear out of order. A cursor that simply moved past the newest row seen
would skip a row stamped earlier and committed later. So a cursor is a
position ``(revoked_at, id)``, and once a reader has caught up its next
cursor is held back to ``now - SCOPEGATE_REVOCATION_FEED_LAG``: every poll
re-serves the revocations of the last LAG seconds (the reader keeps a set, so
a repeat costs nothing), and a row committed at most LAG seconds after its
stamp is never skipped. Full pages advance exactly (no repeats, no loops);
only the caught-up answer steps back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, or_, select, tuple_

from app.errors import InvalidRequest
from app.models import Token, db, now

#: Largest page; a reader asks again at once while it gets full pages.
MAX_PAGE = 1000
_CURSOR = re.compile(r"^(\d{1,12})\.(\d{1,18})$")


@dataclass
class Feed:
    items: list[dict]
    next_cursor: str


def _position(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)  # from the beginning: every revoked token still unexpired
    match = _CURSOR.fullmatch(cursor)
    if not match:
        raise InvalidRequest("`since` is not a cursor this server handed out.")
    return int(match[1]), int(match[2])


def _limit(raw: str | None) -> int:
    if raw is None:
        return MAX_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidRequest(f"`limit` must be an integer from 1 to {MAX_PAGE}.")
    return int(raw)


def _after(position: tuple[int, int]):
    at, row_id = position
    if db.engine.dialect.name == "postgresql":
        # A row comparison the (revoked_at, id) index serves directly.
        return tuple_(Token.revoked_at, Token.id) > tuple_(at, row_id)
    return or_(Token.revoked_at > at, and_(Token.revoked_at == at, Token.id > row_id))


def read(since: str | None, limit: str | None = None) -> Feed:
    """One page of the feed after ``since``."""
    position, size, at = _position(since), _limit(limit), now()
    rows = db.session.execute(
        select(Token.id, Token.token_id, Token.revoked_at, Token.expires_at)
        .where(Token.revoked_at.is_not(None), _after(position), Token.expires_at > at)
        .order_by(Token.revoked_at, Token.id).limit(size + 1)
    ).all()
    more, rows = len(rows) > size, rows[:size]
    items = [{"token_id": r.token_id, "revoked_at": r.revoked_at, "exp": r.expires_at}
             for r in rows]
    if more:
        next_position = (rows[-1].revoked_at, rows[-1].id)
    else:
        # Caught up: everything stamped before the horizon has committed.
        next_position = (at - current_app.config["SCOPEGATE_REVOCATION_FEED_LAG"], 0)
    return Feed(items, f"{next_position[0]}.{next_position[1]}")
