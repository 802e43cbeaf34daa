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

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RequestLimit

from app import metrics
from app.errors import RateLimited, error_response
from app.oauth.client_auth import basic_credentials
from app.services import throttle

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


def caller_key() -> str:
    """Who the request claims to be: ``client:<id>`` (Basic) or ``token:<digest>``
    (Bearer); empty (the limit is skipped) when it claims nobody."""
    header = request.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        client_id, _secret = basic_credentials(request.headers)
        return f"client:{_digest(client_id)}" if client_id else ""
    if scheme.lower() == "bearer" and value.strip():
        return f"token:{_digest(value.strip())}"
    return ""


def caller_at_ip_key() -> str:
    caller = caller_key()
    return f"{caller}@{client_ip()}" if caller else ""


def _authenticated(response) -> bool:
    """Counted against the caller: it proved who it is (a 401 did not; a 429 was
    refused before anyone checked)."""
    return response.status_code not in (401, 429)


def _failed(response) -> bool:
    return response.status_code == 401


@dataclass(frozen=True)
class Rule:
    """One limit: its setting, whom it counts, which responses count, which methods."""

    setting: str
    key: Callable[[], str]
    deduct_when: Callable[[Response], bool] | None = None
    methods: tuple[str, ...] | None = None


PER_IP = Rule("SCOPEGATE_RATE_LIMIT_PER_IP", client_ip)
CALLER_RULES = (
    PER_IP,
    Rule("SCOPEGATE_RATE_LIMIT_PER_CLIENT", caller_key, _authenticated),
    Rule("SCOPEGATE_RATE_LIMIT_FAILED_AUTH", caller_at_ip_key, _failed),
    Rule("SCOPEGATE_RATE_LIMIT_FAILED_AUTH_PER_IP", client_ip, _failed),
)
LOGIN_RULES = (Rule("SCOPEGATE_RATE_LIMIT_LOGIN", client_ip, methods=("POST",)),)


def rules_for(endpoint: str) -> tuple[Rule, ...]:
    if endpoint in CLIENT_ENDPOINTS or endpoint.partition(".")[0] in API_BLUEPRINTS:
        return CALLER_RULES
    if endpoint in BROWSER_ENDPOINTS:
        return (PER_IP,)
    if endpoint in LOGIN_ENDPOINTS:
        return LOGIN_RULES
    return ()


def _count_breach(limit: RequestLimit) -> None:
    """Flask-Limiter calls this on a breach (then raises its 429): count it and
    remember when the caller may come back."""
    metrics.rate_limited(request.url_rule.rule if request.url_rule else "(unmatched)")
    wait = max(1, int(limit.reset_at - time.time()))
    g.rate_limit_retry_after = max(wait, g.get("rate_limit_retry_after", 0))


def as_error(_exc: Exception | None = None) -> RateLimited:
    """The breach as our error: rendered as JSON by ``app.errors``, as a page by
    the dashboard, with ``Retry-After`` either way."""
    return RateLimited(g.get("rate_limit_retry_after", 60))


def enabled(config: dict) -> bool:
    return str(config["SCOPEGATE_RATE_LIMITS"]).strip().lower() not in ("off", "0", "false", "no")


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(
        client_ip, app=app, storage_uri=throttle.storage_uri(app.config),
        strategy=throttle.STRATEGY, on_breach=_count_breach, enabled=enabled(app.config),
        key_prefix="scopegate", headers_enabled=False,
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
            view = limiter.limit(app.config[rule.setting], key_func=rule.key,
                                 deduct_when=rule.deduct_when, scope=f"{endpoint}:{rule.setting}",
                                 methods=list(rule.methods) if rule.methods else None)(view)
        app.view_functions[endpoint] = view
