"""SQLite: writers of several processes queue on a file lock, not in SQLite's busy handler.

SQLite lets one connection write at a time. A writer that finds the write lock taken
sleeps in SQLite's busy handler for 1, 2, 5, 10, 15, 20, 25 ... ms before it looks
again, although the holder needs a fraction of a millisecond: with two granian workers
issuing tokens, those sleeps were the token's p99 (43 ms at 16 connections,
bench/RESULTS.md §19). So a hot-path write (``models.prepared``) first takes an exclusive
``flock`` on ``<database>-writers.lock`` and lets go when its transaction ends: the
kernel wakes the next writer the moment the lock is free.

It only orders the queue; SQLite's own locking still decides who writes. A writer that
does not take it (the CLI, a statement outside ``Prepared``) is waited for by SQLite's
busy handler as before. It cannot close a cycle: the file lock is only ever requested by
a connection that holds no SQLite lock (not in a transaction), so whoever holds SQLite's
write lock never waits for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models.base import db

#: Where a session keeps the lock file whose lock its transaction holds.
_HELD = "scopegate.writers.held"


class _LockFile:
    """One thread's descriptor on the lock file, closed when the thread's data goes
    (a development server starts a thread per request: an open descriptor per finished
    thread would pile up until the process ran out of them)."""

    def __init__(self, path: str):
        self.pid = os.getpid()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class WriterQueue:
    """The queue for one SQLite file: one lock file descriptor per thread (``flock``
    locks belong to an open file, so threads of a process queue too)."""

    def __init__(self, database_path: str):
        self.path = database_path + "-writers.lock"
        self._local = threading.local()

    def _lock_file(self) -> _LockFile:
        lock_file = getattr(self._local, "lock_file", None)
        if lock_file is None or lock_file.pid != os.getpid():  # a forked child opens its own
            lock_file = self._local.lock_file = _LockFile(self.path)
        return lock_file

    def enter(self, session: Session) -> None:
        """Wait for the other writers; held until the session's transaction ends
        (commit, rollback or close)."""
        if _HELD in session.info:
            return
        lock_file = self._lock_file()
        fcntl.flock(lock_file.fd, fcntl.LOCK_EX)
        session.info[_HELD] = lock_file  # kept open while held, whatever its thread does


_QUEUES: dict[str, WriterQueue] = {}


def before_write(dbapi_connection: Any) -> None:
    """Called by ``models.prepared`` before each write on SQLite: the first write of a
    transaction queues. One already in a transaction may hold SQLite's write lock, which
    the queue's holder could be waiting for, so it never waits here."""
    if dbapi_connection.in_transaction:
        return
    path = db.engine.url.database
    if not path or path == ":memory:":
        return  # one connection's private database: nobody to queue with
    queue = _QUEUES.get(path)
    if queue is None:
        queue = _QUEUES[path] = WriterQueue(path)
    queue.enter(db.session())


def let_go(session: Session) -> None:
    """The session's writes are over (committed or rolled back): the next writer may go."""
    lock_file = session.info.pop(_HELD, None)
    if lock_file is not None:
        fcntl.flock(lock_file.fd, fcntl.LOCK_UN)


@event.listens_for(Session, "after_transaction_end")
def _let_go(session: Session, transaction) -> None:
    if transaction.parent is None:
        let_go(session)
