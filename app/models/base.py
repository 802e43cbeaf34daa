"""The SQLAlchemy handle and the time convention.

Times are stored as integer epoch seconds (UTC): they compare the same way on
SQLite and PostgreSQL, need no timezone handling, and are what OAuth
responses carry (`exp`, `iat`). The admin API renders them as ISO 8601.
"""

import time

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Named constraints keep migrations reproducible across databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))


def now() -> int:
    """Current time in epoch seconds."""
    return int(time.time())
