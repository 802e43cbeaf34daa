"""require_scopes (Flask) and BearerTokenMiddleware (any WSGI app) in front of
a view, verifying real tokens of a live server: RFC 6750 answers, claims
handed to the view, the caller on every log line."""

from __future__ import annotations

import logging

import flask
import pytest
from werkzeug.test import Client

from sdk.resource import BearerTokenMiddleware, CallerLogFilter, require_scopes

log = logging.getLogger("tests.protected")


@pytest.fixture
def service(platform):
    verifier = platform.verifier()
    app = flask.Flask("protected")

    @app.post("/sessions")
    @require_scopes("create_session", verifier=verifier)
    def create():
        log.info("creating a session")
        return {"owner": flask.g.token["sub"]}

    @app.get("/whoami")
    @require_scopes(verifier=verifier)
    def whoami():
        return {"sub": flask.g.token["sub"]}

    return app.test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_with_the_scope_reaches_the_view_with_its_claims(service, platform):
    issued = platform.token(platform.user(), ["create_session"])
    response = service.post("/sessions", headers=bearer(issued["token"]))
    assert response.status_code == 200
    assert response.get_json() == {"owner": issued["email"]}


def test_no_token_is_401_with_a_bare_challenge(service):
    response = service.post("/sessions")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="scopegate"'
    assert response.get_json()["error"] == "invalid_token"


def test_inactive_token_is_401_invalid_token(service, platform):
    issued = platform.token(platform.user(), ["create_session"])
    platform.revoke(issued["token_id"])
    response = service.post("/sessions", headers=bearer(issued["token"]))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="scopegate", error="invalid_token"')


def test_missing_scope_is_403_insufficient_scope_naming_it(service, platform):
    issued = platform.token(platform.user(), ["read_user_session"])
    response = service.post("/sessions", headers=bearer(issued["token"]))
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="create_session"' in challenge


def test_no_scope_named_accepts_any_active_token(service, platform):
    issued = platform.token(platform.user(), ["cli"])
    assert service.get("/whoami", headers=bearer(issued["token"])).status_code == 200


def test_other_authorization_schemes_are_no_token(service, platform):
    issued = platform.token(platform.user(), ["create_session"])
    response = service.post("/sessions", headers={"Authorization": f"Basic {issued['token']}"})
    assert response.status_code == 401


def test_unreachable_scopegate_is_503(platform):
    from sdk.resource import TokenVerifier

    app = flask.Flask("protected")

    @app.get("/")
    @require_scopes(verifier=TokenVerifier("http://127.0.0.1:9", "rs-x", "sgs_x"))
    def index():
        return "never"

    response = app.test_client().get("/", headers=bearer("sgt_whatever"))
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"


def test_every_log_line_carries_the_callers_unique_id(service, platform, caplog):
    issued = platform.token(platform.user(), ["create_session"])
    handler = caplog.handler
    handler.addFilter(CallerLogFilter())
    with caplog.at_level(logging.INFO, logger="tests.protected"):
        service.post("/sessions", headers=bearer(issued["token"]))
        log.info("between requests")
    assert [r.caller for r in caplog.records if r.name == "tests.protected"] == [
        issued["email"], "-"]


def wsgi_app(environ, start_response):
    claims = environ["scopegate.token"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [claims["sub"].encode()]


def test_middleware_passes_verified_requests_with_claims(platform):
    issued = platform.token(platform.user(), ["model_download"])
    app = Client(BearerTokenMiddleware(wsgi_app, platform.verifier(),
                                       scopes=["model_download"]))
    response = app.get("/models/1", headers=bearer(issued["token"]))
    assert response.status_code == 200 and response.text == issued["email"]


def test_middleware_refuses_with_rfc6750_answers(platform):
    issued = platform.token(platform.user(), ["cli"])
    app = Client(BearerTokenMiddleware(wsgi_app, platform.verifier(),
                                       scopes=["model_download"], exempt=["/healthz"]))
    assert app.get("/models/1").status_code == 401
    refused = app.get("/models/1", headers=bearer(issued["token"]))
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert app.get("/models/1", headers=bearer("sgt_garbage")).status_code == 401


def test_middleware_leaves_exempt_paths_alone(platform):
    def health(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    app = Client(BearerTokenMiddleware(health, platform.verifier(), exempt=["/healthz"]))
    assert app.get("/healthz").status_code == 200
