"""Sign-in throttling (services.logins): counters hit atomically before any
password is checked, per email from one address and per email overall; a
browser that signed in before is counted on its own, so a stranger cannot
lock the admin out; password checks are bounded per process."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from argon2 import PasswordHasher
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from app import create_app
from app.models import AuditEvent, db
from app.services import logins, passwords
from tests.redis_server import RedisServer, available
from tests.web.conftest import Browser

WRONG = "not the password at all"


def from_address(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def attempt(app, email: str, password: str = WRONG, ip: str = "127.0.0.1") -> int:
    browser = Browser(app.test_client())
    browser.get("/login", **from_address(ip))
    return browser.post("/login", {"email": email, "password": password},
                        **from_address(ip)).status_code


def signed_in_before(app, admin, **kw) -> Browser:
    """A browser that signed in as ``admin`` (so it holds a device cookie) and out again."""
    browser = Browser(app.test_client())
    assert browser.login(admin, **kw).status_code == 303
    browser.get("/dashboard", **kw)  # the session's CSRF token
    assert browser.post("/logout", **kw).status_code == 303
    browser.get("/login", **kw)  # a fresh CSRF token for the next form
    return browser


def concurrently(n: int, call) -> list:
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_sign_in_without_an_email_is_refused_and_recorded_as_sent(app, admin):
    assert attempt(app, "") == 401
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")
                                   .order_by(AuditEvent.id.desc())).first()
        assert (event.outcome, event.target, event.subject) == ("denied", None, None)


def test_concurrent_attempts_cannot_race_past_the_limit(app, admin):
    """Issue 13 saw 19 of 20 concurrent attempts evaluated for a limit of 5."""
    statuses = concurrently(20, lambda _: attempt(app, admin.email))
    assert statuses.count(401) == 5 and statuses.count(429) == 15


def test_an_unknown_email_is_refused_at_the_same_rate_as_a_known_one(app, admin):
    for email in (admin.email, "nobody@acme.test"):
        assert [attempt(app, email) for _ in range(6)] == [401] * 5 + [429]


def test_a_stranger_elsewhere_cannot_lock_the_admin_out(app, admin):
    for _ in range(8):
        attempt(app, admin.email, ip="203.0.113.66")
    assert Browser(app.test_client()).login(admin, **from_address("198.51.100.1")
                                            ).status_code == 303


def test_a_stranger_at_the_admins_address_cannot_lock_out_the_admins_browser(app, admin):
    """Behind a load balancer (SCOPEGATE_TRUST_PROXY=0) everyone shares one address."""
    browser = signed_in_before(app, admin)
    for _ in range(8):
        attempt(app, admin.email)  # same address, no device cookie
    assert attempt(app, admin.email, admin.password) == 429  # a new browser waits ...
    assert browser.login(admin).status_code == 303  # ... the admin's own does not


def test_each_browser_that_signed_in_before_is_counted_on_its_own(app, admin):
    laptop, phone = signed_in_before(app, admin), signed_in_before(app, admin)
    assert [laptop.post("/login", {"email": admin.email, "password": WRONG}).status_code
            for _ in range(6)] == [401] * 5 + [429]
    assert phone.login(admin).status_code == 303


def test_a_guesser_rotating_addresses_is_stopped_per_email(app, admin):
    app.config["SCOPEGATE_LOGIN_MAX_PER_EMAIL"] = 10
    browser = signed_in_before(app, admin)
    statuses = [attempt(app, admin.email, ip=f"203.0.113.{i}") for i in range(12)]
    assert statuses == [401] * 9 + [429] * 3  # the admin's sign-in was the 10th
    assert browser.login(admin).status_code == 303  # the known browser still signs in


def test_a_forged_or_foreign_device_cookie_counts_as_no_cookie(app, admin, other_admin):
    other = signed_in_before(app, other_admin)  # a genuine cookie, for another email
    forged = Browser(app.test_client())
    forged.client.set_cookie("scopegate_device", "forged", path="/login")
    # Signed with the app's key for another purpose (itsdangerous's default salt).
    unsalted = Browser(app.test_client())
    unsalted.client.set_cookie("scopegate_device", URLSafeTimedSerializer(
        app.config["SECRET_KEY"]).dumps({"email": admin.email, "device": "d"}), path="/login")
    for n, browser in enumerate((other, forged, unsalted)):
        ip = f"192.0.2.{n}"
        browser.get("/login", **from_address(ip))
        statuses = [browser.post("/login", {"email": admin.email, "password": WRONG},
                                 **from_address(ip)).status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        # They were counted against the email from that address, as without a cookie.
        assert attempt(app, admin.email, ip=ip) == 429


def test_a_device_cookie_older_than_a_year_counts_as_no_cookie(app, admin, monkeypatch):
    browser = signed_in_before(app, admin)
    a_year_on = time.time() + logins.DEVICE_LIFETIME + 60
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: a_year_on))
    for _ in range(8):
        attempt(app, admin.email)  # a stranger at the same address
    assert browser.login(admin).status_code == 429


def test_password_checks_run_at_most_the_configured_number_at_once(app, monkeypatch):
    monkeypatch.setattr(passwords, "_slots", {})  # this process's slots, made afresh
    inside, peak, lock = [0], [0], threading.Lock()

    class MeasuredHasher(PasswordHasher):
        """The real (cheap-parameter) hasher, counting how many verify at once."""

        def verify(self, *args):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.1)  # long enough for the others to pile up, even on a busy machine
            try:
                return super().verify(*args)
            finally:
                with lock:
                    inside[0] -= 1

    monkeypatch.setattr(passwords, "_hasher", MeasuredHasher(time_cost=1, memory_cost=8192))
    for concurrency in (3, 1):  # each setting has its own slots (apps in one process differ)
        app.config["SCOPEGATE_PASSWORD_HASH_CONCURRENCY"] = concurrency
        peak[0] = 0
        statuses = concurrently(12, lambda i: attempt(app, f"guess{concurrency}@acme.test",
                                                       ip=f"192.0.2.{i}"))
        assert statuses == [401] * 12
        assert peak[0] == concurrency


def test_a_sign_in_that_waits_too_long_for_a_password_check_is_429_with_retry_after(
        app, admin, monkeypatch):
    app.config["SCOPEGATE_PASSWORD_HASH_CONCURRENCY"] = 1
    monkeypatch.setattr(passwords, "SLOT_WAIT", 1.0)
    monkeypatch.setattr(passwords, "_slots", {})

    class SlowHasher(PasswordHasher):
        def verify(self, *args):
            time.sleep(2.5)  # holds the only slot well past the other attempt's wait
            return super().verify(*args)

    monkeypatch.setattr(passwords, "_hasher", SlowHasher(time_cost=1, memory_cost=8192))

    def sign_in(i):
        browser = Browser(app.test_client())
        browser.get("/login", **from_address(f"192.0.2.{i}"))
        response = browser.post("/login", {"email": admin.email, "password": WRONG},
                                **from_address(f"192.0.2.{i}"))
        return response.status_code, response.headers.get("Retry-After")

    assert sorted(concurrently(2, sign_in), key=lambda r: r[0]) == [(401, None), (429, "1")]


def test_a_refused_attempt_waits_until_the_window_frees_a_slot_in_whole_seconds(monkeypatch):
    from app.services import throttle

    clock = [1_700_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    counter = throttle.Throttle(throttle.MEMORY)
    assert counter.hit("test", "key", 1, 900) == 0
    assert counter.hit("test", "key", 1, 900) == 900
    clock[0] += 899.5
    assert counter.hit("test", "key", 1, 900) == 1
    clock[0] += 1
    assert counter.hit("test", "key", 1, 900) == 0


@pytest.mark.parametrize("wait, minutes", [(1, 1), (60, 1), (61, 2), (90, 2), (900, 15)])
def test_a_throttled_sign_in_says_the_wait_in_whole_minutes_rounded_up(wait, minutes):
    refused = logins.TooManyAttempts(wait)
    assert f" in {minutes} minute(s)." in refused.get_error_description()
    assert ("Retry-After", str(wait)) in refused.get_headers()


def test_sign_in_posts_are_limited_per_address_with_a_page(app, admin):
    app.config["SCOPEGATE_RATE_LIMIT_LOGIN"] = "2/minute"
    fresh = create_app({**{k: app.config[k] for k in app.config if k.startswith("SCOPEGATE_")},
                        "TESTING": True})
    browser = Browser(fresh.test_client())
    for email in ("a@acme.test", "b@acme.test"):
        browser.post("/login", {"email": email, "password": WRONG})
    refused = browser.post("/login", {"email": "c@acme.test", "password": WRONG})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "text/html"
    assert browser.get("/login").status_code == 200  # reading the form is not limited


@pytest.mark.skipif(not available(), reason="needs Debian's redis-server (.ci/run installs it)")
def test_two_hosts_share_sign_in_counters_through_redis(app, admin):
    with RedisServer() as redis:
        settings = {k: app.config[k] for k in app.config if k.startswith("SCOPEGATE_")}
        host_a, host_b = (create_app({**settings, "TESTING": True,
                                      "SCOPEGATE_REDIS_URL": redis.url}) for _ in range(2))
        assert [attempt(host_a, admin.email) for _ in range(3)] == [401] * 3
        assert [attempt(host_b, admin.email) for _ in range(3)] == [401, 401, 429]


def test_sign_in_stays_throttled_when_redis_is_unreachable(app, admin, caplog):
    """Counted in process memory instead: no 500, and still no sixth guess."""
    from tests.conftest import free_port

    settings = {k: app.config[k] for k in app.config if k.startswith("SCOPEGATE_")}
    host = create_app({**settings, "TESTING": True,
                       "SCOPEGATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert [attempt(host, admin.email) for _ in range(6)] == [401] * 5 + [429]
    warned = [r for r in caplog.records if "counter storage unreachable" in r.getMessage()]
    assert warned and warned[0].exc_info  # the operator sees why Redis failed
