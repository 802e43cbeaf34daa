"""Signing people in to apps (OpenID Connect): the rules of the flow.

The protocol mechanics are Authlib's (``app.oauth.oidc``); what they ask of
us is decided here, in one place:

- what an authorization request needs next (sign-in, consent, an error, or
  a code), from ``prompt``, ``max_age``, the person's organization and their
  remembered consent;
- codes: stored as digests, live ``CODE_LIFETIME`` (60 s), bound to their
  app, redirect URI and PKCE challenge, single-use; a second redemption
  revokes every token the first one issued;
- refresh tokens: rotated on every use; presenting a spent one revokes the
  whole family (every token of that sign-in); absolute lifetime from sign-in;
- the claims about a person (ID token, userinfo).

Every step is audited with the person's unique ID as subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError
from sqlalchemy import insert, select, update

from app.errors import InvalidRequest
from app.models import Account, App, AuthorizationCode, Token, TokenSnapshot, db, now
from app.services import (
    audit,
    callers,
    consents,
    keys,
    lifetimes,
    reach,
    scopes,
    secrets,
    tokens,
)


class Next(Enum):
    """What an authorization request needs next."""

    SIGN_IN = "sign_in"  # show the login page, then come back
    LOGIN_REQUIRED = "login_required"  # prompt=none and no (fresh enough) sign-in
    ACCESS_DENIED = "access_denied"  # the app is another organization's
    CONSENT = "consent"  # show the consent screen
    CONSENT_REQUIRED = "consent_required"  # prompt=none and no remembered consent
    ISSUE = "issue"  # hand the app a code


@dataclass(frozen=True)
class Request:
    """The parts of an authorization request the rules look at."""

    prompts: frozenset[str]
    max_age: int | None
    scopes: list[str]


#: Longest ``nonce`` kept with a code (the column's size; a nonce is a short random string).
MAX_NONCE = 255


def parse(prompt: str | None, max_age: str | None, scope: str | None,
          request_object: str | None = None, request_uri: str | None = None,
          nonce: str | None = None) -> Request:
    """Check ``prompt`` and ``max_age`` (OIDC Core §3.1.2.1); unknown prompt
    values are ignored, ``none`` with anything else is ``invalid_request``.
    Request objects are not supported, and say so (OIDC Core §6) rather than
    being silently ignored."""
    if request_object:
        raise RequestNotSupportedError()
    if request_uri:
        raise RequestURINotSupportedError()
    if nonce is not None and len(nonce) > MAX_NONCE:
        raise InvalidRequest(f"`nonce` is longer than {MAX_NONCE} characters.")
    prompts = frozenset((prompt or "").split())
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("`prompt=none` cannot be combined with other values.")
    age = None
    if max_age not in (None, ""):
        if not max_age.isdigit() or len(max_age) > 10:
            raise InvalidRequest("`max_age` must be a non-negative number of seconds.")
        age = int(max_age)
    return Request(prompts, age, scopes.app_scopes(scope))


def next_step(req: Request, account: Account | None, auth_time: int | None, app: App) -> Next:
    """Sign-in first (``prompt=login`` or an old sign-in under ``max_age``
    forces a fresh one), then the organization, then consent."""
    stale = (account is not None and req.max_age is not None
             and now() - (auth_time or 0) > req.max_age)
    if account is None or "login" in req.prompts or stale:
        return Next.LOGIN_REQUIRED if "none" in req.prompts else Next.SIGN_IN
    if not reach.may_sign_in(account, app):
        audit.record("oidc.authorize", audit.DENIED, actor=callers.person(account),
                     subject=account.uid, subject_name=account.email, target=app.client_id,
                     detail="the app belongs to another organization", commit=True)
        return Next.ACCESS_DENIED
    if "consent" in req.prompts or not consents.covers(account, app, req.scopes):
        return Next.CONSENT_REQUIRED if "none" in req.prompts else Next.CONSENT
    return Next.ISSUE


def refuse_consent(account: Account, app: App) -> None:
    """The person said no: audited; the app gets ``access_denied``."""
    audit.record("consent.grant", audit.DENIED, actor=callers.person(account),
                 subject=account.uid, subject_name=account.email, target=app.client_id,
                 detail="the person declined", commit=True)


# --- codes --------------------------------------------------------------------

_INSERT_CODE = insert(AuthorizationCode.__table__)


def save_code(value: str, app: App, account: Account, *, redirect_uri: str, scope: str,
              nonce: str | None, challenge: str, method: str, auth_time: int) -> None:
    """Store a new code (its digest only) and audit the authorization."""
    issued = now()
    db.session.execute(_INSERT_CODE, dict(
        code_hash=secrets.digest(value), client_id=app.client_id, account_id=account.id,
        redirect_uri=redirect_uri, scope=" ".join(scopes.app_scopes(scope)), nonce=nonce,
        code_challenge=challenge, code_challenge_method=method, auth_time=auth_time,
        issued_at=issued, expires_at=issued + lifetimes.CODE_LIFETIME, used_at=None,
        family_id=None))
    audit.record("oidc.authorize", actor=callers.person(account), subject=account.uid,
                 subject_name=account.email, target=app.client_id, detail=scope)
    db.session.commit()


def nonce_seen(client_id: str, nonce: str) -> bool:
    """A nonce this app already sent with a code that is still on file (replay)."""
    return db.session.scalar(select(AuthorizationCode.id).where(
        AuthorizationCode.client_id == client_id, AuthorizationCode.nonce == nonce,
        AuthorizationCode.expires_at > now()).limit(1)) is not None


def redeem_code(value: str | None, client) -> AuthorizationCode | None:
    """The code, spent by this redemption; None when unknown, expired, another
    app's, or already spent. A spent code coming back revokes every token its
    first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.1.2)."""
    if not value or len(value) > 128:
        return None
    code = db.session.scalar(select(AuthorizationCode).where(
        AuthorizationCode.code_hash == secrets.digest(value)))
    if code is None or code.client_id != client.get_client_id():
        return None
    family = secrets.new_token_id()
    claimed = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now(), family_id=family)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.refresh(code)
        _reused("code.reuse", code.account_id, client, code.family_id)
        return None
    if now() >= code.expires_at:
        return None  # the claim is rolled back with the refused request
    code.family_id = family
    return code


def _reused(action: str, account_id: int | None, client, family_id: str | None) -> None:
    """A spent code or refresh token came back: revoke its family, audit, commit."""
    revoked = tokens.revoke_family(family_id)
    account = db.session.get(Account, account_id) if account_id else None
    audit.record(action, audit.DENIED, actor=callers.from_client(client),
                 org_id=client.org_id, subject=account.uid if account else None,
                 subject_name=account.email if account else None, target=family_id,
                 detail=f"already used; {revoked} token(s) of its sign-in revoked",
                 commit=True)


# --- who the tokens are for ----------------------------------------------------


@dataclass(frozen=True)
class Grantee:
    """The person a code or refresh token stands for, and its sign-in's facts."""

    account: Account
    auth_time: int
    family_id: str | None = None  # set once a code is redeemed
    family_end: int | None = None  # set on refresh: rotation never extends it
    parent_token_id: str | None = None

    @property
    def uid(self) -> str:
        return self.account.uid


