"""``POST /oauth/token`` and ``POST /oauth/introspect``, answered in front of Flask.

These two are the hot paths: every machine user's token and every resource
server's check. Flask's per-request machinery (request and response objects,
URL routing, the before/after hooks, the session interface) cost more CPU than
the OAuth work itself (bench/RESULTS.md §14), so this WSGI adapter answers
them, and hands everything else to Flask -- including any request to these
two paths that is not a plain urlencoded POST of known length (a query
string, another body type, a body above the limit), so Flask answers the odd
cases exactly as before.

It decides nothing itself. Authlib stays the protocol layer: Authlib's
framework-agnostic ``AuthorizationServer`` shares the Flask server's registry
(grants, client authentication, token generators, endpoint classes), so the
same code answers; the rules stay in ``app.services``. What Flask's hooks do
for the views, this does through the same functions: the request id and JSON
access log (``app.observability``), the UTF-8, NUL and repeated-parameter
rules (form only, as the views read it), the rate limits (``app.ratelimits``,
on Flask-Limiter's own counters), metrics (``app.metrics``), the error format
with redacted descriptions and the one-line log of an unexpected failure
(``app.errors``), ``no-store``, and never a 5xx for bad input. The people's
grants (``authorization_code``, ``refresh_token``) are registered on the same
registry and answered here too (tests/test_fastpath.py holds them equal).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

from authlib.integrations.flask_oauth2.signals import client_authenticated
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Flask, g
from flask.globals import _cv_app
from sqlalchemy.orm import Session

from app import errors, metrics, observability, ratelimits
from app.models import db
from app.models.prepared import READS, Reads, end_direct
from app.oauth.routes import reject_repeated
from app.oauth.server import ClearErrors

#: path -> (Flask endpoint name, how Authlib answers it)
ROUTES = {"/oauth/token": ("oauth.token", "token"),
          "/oauth/introspect": ("oauth.introspect", "introspection")}
#: The Authlib endpoints those paths need besides the token endpoint.
SERVED_ENDPOINTS = ("introspection",)
FORM = "application/x-www-form-urlencoded"
#: Every answer is JSON and never cached; these replace whatever Authlib said about them.
_FIXED = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
          ("Pragma", "no-cache")]
_FIXED_NAMES = {name for name, _ in _FIXED}
_STATUS = {status.value: f"{status.value} {status.phrase.upper()}" for status in HTTPStatus}
#: ``json.dumps(body, sort_keys=True)`` without building an encoder per answer.
_JSON = json.JSONEncoder(sort_keys=True)


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    """The form's (name, value) pairs in order, once the views' UTF-8 rule passed."""
    observability.require_utf8_form(body)
    return parse_qsl(body.decode(), keep_blank_values=True)


class FormRequest(OAuth2Request):
    """An OAuth request whose form was parsed here (no query string: those go to Flask).

    Made with :meth:`for_form`. Authlib's ``__init__`` checks the transport (it parses the
    URI, and on plain http the host as an IP address: about a twentieth of an
    introspection) although the answer depends on the URI alone, which repeats from
    request to request. So ``__init__`` runs once per URI (:data:`BLANKS`), and each
    request starts as a copy of that request with its own headers and form: whatever
    Authlib's ``__init__`` sets, it is what every request starts with."""

    #: URI -> a request Authlib's ``__init__`` built for it (the transport passed). The
    #: host comes from the client, so at most :data:`MAX_BLANKS` of them; others are
    #: checked per request, as before.
    BLANKS: dict[str, FormRequest] = {}
    MAX_BLANKS = 64

    @classmethod
    def for_form(cls, uri: str, headers: dict, form: dict) -> FormRequest:
        blank = cls.BLANKS.get(uri)
        if blank is None:
            blank = cls("POST", uri)  # raises InsecureTransportError, as Authlib would
            if len(cls.BLANKS) < cls.MAX_BLANKS:
                cls.BLANKS[uri] = blank
        request = cls.__new__(cls)
        request.__dict__.update(blank.__dict__)
        request.headers = headers
        request._form = form
        request.payload = BasicOAuth2Payload(form)
        return request

    @property
    def form(self) -> dict:
        return self._form

    @property
    def args(self) -> dict:
        return {}


class WSGIAuthorizationServer(ClearErrors, AuthorizationServer):
    """Authlib's framework-agnostic server, answering ``(status, body, headers)``,
    with the Flask server's error answers (``server.ClearErrors``).

    It shares the Flask server's registry -- grants, client authentication, token
    generators, hooks, extensions -- so whatever is registered there (``server.configure``
    or a later ``register_grant``) is what answers here too: one configuration. Only the
    endpoints it serves are new instances of the same classes, bound to this server (an
    endpoint builds its request through its server)."""

    def __init__(self, flask_server: AuthorizationServer):
        super().__init__()
        self.flask_server = flask_server
        self._token_generators = flask_server._token_generators
        self._client_auth = flask_server._client_auth
        self._authorization_grants = flask_server._authorization_grants
        self._token_grants = flask_server._token_grants
        self._extensions = flask_server._extensions
        self._hooks = flask_server._hooks
        self._endpoints = {name: [type(endpoint)(self) for endpoint in
                                  flask_server._endpoints.get(name, [])]
                           for name in SERVED_ENDPOINTS}

    def query_client(self, client_id):
        return self.flask_server.query_client(client_id)

    def save_token(self, token, request):
        return self.flask_server.save_token(token, request)

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        # The Flask integration's signal, so a subscriber sees every client
        # authentication. Revocation (Authlib's other signal) is served by Flask's
        # server, which sends its own.
        if name == "after_authenticate_client":
            client_authenticated.send(self, *args, **kwargs)


