"""What the Flask decorator and the WSGI middleware share: reading the bearer
token, the RFC 6750 answers, and the caller of the current request for logs.

``CallerLogFilter`` puts the caller's unique ID (the token's ``sub``) on
every log record as ``%(caller)s`` (``-`` outside a verified request), so
every log line of a protected service can say who it was for::

    handler.addFilter(CallerLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(caller)s %(message)s"))
"""

from __future__ import annotations

import contextvars
import json
import logging

from sdk.auth.exceptions import AuthenticationError, PermissionDenied, ScopegateError

#: The unique ID of the caller whose request is being served, if verified.
current_caller: contextvars.ContextVar[str] = contextvars.ContextVar(
    "scopegate_caller", default="-")
REALM = "scopegate"
log = logging.getLogger(__name__)


class CallerLogFilter(logging.Filter):
    """Adds ``record.caller``: the unique ID of the verified caller, or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.caller = current_caller.get()
        return True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1)."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


def challenge(error: ScopegateError | None, scopes=()) -> tuple[int, dict, bytes]:
    """Status, headers and JSON body of a refusal (RFC 6750 §3): no token is a
    bare challenge; an inactive token ``invalid_token`` (401); a missing scope
    ``insufficient_scope`` (403) naming the scopes required; Scopegate
    unreachable 503 (the verifier fails closed)."""
    params = [f'realm="{REALM}"']
    if error is None:
        status, code, description = 401, "invalid_token", "A bearer token is required."
    elif isinstance(error, AuthenticationError | PermissionDenied):
        status = 401 if isinstance(error, AuthenticationError) else 403
        code = "invalid_token" if status == 401 else "insufficient_scope"
        description = error.error_description
        params += [f'error="{code}"', f'error_description="{_quoted(description)}"']
        if status == 403 and scopes:
            params.append(f'scope="{" ".join(str(s) for s in scopes)}"')
    else:
        log.error("Token verification unavailable: %s", error)
        body = {"error": "temporarily_unavailable",
                "error_description": "The token cannot be verified right now."}
        return 503, {"Content-Type": "application/json", "Retry-After": "1"}, \
            json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               "WWW-Authenticate": "Bearer " + ", ".join(params)}
    return status, headers, json.dumps(
        {"error": code, "error_description": description}).encode()
