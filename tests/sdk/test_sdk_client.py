"""Unit tests of sdk.auth's AuthClient against a mocked server (requests-mock).

For every call: the request it sends, the error each status maps to, and
which failures it retries.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import warnings
from urllib.parse import parse_qs

import pytest
import requests

from sdk import __version__
from sdk.auth import (
    AuthClient,
    AuthenticationError,
    ConfigurationError,
    Conflict,
    InsecureURLWarning,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Scope,
    ScopegateError,
    ServerError,
    ValidationError,
    connect_to_auth_client,
)
from sdk.auth.scopes import CATALOG
from tests.sdk.samples import ADMIN_TOKEN, BASE, EMAIL, TOKEN, TOKEN_ID, TOKEN_VALUE, USER

META = {
    "token_id": TOKEN_ID,
    "kind": "scoped",
    "user_id": "demo-user",
    "email": EMAIL,
    "scopes": ["create_session"],
    "created_by": "admin@example.com",
    "created_at": "2024-05-01T12:00:00Z",
    "expires_at": "2024-05-31T12:00:00Z",
    "revoked_at": None,
    "last_used_at": None,
}
INFO = {
    "active": True,
    "scope": "create_session read_user_session",
    "token_id": TOKEN_ID,
    "user_id": "demo-user",
    "email": EMAIL,
    "user_type": "generated",
}
CREDS = {"client_id": EMAIL, "client_secret": "sgs_" + "x" * 40}
EVENT = {"id": 7, "at": "2024-05-01T12:00:00Z", "action": "token.create", "outcome": "success"}
SCOPES = {"items": [{"name": s.value, "description": s.description} for s in Scope]}
ME = {"email": "admin@example.com", "kind": "personal", "token_id": "b" * 32}


@pytest.fixture
def sleeps():
    """The waits the client asked for between retries (none really happen)."""
    return []


@pytest.fixture
def client(sleeps):
    c = AuthClient(ADMIN_TOKEN, BASE, timeout=7.5, retries=2)
    c._sleep = sleeps.append
    yield c
    c.close()


def page(*items, cursor=None):
    return {"items": list(items), "next_cursor": cursor}


# (id, call, method, path, status, answer, what the call returns)
CALLS = [
    ("create_user", lambda c: c.create_user("demo-user"), "POST", "/api/v1/users", 201, USER,
     USER),
    ("get_user", lambda c: c.get_user("demo-user"), "GET", "/api/v1/users/demo-user", 200, USER,
     USER),
    ("list_users", lambda c: c.list_users(), "GET", "/api/v1/users", 200, page(USER), [USER]),
    ("delete_user", lambda c: c.delete_user("demo-user"), "DELETE", "/api/v1/users/demo-user",
     204, None, None),
    ("create_client_credentials", lambda c: c.create_client_credentials("demo-user"), "POST",
     "/api/v1/users/demo-user/credentials", 201, CREDS, CREDS),
    ("create_token",
     lambda c: c.create_token(user_id="demo-user",
                              scopes=[Scope.create_session, Scope.read_user_session]),
     "POST", "/api/v1/users/demo-user/tokens", 201, TOKEN, TOKEN),
    ("token_info", lambda c: c.token_info(TOKEN_VALUE), "POST", "/oauth/introspect", 200, INFO,
     INFO),
    ("revoke_token", lambda c: c.revoke_token(TOKEN_ID), "DELETE", f"/api/v1/tokens/{TOKEN_ID}",
     204, None, None),
    ("renew_token", lambda c: c.renew_token(TOKEN_ID), "POST",
     f"/api/v1/tokens/{TOKEN_ID}/renew", 200, META, META),
    ("list_tokens", lambda c: c.list_tokens(), "GET", "/api/v1/tokens", 200, page(META), [META]),
    ("list_activity", lambda c: c.list_activity(), "GET", "/api/v1/activity", 200, page(EVENT),
     [EVENT]),
    ("scopes", lambda c: c.scopes(), "GET", "/api/v1/scopes", 200, SCOPES, SCOPES),
    ("whoami", lambda c: c.whoami(), "GET", "/api/v1/me", 200, ME, ME),
]
CALL_IDS = [c[0] for c in CALLS]
READS = [c for c in CALLS if c[2] == "GET"]
WRITES = [c for c in CALLS if c[2] != "GET"]


def register(requests_mock, method, path, status=200, answer=None, **kwargs):
    if "exc" in kwargs:
        return requests_mock.register_uri(method, BASE + path, **kwargs)
    if answer is None and "text" not in kwargs:
        kwargs["text"] = ""
    elif answer is not None:
        kwargs["json"] = answer
    return requests_mock.register_uri(method, BASE + path, status_code=status, **kwargs)


# -- request shape and answers, for every call -----------------------------


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         CALLS, ids=CALL_IDS)
def test_every_call_sends_one_authenticated_request(requests_mock, client, name, call, method,
                                                    path, status, answer, returns):
    register(requests_mock, method, path, status, answer)

    assert call(client) == returns

    assert requests_mock.call_count == 1
    sent = requests_mock.last_request
    assert sent.method == method
    assert sent.path == path.lower()  # requests-mock lower-cases the path
    assert sent.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert sent.headers["User-Agent"] == f"scopegate-sdk/{__version__}"
    assert sent.headers["Accept"] == "application/json"
    assert 7.0 < sent.timeout <= 7.5  # what is left of the call's 7.5 s deadline
    assert sent.verify  # True, or the CA bundle REQUESTS_CA_BUNDLE names


def test_create_user_body(requests_mock, client):
    register(requests_mock, "POST", "/api/v1/users", 201, USER)
    client.create_user("demo-user")
    assert requests_mock.last_request.json() == {"name": "demo-user"}

    client.create_user("demo-user", scopes=[Scope.cli, "model_download"])
    assert requests_mock.last_request.json() == {
        "name": "demo-user", "scopes": ["cli", "model_download"]}


def test_create_token_body(requests_mock, client):
    register(requests_mock, "POST", "/api/v1/users/demo-user/tokens", 201, TOKEN)
    client.create_token(user_id="demo-user", scopes=[Scope.create_session, Scope.read_user_session])
    assert requests_mock.last_request.json() == {
        "scopes": ["create_session", "read_user_session"]}
    assert requests_mock.last_request.headers["Content-Type"] == "application/json"

    client.create_token("demo-user", ["cli", Scope.cli], expires_in=dt.timedelta(hours=1))
    assert requests_mock.last_request.json() == {"scopes": ["cli"], "expires_in": 3600}

    client.create_token("demo-user", "create_session  cli", expires_in=600)
    assert requests_mock.last_request.json() == {
        "scopes": ["create_session", "cli"], "expires_in": 600}


def test_token_info_posts_the_token_as_a_form(requests_mock, client):
    register(requests_mock, "POST", "/oauth/introspect", 200, INFO)
    client.token_info(f"  {TOKEN_VALUE}\n")
    sent = requests_mock.last_request
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.text) == {"token": [TOKEN_VALUE]}
    assert sent.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert TOKEN_VALUE not in sent.url


def test_token_info_of_an_inactive_token_is_an_answer_not_an_error(requests_mock, client):
    register(requests_mock, "POST", "/oauth/introspect", 200, {"active": False})
    assert client.token_info(TOKEN_VALUE) == {"active": False}


def test_renew_body(requests_mock, client):
    register(requests_mock, "POST", f"/api/v1/tokens/{TOKEN_ID}/renew", 200, META)
    client.renew_token(TOKEN_ID)
    assert requests_mock.last_request.json() == {}
    client.renew_token(TOKEN_ID, expires_in=86400)
    assert requests_mock.last_request.json() == {"expires_in": 86400}


@pytest.mark.parametrize(("name", "path"), [
    ("user1@mycompany.com", "/api/v1/users/user1%40mycompany.com"),
    ("a/b c", "/api/v1/users/a%2Fb%20c"),
])
def test_names_are_escaped_as_one_path_segment(requests_mock, client, name, path):
    register(requests_mock, "GET", path, 200, USER)
    client.get_user(name)
    assert requests_mock.last_request.path == path.lower()


def test_list_users_follows_every_page(requests_mock, client):
    second = {**USER, "name": "other"}
    requests_mock.get(BASE + "/api/v1/users", [
        {"json": page(USER, cursor="41")},
        {"json": page(second, cursor=None)},
    ])
    assert client.list_users() == [USER, second]
    first, then = requests_mock.request_history
    assert first.qs == {}
    assert then.qs == {"cursor": ["41"]}


def test_a_repeated_cursor_is_a_server_error_not_a_loop(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/tokens", json=page(META, cursor="9"))
    with pytest.raises(ServerError, match="repeated a page cursor"):
        client.list_tokens()
    assert requests_mock.call_count == 2


def test_list_tokens_filters_and_pages(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/tokens", [
        {"json": page(META, cursor="3")},
        {"json": page(META)},
    ])
    assert client.list_tokens(user="demo-user", active=True, kind="scoped") == [META, META]
    first, then = requests_mock.request_history
    assert first.qs == {"user": ["demo-user"], "active": ["true"], "kind": ["scoped"]}
    assert then.qs == {"user": ["demo-user"], "active": ["true"], "kind": ["scoped"],
                       "cursor": ["3"]}

    requests_mock.get(BASE + "/api/v1/tokens", json=page())
    client.list_tokens(active=False)
    assert requests_mock.last_request.qs == {"active": ["false"]}


def test_list_tokens_refuses_an_unknown_kind_before_sending(requests_mock, client):
    with pytest.raises(ValidationError, match="personal, scoped"):
        client.list_tokens(kind="bogus")
    assert requests_mock.call_count == 0


def test_list_activity_filters(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/activity", json=page(EVENT))
    client.list_activity(
        user=["demo-user", "f1bd9ff87c@sg.test"], actor="admin@example.com",
        action="token.create",
        since=dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        until=dt.datetime(2024, 5, 2, 8, 30),  # naive: taken as UTC
    )
    # requests-mock lower-cases query values; compare case-insensitively.
    assert requests_mock.last_request.qs == {
        "user": ["demo-user", "f1bd9ff87c@sg.test"],
        "actor": ["admin@example.com"],
        "action": ["token.create"],
        "since": ["2024-05-01t12:00:00z"],
        "until": ["2024-05-02t08:30:00z"],
    }

    client.list_activity(user="demo-user", since="2024-05-01", until=dt.date(2024, 5, 3))
    assert requests_mock.last_request.qs == {
        "user": ["demo-user"], "since": ["2024-05-01"], "until": ["2024-05-03t00:00:00z"]}


def test_list_activity_limit_stops_early_and_asks_for_no_more_than_needed(requests_mock, client):
    events = [{**EVENT, "id": i} for i in range(10, 0, -1)]
    requests_mock.get(BASE + "/api/v1/activity", [
        {"json": page(*events[:3], cursor="8")},
        {"json": page(*events[3:6], cursor="5")},
    ])
    assert client.list_activity(limit=5) == events[:5]
    first, then = requests_mock.request_history
    assert first.qs == {"limit": ["5"]}
    assert then.qs == {"limit": ["2"], "cursor": ["8"]}


def test_list_activity_never_asks_for_a_page_over_the_server_maximum(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/activity", json=page(EVENT))
    client.list_activity(limit=10_000)
    assert requests_mock.last_request.qs == {"limit": ["200"]}


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "10"])
def test_list_activity_refuses_a_bad_limit(requests_mock, client, bad):
    with pytest.raises(ValidationError, match="limit"):
        client.list_activity(limit=bad)
    assert requests_mock.call_count == 0


# -- checks made before any request ----------------------------------------


@pytest.mark.parametrize("call", [
    lambda c: c.create_token(user_id="demo-user", scopes=["create_session", "read_model"]),
    lambda c: c.create_token(user_id="demo-user", scopes=["admin"]),
    lambda c: c.create_user("demo-user", scopes=["Create_Session"]),
], ids=["unknown", "admin-is-not-grantable", "case-matters"])
def test_an_unknown_scope_fails_before_any_request_listing_the_valid_ones(requests_mock, client,
                                                                          call):
    with pytest.raises(ValidationError) as info:
        call(client)
    assert requests_mock.call_count == 0
    assert isinstance(info.value, ValueError)
    assert info.value.error == "invalid_scope"
    for name in CATALOG:
        assert name in str(info.value)


@pytest.mark.parametrize("call", [
    lambda c: c.create_user(""),
    lambda c: c.create_user(None),
    lambda c: c.get_user("  "),
    lambda c: c.delete_user(42),
    lambda c: c.create_token(user_id="", scopes=["cli"]),
    lambda c: c.create_token(user_id="u", scopes=["cli"], expires_in=0),
    lambda c: c.create_token(user_id="u", scopes=["cli"], expires_in=-5),
    lambda c: c.create_token(user_id="u", scopes=["cli"], expires_in="1h"),
    lambda c: c.create_token(user_id="u", scopes=["cli"], expires_in=True),
    lambda c: c.create_token(user_id="u", scopes=None),
    lambda c: c.token_info(""),
    lambda c: c.token_info(None),
    lambda c: c.revoke_token(""),
    lambda c: c.renew_token(TOKEN_ID, expires_in=0.5),
    lambda c: c.list_activity(since=12),
    lambda c: c.list_activity(user=[""]),
])
def test_bad_arguments_fail_before_any_request(requests_mock, client, call):
    with pytest.raises(ValidationError):
        call(client)
    assert requests_mock.call_count == 0


# -- error mapping, for every call -----------------------------------------

STATUSES = [
    (400, "invalid_request", ValidationError),
    (401, "invalid_token", AuthenticationError),
    (403, "insufficient_scope", PermissionDenied),
    (404, "not_found", NotFound),
    (409, "conflict", Conflict),
    (413, "request_too_large", ValidationError),
    (422, "invalid_request", ValidationError),
    (429, "rate_limited", RateLimited),
    (500, "server_error", ServerError),
    (503, "temporarily_unavailable", ServerError),
]


@pytest.mark.parametrize(("status", "code", "exc_type"), STATUSES,
                         ids=[str(s[0]) for s in STATUSES])
@pytest.mark.parametrize(("name", "call", "method", "path", "_s", "_a", "_r"), CALLS,
                         ids=CALL_IDS)
def test_every_call_maps_error_answers_to_typed_exceptions(
        requests_mock, client, name, call, method, path, _s, _a, _r, status, code, exc_type):
    register(requests_mock, method, path, status,
             {"error": code, "error_description": f"Explained: {status}."},
             headers={"Retry-After": "100"})

    with pytest.raises(exc_type) as info:
        call(client)

    exc = info.value
    assert isinstance(exc, ScopegateError)
    assert exc.status_code == status
    assert exc.error == code
    assert exc.error_description == f"Explained: {status}."
    assert exc.response is not None and exc.response.status_code == status
    assert str(exc) == f"Explained: {status}. ({code}, HTTP {status})"
    assert exc.message == str(exc)
    assert ADMIN_TOKEN not in str(exc) and TOKEN_VALUE not in str(exc)
    if status == 429:
        assert exc.retry_after == 100


def test_error_without_a_json_body(requests_mock, client):
    register(requests_mock, "GET", "/api/v1/me", 502,
             text="<html><body>Bad gateway</body></html>", reason="Bad Gateway")
    with pytest.raises(ServerError) as info:
        client.whoami()
    assert info.value.error == "server_error"
    assert str(info.value) == "Bad Gateway (server_error, HTTP 502)"


def test_error_with_a_short_text_body_keeps_it_on_one_line(requests_mock, client):
    register(requests_mock, "POST", "/api/v1/users", 400, text="name is\nrequired")
    with pytest.raises(ValidationError, match=r"^name is required \(invalid_request, HTTP 400\)$"):
        client.create_user("x")


def test_an_unexpected_status_is_the_base_exception(requests_mock, client):
    register(requests_mock, "GET", "/api/v1/me", 418, {"error_description": "I'm a teapot"})
    with pytest.raises(ScopegateError) as info:
        client.whoami()
    assert type(info.value) is ScopegateError
    assert info.value.error == "http_418"


def test_a_success_that_is_not_json_is_a_server_error(requests_mock, client):
    register(requests_mock, "GET", "/api/v1/me", 200, text="<html>login page</html>")
    with pytest.raises(ServerError) as info:
        client.whoami()
    assert info.value.error == "invalid_response"


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         CALLS, ids=CALL_IDS)
def test_redirects_are_not_followed(requests_mock, client, name, call, method, path, status,
                                    answer, returns):
    register(requests_mock, method, path, 301, headers={"Location": "https://elsewhere.test/"})
    requests_mock.get("https://elsewhere.test/", json={})
    with pytest.raises(ConfigurationError, match="redirected .* to https://elsewhere.test/; "
                                                 "set SCOPEGATE_URL") as info:
        call(client)
    assert info.value.status_code == 301
    assert requests_mock.call_count == 1


def test_retry_after_as_an_http_date(requests_mock, client):
    register(requests_mock, "POST", "/api/v1/users", 429, {"error": "rate_limited"},
             headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    with pytest.raises(RateLimited) as info:
        client.create_user("x")
    assert info.value.retry_after == 0  # a date in the past: no need to wait


def test_exception_hierarchy():
    for cls in (AuthenticationError, PermissionDenied, NotFound, Conflict, ValidationError,
                RateLimited, ServerError, NetworkError, ConfigurationError):
        assert issubclass(cls, ScopegateError)
        assert cls.__doc__ and "retry" in cls.__doc__.lower(), cls
    assert issubclass(ValidationError, ValueError)
    assert issubclass(ConfigurationError, ValueError)


# -- retries ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         READS, ids=[c[0] for c in READS])
@pytest.mark.parametrize("failure", [
    {"status_code": 503, "json": {"error": "temporarily_unavailable"}},
    {"status_code": 502, "text": "bad gateway"},
    {"status_code": 429, "json": {"error": "rate_limited"}, "headers": {"Retry-After": "2"}},
    {"exc": requests.ConnectionError},
    {"exc": requests.ConnectTimeout},
    {"exc": requests.ReadTimeout},
], ids=["503", "502", "429", "connection-error", "connect-timeout", "read-timeout"])
def test_reads_are_retried_with_backoff(requests_mock, client, sleeps, name, call, method, path,
                                        status, answer, returns, failure):
    requests_mock.register_uri(method, BASE + path, [
        failure, failure, {"status_code": status, "json": answer}])

    assert call(client) == returns

    assert requests_mock.call_count == 3
    if failure.get("status_code") == 429:
        assert sleeps == [2.0, 2.0]  # Retry-After wins over a shorter backoff
    else:
        assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         READS, ids=[c[0] for c in READS])
def test_reads_give_up_after_the_configured_retries(requests_mock, client, sleeps, name, call,
                                                    method, path, status, answer, returns):
    register(requests_mock, method, path, 503, {"error": "temporarily_unavailable",
                                                "error_description": "Down for maintenance."})
    with pytest.raises(ServerError, match="Down for maintenance"):
        call(client)
    assert requests_mock.call_count == 3  # 1 + retries=2
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         READS, ids=[c[0] for c in READS])
def test_reads_are_not_retried_on_client_errors_or_plain_500(requests_mock, client, sleeps, name,
                                                             call, method, path, status, answer,
                                                             returns):
    for code, exc_type in ((404, NotFound), (500, ServerError)):
        requests_mock.reset_mock()
        register(requests_mock, method, path, code, {"error": "x"})
        with pytest.raises(exc_type):
            call(client)
        assert requests_mock.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         WRITES, ids=[c[0] for c in WRITES])
@pytest.mark.parametrize(("failure", "exc_type"), [
    ({"status_code": 503, "json": {"error": "temporarily_unavailable"}}, ServerError),
    ({"status_code": 429, "json": {"error": "rate_limited"}, "headers": {"Retry-After": "1"}},
     RateLimited),
    ({"exc": requests.ConnectionError}, NetworkError),
    ({"exc": requests.ReadTimeout}, NetworkError),
], ids=["503", "429", "connection-dropped", "read-timeout"])
def test_writes_are_not_retried_once_they_may_have_reached_the_server(
        requests_mock, client, sleeps, name, call, method, path, status, answer, returns,
        failure, exc_type):
    requests_mock.register_uri(method, BASE + path, [failure, {"status_code": status,
                                                               "json": answer}])
    with pytest.raises(exc_type) as info:
        call(client)
    assert requests_mock.call_count == 1
    assert sleeps == []
    if exc_type is NetworkError:
        assert "may have been applied" in str(info.value)
        assert info.value.status_code is None


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         WRITES, ids=[c[0] for c in WRITES])
def test_writes_are_retried_when_the_connection_was_never_made(
        requests_mock, client, sleeps, name, call, method, path, status, answer, returns):
    kwargs = {"json": answer} if answer is not None else {"text": ""}
    requests_mock.register_uri(method, BASE + path, [
        {"exc": requests.ConnectTimeout}, {"status_code": status, **kwargs}])
    assert call(client) == returns
    assert requests_mock.call_count == 2
    assert sleeps == [0.5]


def test_a_long_retry_after_is_not_waited_for(requests_mock, client, sleeps):
    register(requests_mock, "GET", "/api/v1/me", 429, {"error": "rate_limited"},
             headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as info:
        client.whoami()
    assert info.value.retry_after == 120
    assert requests_mock.call_count == 1
    assert sleeps == []


def test_network_errors_after_retries(requests_mock, client, sleeps):
    register(requests_mock, "GET", "/api/v1/me", exc=requests.ConnectionError("refused"))
    with pytest.raises(NetworkError, match=f"Could not connect to Scopegate at {BASE}"):
        client.whoami()
    assert requests_mock.call_count == 3


def test_tls_failures_are_not_retried(requests_mock, client, sleeps):
    register(requests_mock, "GET", "/api/v1/me", exc=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(NetworkError, match="TLS verification failed"):
        client.whoami()
    assert requests_mock.call_count == 1


def test_timeout_message_names_the_call(requests_mock, client):
    register(requests_mock, "GET", "/api/v1/me", exc=requests.ReadTimeout)
    with pytest.raises(NetworkError,
                       match=r"GET /api/v1/me got no complete answer from \S+ within 7.5 s\.$"):
        client.whoami()


def test_retries_zero_means_one_attempt(requests_mock, sleeps):
    c = AuthClient(ADMIN_TOKEN, BASE, retries=0)
    c._sleep = sleeps.append
    register(requests_mock, "GET", "/api/v1/me", 503, {"error": "x"})
    with pytest.raises(ServerError):
        c.whoami()
    assert requests_mock.call_count == 1


def test_backoff_is_capped(client):
    client.max_backoff = 3
    assert [client._backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3, 3]


def test_connection_refused_fails_at_once_and_says_what_to_check():
    """Against a closed port (no mock): nothing listens, so no retry can help."""
    c = AuthClient(ADMIN_TOKEN, "http://127.0.0.1:9", retries=3, timeout=2)
    waits = []
    c._sleep = waits.append
    with pytest.raises(NetworkError) as caught:
        c.list_users()  # a read, which other failures would retry
    assert waits == []
    assert str(caught.value) == (
        "Could not connect to Scopegate at http://127.0.0.1:9: connection refused. "
        "Is the server running (`make run` serves http://127.0.0.1:5000)? "
        "If it runs elsewhere, set SCOPEGATE_URL to its address.")


def test_connection_refused_raises_without_a_chained_traceback():
    c = AuthClient(ADMIN_TOKEN, "http://127.0.0.1:9")
    with pytest.raises(NetworkError) as caught:
        c.whoami()
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert len(traceback.format_exception(caught.value)) < 12


def test_a_connection_never_made_is_retried_with_backoff(requests_mock):
    requests_mock.post(BASE + "/api/v1/users", [
        {"exc": requests.exceptions.ConnectTimeout("connect timed out")},
        {"status_code": 201, "json": USER},
    ])
    c = AuthClient(ADMIN_TOKEN, BASE, retries=1, backoff_factor=0.01)
    waits = []
    c._sleep = waits.append
    c.create_user("demo-user")  # a write: retried, since the connection was never made
    assert waits == [0.01]


# -- logging ---------------------------------------------------------------


ADMIN_UID = "8588e50d40@sg.test"


def test_create_user_logs_the_documented_lines(requests_mock, client, caplog):
    # The server records the creator by unique ID; the log line names the admin's email.
    register(requests_mock, "POST", "/api/v1/users", 201, {**USER, "created_by": ADMIN_UID})
    me = register(requests_mock, "GET", "/api/v1/me", 200,
                  {"sub": ADMIN_UID, "email": "admin@example.com", "user_type": "human"})
    caplog.set_level(logging.INFO, logger="sdk")
    client.create_user("demo-user")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("sdk.auth", "INFO", f"Machine user demo-user({EMAIL}) created by admin@example.com."),
        ("sdk.auth", "INFO", "User activated."),
    ]
    client.create_user("demo-user")
    assert me.call_count == 1  # looked up once per client


def test_the_creator_is_looked_up_only_when_someone_listens(requests_mock, client):
    register(requests_mock, "POST", "/api/v1/users", 201, {**USER, "created_by": ADMIN_UID})
    logging.getLogger("sdk").setLevel(logging.WARNING)
    try:
        client.create_user("demo-user")
    finally:
        logging.getLogger("sdk").setLevel(logging.NOTSET)
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("me", [
    {"status_code": 403, "json": {"error": "insufficient_scope"}},
    {"status_code": 200, "json": {"sub": "someone-else", "email": "x@example.com"}},
], ids=["me-refused", "creator-is-not-the-caller"])
def test_the_creator_falls_back_to_its_unique_id(requests_mock, client, caplog, me):
    register(requests_mock, "POST", "/api/v1/users", 201, {**USER, "created_by": ADMIN_UID})
    requests_mock.get(BASE + "/api/v1/me", **me)
    caplog.set_level(logging.INFO, logger="sdk")
    client.create_user("demo-user")
    assert caplog.messages[0] == f"Machine user demo-user({EMAIL}) created by {ADMIN_UID}."


def test_an_inactive_user_is_not_said_to_be_activated(requests_mock, client, caplog):
    register(requests_mock, "GET", "/api/v1/me", 200, ME)
    register(requests_mock, "POST", "/api/v1/users", 201, {**USER, "active": False})
    caplog.set_level(logging.INFO, logger="sdk")
    client.create_user("demo-user")
    assert "User activated." not in caplog.messages


@pytest.mark.parametrize(("call", "method", "path", "status", "answer", "line"), [
    (lambda c: c.create_token(user_id="demo-user", scopes=["create_session",
                                                           "read_user_session"]),
     "POST", "/api/v1/users/demo-user/tokens", 201, TOKEN,
     f"Token {TOKEN_ID} created for user demo-user({EMAIL}) with scopes "
     "create_session read_user_session, expires 2024-05-31T12:00:00Z."),
    (lambda c: c.revoke_token(TOKEN_ID), "DELETE", f"/api/v1/tokens/{TOKEN_ID}", 204, None,
     f"Token {TOKEN_ID} revoked."),
    (lambda c: c.renew_token(TOKEN_ID), "POST", f"/api/v1/tokens/{TOKEN_ID}/renew", 200, META,
     f"Token {TOKEN_ID} renewed, expires 2024-05-31T12:00:00Z."),
    (lambda c: c.renew_token(TOKEN_ID), "POST", f"/api/v1/tokens/{TOKEN_ID}/renew", 200,
     {**META, "clamped": True},
     f"Token {TOKEN_ID} renewed, expires 2024-05-31T12:00:00Z "
     "(clamped to issue time + the maximum lifespan)."),
    (lambda c: c.delete_user("demo-user"), "DELETE", "/api/v1/users/demo-user", 204, None,
     "Machine user demo-user deleted; its tokens are revoked."),
    (lambda c: c.create_client_credentials("demo-user"), "POST",
     "/api/v1/users/demo-user/credentials", 201, CREDS,
     f"Client credentials created for machine user demo-user({EMAIL})."),
], ids=["token-created", "token-revoked", "token-renewed", "renew-clamped", "user-deleted",
        "credentials"])
def test_changes_are_logged(requests_mock, client, caplog, call, method, path, status, answer,
                            line):
    register(requests_mock, method, path, status, answer)
    caplog.set_level(logging.INFO, logger="sdk")
    call(client)
    assert caplog.messages == [line]


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "returns"),
                         CALLS, ids=CALL_IDS)
def test_no_log_record_ever_contains_a_secret(requests_mock, client, caplog, sleeps, name, call,
                                              method, path, status, answer, returns):
    if path != "/api/v1/me":
        register(requests_mock, "GET", "/api/v1/me", 200, ME)
    requests_mock.register_uri(method, BASE + path, [
        {"exc": requests.ConnectTimeout},
        {"status_code": status, **({"json": answer} if answer is not None else {"text": ""})},
    ])
    caplog.set_level(logging.DEBUG)
    call(client)
    text = "\n".join(caplog.messages)
    for secret in (ADMIN_TOKEN, TOKEN_VALUE, CREDS["client_secret"]):
        assert secret not in text


def test_the_sdk_logger_has_a_null_handler_and_propagates():
    import sdk  # noqa: F401  (the package sets the handler up)

    root = logging.getLogger("sdk")
    assert any(isinstance(h, logging.NullHandler) for h in root.handlers)
    assert logging.getLogger("sdk.auth").propagate


# -- connecting ------------------------------------------------------------


def test_connect_reads_the_environment(monkeypatch, requests_mock):
    monkeypatch.setenv("SCOPEGATE_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("SCOPEGATE_URL", "https://auth.example.com/")
    c = connect_to_auth_client()
    assert c.url == "https://auth.example.com"
    requests_mock.get("https://auth.example.com/api/v1/me", json=ME)
    c.whoami()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_connect_arguments_win_over_the_environment(monkeypatch, requests_mock):
    monkeypatch.setenv("SCOPEGATE_TOKEN", "sgp_from_env")
    monkeypatch.setenv("SCOPEGATE_URL", "https://env.example.com")
    c = connect_to_auth_client(token=ADMIN_TOKEN, url="https://arg.example.com", timeout=3,
                               verify="/etc/ssl/ca.pem")
    requests_mock.get("https://arg.example.com/api/v1/me", json=ME)
    c.whoami()
    sent = requests_mock.last_request
    assert sent.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert 2.5 < sent.timeout <= 3
    assert sent.verify == "/etc/ssl/ca.pem"


def test_connect_defaults_to_the_local_server(monkeypatch):
    monkeypatch.delenv("SCOPEGATE_URL", raising=False)
    assert connect_to_auth_client(token=ADMIN_TOKEN).url == "http://127.0.0.1:5000"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_connect_without_a_token_is_a_clear_error(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SCOPEGATE_TOKEN", raising=False)
    else:
        monkeypatch.setenv("SCOPEGATE_TOKEN", value)
    with pytest.raises(ConfigurationError, match="SCOPEGATE_TOKEN") as info:
        connect_to_auth_client()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ScopegateError)


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:5000", "http://", "not a url"])
def test_connect_refuses_an_unusable_url(url):
    with pytest.raises(ConfigurationError, match="URL"):
        connect_to_auth_client(token=ADMIN_TOKEN, url=url)


def test_a_token_with_whitespace_inside_is_refused():
    with pytest.raises(ConfigurationError):
        AuthClient("sgp_abc def", BASE)


def test_plain_http_to_a_remote_host_warns_visibly_but_not_locally():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")  # Python's own filters: what a user sees
        AuthClient(ADMIN_TOKEN, "http://127.0.0.1:5000")
        AuthClient(ADMIN_TOKEN, "http://localhost:5000")
        AuthClient(ADMIN_TOKEN, "https://auth.example.com")
        assert shown == []
        AuthClient(ADMIN_TOKEN, "http://auth.example.com")
    assert [w.category for w in shown] == [InsecureURLWarning]
    assert "plain HTTP" in str(shown[0].message)


def test_repr_never_shows_the_token(client):
    assert ADMIN_TOKEN not in repr(client)
    assert repr(client) == f"AuthClient(url='{BASE}')"


def test_context_manager_closes_the_session(monkeypatch):
    closed = []
    with AuthClient(ADMIN_TOKEN, BASE) as c:
        monkeypatch.setattr(c.session, "close", lambda: closed.append(True))
    assert closed == [True]


def test_verify_false_is_sent_even_with_a_ca_bundle_in_the_environment(monkeypatch,
                                                                      requests_mock):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    c = AuthClient(ADMIN_TOKEN, BASE, verify=False)
    register(requests_mock, "GET", "/api/v1/me", 200, ME)
    c.whoami()
    assert requests_mock.last_request.verify is False


def test_one_session_for_every_call(requests_mock, client):
    session = client.session
    register(requests_mock, "GET", "/api/v1/me", 200, ME)
    register(requests_mock, "GET", "/api/v1/scopes", 200, SCOPES)
    client.whoami()
    client.scopes()
    assert client.session is session
    assert isinstance(session, requests.Session)
