"""Dashboard sign-in: email + password, throttled per email and IP address.

An unknown email, an account without a password (an invitation not yet
accepted), a disabled account and a wrong password give
the same answer in about the same time (a dummy argon2 verification runs
when there is no hash to check), so the form cannot be used to find
accounts. Every attempt is audited as ``login``; the denied ones are also
what throttling counts, so it needs no table of its own and holds across
processes and hosts.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.errors import ScopegateError
from app.models import Account, AuditEvent, db, now
from app.services import audit, passwords

BAD_CREDENTIALS = "bad credentials"
THROTTLED = "throttled"


class LoginFailed(ScopegateError):
    """Wrong email or password; deliberately does not say which of the two."""

    error = "access_denied"
    status_code = 401
    description = "Email or password is incorrect."


class TooManyAttempts(ScopegateError):
    """Too many failed sign-ins from this address for this email."""

    error = "rate_limited"
    status_code = 429

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Too many failed sign-ins. Try again in {minutes} minute(s).")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = passwords.hash_password("scopegate-no-such-account")
    return _dummy_hash


def _attempts(email: str, ip: str | None, org_id: int | None):
    """Login events of this email from this address (uses the org/action index)."""
    org = AuditEvent.org_id.is_(None) if org_id is None else AuditEvent.org_id == org_id
    ip_match = AuditEvent.ip.is_(None) if ip is None else AuditEvent.ip == ip
    return (org, AuditEvent.action == "login", AuditEvent.target == email, ip_match)


def retry_after(email: str, ip: str | None, org_id: int | None) -> int:
    """Seconds until this email may try again from this address; 0 when it may now."""
    cfg = current_app.config
    window, limit = cfg["SCOPEGATE_LOGIN_THROTTLE_WINDOW"], cfg["SCOPEGATE_LOGIN_MAX_FAILURES"]
    at = now()
    where = _attempts(email, ip, org_id)
    # Ids, not times, order a success and the failures after it within one second.
    last_success = db.session.scalar(
        select(func.max(AuditEvent.id)).where(*where, AuditEvent.outcome == audit.SUCCESS)) or 0
    failures = db.session.scalars(
        select(AuditEvent.at).where(
            *where, AuditEvent.outcome == audit.DENIED, AuditEvent.detail == BAD_CREDENTIALS,
            AuditEvent.id > last_success, AuditEvent.at > at - window)
        .order_by(AuditEvent.at.desc()).limit(limit)).all()
    if len(failures) < limit:
        return 0
    return max(1, failures[-1] + window - at)


def authenticate(email: str, password: str, ip: str | None) -> Account:
    """The enabled account (admin or member) these credentials prove, or :class:`LoginFailed` /
    :class:`TooManyAttempts`. Sessions are started by ``services.sessions``."""
    email = (email or "").strip().lower()[:254]
    password = password or ""
    account = db.session.scalar(select(Account).where(Account.email == email)) if email else None
    org_id = account.org_id if account else None
    subject = account.uid if account else None
    wait = retry_after(email, ip, org_id)
    if wait:
        audit.record("login", audit.DENIED, org_id=org_id, subject=subject, target=email,
                     detail=THROTTLED, commit=True)
        raise TooManyAttempts(wait)
    stored = account.password_hash if account and account.password_hash else None
    ok = passwords.verify_password(stored or _dummy(), password) and stored is not None
    if not ok or account.disabled_at is not None:
        audit.record("login", audit.DENIED, org_id=org_id, subject=subject, target=email,
                     detail=BAD_CREDENTIALS, commit=True)
        raise LoginFailed()
    return account
