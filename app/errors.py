"""Errors: classes carrying an error code, an HTTP status and a default
description. Raised anywhere, rendered in exactly one place
(:func:`init_app`). They subclass Authlib's ``OAuth2Error`` so that the OAuth
endpoints render them the RFC 6749 way too.
"""

from __future__ import annotations

import logging
import traceback

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError
from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from sdk.auth.redaction import redact

log = logging.getLogger(__name__)

__all__ = [
    "ScopegateError", "BadRequest", "InvalidRequest", "InvalidScope", "Unauthorized",
    "MissingCredentials", "Forbidden", "NotFound", "Conflict", "Unprocessable", "RateLimited",
    "init_app",
]


#: Longest description sent: a 5,000-character name echoed back helps nobody.
MAX_DESCRIPTION = 300


def safe_description(text: str) -> str:
    """``text`` as RFC 6749 allows an ``error_description`` (%x20-21 / %x23-5B /
    %x5D-7E), still readable: ``"`` becomes ``'``, ``\\`` becomes ``/``, any other
    character outside printable ASCII (``jürgen``, a tab) becomes ``?``.

    Authlib raises ``ValueError`` (a 500) for anything else, and descriptions
    quote what users sent; every :class:`ScopegateError` passes through here.
    """
    out = "".join("'" if c == '"' else "/" if c == "\\" else c if " " <= c <= "~" else "?"
                  for c in text)
    return out if len(out) <= MAX_DESCRIPTION else out[:MAX_DESCRIPTION - 3] + "..."


class ScopegateError(OAuth2Error):
    """Base of every error a client is meant to see."""

    error = "invalid_request"
    status_code = 400

    def __init__(self, description: str | None = None, *args, **kwargs):
        super().__init__(safe_description(description) if description else None,
                         *args, **kwargs)


class BadRequest(ScopegateError):
    error = "invalid_request"
    description = "The request is malformed."


class InvalidRequest(InvalidRequestError, ScopegateError):
    """A parameter has a value the server refuses (RFC 6749 ``invalid_request``)."""


class InvalidScope(InvalidScopeError, ScopegateError):
    """A scope outside the catalog or above the user's ceiling."""


class Unauthorized(ScopegateError):
    """No valid bearer token (RFC 6750 ``invalid_token``)."""

    error = "invalid_token"
    status_code = 401
    description = "A valid bearer token is required."

    def challenge(self) -> str:
        """RFC 6750 §3: the ``WWW-Authenticate`` value of this refusal."""
        return (f'Bearer realm="scopegate", error="{self.error}", '
                f'error_description="{self.get_error_description()}"')

    def get_headers(self):
        return [*super().get_headers(), ("WWW-Authenticate", self.challenge())]


class MissingCredentials(Unauthorized):
    """No credentials at all: RFC 6750 §3.1 says the challenge then names no
    error (the client may not know authentication is needed). The JSON body
    keeps the one error shape every answer has."""

    description = "A bearer token is required (Authorization: Bearer <token>)."

    def challenge(self) -> str:
        return 'Bearer realm="scopegate"'


class Forbidden(Unauthorized):
    """Authenticated, but this token may not do this (RFC 6750 ``insufficient_scope``,
    which also carries a ``WWW-Authenticate`` challenge)."""

    error = "insufficient_scope"
    status_code = 403
    description = "The request requires higher privileges than provided by the access token."


class NotFound(ScopegateError):
    """Unknown, or outside the caller's organization: the two look the same."""

    error = "not_found"
    status_code = 404
    description = "No such object."


class Conflict(ScopegateError):
    error = "conflict"
    status_code = 409
    description = "The object already exists."


class Unprocessable(ScopegateError):
    """Well-formed JSON whose values have the wrong type or shape."""

    error = "invalid_request"
    status_code = 422
    description = "The request body has the wrong shape."


class RateLimited(ScopegateError):
    """Too many requests; ``Retry-After`` says when the next one may succeed."""

    error = "rate_limited"
    status_code = 429

    def __init__(self, retry_after: int, description: str | None = None):
        super().__init__(description or f"Too many requests. Retry in {retry_after} s.")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


def error_parts(error: OAuth2Error) -> tuple[int, dict, list[tuple[str, str]]]:
    """The one rendering of an error: status, JSON body and extra headers."""
    body = {"error": error.error}
    description = error.get_error_description()
    if description:
        # Never echo a token, wherever a message quoted its input from.
        body["error_description"] = redact(description)
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    return error.status_code or 400, body, headers


#: What a client sees of an unexpected failure (the details go to the log only).
SERVER_ERROR = {"error": "server_error",
                "error_description": "The server could not complete the request."}


def error_response(error: OAuth2Error):
    """The JSON error response, for Flask's views."""
    status, body, headers = error_parts(error)
    response = jsonify(body)
    response.status_code = status
    for name, value in headers:
        response.headers[name] = value
    return response


_HTTP_CODES = {
    400: "invalid_request", 401: "invalid_token", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "request_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited",
}


def init_app(app: Flask) -> None:
    """Render every error as JSON ``{"error", "error_description"}``; hide internals."""

    @app.errorhandler(OAuth2Error)
    def _oauth_error(error: OAuth2Error):
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        # The dashboard renders its own pages; everything else speaks JSON.
        if hasattr(error, "get_body") and getattr(error, "body", None) is not None:
            return error  # an Authlib-built response, already JSON
        response = jsonify({
            "error": _HTTP_CODES.get(error.code or 500, "server_error"),
            "error_description": redact(error.description or error.name),
        })
        response.status_code = error.code or 500
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log_unexpected(error, request.method, request.path)
        response = jsonify(SERVER_ERROR)
        response.status_code = 500
        return response


def log_unexpected(error: Exception, method: str, path: str) -> None:
    """The one log line of an unexpected failure (Flask's views and the fast path)."""
    log.error("unexpected %s", one_line_report(error, method, path))


def one_line_report(error: Exception, method: str, path: str) -> str:
    """What operators need to find an unexpected failure, on one line: the
    request id (it joins the access log and the audit log), the route, the
    exception's type and where it was raised.

    Never the exception's message or local values: a database error quotes
    its statement's parameters, and those can be secrets' digests or values.
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(f"{_short(f.filename)}:{f.lineno} {f.name}"
                       for f in reversed(frames[-4:]))
    return (f"request_id={getattr(g, 'request_id', '-')} {method} {path} "
            f"exception={type(error).__module__}.{type(error).__qualname__} at {where}")


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/app/"):
        if marker in filename:
            head = "" if marker == "/site-packages/" else "app/"
            return head + filename.rsplit(marker, 1)[1]
    return filename
