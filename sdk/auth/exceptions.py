"""The exceptions the SDK raises: one root class, one subclass per condition.

Catch :class:`ScopegateError` to handle every failure of a call; catch a
subclass to handle one condition. Each exception carries the server's OAuth
style ``error`` code and ``error_description`` (the server answers errors as
``{"error": ..., "error_description": ...}``), the HTTP ``status_code`` and the
``response`` when there was one. Messages never contain a token.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import requests

from sdk.auth.redaction import printable, redact

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Conflict",
    "InsecureURLWarning",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ScopegateError",
    "ServerError",
    "ValidationError",
    "error_from_response",
]


class ScopegateError(Exception):
    """Any failure of an SDK call. Catching it covers every exception below.

    Whether a retry is safe depends on the subclass; the SDK has already
    retried what is safe to retry (reads and connection failures) before
    raising.
    """

    #: The error code the SDK uses when the server gave none.
    default_error = "error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        response: requests.Response | None = None,
    ) -> None:
        #: HTTP status of the answer, or ``None`` when no answer arrived.
        self.status_code = status_code
        #: The server's error code (``invalid_request``, ``not_found``, ...).
        self.error = error or self.default_error
        #: The server's human-readable explanation.
        self.error_description = error_description or message or self.error
        #: The :class:`requests.Response`, when there was one.
        self.response = response
        super().__init__(message or self._default_message())

    def __reduce__(self) -> tuple:
        # Pickled without the response: its request carries the bearer token.
        state = {k: v for k, v in self.__dict__.items() if k != "response"}
        return (_rebuild, (type(self), str(self)), state)

    @property
    def message(self) -> str:
        """The one-line message (also ``str(exc)``)."""
        return str(self)

    def _default_message(self) -> str:
        status = f", HTTP {self.status_code}" if self.status_code else ""
        return f"{self.error_description} ({self.error}{status})"


def _rebuild(cls: type[ScopegateError], message: str) -> ScopegateError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


class InsecureURLWarning(UserWarning):
    """The client talks plain ``http://`` to a host other than this machine:
    the admin token would cross the network unencrypted. Shown by Python's
    default warning filters; turn it into an error with
    ``warnings.simplefilter("error", InsecureURLWarning)``."""


class ConfigurationError(ScopegateError, ValueError):
    """The client is not configured: no token was found, the URL is unusable, or
    the server redirects elsewhere (the SDK does not follow redirects).

    Raised before any request is sent (a redirect: once it is answered).
    Retrying without fixing the configuration (``SCOPEGATE_TOKEN``,
    ``SCOPEGATE_URL``, or the arguments) fails again.
    """

    default_error = "configuration_error"


class AuthenticationError(ScopegateError):
    """HTTP 401: the token is missing, malformed, expired or revoked.

    Not worth retrying with the same token: get a new one.
    """

    default_error = "invalid_token"


class PermissionDenied(ScopegateError):
    """HTTP 403: the token is valid but may not do this (e.g. a scoped token
    calling an admin-only endpoint: ``insufficient_scope``).

    Not worth retrying with the same token.
    """

    default_error = "access_denied"


class NotFound(ScopegateError):
    """HTTP 404: no such user, token or path (objects of another organization
    are reported as not found too).

    Not worth retrying unless something else creates the object meanwhile.
    """

    default_error = "not_found"


class Conflict(ScopegateError):
    """HTTP 409: the object already exists (e.g. a user name that is taken).

    Retrying the same request gives the same answer; pick another name or use
    the existing object.
    """

    default_error = "conflict"


class ValidationError(ScopegateError, ValueError):
    """The request was refused as invalid: HTTP 400, 413 or 422, or a check the
    SDK makes before sending anything (such as an unknown scope name).

    Also a :class:`ValueError`. Retrying the same request fails again: fix the
    arguments (the message says what is wrong).
    """

    default_error = "invalid_request"


class RateLimited(ScopegateError):
    """HTTP 429: too many requests.

    Safe to retry after :attr:`retry_after` seconds (when the server said).
    """

    default_error = "rate_limited"

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        #: Seconds the server asked to wait (``Retry-After``), or ``None``.
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ScopegateError):
    """HTTP 5xx, or an answer the SDK cannot read: the server failed.

    Reads were already retried. Retrying a write may repeat it if the server
    did act before failing, so check (e.g. with ``list_tokens``) first.
    """

    default_error = "server_error"


class NetworkError(ScopegateError):
    """No answer: the connection failed, TLS verification failed, or the call
    timed out (``status_code`` is ``None``).

    Reads and connections that were never established were already retried.
    A write that timed out may or may not have been applied: check before
    retrying it.
    """

    default_error = "network_error"


_BY_STATUS: dict[int, type[ScopegateError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: ValidationError,
    422: ValidationError,
    429: RateLimited,
}


def parse_retry_after(response: requests.Response) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) into seconds."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(response: requests.Response) -> ScopegateError:
    """Build the exception matching an error answer (status 4xx/5xx)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = description = None
    if isinstance(body, dict):
        error = body.get("error")
        description = body.get("error_description") or body.get("message")
    if not description:
        text = " ".join((response.text or "").split())
        # An HTML error page from a proxy is noise; keep only a short plain text.
        if text and len(text) <= 200 and not text.startswith("<"):
            description = text
        else:
            description = response.reason or f"HTTP {status}"
    if status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status >= 500:
        cls = ServerError
    else:
        cls = ScopegateError
        error = error or f"http_{status}"
    kwargs: dict[str, Any] = {}
    if cls is RateLimited:
        kwargs["retry_after"] = parse_retry_after(response)
    # Server text goes into a one-line message (the CLI prints exactly one line),
    # without terminal control characters, and never with a token in it.
    description = printable(redact(" ".join(str(description).split())))
    return cls(
        status_code=status,
        error=printable(error) if isinstance(error, str) and error else None,
        error_description=description,
        response=response,
        **kwargs,
    )
