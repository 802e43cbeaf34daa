"""Request rate limits (Flask-Limiter), attached to views by endpoint name.

Every limited endpoint gets a per-IP limit; those that authenticate a client
or a bearer token also get a per-caller limit (counted only when the caller
authenticated, so a stranger sending a known ``client_id`` cannot spend the
real client's allowance) and two limits on *failed* authentications: per
(client_id, IP), so a guesser locks out only its own address, and per IP,
whatever the client. Refusals are 429 ``rate_limited`` with ``Retry-After``
(JSON, or the dashboard's error page).

The rules name endpoints, not functions, so a view that arrives later
(``/oauth/authorize`` with OpenID Connect, ``web.authorize``) is covered as
soon as it is registered. Counters live where sign-in counters do (``services.throttle``):
Redis when ``SCOPEGATE_REDIS_URL`` is set, so every host shares them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, request
from flask_limiter import Limiter, RequestLimit
from limits import RateLimitItem, parse

from app import metrics
from app.errors import RateLimited, error_response
from app.oauth.client_auth import basic_credentials
from app.services import throttle

log = logging.getLogger(__name__)

#: Flask-Limiter's key prefix: every counter key starts with it.
KEY_PREFIX = "scopegate"
#: Endpoints whose callers authenticate as a client (Basic) or with a bearer token.
CLIENT_ENDPOINTS = ("oauth.token", "oauth.introspect", "oauth.revoke", "oauth.userinfo",
                    "oauth.revocation_feed")
#: Endpoints limited per address only (people's browsers): ``/oauth/authorize``
#: under either blueprint name it may be registered with.
BROWSER_ENDPOINTS = ("oauth.authorize", "web.authorize", "web.oidc_logout")
#: Blueprints whose every endpoint is limited like the client endpoints (bearer tokens).
API_BLUEPRINTS = ("api",)
#: The sign-in form: posts per address (sign-in attempts per email: services.logins).
LOGIN_ENDPOINTS = ("web.login",)


def client_ip() -> str:
    return request.remote_addr or "-"


def _digest(value: str) -> str:
    """Counter keys name a caller without holding anything secret."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


@functools.lru_cache(maxsize=4096)
def _client_key(client_id: str) -> str:
    """A client id's key, remembered: the same callers come back (a client id is not secret)."""
    return f"client:{_digest(client_id)}"


def caller_key(authorization: str) -> str:
    """Who the request claims to be: ``client:<id>`` (Basic) or ``token:<digest>``
    (Bearer); empty (the limit is skipped) when it claims nobody. Read once per
    request: every rule's key is made from it."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic":
        client_id, _secret = basic_credentials({"Authorization": authorization})
        return _client_key(client_id) if client_id else ""
    if scheme.lower() == "bearer" and value.strip():
        return f"token:{_digest(value.strip())}"
    return ""


def ip_key(ip: str, caller: str) -> str:
    return ip


def caller_only_key(ip: str, caller: str) -> str:
    return caller


def caller_at_ip_key(ip: str, caller: str) -> str:
    return f"{caller}@{ip}" if caller else ""


def _authenticated(status: int) -> bool:
    """Counted against the caller: it proved who it is (a 401 did not; a 429 was
    refused before anyone checked)."""
    return status not in (401, 429)


def _failed(status: int) -> bool:
    return status == 401


@dataclass(frozen=True)
class Rule:
    """One limit: its setting, whom it counts, which responses count, which methods."""

    setting: str
    #: (client IP, :func:`caller_key`) -> counter key; "" skips the limit.
    key: Callable[[str, str], str]
    #: Counted after the answer, only when this holds for its status (else before, always).
    deduct_when: Callable[[int], bool] | None = None
    methods: tuple[str, ...] | None = None


PER_IP = Rule("SCOPEGATE_RATE_LIMIT_PER_IP", ip_key)
CALLER_RULES = (
    PER_IP,
    Rule("SCOPEGATE_RATE_LIMIT_PER_CLIENT", caller_only_key, _authenticated),
    Rule("SCOPEGATE_RATE_LIMIT_FAILED_AUTH", caller_at_ip_key, _failed),
    Rule("SCOPEGATE_RATE_LIMIT_FAILED_AUTH_PER_IP", ip_key, _failed),
)
LOGIN_RULES = (Rule("SCOPEGATE_RATE_LIMIT_LOGIN", ip_key, methods=("POST",)),)


def rules_for(endpoint: str) -> tuple[Rule, ...]:
    if endpoint in CLIENT_ENDPOINTS or endpoint.partition(".")[0] in API_BLUEPRINTS:
        return CALLER_RULES
    if endpoint in BROWSER_ENDPOINTS:
        return (PER_IP,)
    if endpoint in LOGIN_ENDPOINTS:
        return LOGIN_RULES
    return ()


def _scope(endpoint: str, rule: Rule) -> str:
    return f"{endpoint}:{rule.setting}"


def retry_after(reset_at: float) -> int:
    return max(1, int(reset_at - time.time()))


def refusal(url_rule: str, reset_at: float) -> RateLimited:
    """A breach seen by ``EndpointLimits``: counted, and answered like every other error."""
    metrics.rate_limited(url_rule)
    return RateLimited(retry_after(reset_at))


def _count_breach(limit: RequestLimit) -> None:
    """Flask-Limiter calls this on a breach (then raises its 429): count it and
    remember when the caller may come back."""
    metrics.rate_limited(request.url_rule.rule if request.url_rule else "(unmatched)")
    wait = retry_after(limit.reset_at)
    g.rate_limit_retry_after = max(wait, g.get("rate_limit_retry_after", 0))


def as_error(_exc: Exception | None = None) -> RateLimited:
    """The breach as our error: rendered as JSON by ``app.errors``, as a page by
    the dashboard, with ``Retry-After`` either way."""
    return RateLimited(g.get("rate_limit_retry_after", 60))


class Pending:
    """The limits one request was checked against: the refusal, if any, and the
    counts that wait for the answer's status."""

    def __init__(self, limiter, refused: RateLimited | None, deferred: list):
        self.limiter, self.refused, self.deferred = limiter, refused, deferred

    def settle(self, status: int) -> None:
        for rule, item, args in self.deferred:
            if rule.deduct_when(status):
                self.limiter.hit(item, *args)


