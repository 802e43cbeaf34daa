"""Human passwords: argon2id (slow on purpose; only people have passwords).

Each check costs ~0.2 s of CPU and 64 MiB, so a process runs at most
``SCOPEGATE_PASSWORD_HASH_CONCURRENCY`` of them at once: thirty concurrent
sign-in attempts wait for a slot instead of taking ~1 GB together. A check
that cannot get a slot within :data:`SLOT_WAIT` seconds is refused
(:class:`Busy`), before any hashing.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from app.errors import Unprocessable

_hasher = PasswordHasher()
#: Longest a password check waits for a free slot before it is refused.
SLOT_WAIT = 5.0
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


class Busy(Exception):
    """Every password-check slot of this process stayed taken for SLOT_WAIT seconds."""


def _semaphore() -> threading.BoundedSemaphore:
    size = current_app.config["SCOPEGATE_PASSWORD_HASH_CONCURRENCY"] if has_app_context() else 2
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(max(1, size)))


@contextmanager
def slot():
    """Hold one of the process's password-check slots (or raise :class:`Busy`)."""
    semaphore = _semaphore()
    if not semaphore.acquire(timeout=SLOT_WAIT):
        raise Busy()
    try:
        yield
    finally:
        semaphore.release()


def hash_password(password: str) -> str:
    with slot():
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    with slot():
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def check_new_password(password: str, confirm: str) -> None:
    """The dashboard password rule, wherever a password is chosen (first-run
    setup, invitation, reset): length only (NIST SP 800-63B, no composition rules)."""
    minimum = current_app.config["SCOPEGATE_PASSWORD_MIN_LENGTH"]
    if not isinstance(password, str) or len(password) < minimum:
        raise Unprocessable(f"The password must be at least {minimum} characters long.")
    if len(password) > 1024:
        raise Unprocessable("The password must be at most 1024 characters long.")
    if password != confirm:
        raise Unprocessable("The two passwords differ.")
