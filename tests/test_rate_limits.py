"""Rate limits (Flask-Limiter) on the OAuth endpoints, the admin API and the
sign-in form: 429 ``rate_limited`` with ``Retry-After``; per IP, per client,
per token; failed secrets per (client, IP) so a guesser never locks the real
client out of its own address; counters shared by hosts through Redis."""

from __future__ import annotations

import pytest

from app import create_app, ratelimits
from tests.conftest import Api, basic, issue, make_org, make_test_app
from tests.redis_server import RedisServer, available

GUESSER, REAL = {"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "198.51.100.7"}


def limited_app(tmp_path, **settings):
    return make_test_app(tmp_path, **{"SCOPEGATE_RATE_LIMITS": "on", **settings})


@pytest.fixture
def app(tmp_path):
    return limited_app(tmp_path, SCOPEGATE_RATE_LIMIT_FAILED_AUTH="3/minute",
                       SCOPEGATE_RATE_LIMIT_PER_CLIENT="5/minute",
                       SCOPEGATE_RATE_LIMIT_FAILED_AUTH_PER_IP="100/minute")


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"
    assert response.get_json()["error_description"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def wrong(machine_user) -> dict:
    return basic(machine_user.client_id, "sgs_wrong")


def test_token_requests_beyond_the_per_client_limit_get_429_with_retry_after(
        client, machine_user):
    for _ in range(5):
        assert issue(client, machine_user).status_code == 200
    assert_rate_limited(issue(client, machine_user))


def test_failed_secrets_lock_out_the_guessers_address_only(client, machine_user):
    for _ in range(3):
        assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=wrong(machine_user), environ_base=GUESSER).status_code == 401
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          headers=wrong(machine_user), environ_base=GUESSER)
    assert_rate_limited(refused)
    # The real client, from its own address, is not affected ...
    assert issue(client, machine_user, environ_base=REAL).status_code == 200
    # ... and the failures did not spend its allowance (5 authenticated requests).
    for _ in range(4):
        assert issue(client, machine_user, environ_base=REAL).status_code == 200


def test_failed_bearer_tokens_are_limited_per_address_on_the_admin_api(tmp_path):
    app = limited_app(tmp_path, SCOPEGATE_RATE_LIMIT_FAILED_AUTH_PER_IP="3/minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer sgp_nope"},
                          environ_base=GUESSER).status_code == 401
    assert_rate_limited(client.get("/api/v1/me", headers={"Authorization": "Bearer sgp_x"},
                                   environ_base=GUESSER))


def test_each_admin_token_has_its_own_allowance(app, client, org):
    api = Api(client, org.admin_token)
    for _ in range(5):
        assert api.get("/me").status_code == 200
    assert_rate_limited(api.get("/me"))
    with app.app_context():
        from app.services import callers, orgs, tokens

        admin = orgs.get_account(org.admin_email)
        second, _ = tokens.create_personal(admin, callers.operator(org.id), name="second")
    assert Api(client, second).get("/me").status_code == 200


def test_introspection_is_limited_per_caller(client, org, machine_user, scoped_token):
    api = Api(client, org.admin_token)
    for _ in range(5):
        assert api.introspect(scoped_token["token"]).status_code == 200
    assert_rate_limited(api.introspect(scoped_token["token"]))


def test_every_limited_endpoint_has_a_per_address_limit(tmp_path, machine_user):
    app = limited_app(tmp_path, SCOPEGATE_RATE_LIMIT_PER_IP="2/minute")
    client = app.test_client()
    calls = {
        "/oauth/token": lambda: client.post("/oauth/token", data={"grant_type": "x"}),
        "/oauth/introspect": lambda: client.post("/oauth/introspect", data={"token": "x"}),
        "/oauth/revoke": lambda: client.post("/oauth/revoke", data={"token": "x"}),
        "/api/v1/scopes": lambda: client.get("/api/v1/scopes"),
    }
    for path, call in calls.items():
        call(), call()
        assert_rate_limited(call())
    assert client.get("/healthz").status_code == 200  # probes are never limited