class FastPath:
    """The WSGI callable in front of Flask's ``wsgi_app``."""

    def __init__(self, app: Flask, flask_wsgi):
        self.app, self.flask_wsgi = app, flask_wsgi
        self.prepared = None
        self.local = threading.local()

    def _prepare(self) -> dict:
        """Built at the first request: the rate limits exist only once every view does."""
        config = self.app.config
        prepared = {
            "server": WSGIAuthorizationServer(self.app.extensions["scopegate.authorization"]),
            "limits": {path: ratelimits.EndpointLimits(self.app, endpoint, path)
                       for path, (endpoint, _) in ROUTES.items()},
            "max_body": config["SCOPEGATE_MAX_BODY_BYTES"],
            "metrics": metrics.enabled(config),
        }
        self.prepared = prepared
        return prepared

    def _session(self) -> Session:
        """This thread's session, closed after every request as usual (Flask-SQLAlchemy's
        teardown: its transaction ends) but not rebuilt for the next (about 30 µs).

        On SQLite it is bound to one connection the thread keeps, so no request pays for a
        pool checkout and return (another 35 µs). On a server database the pool stays for
        writes, with its pre-ping, and reads go to a connection the thread keeps
        (``prepared.Reads``): a restarted database costs no request an error either way."""
        session = getattr(self.local, "session", None)
        if session is None:
            engine = db.engine
            if engine.dialect.name == "sqlite":
                session = Session(bind=engine.connect())
            else:
                session = db.session.session_factory()
                session.info[READS] = Reads(engine)
            self.local.session = session
        return session

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path not in ROUTES or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi(environ, start_response)
        prepared = self.prepared or self._prepare()
        length = environ.get("CONTENT_LENGTH") or ""
        if (environ.get("QUERY_STRING") or environ.get("HTTP_TRANSFER_ENCODING")
                or not length.isdigit() or int(length) > prepared["max_body"]
                or (environ.get("CONTENT_TYPE") or "").partition(";")[0].strip().lower() != FORM):
            return self.flask_wsgi(environ, start_response)
        return self._serve(prepared, path, environ, start_response)

    def _serve(self, prepared: dict, path: str, environ, start_response):
        started = time.perf_counter()
        # Like Flask: a request inside an app context of this app (tests) shares it.
        current = _cv_app.get(None)
        shared = current is not None and current.app is self.app
        context = None if shared else self.app.app_context()
        if context is not None:
            context.push()
            db.session.registry.set(self._session())
        try:
            ip = environ.get("REMOTE_ADDR") or "-"
            request_id = observability.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
            g.request_id, g.client_ip = request_id, environ.get("REMOTE_ADDR")
            status, body, headers = self._answer(prepared, path, environ, ip)
            if isinstance(body, dict):
                body = _JSON.encode(body)
            payload = body.encode()
            headers = [*_FIXED, *(h for h in headers if h[0] not in _FIXED_NAMES),
                       ("Content-Length", str(len(payload))),
                       ("X-Request-Id", request_id)]
            if prepared["metrics"]:
                metrics.answered(self.app, path, "POST", status, started)
        finally:
            if context is not None:
                session = self.local.session
                end_direct(session)  # what the request wrote and did not commit
                if (db.session.registry() is session and not session.in_transaction()
                        and not session.identity_map):
                    # Nothing to end or let go: Flask-SQLAlchemy's teardown would close
                    # it all the same (about a twentieth of an introspection).
                    db.session.registry.clear()
                context.pop()
        if observability.access_log.isEnabledFor(logging.INFO):
            observability.log_access(
                request_id=request_id, remote_addr=environ.get("REMOTE_ADDR"), method="POST",
                path=path, query="", status=status, size=len(payload), started=started,
                user_agent=environ.get("HTTP_USER_AGENT", ""))
        start_response(_STATUS[status], headers)
        return [payload]

    def _answer(self, prepared: dict, path: str, environ, ip: str) -> tuple[int, object, list]:
        """Authlib's answer, or the error a rule raised; never an unhandled exception."""
        limits = None
        try:
            pairs = _form_pairs(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            observability.reject_nul_bytes_in([path, *(v for pair in pairs for v in pair)])
            reject_repeated([name for name, _ in pairs])
            authorization = environ.get("HTTP_AUTHORIZATION") or ""
            # Checked where Flask-Limiter checks a view's limits: after the hooks above.
            limits = prepared["limits"][path].check(ip, authorization)
            if limits.refused is not None:
                raise limits.refused
            result = self._authlib(prepared["server"], path, environ, authorization, dict(pairs))
        except OAuth2Error as error:
            result = errors.error_parts(error)
        except Exception as error:
            errors.log_unexpected(error, "POST", path)
            result = 500, dict(errors.SERVER_ERROR), []
        if limits is not None:
            limits.settle(result[0])
        return result

    @staticmethod
    def _authlib(authorization_server: WSGIAuthorizationServer, path: str, environ,
                 authorization: str, form: dict) -> tuple[int, object, list]:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        scheme, root = environ.get("wsgi.url_scheme", "http"), environ.get("SCRIPT_NAME", "")
        uri = f"{scheme}://{host}{root}{path}"
        # Authlib reads only Authorization from these requests' headers (the form was
        # parsed here, and its type checked before the fast path took the request).
        headers = {"Authorization": authorization} if authorization else {}
        request = FormRequest.for_form(uri, headers, form)
        if ROUTES[path][1] == "token":
            return authorization_server.create_token_response(request)
        return authorization_server.create_endpoint_response("introspection", request)


def init_app(app: Flask) -> None:
    """Put the fast path in front of Flask (inside ProxyFix and the URL redaction,
    which observability adds later, so trusted proxies' addresses are already
    applied when it runs)."""
    app.wsgi_app = app.extensions["scopegate.fastpath"] = FastPath(app, app.wsgi_app)
