"""Hot-path statements, compiled once and run on the session's own connection.

``db.session.execute`` costs about 100-150 µs per statement in SQLAlchemy's
session and result machinery (bench/RESULTS.md §14), more than the database
work for a one-row indexed read or insert. A :class:`Prepared` statement is
the same Core statement, compiled once per dialect, and executed with the
DBAPI cursor of the connection that holds the session's current transaction:
the same SQL, the same transaction, commit and rollback as
``db.session.execute`` -- so a token row and its audit event still commit
together -- without the per-execution machinery. (On the fast path's own SQLite
connection the writes skip the session's transaction too; the session's commit,
and :func:`commit` and :func:`rollback` here, still end them: see :func:`_connection`.)

Only for statements whose columns need no type processing (integers and
strings: what the hot paths read and write; a boolean reads as 0/1 on SQLite,
so the snapshots only test its truth: ``App.public``, ``may_revoke``), and for reads
that lock nothing (no ``FOR UPDATE``): on the fast path a read may run outside any
transaction (:func:`_reader`). A locking read goes through ``db.session.execute``.

A read made with ``remember=True`` (the client and token lookups) is remembered on the
fast path's SQLite connection for as long as nothing has changed the database since:
see :class:`Remembered`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from app.models import writers
from app.models.base import db

#: Where a session keeps (dialect, DBAPI connection) of its current transaction.
_CONNECTION = "scopegate.prepared.connection"
#: Where a session keeps its own SQLite connection while it holds direct writes.
_DIRECT = "scopegate.prepared.direct"


def _connection() -> tuple[Any, Any]:
    """The dialect and DBAPI connection holding the session's transaction (begun if
    none), looked up through the session once per transaction, not per statement:
    ``Session.connection()`` costs more than a one-row SQLite read.

    On SQLite, when the session is bound to one connection of its own
    (``app.oauth.fastpath``'s, one per thread) and has begun nothing on it, the writes
    go to that connection directly (the driver begins its transaction), and the
    session's commit, ``commit`` or ``rollback`` below end them (the fast path rolls
    back whatever a request left): SQLAlchemy's transaction around them cost about a
    tenth of a token on the production server (bench/RESULTS.md §19)."""
    session = db.session()
    cached = session.info.get(_CONNECTION)
    if cached is None:
        bind = session.bind
        if (isinstance(bind, Connection) and bind.dialect.name == "sqlite"
                and not bind.in_transaction()):
            cached = (bind.dialect, bind.connection.driver_connection)
            session.info[_DIRECT] = cached[1]
        else:
            connection = session.connection()
            cached = (connection.dialect, connection.connection.driver_connection)
        session.info[_CONNECTION] = cached
    return cached


@event.listens_for(Session, "after_commit")
def _commit_direct(session: Session) -> None:
    connection = session.info.get(_DIRECT)
    if connection is not None:
        connection.commit()  # if it fails, the writes stay pending for end_direct
        del session.info[_DIRECT]
        session.info.pop(_CONNECTION, None)


def commit() -> None:
    """Commit the session's work; direct writes alone are committed on their connection,
    without a session transaction begun only to be ended (the token's save)."""
    session = db.session()
    connection = session.info.get(_DIRECT)
    if connection is None or session.in_transaction():
        session.commit()  # the listener above commits the direct writes with it
        return
    connection.commit()
    del session.info[_DIRECT]
    session.info.pop(_CONNECTION, None)
    writers.let_go(session)


def rollback() -> None:
    """Roll back the session's work, direct writes included: ``Session.rollback`` with no
    transaction of its own would not reach them, and a later commit in the same request
    would then keep them."""
    session = db.session()
    end_direct(session)
    session.rollback()


def end_direct(session: Session) -> None:
    """Roll back the session's direct writes that nothing committed, and let the next
    writer go (``Session.rollback`` with no transaction of its own does nothing, so the
    fast path calls this at the end of every request)."""
    connection = session.info.pop(_DIRECT, None)
    if connection is not None:
        session.info.pop(_CONNECTION, None)
        try:
            connection.rollback()
        finally:
            writers.let_go(session)


def _reader() -> tuple[Any, Any, Reads | None]:
    """Where a read runs: the session's transaction, except on the fast path.

    On SQLite the fast path's session is bound to one connection of its own, one per
    thread, and the read runs on that connection without beginning the session's
    transaction: the pysqlite driver runs a SELECT outside any transaction whether or not
    SQLAlchemy began one (its begin emits nothing on SQLite), and within one after a
    write, so the rows are the same; a read-only request then has no transaction to end
    (about 20 µs less). On a server database, until the session begins a transaction,
    the read runs on the thread's :class:`Reads` connection."""
    session = db.session()
    bind = session.bind
    if isinstance(bind, Connection) and bind.dialect.name == "sqlite":
        return bind.dialect, bind.connection.driver_connection, None
    reads = session.info.get(READS)
    if reads is not None and not session.in_transaction():
        return reads.dialect, reads.connection(), reads
    return (*_connection(), None)


#: Where the fast path's session keeps its thread's :class:`Reads` (server databases).
READS = "scopegate.prepared.reads"


class Reads:
    """A server database's reads outside any transaction, on one connection a thread keeps.

    An introspection on PostgreSQL sent five round trips for its two reads (the pool's
    pre-ping, BEGIN, the two SELECTs, ROLLBACK) and spent about a third of its client CPU
    checking a connection out of the pool and back (bench/RESULTS.md §21). On this
    connection, kept checked out and in autocommit, a read is its statement alone. At
    PostgreSQL's READ COMMITTED each statement sees what was committed when it began,
    inside a transaction or not, so the rows are the same. It serves only while the
    session has begun nothing, so a request still reads its own writes in its
    transaction, and writes keep that transaction (a token and its audit event commit
    together).

    A connection the database dropped (a restart, a failover) is replaced and the read
    sent once more, as the pool's pre-ping would have: a restarted database costs no read
    an error. The engine's ``dispose`` closes it, like the pool's connections."""

    def __init__(self, engine: Engine):
        self.engine, self.dialect = engine, engine.dialect
        self._kept: Connection | None = None
        event.listen(engine, "engine_disposed", lambda _engine: self.drop())

    def connection(self) -> Any:
        if self._kept is None:
            self._kept = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._kept.connection.driver_connection

    def drop(self) -> None:
        """Close the connection for good (never back to a pool): the database dropped it,
        or the engine was disposed."""
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.invalidate()
            kept.close()


class Remembered:
    """Rows one SQLite connection read, answered again while the database is unchanged.

    A resource server introspects the same tokens, with the same credentials, over and
    over; between two of its calls nothing usually changed. SQLite says whether anything
    did: ``PRAGMA data_version`` changes when another connection, of this process or any
    other, commits; ``total_changes`` counts the rows this connection itself changed
    (committed or not). While both are what they were when a row was read, reading it
    again would return the same row, so it is returned from here (about 3 µs instead of
    10-15 in process, bench/RESULTS.md §20). Any change at all (a revocation, a new
    secret, a token issued) forgets every row: nothing is ever answered that a fresh read
    would not.

    Never inside a transaction (its rows may be rolled back), at most :data:`MAX_ROWS`
    rows per connection (the keys come from requests), and only on the fast path's own
    connection, one per thread: a server database has no such counter."""

    MAX_ROWS = 2048

    def __init__(self) -> None:
        self.changes = 0  # the connection's total_changes when last seen here
        self.version: int | None = None  # data_version when the rows were read
        self.rows: dict[tuple, dict[str, Any] | None] = {}

    def first(self, prepared: Prepared, params: Mapping[str, Any],
              connection: Any) -> dict[str, Any] | None:
        changes = connection.total_changes
        if changes != self.changes:
            # This connection wrote since: forget, and read. Remembering starts again at
            # the next read, so a connection that writes between its reads (the token
            # endpoint's) never pays for asking SQLite.
            self.changes, self.version, self.rows = changes, None, {}
            return prepared.read(params)
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self.version:
            self.version, self.rows = version, {}
        key = (prepared, *params.items())
        try:
            row = self.rows[key]
        except KeyError:
            # Read after the version was asked: never older, so never kept past a change.
            row = prepared.read(params)
            if len(self.rows) >= self.MAX_ROWS:
                self.rows = {}
            self.rows[key] = row
        return None if row is None else dict(row)


#: Where a SQLite connection keeps its :class:`Remembered` rows (``Connection.info``
#: lives as long as the DBAPI connection).
_REMEMBERED = "scopegate.prepared.remembered"


def _remembered() -> tuple[Remembered, Any] | None:
    """The fast path's connection's remembered rows and that connection, when a read may
    use them: SQLite, the session bound to one connection of its own, no transaction."""
    bind = db.session().bind
    if not isinstance(bind, Connection) or bind.dialect.name != "sqlite":
        return None
    connection = bind.connection.driver_connection
    if connection.in_transaction:
        return None
    remembered = bind.info.get(_REMEMBERED)
    if remembered is None:
        remembered = bind.info[_REMEMBERED] = Remembered()
    return remembered, connection


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, _transaction) -> None:
    # Commit, rollback or close: the next statement asks the session again.
    session.info.pop(_CONNECTION, None)


