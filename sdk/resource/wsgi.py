"""A WSGI middleware for services not written with Flask."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sdk.auth.exceptions import ScopegateError
from sdk.auth.scopes import Scope
from sdk.resource.context import bearer_token, challenge, current_caller
from sdk.resource.verifier import TokenVerifier

#: Where the verified claims are put in the WSGI environ.
ENVIRON_KEY = "scopegate.token"


class BearerTokenMiddleware:
    """Refuses every request without an active bearer token carrying
    ``scopes`` (RFC 6750 answers); passes the others on with the claims in
    ``environ["scopegate.token"]``. Paths in ``exempt`` (e.g. a health check)
    pass untouched."""

    def __init__(self, app: Callable, verifier: TokenVerifier | None = None,
                 scopes: Iterable[str | Scope] = (), exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.verifier = verifier or TokenVerifier()
        self.scopes = tuple(scopes)
        self.exempt = frozenset(exempt)

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO", "") in self.exempt:
            return self.app(environ, start_response)
        token = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        try:
            if token is None:
                raise LookupError
            claims = self.verifier.verify(token, self.scopes)
        except (LookupError, ScopegateError) as error:
            status, headers, body = challenge(
                error if isinstance(error, ScopegateError) else None, self.scopes)
            reason = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Service Unavailable")
            start_response(f"{status} {reason}", [*headers.items(),
                                                  ("Content-Length", str(len(body)))])
            return [body]
        environ[ENVIRON_KEY] = claims
        reset = current_caller.set(claims["sub"])
        try:
            # The body is produced after this returns for streaming apps; the
            # caller stays set for the view itself, which is what logs need.
            return self.app(environ, start_response)
        finally:
            current_caller.reset(reset)
