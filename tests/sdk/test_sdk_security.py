"""The SDK and the CLI against misbehaving servers, proxies and environments:
the token goes only where it should, every failure is a typed ScopegateError
that holds no secret, and nothing a server sends can steer the terminal."""

from __future__ import annotations

import http.server
import pickle
import socket
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from sdk.auth import (
    AuthClient,
    ConfigurationError,
    NetworkError,
    NotFound,
    ScopegateError,
    ServerError,
    ValidationError,
)
from sdk.auth.redaction import looks_like_secret
from sdk.cli import main
from tests.sdk.samples import ADMIN_TOKEN, BASE, TOKEN, TOKEN_VALUE, USER


@pytest.fixture
def client():
    return AuthClient(ADMIN_TOKEN, BASE)


def _no_secret_in(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), pickle.dumps(exc)):
        text = text.decode("latin-1") if isinstance(text, bytes) else text
        assert ADMIN_TOKEN not in text and ADMIN_TOKEN[4:] not in text
        assert TOKEN_VALUE not in text


# -- a token where an id goes ----------------------------------------------


@pytest.mark.parametrize("call", [
    lambda c: c.revoke_token(TOKEN_VALUE),
    lambda c: c.renew_token(TOKEN_VALUE),
    lambda c: c.get_user(TOKEN_VALUE),
    lambda c: c.delete_user(TOKEN_VALUE),
    lambda c: c.create_client_credentials(TOKEN_VALUE),
    lambda c: c.create_token(user_id=TOKEN_VALUE, scopes=["cli"]),
], ids=["revoke_token", "renew_token", "get_user", "delete_user", "credentials", "create_token"])
def test_a_token_in_place_of_an_id_is_refused_before_sending(requests_mock, client, call):
    with pytest.raises(ValidationError) as caught:
        call(client)
    assert requests_mock.call_count == 0
    assert "token_id" in str(caught.value)
    _no_secret_in(caught.value)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_segments_never_reach_another_path(requests_mock, client, name):
    # requests un-escapes %2E and urllib3 resolves dot segments: refused, not sent.
    with pytest.raises(ValidationError, match="cannot be"):
        client.delete_user(name)
    assert requests_mock.call_count == 0


def test_path_characters_in_a_name_stay_inside_its_segment(requests_mock, client):
    requests_mock.get(f"{BASE}/api/v1/users/a%2F..%2Fb%3Fc%23d", json=USER)
    client.get_user("a/../b?c#d")
    assert requests_mock.last_request.url == f"{BASE}/api/v1/users/a%2F..%2Fb%3Fc%23d"


