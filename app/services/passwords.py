"""Human passwords: the rule for a new one, and argon2id (slow on purpose;
only people have passwords)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.errors import Unprocessable

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
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
