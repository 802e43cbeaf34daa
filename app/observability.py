"""Request ids and the client IP, which every audit event and log line
carries; and the input rules every endpoint needs (forms in UTF-8, no NUL bytes)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import BadRequest

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_app(app: Flask) -> None:
    hops = app.config["SCOPEGATE_TRUST_PROXY"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

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
