"""Bearer authentication of the admin API (Authlib's ResourceProtector)."""

from __future__ import annotations

import functools

from authlib.oauth2 import OAuth2Error
from flask import g, request

from app.errors import Forbidden, MissingCredentials, Unauthorized
from app.oauth.server import ActiveTokenValidator, require_oauth
from app.services import audit, callers, tokens
from app.services.callers import Caller
from sdk.auth.scopes import ADMIN_SCOPE


def authenticated(*scopes: str):
    """Require an active bearer token carrying one of ``scopes`` (any token when none).

    Admin calls need the personal token's ``admin`` scope; a scoped token
    that lacks it gets 403 ``insufficient_scope``, and the refusal is audited.
    """
    wanted = list(scopes) or None

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if "Authorization" not in request.headers:
                raise MissingCredentials()
            try:
                token = require_oauth.acquire_token(None)
            except OAuth2Error:
                raise Unauthorized() from None
            if wanted and ActiveTokenValidator.scope_insufficient(token.get_scope(), wanted):
                audit.record("api.call", audit.DENIED, actor=callers.from_token(token),
                             target=f"{request.method} {request.path}"[:254],
                             detail="insufficient_scope", commit=True)
                raise Forbidden()
            tokens.mark_used(token)
            g.caller = callers.from_token(token)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def admin_only(view):
    return authenticated(ADMIN_SCOPE)(view)


def current_caller() -> Caller:
    return g.caller
