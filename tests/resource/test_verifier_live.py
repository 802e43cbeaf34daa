"""sdk.resource.TokenVerifier against live Scopegate servers: opaque tokens by
introspection, JWT access tokens locally, revocation within the poll period."""

from __future__ import annotations

import time

import pytest

from sdk.auth.exceptions import AuthenticationError, ConfigurationError, PermissionDenied
from sdk.auth.scopes import Scope


def test_active_token_gives_its_introspection_claims(any_platform):
    user = any_platform.user()
    issued = any_platform.token(user, ["create_session", "read_user_session"])
    claims = any_platform.verifier().verify(issued["token"])
    assert claims["active"] is True
    assert claims["token_id"] == issued["token_id"]
    assert claims["sub"] == claims["client_id"] == issued["email"]
    assert claims["user_id"] == user and claims["customer"] == "live-org"
    assert claims["scope"] == "create_session read_user_session"


def test_scopes_required_are_all_checked(any_platform):
    issued = any_platform.token(any_platform.user(), ["create_session"])
    verifier = any_platform.verifier()
    assert verifier.verify(issued["token"], [Scope.create_session])["active"] is True
    with pytest.raises(PermissionDenied) as caught:
        verifier.verify(issued["token"], [Scope.create_session, "start_session"])
    assert caught.value.error == "insufficient_scope"
    assert "start_session" in str(caught.value)


@pytest.mark.parametrize("garbage", ["", "x", "sgt_" + "A" * 39, "a.b.c",
                                     "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "ü" * 20,
                                     "x" * 10000])
def test_garbage_is_inactive(platform, garbage):
    with pytest.raises(AuthenticationError):
        platform.verifier().verify(garbage)


def test_revoked_token_is_inactive(any_platform):
    issued = any_platform.token(any_platform.user(), ["cli"])
    any_platform.revoke(issued["token_id"])
    with pytest.raises(AuthenticationError):
        any_platform.verifier().verify(issued["token"])


def test_expired_token_is_inactive(any_platform):
    user = any_platform.user()
    # Three seconds, not one: a loaded machine took more than one between issuing and
    # the first verification (the token was already expired there).
    response = any_platform.admin("POST", f"/users/{user}/tokens",
                                  json={"scopes": ["cli"], "expires_in": 3})
    issued = time.monotonic()
    token = response.json()["token"]
    verifier = any_platform.verifier()
    assert verifier.verify(token)["active"] is True
    time.sleep(max(0.0, issued + 4.1 - time.monotonic()))
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


@pytest.mark.parametrize("hosts", [2])
def test_revoked_token_is_refused_within_the_poll_period_on_every_host(any_platform, hosts):
    """Two verifiers (two hosts) have the token cached; after its revocation
    each refuses it within SCOPEGATE_REVOCATION_POLL seconds (the default, 2)."""
    poll = 2.0
    verifiers = [any_platform.verifier() for _ in range(hosts)]
    assert all(v.feed.poll == poll for v in verifiers)
    issued = any_platform.token(any_platform.user(), ["cli"])
    for verifier in verifiers:
        verifier.verify(issued["token"])
    any_platform.revoke(issued["token_id"])
    revoked_at = time.monotonic()
    refused_after = []
    for verifier in verifiers:
        while True:
            try:
                verifier.verify(issued["token"])
            except AuthenticationError:
                refused_after.append(time.monotonic() - revoked_at)
                break
            assert time.monotonic() - revoked_at < poll + 1.0, "still accepted"
            time.sleep(0.01)
    # The poll period, plus one feed request on a busy shared machine.
    assert max(refused_after) <= poll + 0.5, refused_after


def test_revoked_before_the_verifier_started_is_refused(jwt_platform):
    """A fresh verifier reads every live revocation first: a JWT revoked last
    week is refused although its signature is valid."""
    issued = jwt_platform.token(jwt_platform.user(), ["cli"])
    jwt_platform.revoke(issued["token_id"])
    with pytest.raises(AuthenticationError):
        jwt_platform.verifier().verify(issued["token"])


def test_cached_token_costs_no_introspection(platform):
    issued = platform.token(platform.user(), ["cli"])
    verifier = platform.verifier(poll_interval=3600)
    calls = []
    send = verifier._session.send
    verifier._session.send = lambda req, **kw: calls.append(req.url) or send(req, **kw)
    for _ in range(50):
        verifier.verify(issued["token"])
    assert [u for u in calls if u.endswith("/oauth/introspect")] == [
        f"{platform.url}/oauth/introspect"]


def test_jwt_is_validated_without_introspection(jwt_platform):
    issued = jwt_platform.token(jwt_platform.user(), ["cli"])
    verifier = jwt_platform.verifier()
    calls = []
    send = verifier._session.send
    verifier._session.send = lambda req, **kw: calls.append(req.url) or send(req, **kw)
    assert verifier.verify(issued["token"])["jti"] == issued["token_id"]
    assert not any(u.endswith("/oauth/introspect") for u in calls)


def test_key_rotation_is_followed_by_kid(jwt_platform):
    verifier = jwt_platform.verifier()
    user = jwt_platform.user()
    before = jwt_platform.token(user, ["cli"])
    verifier.verify(before["token"])
    jwt_platform.server.flask("rotate-keys")
    after = jwt_platform.token(user, ["cli"])
    assert verifier.verify(after["token"])["token_id"] == after["token_id"]
    verifier.forget()
    assert verifier.verify(before["token"])["token_id"] == before["token_id"]


def test_jwt_for_another_audience_is_refused(jwt_platform):
    issued = jwt_platform.token(jwt_platform.user(), ["cli"])
    with pytest.raises(AuthenticationError):
        jwt_platform.verifier(audience="https://models.example").verify(issued["token"])


def test_wrong_resource_server_secret_is_a_configuration_error(platform):
    issued = platform.token(platform.user(), ["cli"])
    verifier = platform.verifier()
    verifier._auth = (platform.rs_client_id, "sgs_wrong")
    verifier.feed._auth = verifier._auth
    with pytest.raises(ConfigurationError):
        verifier.verify(issued["token"])