# -- where the bearer token goes ---------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``{}`` and remembers its first line and headers."""

    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append((self.requestline, dict(self.headers)))
        body = b'{"sub": "x"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def listening():
    """Start a recording HTTP server on loopback; yield its URL and what it saw."""
    servers = []

    def start():
        handler = type("Handler", (_Recorder,), {"seen": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_loopback_calls_never_go_through_a_proxy(monkeypatch, listening):
    url, at_server = listening()
    proxy, at_proxy = listening()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("ALL_PROXY", proxy)
    AuthClient(ADMIN_TOKEN, url).whoami()
    assert at_proxy == []
    assert at_server[0][1]["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_a_netrc_entry_never_replaces_the_bearer_token(monkeypatch, tmp_path, requests_mock):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine sg.test login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    requests_mock.get(BASE + "/api/v1/me", json={})
    AuthClient(ADMIN_TOKEN, BASE).whoami()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_a_url_with_user_and_password_is_refused():
    with pytest.raises(ConfigurationError, match="user name or password") as caught:
        AuthClient(ADMIN_TOKEN, "https://someone:hunter2@sg.test")
    assert "hunter2" not in str(caught.value)


def test_the_callers_own_session_gets_no_token_written_into_it(requests_mock):
    session = requests.Session()
    before = dict(session.headers)
    requests_mock.get(BASE + "/api/v1/me", json={})
    with AuthClient(ADMIN_TOKEN, BASE, session=session) as c:
        c.whoami()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert dict(session.headers) == before
    assert session.auth is None
    session.get(BASE + "/api/v1/me")  # still open: the caller closes it
    assert "Authorization" not in requests_mock.last_request.headers


# -- the timeout bounds the whole call ---------------------------------------


def test_timeout_bounds_the_whole_call_against_a_dripping_server():
    """A server that sends one byte every 0.2 s never trips a socket timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip():
        conn, _ = listener.accept()
        conn.recv(65536)
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b" " * 100000
        for byte in answer:
            if stop.is_set():
                break
            conn.sendall(bytes([byte]))
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    c = AuthClient(ADMIN_TOKEN, f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(NetworkError, match="no complete answer .* within 1.0 s"):
            c.whoami()
        assert time.monotonic() - started < 2.5
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 0, -1, "10", (1, float("inf"))])
def test_an_unusable_timeout_is_a_configuration_error(timeout):
    with pytest.raises(ConfigurationError, match="timeout must be a finite number"):
        AuthClient(ADMIN_TOKEN, BASE, timeout=timeout)


# -- every failure is typed and holds no secret ------------------------------


@pytest.mark.parametrize("invisible", ["\ufeff", "\u200b", "\u00a0", "\n"])
def test_a_token_with_invisible_characters_is_refused_without_echoing_it(invisible):
    with pytest.raises(ConfigurationError, match="invisible characters") as caught:
        AuthClient(ADMIN_TOKEN[:9] + invisible + ADMIN_TOKEN[9:], BASE)
    _no_secret_in(caught.value)


def test_an_error_pickles_without_the_response_and_its_token(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/users/ghost", status_code=404,
                      json={"error": "not_found", "error_description": "No user named 'ghost'."})
    with pytest.raises(NotFound) as caught:
        client.get_user("ghost")
    assert caught.value.response is not None  # there for the caller...
    _no_secret_in(caught.value)  # ...but never in its text or pickle
    again = pickle.loads(pickle.dumps(caught.value))
    assert (type(again), str(again), again.status_code) == (NotFound, str(caught.value), 404)


@pytest.mark.parametrize(("body", "said"), [
    (b"", "an empty body"), (b"[]", r"not an object \(list\)"), (b'"ok"', r"not an object \(str\)"),
    (b"<html>", "not JSON"),
])
def test_a_success_without_the_expected_object_is_a_server_error(requests_mock, client, body,
                                                                 said):
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201, content=body)
    with pytest.raises(ServerError, match=said) as caught:
        client.create_token(user_id="demo-user", scopes=["cli"])
    assert "may have acted" in str(caught.value)


def test_a_missing_ca_bundle_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    with pytest.raises(ConfigurationError, match="REQUESTS_CA_BUNDLE"):
        AuthClient(ADMIN_TOKEN, "https://127.0.0.1:9").whoami()


def test_an_unexpected_failure_is_a_scopegate_error_without_its_message(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/me", exc=UnicodeEncodeError(
        "latin-1", f"Bearer {ADMIN_TOKEN}", 0, 1, "ordinal not in range"))
    with pytest.raises(ScopegateError, match=r"GET /api/v1/me failed .*\(UnicodeEncodeError\)") \
            as caught:
        client.whoami()
    _no_secret_in(caught.value)


# -- nothing from the server steers the terminal ------------------------------


def test_control_characters_in_server_errors_are_escaped(requests_mock, client):
    requests_mock.get(BASE + "/api/v1/me", status_code=400, json={
        "error": "invalid\x1b]0;owned\x07", "error_description": "bad\x1b[2J\u202eevil"})
    with pytest.raises(ValidationError) as caught:
        client.whoami()
    assert "\x1b" not in str(caught.value) and "\u202e" not in str(caught.value)
    assert "bad\\x1b[2J\\u202eevil" in str(caught.value)


def test_control_characters_in_server_data_never_reach_the_terminal(requests_mock):
    evil = dict(USER, name="demo\x1b[31m-user\r", created_by="admin\x9b2J")
    requests_mock.get(BASE + "/api/v1/users", json={"items": [evil], "next_cursor": None})
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201,
                       json=dict(TOKEN, user_id="x\x1b[8m"))
    env = {"SCOPEGATE_TOKEN": ADMIN_TOKEN, "SCOPEGATE_URL": BASE}
    runner = CliRunner()
    listed = runner.invoke(main, ["users", "list"], env=env)
    created = runner.invoke(main, ["tokens", "create", "--user", "demo-user", "--scope", "cli"],
                            env=env)
    for result in (listed, created):
        assert result.exit_code == 0, result.output
        assert not any(ch in result.output for ch in "\x1b\r\x9b")
    assert "demo\\x1b[31m-user\\x0d" in listed.output


@pytest.mark.parametrize("args", [["--timeout", "inf", "whoami"],
                                  ["activity", "--since", "99999999d"]])
def test_out_of_range_cli_values_are_usage_errors(args):
    result = CliRunner().invoke(main, args, env={"SCOPEGATE_TOKEN": ADMIN_TOKEN,
                                                 "SCOPEGATE_URL": BASE})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_cli_refuses_a_token_as_token_id_for_every_shape(requests_mock):
    result = CliRunner().invoke(main, ["tokens", "revoke", "xx" + TOKEN_VALUE],
                                env={"SCOPEGATE_TOKEN": ADMIN_TOKEN, "SCOPEGATE_URL": BASE})
    assert result.exit_code == 2
    assert TOKEN_VALUE not in result.output
    assert requests_mock.call_count == 0


# -- a shown-once secret is never printed by accident -------------------------


def test_printing_a_new_token_or_secret_hides_the_value(requests_mock, client):
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201, json=TOKEN)
    requests_mock.post(BASE + "/api/v1/users/demo-user/credentials", status_code=201,
                       json={"client_id": "c@sg.test", "client_secret": "sgs_" + "x" * 39})
    token = client.create_token(user_id="demo-user", scopes=["cli"])
    creds = client.create_client_credentials("demo-user")
    assert token["token"] == TOKEN_VALUE and token == TOKEN
    for shown in (str(token), repr(token), str(creds), f"{[token]}"):
        assert not looks_like_secret(shown)
    assert token["token_id"] in str(token)
