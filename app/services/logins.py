"""Dashboard sign-in: email + password, throttled before any password is checked.

Three counters, each hit atomically in the shared store
(``services.throttle``) *before* the argon2 check, so concurrent attempts
cannot race past them and an unknown email costs exactly what a known one
does (a dummy hash is verified when there is none):

- per (email, IP address): ``SCOPEGATE_LOGIN_MAX_FAILURES`` attempts per
  window; a success starts the count again. A stranger's guesses lock only
  the stranger's own address.
- per email, all addresses together: ``SCOPEGATE_LOGIN_MAX_PER_EMAIL`` (high),
  which stops a guesser rotating addresses.
- a browser that signed in as this email before carries a signed device
  cookie (:func:`device_token`); its attempts are counted per device instead
  of the two above, so nobody else's failures -- from the admin's own address
  behind a load balancer, or from a thousand others -- can lock the admin's
  own browser out.

Password checks are further bounded per process (``services.passwords``).
An account without a password (an invitation not yet accepted) or a
disabled one gives the same answer as a wrong password.

Every attempt is audited as ``login`` (refused ones aggregate, see
``services.audit``).
"""

from __future__ import annotations

import secrets as stdlib_secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.errors import ScopegateError
from app.models import Account, db
from app.services import audit, passwords, throttle

BAD_CREDENTIALS = "bad credentials"
THROTTLED = "throttled"
#: A device cookie is trusted for a year after the sign-in that set it.
DEVICE_LIFETIME = 365 * 86400


class LoginFailed(ScopegateError):
    """Wrong email or password; deliberately does not say which of the two."""

    error = "access_denied"
    status_code = 401
    description = "Email or password is incorrect."


class TooManyAttempts(ScopegateError):
    """Too many sign-in attempts for this email from here (or the server is busy)."""

    error = "rate_limited"
    status_code = 429

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Too many sign-in attempts. Try again in {minutes} minute(s).")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = passwords.hash_password("scopegate-no-such-account")
    return _dummy_hash


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="scopegate.device")


def device_token(email: str) -> str:
    """The signed device cookie a successful sign-in sets: this browser knew the password."""
    return _devices().dumps({"email": email, "device": stdlib_secrets.token_hex(16)})


def _device_of(cookie: str | None, email: str) -> str | None:
    """The device id the cookie names, when it is genuine, fresh and for this email."""
    if not cookie:
        return None
    try:
        claims = _devices().loads(cookie, max_age=DEVICE_LIFETIME)
    except BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("email") != email:
        return None
    return str(claims.get("device") or "") or None


def _buckets(email: str, ip: str | None, device: str | None) -> list[tuple[str, str, int]]:
    """(counter name, key, allowed attempts) this attempt counts against."""
    cfg = current_app.config
    if device:
        return [("login-device", device, cfg["SCOPEGATE_LOGIN_MAX_FAILURES"])]
    return [("login-email-ip", f"{email}|{ip or '-'}", cfg["SCOPEGATE_LOGIN_MAX_FAILURES"]),
            ("login-email", email, cfg["SCOPEGATE_LOGIN_MAX_PER_EMAIL"])]


def _admit(buckets: list[tuple[str, str, int]]) -> int:
    """Count the attempt in every bucket; seconds to wait when one is full, else 0."""
    window = current_app.config["SCOPEGATE_LOGIN_THROTTLE_WINDOW"]
    store = throttle.current()
    for name, key, amount in buckets:
        wait = store.hit(name, key, amount, window)
        if wait:
            return wait
    return 0


def authenticate(email: str, password: str, ip: str | None,
                 device_cookie: str | None = None) -> Account:
    """The enabled account (admin or member) these credentials prove, or :class:`LoginFailed` /
    :class:`TooManyAttempts`. Sessions are started by ``services.sessions``."""
    email = (email or "").strip().lower()[:254]
    password = password or ""
    buckets = _buckets(email, ip, _device_of(device_cookie, email))
    account = db.session.scalar(select(Account).where(Account.email == email)) if email else None
    org_id = account.org_id if account else None
    subject = account.uid if account else None
    wait = _admit(buckets)
    if wait:
        audit.record("login", audit.DENIED, org_id=org_id, subject=subject, target=email,
                     detail=THROTTLED, commit=True)
        raise TooManyAttempts(wait)
    stored = account.password_hash if account and account.password_hash else None
    try:
        ok = passwords.verify_password(stored or _dummy(), password) and stored is not None
    except passwords.Busy:
        raise TooManyAttempts(int(passwords.SLOT_WAIT)) from None
    if not ok or account.disabled_at is not None:
        audit.record("login", audit.DENIED, org_id=org_id, subject=subject, target=email,
                     detail=BAD_CREDENTIALS, commit=True)
        raise LoginFailed()
    name, key, amount = buckets[0]  # the per-address (or per-device) count starts again
    throttle.current().clear(name, key, amount,
                             current_app.config["SCOPEGATE_LOGIN_THROTTLE_WINDOW"])
    return account