def _active_person(account_id: int | None) -> Account | None:
    """The person behind a code or refresh token, unless offboarded meanwhile."""
    account = db.session.get(Account, account_id) if account_id else None
    return None if account is None or account.disabled_at is not None else account


def grantee_of_code(code: AuthorizationCode) -> Grantee | None:
    account = _active_person(code.account_id)
    return None if account is None else Grantee(account, code.auth_time, code.family_id)


def spend_refresh(value: str | None, client) -> TokenSnapshot | None:
    """The refresh token, spent (rotation); None when unknown, expired or
    another app's. A spent or revoked one coming back revokes its family."""
    token = tokens.find(value)
    if token is None or token.kind != tokens.REFRESH or token.client_id != client.get_client_id():
        return None
    if token.is_expired():
        return None
    if not tokens.claim_refresh(token):
        _reused("refresh.reuse", token.account_id, client, token.family_id)
        return None
    return token


def grantee_of_refresh(token: TokenSnapshot) -> Grantee | None:
    account = _active_person(token.account_id)
    if account is None:
        return None
    return Grantee(account, token.auth_time or token.issued_at, token.family_id,
                   family_end=token.expires_at, parent_token_id=token.token_id)


def issue(app, grantee: Grantee, scope: str, refreshing: bool) -> tuple[str, Token, str | None]:
    """Tokens for an app from a code or a refresh token (a refresh token only
    with ``offline_access``), audited; committed when Authlib saves them."""
    granted = scopes.app_scopes(scope)
    family_end = grantee.family_end or lifetimes.refresh_family_end(now())
    access_value, access, refresh_value = tokens.issue_to_app(
        app, grantee.account, granted, family_id=grantee.family_id,
        auth_time=grantee.auth_time, refresh="offline_access" in granted,
        family_end=family_end, parent_token_id=grantee.parent_token_id)
    audit.record("token.refresh" if refreshing else "code.redeem",
                 actor=callers.from_client(app), subject=grantee.uid,
                 subject_name=grantee.account.email, target=access.token_id,
                 detail=" ".join(granted))
    return access_value, access, refresh_value


