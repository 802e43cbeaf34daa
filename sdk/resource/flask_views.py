"""``require_scopes`` for Flask views."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from sdk.auth.exceptions import ScopegateError
from sdk.auth.scopes import Scope
from sdk.resource.context import bearer_token, challenge, current_caller
from sdk.resource.verifier import TokenVerifier

_default: TokenVerifier | None = None
_default_lock = threading.Lock()


def default_verifier() -> TokenVerifier:
    """One verifier per process, built from the environment on first use
    (``SCOPEGATE_URL``, ``SCOPEGATE_RS_CLIENT_ID``, ``SCOPEGATE_RS_CLIENT_SECRET``)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = TokenVerifier()
    return _default


def require_scopes(*scopes: str | Scope, verifier: TokenVerifier | None = None
                   ) -> Callable:
    """Decorate a Flask view: the request needs an active bearer token that
    carries every scope named (none: any active token). The claims are on
    ``flask.g.token``; refusals are RFC 6750 answers (401 ``invalid_token``,
    403 ``insufficient_scope``, with ``WWW-Authenticate``)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from flask import Response, g, request

            token = bearer_token(request.headers.get("Authorization"))
            if token is None:
                return Response(*_refusal(None, scopes))
            try:
                claims = (verifier or default_verifier()).verify(token, scopes)
            except ScopegateError as error:
                return Response(*_refusal(error, scopes))
            g.token = claims
            reset = current_caller.set(claims["sub"])
            try:
                return view(*args, **kwargs)
            finally:
                current_caller.reset(reset)

        return wrapper

    return decorate


def _refusal(error: ScopegateError | None, scopes) -> tuple[bytes, int, dict]:
    status, headers, body = challenge(error, scopes)
    return body, status, headers