def test_the_authorization_endpoint_is_limited_per_address(tmp_path):
    """People's browsers at ``/oauth/authorize``: limited per IP address."""
    app = limited_app(tmp_path, SCOPEGATE_RATE_LIMIT_PER_IP="2/minute")
    client = app.test_client()
    answers = [client.get("/oauth/authorize?client_id=app-x").status_code for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429


def test_a_view_registered_later_under_a_limited_name_is_limited(tmp_path):
    """The rules name endpoints, not functions: a view added later is covered."""
    app = limited_app(tmp_path, SCOPEGATE_RATE_LIMIT_PER_IP="2/minute")
    app.view_functions.pop("oauth.revocation_feed")
    app.add_url_rule("/later", endpoint="oauth.revocation_feed", view_func=lambda: "feed")
    app.extensions["scopegate.limited_endpoints"].discard("oauth.revocation_feed")
    ratelimits.limit_views(app)
    client = app.test_client()
    assert [client.get("/later").status_code for _ in range(3)] == [200, 200, 429]


def test_the_switch_turns_request_limits_off(tmp_path, machine_user):
    app = limited_app(tmp_path, SCOPEGATE_RATE_LIMITS="off", SCOPEGATE_RATE_LIMIT_PER_IP="1/minute")
    client = app.test_client()
    assert {client.get("/api/v1/scopes").status_code for _ in range(5)} == {401}


@pytest.mark.skipif(not available(), reason="needs Debian's redis-server (.ci/run installs it)")
def test_two_hosts_share_counters_through_redis(tmp_path):
    with RedisServer() as redis:
        settings = {"SCOPEGATE_REDIS_URL": redis.url, "SCOPEGATE_RATE_LIMIT_PER_CLIENT": "4/minute"}
        host_a = limited_app(tmp_path, **settings)
        host_b = create_app({**host_a.config})  # another process: same database, same Redis
        org = make_org(host_a, "acme")
        a = Api(host_a.test_client(), org.admin_token)
        b = Api(host_b.test_client(), org.admin_token)
        assert [a.get("/me").status_code, b.get("/me").status_code,
                a.get("/me").status_code, b.get("/me").status_code] == [200] * 4
        assert_rate_limited(a.get("/me"))
        assert_rate_limited(b.get("/me"))


@pytest.mark.skipif(not available(), reason="needs Debian's redis-server (.ci/run installs it)")
def test_token_requests_are_counted_in_redis_when_it_is_configured(tmp_path):
    """The fast path counts through ``limits``' strategy when the counters live elsewhere
    (only this process's own counters are read directly)."""
    from tests.conftest import Machine

    with RedisServer() as redis:
        app = limited_app(tmp_path, SCOPEGATE_REDIS_URL=redis.url,
                          SCOPEGATE_RATE_LIMIT_PER_CLIENT="3/minute")
        api = Api(app.test_client(), make_org(app, "acme").admin_token)
        api.post("/users", {"name": "bot"})
        creds = api.post("/users/bot/credentials").get_json()
        user = Machine("bot", "", creds["client_id"], creds["client_secret"])
        client = app.test_client()
        assert [issue(client, user).status_code for _ in range(3)] == [200] * 3
        assert_rate_limited(issue(client, user))


def test_the_fast_paths_remembered_plans_stay_bounded(app, client, machine_user, monkeypatch):
    """Each (address, caller) gets its counter plan once; a flood of new addresses must
    not grow them without end."""
    monkeypatch.setattr(ratelimits.EndpointLimits, "MAX_PLANS", 3)
    for n in range(5):  # the fixture's allowance per client
        issue_from = {"REMOTE_ADDR": f"10.0.0.{n}"}
        assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, machine_user.client_secret),
                           environ_base=issue_from).status_code == 200
    plans = app.extensions["scopegate.fastpath"].prepared["limits"]["/oauth/token"]._plans
    assert 0 < len(plans) <= 3


def test_an_unreachable_redis_falls_back_to_counting_in_memory(tmp_path):
    from tests.conftest import free_port

    app = limited_app(tmp_path, SCOPEGATE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                      SCOPEGATE_RATE_LIMIT_PER_IP="3/minute")
    client = app.test_client()
    statuses = [client.get("/api/v1/scopes").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]  # never a 500, still limited


