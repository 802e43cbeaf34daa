"""The SQLAlchemy handle and the time convention.

Times are stored as integer epoch seconds (UTC): they compare the same way on
SQLite and PostgreSQL, need no timezone handling, and are what OAuth
responses carry (`exp`, `iat`). The admin API renders them as ISO 8601.
"""

import time
from collections.abc import Mapping
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Index, MetaData, text

# Named constraints keep migrations reproducible across databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))


def sparse_index(name: str, column: str, *more: str) -> Index:
    """An index on a column most rows leave NULL, holding only the rows that set it
    (both dialects' partial index): inserting a row without it writes no entry, and
    every query on it asks for a value, which implies ``IS NOT NULL``."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, *more, sqlite_where=where, postgresql_where=where)


def now() -> int:
    """Current time in epoch seconds."""
    return int(time.time())


class Snapshot:
    """A row read for one request on a hot path: its columns on a plain object
    that shares the model's behaviour through a mixin, without the ORM's
    identity map and instance loading (the client and token lookups: measured
    in bench/RESULTS.md). Read-only: changes are statements or go through the
    model."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.__dict__.update(row)
