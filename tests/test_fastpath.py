"""The WSGI fast path in front of Flask (app/oauth/fastpath.py) answers
``/oauth/token`` and ``/oauth/introspect`` exactly like the Flask views it
stands in for, and keeps every rule the views' hooks apply: rate limits on the
same counters, audit origin, access log, metrics, the error format."""

from __future__ import annotations

import base64
import json
import logging
import re
from contextlib import contextmanager, nullcontext

import pytest
from authlib.integrations.flask_oauth2.signals import client_authenticated
from flask import g

from app import create_app, metrics
from app.database import upgrade
from app.models import AuditEvent, db
from app.oauth.fastpath import FORM, FastPath
from app.services import tokens
from tests.conftest import basic, database_url, empty_tables, issue, make_org, make_test_app
from tests.web.conftest import Browser, make_admin
from tests.web.test_oidc_flow import redeem, refresh, register, sign_in_to_app

VOLATILE = {"access_token", "refresh_token", "id_token", "token_id", "iat", "exp"}
WRONG_SECRET = "The client id or client secret is wrong"


@contextmanager
def flask_views(app):
    """Requests inside go to Flask's views, not through the fast path."""
    fast = app.extensions["scopegate.fastpath"]
    assert isinstance(fast, FastPath)
    fast._serve = lambda prepared, path, environ, start_response: fast.flask_wsgi(
        environ, start_response)
    try:
        yield
    finally:
        del fast._serve


def shape(response) -> tuple:
    body = response.get_json()
    if isinstance(body, dict):
        body = {k: ("<varies>" if k in VOLATILE else v) for k, v in body.items()}
    headers = {name: response.headers.get(name) for name in
               ("Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate", "Retry-After")}
    return response.status_code, body, headers


def cases(machine_user, api, token):
    good = basic(machine_user.client_id, machine_user.client_secret)
    bad = basic(machine_user.client_id, "not-the-secret")
    admin = {"Authorization": f"Bearer {api.token}"}
    not_utf8 = {"Authorization": "Basic " + base64.b64encode(b"\xff:x").decode()}
    form = "application/x-www-form-urlencoded"
    return [
        ("/oauth/token", "grant_type=client_credentials", good),
        ("/oauth/token", "grant_type=client_credentials&scope=cli", good),
        ("/oauth/token", "grant_type=client_credentials&scope=admin", good),
        ("/oauth/token", "grant_type=client_credentials", bad),
        ("/oauth/token", "grant_type=client_credentials", {}),
        ("/oauth/token", "grant_type=client_credentials", not_utf8),
        ("/oauth/token", "grant_type=password", good),
        ("/oauth/token", "", good),
        ("/oauth/token", "grant_type=client_credentials&scope=cli&scope=cli", good),
        ("/oauth/token", "grant_type=client_credentials&scope=c%00li", good),
        ("/oauth/token", b"grant_type=client_credentials&scope=\xff\xfe", good),
        ("/oauth/token", f"grant_type=client_credentials&scope={token}", good),
        ("/oauth/token", f"grant_type={token}", good),
        ("/oauth/token", "grant_type=refresh_token&refresh_token=sgr_notatoken", good),
        ("/oauth/token", "grant_type=authorization_code&code=nocode", good),
        ("/oauth/introspect", f"token={token}", good),
        ("/oauth/introspect", f"token={token}&token_type_hint=access_token", good),
        ("/oauth/introspect", f"token={token}&token_type_hint=bogus", good),
        ("/oauth/introspect", f"token={token}", admin),
        ("/oauth/introspect", f"token={token}", bad),
        ("/oauth/introspect", "token=sgt_notatoken", good),
        ("/oauth/introspect", "", good),
    ], form


def test_fast_path_answers_like_the_flask_views(app, client, api, machine_user):
    token = issue(client, machine_user).get_json()["access_token"]
    requests, form = cases(machine_user, api, token)
    for path, body, headers in requests:
        fast = client.post(path, data=body, content_type=form, headers=headers)
        with flask_views(app):
            views = client.post(path, data=body, content_type=form, headers=headers)
        assert shape(fast) == shape(views), (path, body)
        assert fast.headers["X-Request-Id"]