# --- the in-memory counters' upkeep ---------------------------------------------


def test_every_counter_store_in_a_process_shares_one_expiry_thread(tmp_path):
    import threading

    for n in range(3):  # three apps, as a test suite or a reloading server makes them
        app = limited_app(tmp_path / str(n))
        assert app.test_client().post("/oauth/token", data={"grant_type": "x"}).status_code
    named = [t for t in threading.enumerate() if t.name == "scopegate-counter-expiry"]
    assert len(named) == 1
    assert named[0].daemon  # it never keeps a finished process (a worker, a test run) alive


def test_expiry_drops_windows_and_entries_no_limit_can_count_any_more():
    from unittest import mock

    from app.services.throttle import MemoryCounters

    counters, clock = MemoryCounters(), [1_700_000_000.0]
    with mock.patch("time.time", lambda: clock[0]):
        assert counters.acquire_sliding_window_entry("request", 5, 10)
        assert counters.acquire_entry("sign-in", 5, 10)
        clock[0] += 5  # both still count
        counters.expire()
        assert "request" in counters._windows and counters.events.get("sign-in")
        clock[0] += 20  # the request's window and the one after it are over
        counters.expire()
    assert "request" not in counters._windows and not counters.events.get("sign-in")


def test_expiry_keeps_a_window_while_the_next_one_still_weighs_it():
    from unittest import mock

    from app.services.throttle import MemoryCounters

    counters, clock = MemoryCounters(), [1_700_000_000.0]  # a window starts here
    with mock.patch("time.time", lambda: clock[0]):
        assert all(counters.acquire_sliding_window_entry("request", 3, 10) for _ in range(3))
        clock[0] += 10.1  # the next window: the full one before it still weighs 99 %
        counters.expire()
        assert counters.acquire_sliding_window_entry("request", 3, 10)  # 2.97 + 1 -> 3
        assert not counters.acquire_sliding_window_entry("request", 3, 10)


def test_a_dropped_counter_store_is_not_kept_alive_by_the_expiry_thread():
    import gc
    import weakref

    from app.services.throttle import EXPIRER, MemoryCounters

    counters = MemoryCounters()
    assert counters in EXPIRER.live
    counters.timer.join()  # limits' own start-up timer holds it for 10 ms
    gone = weakref.ref(counters)
    del counters
    gc.collect()
    assert gone() is None


def test_a_throttle_allows_its_amount_then_says_how_long_to_wait_until_cleared():
    from unittest import mock

    from app.services.throttle import MEMORY, Throttle

    throttle, clock = Throttle(MEMORY), [1_700_000_000.0]
    with mock.patch("time.time", lambda: clock[0]):
        assert [throttle.hit("sign-in", "ann", 3, 900) for _ in range(3)] == [0, 0, 0]
        clock[0] += 0.5
        assert throttle.hit("sign-in", "ann", 3, 900) == 900  # 899.5 s, rounded up
        assert throttle.hit("sign-in", "bob", 3, 900) == 0  # per key
        clock[0] += 600
        assert throttle.hit("sign-in", "ann", 3, 900) == 300
        throttle.clear("sign-in", "ann", 3, 900)
        assert throttle.hit("sign-in", "ann", 3, 900) == 0


def test_remembered_counter_keys_are_the_ones_limits_builds_and_stay_bounded(monkeypatch):
    """The fast path's remembered keys (``KeyedLimit``) must name the same counters as
    Flask-Limiter's views, and a flood of new callers must not grow them without end."""
    from limits import parse

    item = parse("5/minute")
    keyed = ratelimits.KeyedLimit(item)
    monkeypatch.setattr(ratelimits.KeyedLimit, "MAX_KEYS", 3)
    identifiers = [("scopegate", f"client:{n}", "oauth.token:x") for n in range(7)]
    for ids in identifiers + identifiers[:2]:
        assert keyed.key_for(*ids) == item.key_for(*ids)
        assert len(keyed._keys) <= 3
    assert (keyed.amount, keyed.get_expiry()) == (item.amount, item.get_expiry())
