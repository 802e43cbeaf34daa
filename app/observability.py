"""Request ids and the client IP, which every audit event and log line
carries; the input rules every endpoint needs (forms in UTF-8, no NUL
bytes); and no token-shaped part of a URL in any log line."""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import BadRequest
from sdk.auth.redaction import redact

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


#: The environ keys access logs read the URL from (gunicorn: RAW_URI, PATH_INFO, QUERY_STRING).
_URL_KEYS = ("RAW_URI", "REQUEST_URI", "PATH_INFO", "QUERY_STRING")


class RedactURLForLogs:
    """WSGI middleware: once the app has answered, the URL parts of the
    environ lose anything token-shaped, so the access log written after the
    response (gunicorn reads these keys) never holds a token someone put in a
    path, such as ``DELETE /api/v1/tokens/sgt_…`` instead of its token_id."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            for key in _URL_KEYS:
                if isinstance(environ.get(key), str):
                    environ[key] = redact(environ[key])


class RedactRequestLine(logging.Filter):
    """The development server (``make run``) logs each request line itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def init_app(app: Flask) -> None:
    hops = app.config["SCOPEGATE_TRUST_PROXY"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = RedactURLForLogs(app.wsgi_app)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactRequestLine) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactRequestLine())

    @app.before_request
    def assign_request_id():
        # Keep a proxy's id when it looks sane, so logs join across hops.
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.before_request
    def reject_forms_not_in_utf8():
        # Werkzeug decodes a form leniently (a bad byte becomes U+FFFD), so a
        # Latin-1 form would reach the rules as some other value: refuse it.
        # Read before anything parses the form; Werkzeug parses the cached body.
        if (request.mimetype == "application/x-www-form-urlencoded"
                and not _is_utf8_form(request.get_data(cache=True))):
            raise BadRequest("The form is not UTF-8 (application/x-www-form-urlencoded).")

    @app.before_request
    def reject_nul_bytes():
        # PostgreSQL text cannot hold NUL: refuse it here, once, as bad input,
        # instead of letting it reach a query as a server error.
        values = [request.path, *request.args.keys(), *request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += [*request.form.keys(), *request.form.values()]
        if any("\x00" in v for v in values):
            raise BadRequest("NUL bytes are not accepted.")

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        return response


def _is_utf8_form(body: bytes) -> bool:
    """Every percent-decoded name and value of a urlencoded body is UTF-8."""
    try:
        for field in body.replace(b"+", b" ").split(b"&"):
            unquote_to_bytes(field).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