def test_a_client_authentication_is_signalled_like_the_flask_views(app, client,
                                                                    machine_user):
    """Authlib's Flask signal ``client_authenticated`` reaches a subscriber
    whichever path answered, with the authenticated client and its grant."""
    seen = []

    def subscriber(sender, **kwargs):
        seen.append((sender, kwargs["client"].client_id, type(kwargs["grant"]).__name__))

    client_authenticated.connect(subscriber)
    try:
        issue(client, machine_user)
        with flask_views(app):
            issue(client, machine_user)
    finally:
        client_authenticated.disconnect(subscriber)
    fast = app.extensions["scopegate.fastpath"].prepared["server"]
    flask = app.extensions["scopegate.authorization"]
    assert seen == [(fast, machine_user.client_id, "ScopedTokenGrant"),
                    (flask, machine_user.client_id, "ScopedTokenGrant")]


@pytest.mark.parametrize("environ, status", [
    ({"HTTP_HOST": "auth.example.test", "SERVER_NAME": "localhost"}, 400),
    ({"HTTP_HOST": "", "SERVER_NAME": "localhost"}, 200),
    ({"HTTP_HOST": "auth.example.test", "wsgi.url_scheme": "https"}, 200),
])
def test_plain_http_is_refused_off_loopback_by_host_header_then_server_name(
        client, machine_user, environ, status):
    """Authlib refuses a token request over plain http unless the host is a
    loopback one: the host is the Host header, else the server name."""
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, machine_user.client_secret),
                           environ_overrides=environ)
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert response.get_json()["error"] == "insecure_transport"


def test_a_flood_of_host_names_does_not_grow_the_remembered_requests(
        client, machine_user, monkeypatch):
    """The fast path checks the transport once per URI; the host is the client's to
    choose, so only so many URIs are remembered, and a refused one never is."""
    from app.oauth.fastpath import FormRequest

    monkeypatch.setattr(FormRequest, "BLANKS", {})
    monkeypatch.setattr(FormRequest, "MAX_BLANKS", 2)
    for n in range(4):
        for _ in range(2):
            response = client.post(
                "/oauth/token", data={"grant_type": "client_credentials"},
                headers=basic(machine_user.client_id, machine_user.client_secret),
                environ_overrides={"HTTP_HOST": f"h{n}.example.test"})
            assert response.get_json()["error"] == "insecure_transport"
    assert FormRequest.BLANKS == {}
    for host in ("127.0.0.1", "localhost", "127.0.0.2"):
        assert client.post(
            "/oauth/token", data={"grant_type": "client_credentials"},
            headers=basic(machine_user.client_id, machine_user.client_secret),
            environ_overrides={"HTTP_HOST": host}).status_code == 200
    assert len(FormRequest.BLANKS) == 2


def test_a_wrong_secret_says_what_to_fix_on_both_endpoints(client, machine_user):
    bad = basic(machine_user.client_id, "not-the-secret")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=bad)
    check = client.post("/oauth/introspect", data={"token": "x"}, headers=bad)
    assert (token.status_code, token.get_json()["error"]) == (401, "invalid_client")
    assert token.get_json()["error_description"].startswith(WRONG_SECRET)
    assert "bearer token is invalid" in check.get_json()["error_description"]


def test_a_token_quoted_in_a_description_is_redacted(client, machine_user):
    token = issue(client, machine_user).get_json()["access_token"]
    response = issue(client, machine_user, scope=token)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"
    assert token not in response.get_data(as_text=True)


def test_code_and_refresh_grants_answer_like_the_flask_views(app, client, monkeypatch):
    """Registered on the shared registry, the people's grants are served by the
    fast path too; each exchange is made once on each path with its own sign-in."""
    admin = make_admin(app, "acme")
    rp = register(app, admin)
    browser = Browser(app.test_client())
    assert browser.login(admin).status_code == 303
    browser.get("/dashboard")
    token_view = app.view_functions["oauth.token"]
    answers = {}
    for path in ("fast", "views"):
        code, verifier = sign_in_to_app(browser, rp, scope="openid email offline_access")
        if path == "fast":
            monkeypatch.setitem(app.view_functions, "oauth.token",
                                lambda: pytest.fail("served by Flask"))
        with flask_views(app) if path == "views" else nullcontext():
            redeemed = redeem(client, rp, code, verifier)
            first = redeemed.get_json()["refresh_token"]
            responses = [
                redeemed,
                refresh(client, rp, first),
                refresh(client, rp, first),  # reused: refused, and the family revoked
                redeem(client, rp, code, verifier),  # spent
                redeem(client, {**rp, "client_secret": "wrong"}, code, verifier),
            ]
        monkeypatch.setitem(app.view_functions, "oauth.token", token_view)
        answers[path] = [shape(response) for response in responses]
    assert [status for status, _, _ in answers["fast"]] == [200, 200, 400, 400, 401]
    assert answers["fast"] == answers["views"]
    assert answers["fast"][4][1]["error_description"].startswith(WRONG_SECRET)