class CountedHere(Pending):
    """:class:`Pending` for counters in this process (``throttle.MemoryCounters``): the
    deferred counts go straight to them (``deferred``: (rule, key, limit, expiry))."""

    def settle(self, status: int) -> None:
        for rule, key, limit, expiry in self.deferred:
            if rule.deduct_when(status):
                self.limiter.storage.acquire_sliding_window_entry(key, limit, expiry)


class KeyedLimit:
    """A parsed limit whose counter keys are built once per caller, not per request.

    ``limits`` joins and escapes every identifier into the key on each test and hit
    (five keys per introspection, about 5 % of its CPU, bench/RESULTS.md §16); the
    identifiers (key prefix, IP or caller digest, scope: nothing secret) repeat from
    request to request, so their keys are remembered, up to :data:`MAX_KEYS` of them.
    It stands in for the item everywhere the strategy reads one."""

    MAX_KEYS = 10_000

    def __init__(self, item: RateLimitItem):
        self.item, self.amount = item, item.amount
        self._keys: dict[tuple[str, ...], str] = {}

    def get_expiry(self) -> int:
        return self.item.get_expiry()

    def key_for(self, *identifiers: str) -> str:
        key = self._keys.get(identifiers)
        if key is None:
            if len(self._keys) >= self.MAX_KEYS:
                self._keys.clear()
            key = self._keys[identifiers] = self.item.key_for(*identifiers)
        return key

    def __lt__(self, other: KeyedLimit) -> bool:
        return self.item < other.item