def _picker(keys: list[str]) -> Callable[[Mapping[str, Any]], tuple]:
    """params -> the tuple of their values in ``keys``' order (itemgetter: C, not a loop)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda params: tuple(params[k] for k in keys)  # itemgetter of one is no tuple


class Prepared:
    def __init__(self, statement: ClauseElement, *, keys: tuple[str, ...] | None = None,
                 remember: bool = False):
        """``keys``: for an INSERT, the columns every execution supplies. ``remember``: a
        read whose row may be answered again while the database is unchanged
        (:class:`Remembered`)."""
        self.statement, self.keys, self.remember = statement, keys, remember
        self._compiled: dict[str, tuple[str, Callable | None]] = {}
        self._columns: dict[str, list[str]] = {}

    def _sql(self, dialect) -> tuple[str, Callable | None]:
        """The SQL and, for a positional paramstyle, what picks its parameters in order."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect,
                                       column_keys=list(self.keys) if self.keys else None)
            compiled = (c.string, _picker(c.positiontup) if c.positional else None)
            self._compiled[dialect.name] = compiled
        return compiled

    def _cursor(self, params: Mapping[str, Any], read: bool = False) -> tuple[Any, str]:
        """The executed cursor and the dialect's name."""
        if read:
            dialect, connection, reads = _reader()
        else:
            (dialect, connection), reads = _connection(), None
            if dialect.name == "sqlite":
                writers.before_write(connection)
        sql, order = self._sql(dialect)
        values = order(params) if order is not None else params
        cursor = connection.cursor()
        try:
            cursor.execute(sql, values)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            if reads is not None and dialect.is_disconnect(error, connection, cursor):
                reads.drop()  # and once more, on a new connection
                connection = reads.connection()
                cursor = connection.cursor()
                try:
                    cursor.execute(sql, values)
                    return cursor, dialect.name
                except dialect.loaded_dbapi.Error as again:
                    cursor.close()
                    error = again
            # The same exception classes db.session.execute raises (IntegrityError, ...).
            raise DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        return cursor, dialect.name

    def execute(self, params: Mapping[str, Any]) -> int:
        """Run it; the number of rows it changed."""
        cursor, _ = self._cursor(params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def first(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict of column name -> value, or None."""
        if self.remember:
            found = _remembered()
            if found is not None:
                remembered, connection = found
                return remembered.first(self, params, connection)
        return self.read(params)

    def read(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """:meth:`first`, always from the database."""
        cursor, dialect = self._cursor(params, read=True)
        try:
            row = cursor.fetchone()
            if row is None:
                return None
            columns = self._columns.get(dialect)
            if columns is None:  # the same statement always has the same columns
                columns = self._columns[dialect] = [d[0] for d in cursor.description]
            return dict(zip(columns, row, strict=True))
        finally:
            cursor.close()