def test_requests_it_does_not_recognise_as_plain_go_to_flask(app, client, machine_user,
                                                            monkeypatch):
    monkeypatch.setattr(FastPath, "_serve", lambda *a: pytest.fail("served by the fast path"))
    auth = basic(machine_user.client_id, machine_user.client_secret)
    assert client.post("/oauth/token?scope=cli", data={"grant_type": "client_credentials"},
                       headers=auth).status_code == 200
    assert client.post("/oauth/token", json={"grant_type": "client_credentials"},
                       headers=auth).status_code == 400
    assert client.get("/oauth/token").status_code == 405


def served(app, body: bytes, **environ) -> tuple[bool, int]:
    """(whether the fast path served it, status) of a raw POST to /oauth/token."""
    import io

    from werkzeug.test import EnvironBuilder

    fast = app.extensions["scopegate.fastpath"]
    calls = []
    serve = fast._serve
    fast._serve = lambda *args: calls.append(1) or serve(*args)
    base = EnvironBuilder(method="POST", path="/oauth/token").get_environ()
    base.update({"CONTENT_TYPE": FORM, "CONTENT_LENGTH": str(len(body)),
                 "wsgi.input": io.BytesIO(body), **environ})
    statuses = []
    try:
        b"".join(app(base, lambda status, headers, exc_info=None: statuses.append(status)))
    finally:
        del fast._serve
    return bool(calls), int(statuses[0].split()[0])


def test_plain_form_posts_up_to_the_body_limit_take_the_fast_path(app, machine_user):
    auth = basic(machine_user.client_id, machine_user.client_secret)["Authorization"]
    form = b"grant_type=client_credentials&pad="
    limit = app.config["SCOPEGATE_MAX_BODY_BYTES"]
    full = form + b"x" * (limit - len(form))
    assert served(app, full, HTTP_AUTHORIZATION=auth) == (True, 200)
    assert served(app, full + b"x", HTTP_AUTHORIZATION=auth) == (False, 413)
    assert served(app, form, HTTP_AUTHORIZATION=auth,
                  CONTENT_TYPE=f"{FORM.upper()} ; charset=utf-8") == (True, 200)


def test_a_chunked_body_goes_to_flask_which_reads_its_framing(app, machine_user):
    """With ``Transfer-Encoding`` the length is the chunks' business, not
    ``CONTENT_LENGTH``'s (RFC 9112 §6.3): the WSGI server and Werkzeug handle it."""
    auth = basic(machine_user.client_id, machine_user.client_secret)["Authorization"]
    body = b"grant_type=client_credentials"
    for encoding in ("chunked", "gzip, chunked"):
        fast, _status = served(app, body, HTTP_AUTHORIZATION=auth,
                               HTTP_TRANSFER_ENCODING=encoding)
        assert not fast, encoding


def test_an_unexpected_failure_is_a_json_500_logged_like_the_views(
        app, client, machine_user, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("store down")

    monkeypatch.setattr(tokens, "issue_client_credentials", broken)
    answers, lines = [], []
    for context in (nullcontext(), flask_views(app)):
        caplog.clear()
        with context:
            response = issue(client, machine_user)
        answers.append(shape(response))
        (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
        text = line.getMessage()
        assert line.exc_info is None and "\n" not in text  # one line, no traceback
        assert f"request_id={response.headers['X-Request-Id']} POST /oauth/token" in text
        lines.append(text.split(" exception=")[1].split(" at ")[0])
        assert "store down" not in response.get_data(as_text=True) + text
    assert answers[0] == answers[1] and answers[0][0] == 500
    assert lines == ["builtins.RuntimeError"] * 2


def test_refused_client_auth_is_audited_with_address_and_request_id(app, client, machine_user):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={**basic(machine_user.client_id, "wrong"),
                                    "X-Request-Id": "req-42"})
    assert response.status_code == 401
    assert response.headers["X-Request-Id"] == "req-42"
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "client.auth")).scalar_one()
    assert (event.ip, event.request_id, event.outcome) == ("127.0.0.1", "req-42", "denied")


