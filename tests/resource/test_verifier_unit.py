"""TokenVerifier's cache and feed handling, with Scopegate's answers mocked
(requests-mock): what it asks, when, and what it keeps."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests
import requests_mock

from sdk.auth.exceptions import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PermissionDenied,
)
from sdk.resource import TokenVerifier

URL = "http://scopegate.test"
TOKEN = "sgt_" + "example" * 6  # shaped like a token, built so no scanner mistakes it for one
ACTIVE = {"active": True, "scope": "cli", "sub": "f1bd9ff87c@scopegate.local",
          "client_id": "f1bd9ff87c@scopegate.local", "token_id": "a" * 32,
          "exp": 4102444800, "iat": 1700000000}


@pytest.fixture
def server():
    with requests_mock.Mocker() as mock:
        mock.get(f"{URL}/oauth/revocations", json={"items": [], "next_cursor": "1.0"})
        mock.post(f"{URL}/oauth/introspect", json=ACTIVE)
        yield mock


def verifier(**options) -> TokenVerifier:
    return TokenVerifier(URL, "rs-1", "sgs_secret", **options)


def calls(server, path: str) -> int:
    return sum(1 for r in server.request_history if r.path == path)


def test_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCOPEGATE_URL", URL + "/")
    monkeypatch.setenv("SCOPEGATE_RS_CLIENT_ID", "rs-env")
    monkeypatch.setenv("SCOPEGATE_RS_CLIENT_SECRET", "sgs_env")
    made = TokenVerifier()
    assert made.url == URL and made._auth == ("rs-env", "sgs_env")


def test_missing_credentials_are_a_configuration_error(monkeypatch):
    monkeypatch.delenv("SCOPEGATE_RS_CLIENT_ID", raising=False)
    with pytest.raises(ConfigurationError):
        TokenVerifier(URL)


def test_second_verification_is_a_cache_hit(server):
    v = verifier()
    assert v.verify(TOKEN) == v.verify(TOKEN) == ACTIVE
    assert calls(server, "/oauth/introspect") == 1


def test_cache_is_keyed_by_digest_never_the_token(server):
    v = verifier()
    v.verify(TOKEN)
    assert list(v._cache) == [hashlib.sha256(TOKEN.encode()).digest()]
    assert TOKEN not in repr(v._cache)


def test_cache_is_bounded_oldest_first(server):
    v = verifier(max_entries=3)
    tokens = [TOKEN[:-1] + c for c in "wxyz"]
    for token in tokens:
        v.verify(token)
    assert len(v._cache) == 3
    assert hashlib.sha256(tokens[0].encode()).digest() not in v._cache


def test_entry_expires_after_cache_ttl(server, monkeypatch):
    v = verifier(cache_ttl=60)
    v.verify(TOKEN)
    clock = time.time() + 61
    monkeypatch.setattr("sdk.resource.verifier.time.time", lambda: clock)
    v.verify(TOKEN)
    assert calls(server, "/oauth/introspect") == 2


def test_entry_never_outlives_the_tokens_exp(server, monkeypatch):
    server.post(f"{URL}/oauth/introspect", json={**ACTIVE, "exp": 2000000000})
    v = verifier(cache_ttl=10**9)
    v.verify(TOKEN)
    assert next(iter(v._cache.values()))[0] == 2000000000


def test_inactive_answer_is_remembered_briefly(server):
    server.post(f"{URL}/oauth/introspect", json={"active": False})
    v = verifier()
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            v.verify(TOKEN)
    assert calls(server, "/oauth/introspect") == 1


def test_revocation_in_the_feed_refuses_a_cached_token(server):
    v = verifier(poll_interval=0)
    v.verify(TOKEN)
    server.get(f"{URL}/oauth/revocations", json={
        "items": [{"token_id": "a" * 32, "revoked_at": 1, "exp": 4102444800}],
        "next_cursor": "2.0"})
    with pytest.raises(AuthenticationError):
        v.verify(TOKEN)


def test_feed_is_read_once_per_poll_period(server):
    v = verifier(poll_interval=3600)
    for _ in range(10):
        v.verify(TOKEN)
    assert calls(server, "/oauth/revocations") == 1


def test_feed_cursor_is_sent_back_and_full_pages_are_followed(server):
    pages = [{"items": [{"token_id": f"{i:032x}", "revoked_at": 1, "exp": 4102444800}
                        for i in range(1000)], "next_cursor": "5.7"},
             {"items": [], "next_cursor": "9.0"}]
    server.get(f"{URL}/oauth/revocations", [{"json": p} for p in pages])
    v = verifier(poll_interval=0)
    v.verify(TOKEN)
    sent = [r.qs.get("since") for r in server.request_history if r.path == "/oauth/revocations"]
    assert sent == [None, ["5.7"]]
    assert len(v.feed.revoked) == 1000


def test_unreachable_feed_fails_closed_and_retries_at_most_once_a_second(server):
    v = verifier(poll_interval=0)
    server.get(f"{URL}/oauth/revocations", exc=requests.ConnectionError)
    for _ in range(5):
        with pytest.raises(NetworkError):
            v.verify(TOKEN)
    assert calls(server, "/oauth/revocations") == 1
    assert calls(server, "/oauth/introspect") == 0


def test_missing_scope_is_refused_even_when_scopes_come_from_an_iterator(server):
    with pytest.raises(PermissionDenied):
        verifier().verify(TOKEN, iter(["cli", "start_session"]))


def test_admins_personal_token_carries_every_catalog_scope(server):
    server.post(f"{URL}/oauth/introspect", json={**ACTIVE, "scope": "admin"})
    assert verifier().verify(TOKEN, ["read_all_session", "model_download"])["scope"] == "admin"
