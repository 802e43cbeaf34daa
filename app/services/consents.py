"""Consent: what a person agreed to share with an app, remembered per
person and app so that signing in again asks nothing.

A request is covered when every scope it asks for is within what the person
agreed to; asking for more shows the consent screen again, and agreeing
remembers the union. The person can disconnect an app ("Connected apps"):
the consent is forgotten and the app's tokens for them are revoked at once.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from app.errors import NotFound
from app.models import Account, App, Consent, db, now
from app.services import apps, audit, callers, scopes, tokens


def _find(account: Account, app: App) -> Consent | None:
    return db.session.scalar(select(Consent).where(
        Consent.account_id == account.id, Consent.client_id == app.client_id))


def covers(account: Account, app: App, requested: list[str]) -> bool:
    """The person already agreed to share at least these scopes with this app."""
    consent = _find(account, app)
    return consent is not None and set(requested) <= set(consent.scopes)


def remember(account: Account, app: App, granted: list[str]) -> None:
    """Record a "yes" (merged with any earlier one), in the caller's transaction."""
    consent = _find(account, app)
    if consent is None:
        consent = Consent(account_id=account.id, client_id=app.client_id, scope="")
        db.session.add(consent)
    merged = set(consent.scopes) | set(granted)
    consent.scope = " ".join(s for s in scopes.APP_SCOPES if s in merged)
    consent.granted_at = now()
    audit.record("consent.grant", actor=callers.person(account), subject=account.uid,
                 subject_name=account.email, target=app.client_id, detail=consent.scope)


def connected(account: Account) -> list[Consent]:
    """The apps this person has agreed to share something with, newest first."""
    return list(db.session.scalars(select(Consent).where(Consent.account_id == account.id)
                                   .order_by(Consent.granted_at.desc(), Consent.id.desc())))


def revoke(account: Account, client_id: str) -> int:
    """The person disconnects an app: the consent is forgotten and every token
    the app holds for them is revoked. Returns how many tokens died."""
    consent = db.session.scalar(select(Consent).where(
        Consent.account_id == account.id, Consent.client_id == client_id)) \
        if apps.is_client_id(client_id) else None
    if consent is None:
        raise NotFound(f"You have not connected an app with client_id {client_id!r}.")
    revoked = tokens.revoke_for_person_and_app(account, client_id)
    db.session.delete(consent)
    audit.record("consent.revoke", actor=callers.person(account), subject=account.uid,
                 subject_name=account.email, target=client_id,
                 detail=f"{revoked} token(s) revoked")
    db.session.commit()
    return revoked


def forget_all(account: Account) -> int:
    """Forget every consent a person gave (offboarding: disable or delete).
    In the caller's transaction; returns how many were forgotten. Their
    tokens are revoked by the caller (by account)."""
    result = db.session.execute(delete(Consent).where(Consent.account_id == account.id))
    return result.rowcount or 0