def test_each_answer_is_one_access_log_line(client, machine_user):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    access = logging.getLogger("scopegate.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers={**basic(machine_user.client_id,
                                                machine_user.client_secret),
                                        "User-Agent": "probe/1.0"})
        status, _headers, _body = raw_call(client.application, {"grant_type": "nothing"},
                                           drop=("HTTP_USER_AGENT",))
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert len(lines) == 2
    line, bare = (json.loads(text) for text in lines)
    assert {k: line[k] for k in ("method", "path", "query", "status", "bytes", "remote_addr",
                                 "user_agent", "request_id")} == {
        "method": "POST", "path": "/oauth/token", "query": "", "status": 200,
        "bytes": len(response.data), "remote_addr": "127.0.0.1", "user_agent": "probe/1.0",
        "request_id": response.headers["X-Request-Id"]}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert response.get_json()["access_token"] not in lines[0]
    assert (bare["status"], bare["user_agent"]) == (status, "")  # as the views log it


def raw_call(app, form: dict, *, headers=None, drop=(), trailing: bytes = b""
             ) -> tuple[int, dict, bytes]:
    """A POST straight into the WSGI callable, for what a test client always sends:
    ``drop`` removes environ keys; ``trailing`` puts bytes after the body in the
    input stream (the next request on a kept-alive connection, say)."""
    import io
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    body = urlencode(form).encode()
    environ = EnvironBuilder(method="POST", path="/oauth/token", data=body,
                             content_type="application/x-www-form-urlencoded",
                             headers=headers).get_environ()
    for key in drop:
        environ.pop(key, None)
    environ["wsgi.input"] = io.BytesIO(body + trailing)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=int(status.split()[0]), headers=dict(headers))

    chunks = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], chunks


def test_only_the_declared_length_of_the_body_is_read(app, machine_user):
    """PEP 3333: an application reads no further than CONTENT_LENGTH."""
    status, _headers, body = raw_call(
        app, {"grant_type": "client_credentials"}, trailing=b"&scope=not-a-scope",
        headers=basic(machine_user.client_id, machine_user.client_secret))
    assert status == 200, body
    assert "not-a-scope" not in json.loads(body)["scope"]


def test_a_request_without_an_id_gets_a_new_one_each_time(client, machine_user):
    ids = [issue(client, machine_user).headers["X-Request-Id"] for _ in range(2)]
    assert ids[0] != ids[1]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)  # uuid4().hex


def test_each_answer_header_is_sent_once_with_the_body_length(client, machine_user):
    """Authlib's own Content-Type, Cache-Control and Pragma are replaced, not repeated."""
    response = issue(client, machine_user)
    for name in ("Content-Type", "Cache-Control", "Pragma", "X-Request-Id"):
        assert len(response.headers.getlist(name)) == 1, name
    assert response.headers.getlist("Content-Length") == [str(len(response.data))]


def test_a_request_inside_the_apps_own_context_shares_it_like_flask(app, client,
                                                                   machine_user):
    """As Flask does for its views (tests read ``g`` after a request this way)."""
    for views in (flask_views(app), nullcontext()):
        with views, app.app_context():
            response = issue(client, machine_user)
            assert g.request_id == response.headers["X-Request-Id"]


@pytest.fixture
def other_app(tmp_path):
    """A second app in the same process (made first: on PostgreSQL both share a database)."""
    (tmp_path / "other").mkdir()
    other = make_test_app(tmp_path / "other")
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_request_inside_another_apps_context_is_served_by_its_own_app(
        other_app, app, client, api, machine_user):
    with other_app.app_context():
        response = issue(client, machine_user)
        assert "request_id" not in g  # the other app's context was left alone
    assert response.status_code == 200
    assert api.introspect(response.get_json()["access_token"]).get_json()["active"] is True