# --- claims -------------------------------------------------------------------


def claims(account: Account, scope: str) -> dict:
    """What an app learns about a person, by scope (ID token and userinfo).

    ``sub`` is the person's unique ID (it never changes, unlike an email).
    ``email_verified`` is false: Scopegate sends no mail, so it never claims
    to have checked that the person reads that address."""
    granted = set(scope.split())
    out: dict = {"sub": account.uid}
    if "email" in granted:
        out.update(email=account.email, email_verified=False)
    if "profile" in granted:
        out.update(name=getattr(account, "display_name", None) or account.name,
                   org=account.org.name)
    return out


def person_of(token: TokenSnapshot) -> Account | None:
    """The person behind an app's access token (userinfo)."""
    return _active_person(token.account_id)


# --- signing out (RP-initiated logout) -------------------------------------------


def logout_target(id_token_hint: str | None, post_logout_redirect_uri: str | None
                  ) -> tuple[App | None, str | None]:
    """The app an ``id_token_hint`` names (our signature, our issuer; it may
    have expired) and where to send the browser afterwards: only a URI
    registered for that app, never one without a hint (no open redirect)."""
    if not id_token_hint:
        if post_logout_redirect_uri:
            raise InvalidRequest("`post_logout_redirect_uri` needs an `id_token_hint`.")
        return None, None
    hint = keys.verify_own(id_token_hint)
    if hint is None:
        raise InvalidRequest("`id_token_hint` is not an ID token issued here.")
    audience = hint.get("aud")
    client_id = audience[0] if isinstance(audience, list) and audience else audience
    app = db.session.scalar(select(App).where(App.client_id == client_id)) \
        if isinstance(client_id, str) else None
    if app is None:
        raise InvalidRequest("The app named by `id_token_hint` is not registered.")
    if post_logout_redirect_uri and not app.check_redirect_uri(post_logout_redirect_uri):
        raise InvalidRequest("`post_logout_redirect_uri` is not registered for this app.")
    return app, post_logout_redirect_uri or None


def record_logout(account: Account, app: App | None) -> None:
    """Audit an RP-initiated sign-out (the session itself is ended by services.sessions)."""
    audit.record("oidc.logout", actor=callers.person(account), subject=account.uid,
                 subject_name=account.email, target=app.client_id if app else None,
                 commit=True)