class EndpointLimits:
    """One endpoint's limits checked without Flask's request (``app.oauth.fastpath``):
    the same rules, on Flask-Limiter's own storage, keys and order, so a caller's
    allowance is one count whichever way its requests are served."""

    def __init__(self, app: Flask, endpoint: str, url_rule: str):
        self.extension: Limiter = app.extensions["scopegate.limiter"]
        self.url_rule = url_rule
        # Flask-Limiter puts the endpoint in front of a view limit's own scope.
        checks = [(KeyedLimit(parse(app.config[rule.setting])), rule,
                   f"{endpoint}:{_scope(endpoint, rule)}")
                  for rule in rules_for(endpoint) if rule.methods is None or "POST" in rule.methods]
        # Flask-Limiter evaluates a view's limits in this order and stops at the first breach.
        self.checks = sorted(checks, key=lambda check: check[0])
        self._plans: dict[tuple[str, str], tuple] = {}

    def check(self, ip: str, authorization: str) -> Pending:
        if not self.extension.enabled:
            return Pending(None, None, [])
        try:
            return self._check(ip, authorization)
        except Exception:
            # As Flask-Limiter does for the views: a limit store that is down must not
            # take the service down with it; count in this process's memory instead.
            if not self.extension._in_memory_fallback_enabled or self.extension._storage_dead:
                raise
            log.warning("Rate limit storage unreachable - falling back to in-memory storage")
            self.extension._storage_dead = True
            return self._check(ip, authorization)

    def _check(self, ip: str, authorization: str) -> Pending:
        limiter = self.extension.limiter
        caller = caller_key(authorization)
        if isinstance(limiter.storage, throttle.MemoryCounters):
            return self._check_here(limiter, ip, caller)
        deferred = []
        for item, rule, scope in self.checks:
            key = rule.key(ip, caller)
            if not key:
                continue
            args = (KEY_PREFIX, key, scope)
            if rule.deduct_when is not None:
                deferred.append((rule, item, args))
                allowed = limiter.test(item, *args)
            else:
                allowed = limiter.hit(item, *args)
            if not allowed:
                reset = limiter.get_window_stats(item, *args).reset_time
                return Pending(limiter, refusal(self.url_rule, int(reset + 1)), deferred)
        return Pending(limiter, None, deferred)

    #: (IP, caller) -> that request's plan (:meth:`_plan`): nothing secret in either.
    MAX_PLANS = 10_000

    def _plan(self, ip: str, caller: str) -> tuple[tuple, tuple, tuple]:
        """What :meth:`_check`'s loop does for this address and caller, worked out once:
        the checks for ``MemoryCounters.admit`` (key, limit, window, counted now), each
        one's (item, identifiers) to tell a refused caller when to come back, and each
        one's deferred count (rule, key, limit, window), or None."""
        admit, items, deferred = [], [], []
        for item, rule, scope in self.checks:
            key = rule.key(ip, caller)
            if not key:
                continue
            full_key, expiry = item.key_for(KEY_PREFIX, key, scope), item.get_expiry()
            admit.append((full_key, item.amount, expiry, rule.deduct_when is None))
            items.append((item, (KEY_PREFIX, key, scope)))
            deferred.append(None if rule.deduct_when is None
                            else (rule, full_key, item.amount, expiry))
        return tuple(admit), tuple(items), tuple(deferred)

    def _check_here(self, limiter, ip: str, caller: str) -> Pending:
        """:meth:`_check`'s decisions on this process's counters (``MemoryCounters``) in
        one call under one lock, with the keys made once per (address, caller): the
        limits were a fifth of an introspection's CPU (bench/RESULTS.md §19)."""
        plan = self._plans.get((ip, caller))
        if plan is None:
            if len(self._plans) >= self.MAX_PLANS:
                self._plans.clear()
            plan = self._plans[(ip, caller)] = self._plan(ip, caller)
        admit, items, deferred = plan
        refused = limiter.storage.admit(admit)
        if refused < 0:
            return CountedHere(limiter, None, [d for d in deferred if d is not None])
        item, identifiers = items[refused]
        reset = limiter.get_window_stats(item, *identifiers).reset_time
        return CountedHere(limiter, refusal(self.url_rule, int(reset + 1)),
                           [d for d in deferred[:refused + 1] if d is not None])


def enabled(config: dict) -> bool:
    return str(config["SCOPEGATE_RATE_LIMITS"]).strip().lower() not in ("off", "0", "false", "no")


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(
        client_ip, app=app, storage_uri=throttle.storage_uri(app.config),
        strategy=throttle.REQUEST_STRATEGY, on_breach=_count_breach, enabled=enabled(app.config),
        key_prefix=KEY_PREFIX, headers_enabled=False,
        # A limit store that is down must not take the service down with it.
        swallow_errors=False, in_memory_fallback_enabled=True,
    )
    app.extensions["scopegate.limiter"] = limiter
    # By status code, so it wins over the blueprints' generic HTTPException pages.
    app.register_error_handler(429, lambda exc: error_response(as_error(exc)))
    limit_views(app)
    return limiter


def limit_views(app: Flask) -> None:
    """Wrap every registered view its rules name (each view once)."""
    limiter: Limiter = app.extensions["scopegate.limiter"]
    done: set[str] = app.extensions.setdefault("scopegate.limited_endpoints", set())
    for endpoint, view in list(app.view_functions.items()):
        if endpoint in done:
            continue
        done.add(endpoint)
        for rule in rules_for(endpoint):
            view = limiter.limit(app.config[rule.setting], key_func=_flask_key(rule),
                                 deduct_when=_flask_deduct_when(rule), scope=_scope(endpoint, rule),
                                 methods=list(rule.methods) if rule.methods else None)(view)
        app.view_functions[endpoint] = view


def _flask_key(rule: Rule):
    return lambda: rule.key(client_ip(), caller_key(request.headers.get("Authorization") or ""))


def _flask_deduct_when(rule: Rule):
    if rule.deduct_when is None:
        return None
    return lambda response: rule.deduct_when(response.status_code)