def test_requests_on_one_thread_reuse_its_database_connection(app, client, machine_user):
    """On SQLite the thread keeps its connection: no request pays for a pool checkout and
    return. On a server database each request takes one from the pool and gives it back."""
    from sqlalchemy import event

    issue(client, machine_user)
    with app.app_context():
        engine = db.engine
    seen = {"checkout": 0, "checkin": 0}

    def counter(name):
        def count(*_args):
            seen[name] += 1
        return count

    listeners = [(name, counter(name)) for name in seen]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        for _ in range(3):
            assert issue(client, machine_user).status_code == 200
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    if engine.dialect.name == "sqlite":
        assert seen == {"checkout": 0, "checkin": 0}
    else:
        assert seen["checkout"] == seen["checkin"] >= 3


@pytest.fixture
def limited_app(tmp_path):
    """An app with small limits (and metrics on), as an operator could configure it."""
    app = create_app({
        "TESTING": True, "SCOPEGATE_DATABASE_URL": database_url(tmp_path),
        "SCOPEGATE_ISSUER": "http://localhost", "SCOPEGATE_METRICS": 1,
        "SCOPEGATE_RATE_LIMIT_PER_CLIENT": "3/minute",
        "SCOPEGATE_RATE_LIMIT_FAILED_AUTH": "2/minute",
    })
    with app.app_context():
        upgrade()
        if not database_url(tmp_path).startswith("sqlite"):
            empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def limited_machine(app):
    from tests.conftest import Api

    org = make_org(app, "acme")
    api = Api(app.test_client(), org.admin_token)
    api.post("/users", json={"name": "ci", "scopes": ["cli"]})
    creds = api.post("/users/ci/credentials").get_json()
    return creds["client_id"], creds["client_secret"]


def test_failed_authentications_share_the_views_counters(limited_app):
    client_id, secret = limited_machine(limited_app)
    client = limited_app.test_client()

    def token(secret):
        return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(client_id, secret))

    with flask_views(limited_app):
        assert token("wrong").status_code == 401
    assert token("wrong").status_code == 401
    refused = token(secret)  # this address spent its allowance of failures for this client
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


def test_per_client_limit_counts_only_authenticated_requests(limited_app):
    client_id, secret = limited_machine(limited_app)
    client = limited_app.test_client()
    answers = [client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(client_id, secret)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_answers_are_counted_in_metrics(limited_app):
    client_id, secret = limited_machine(limited_app)
    sample = metrics.REQUESTS.labels("/oauth/token", "POST", "200")
    before = sample._value.get()
    response = limited_app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers=basic(client_id, secret))
    assert response.status_code == 200
    assert sample._value.get() == before + 1


def test_an_answers_latency_is_measured_from_the_start_of_the_request(limited_app,
                                                                       monkeypatch):
    """The histogram counts the whole answer, here one made 50 ms slower on purpose."""
    import time

    from prometheus_client import REGISTRY

    from app import observability

    client_id, secret = limited_machine(limited_app)
    make_id = observability.request_id

    def slow_request_id(incoming):
        time.sleep(0.05)
        return make_id(incoming)

    monkeypatch.setattr(observability, "request_id", slow_request_id)
    def spent() -> float:
        return REGISTRY.get_sample_value("scopegate_http_request_duration_seconds_sum",
                                         {"endpoint": "/oauth/token"}) or 0.0

    before = spent()
    response = limited_app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers=basic(client_id, secret))
    assert response.status_code == 200
    assert spent() - before >= 0.05


def test_a_read_only_answer_begins_no_session_transaction(app, client, api, machine_user):
    """The hot reads (client, token) run on a connection the thread keeps (SQLite's own,
    or ``models.prepared.Reads`` on a server database): an introspection that writes
    nothing begins no transaction."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    value = issue(client, machine_user).get_json()["access_token"]
    api.introspect(value)  # the first use writes last_used_at; the next ones only read
    begun = []

    def count(session, transaction, connection):
        begun.append(session)

    event.listen(Session, "after_begin", count)
    try:
        answer = client.post("/oauth/introspect", data={"token": value},
                             headers=basic(machine_user.client_id, machine_user.client_secret))
    finally:
        event.remove(Session, "after_begin", count)
    assert answer.get_json()["active"] is True
    assert begun == []
