"""Apps people sign in to: register, list, show, delete, rotate the secret.

Redirect URIs are the security boundary of the authorization code flow, so
they are checked when registered (absolute, no fragment, ``https`` except
loopback) and matched exactly when used (``AppClient.check_redirect_uri``).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets as _random
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from app.errors import NotFound, Unprocessable
from app.models import App, AuthorizationCode, Consent, db, now
from app.services import audit, secrets, tokens
from app.services.callers import Caller
from app.services.pagination import Page, paginate

#: Every app's client_id starts with this (machine users' and resource servers' never do).
APP_PREFIX = "app-"
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CLIENT_ID_RE = re.compile(r"^app-[0-9a-f]{16}$")


def is_client_id(value: str) -> bool:
    """Shaped like an app's client_id (anything else is unknown without a query)."""
    return isinstance(value, str) and bool(_CLIENT_ID_RE.fullmatch(value))


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri) -> str:
    """A redirect URI an app may register: absolute, ``https`` (``http`` only
    to a loopback address, RFC 8252 §7.3), no fragment (RFC 6749 §3.1.2)."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise Unprocessable(f"Each redirect URI must be a string of 1-{MAX_URI_LENGTH} "
                            "characters.")
    if not uri.isprintable() or any(c.isspace() for c in uri):
        raise Unprocessable("A redirect URI may not contain spaces or control characters.")
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Unprocessable(f"{uri!r} is not a valid URI.") from None
    if parts.scheme not in ("https", "http") or not host:
        raise Unprocessable(f"{uri!r} must be an absolute https:// URI.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise Unprocessable(f"{uri!r}: plain http is allowed only for loopback addresses "
                            "(127.0.0.1, localhost, [::1]); use https.")
    if "#" in uri:
        raise Unprocessable(f"{uri!r} may not contain a fragment (#...).")
    if parts.username is not None or parts.password is not None:
        raise Unprocessable(f"{uri!r} may not contain credentials.")
    return uri


def _check_redirect_uris(uris) -> list[str]:
    if not isinstance(uris, list) or not uris:
        raise Unprocessable("`redirect_uris` must be a non-empty list of URIs.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise Unprocessable(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    checked = [check_redirect_uri(u) for u in uris]
    return list(dict.fromkeys(checked))


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 100 \
            or not name.isprintable():
        raise Unprocessable("`name` must be 1-100 printable characters.")
    return name.strip()


def create(caller: Caller, name, redirect_uris, public=False) -> tuple[App, str | None]:
    """Register an app of the caller's organization. Returns it and its
    secret (shown once; None for a public app, which has none)."""
    name = _check_name(name)
    uris = _check_redirect_uris(redirect_uris)
    if not isinstance(public, bool):
        raise Unprocessable("`public` must be true or false.")
    secret = None if public else secrets.generate(secrets.CLIENT_SECRET)
    app = App(org_id=caller.org_id, name=name, public=public,
              client_id=f"{APP_PREFIX}{_random.token_hex(8)}",
              client_secret_hash=secrets.digest(secret) if secret else None,
              redirect_uris_json=json.dumps(uris), created_by=caller.uid, created_at=now())
    db.session.add(app)
    db.session.flush()
    audit.record("app.create", actor=caller, target=app.client_id,
                 detail=f"{name} ({'public' if public else 'confidential'})")
    db.session.commit()
    return app, secret


def get(caller: Caller, client_id: str) -> App:
    """An app of the caller's organization; another organization's is unknown (404)."""
    if not is_client_id(client_id):
        raise NotFound("No such app: a client_id looks like app-0123456789abcdef.")
    app = db.session.scalar(select(App).where(App.client_id == client_id))
    if app is None or app.org_id != caller.org_id:
        raise NotFound(f"No app with client_id {client_id!r}.")
    return app


def listing(caller: Caller, cursor: str | None = None, limit=None) -> Page:
    return paginate(select(App).where(App.org_id == caller.org_id), App.id, cursor, limit)


def delete_app(caller: Caller, client_id: str) -> int:
    """Delete an app: every token issued to it is revoked in the same
    transaction, its codes and remembered consents go with it. Returns the
    number of tokens revoked."""
    app = get(caller, client_id)
    revoked = tokens.revoke_all_for_client(app.client_id)
    db.session.execute(delete(AuthorizationCode).where(
        AuthorizationCode.client_id == app.client_id))
    db.session.execute(delete(Consent).where(Consent.client_id == app.client_id))
    audit.record("app.delete", actor=caller, target=app.client_id,
                 detail=f"{app.name}; {revoked} token(s) revoked")
    db.session.delete(app)
    db.session.commit()
    return revoked


def rotate_secret(caller: Caller, client_id: str) -> tuple[App, str]:
    """A new client secret (shown once); the previous one stops working at once.
    Tokens already issued stay valid (revoke them by deleting the app)."""
    app = get(caller, client_id)
    if app.public:
        raise Unprocessable("A public app has no secret to rotate.")
    secret = secrets.generate(secrets.CLIENT_SECRET)
    app.client_secret_hash = secrets.digest(secret)
    app.secret_rotated_at = now()
    audit.record("app.rotate_secret", actor=caller, target=app.client_id, detail=app.name)
    db.session.commit()
    return app, secret
