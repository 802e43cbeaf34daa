"""Settings: each one declared once, beside its documentation.

Defaults live here; any setting can be overridden by an environment variable
of the same name (``SCOPEGATE_DATABASE_URL=...``). The README's configuration
table is generated from :data:`SETTINGS` (``python -m config``), so the two
cannot drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    doc: str
    type: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("SCOPEGATE_DATABASE_URL", "sqlite:///instance/scopegate.db",
            "SQLAlchemy URL of the store. SQLite for development, "
            "`postgresql+psycopg://…` in production."),
    Setting("SCOPEGATE_ISSUER", "http://127.0.0.1:5000",
            "Public base URL of this server: the `iss` of tokens and discovery. "
            "`make run` sets it to `http://HOST:PORT` when unset."),
    Setting("SCOPEGATE_SECRET_KEY", "dev-insecure-secret-key",
            "Signs session cookies and CSRF tokens. Set a long random value in "
            "production (each serving process warns once while the default is used)."),
    Setting("SCOPEGATE_SECRET_KEY_PREVIOUS", "",
            "While changing `SCOPEGATE_SECRET_KEY`: the old value. Sessions signed with it "
            "stay valid and signing keys encrypted with it still open; `init-db` re-encrypts "
            "them with the new secret, after which this is removed."),
    Setting("SCOPEGATE_ENV", "dev", "Deployment name reported as `env` by introspection."),
    Setting("SCOPEGATE_ID_DOMAIN", "scopegate.local",
            "Domain of generated unique IDs (`f1bd9ff87c@<domain>`)."),
    Setting("SCOPEGATE_SCOPED_TOKEN_DEFAULT_LIFETIME", 30 * 86400,
            "Seconds a scoped token lives when no `expires_in` is given (30 days).", int),
    Setting("SCOPEGATE_SCOPED_TOKEN_MAX_LIFETIME", 30 * 86400,
            "Longest a scoped token may live, counted from issue time (30 days); "
            "longer requests are refused, renewals clamped.", int),
    Setting("SCOPEGATE_PERSONAL_TOKEN_DEFAULT_LIFETIME", 90 * 86400,
            "Seconds an admin's personal (unscoped) token lives by default (90 days).", int),
    Setting("SCOPEGATE_PERSONAL_TOKEN_MAX_LIFETIME", 365 * 86400,
            "Longest a personal token may live (365 days).", int),
    Setting("SCOPEGATE_APP_ACCESS_TOKEN_LIFETIME", 3600,
            "Seconds a person's access token issued to an app lives (1 hour); the app "
            "refreshes it with `offline_access`.", int),
    Setting("SCOPEGATE_REFRESH_TOKEN_LIFETIME", 30 * 86400,
            "Absolute lifetime of an app's refresh tokens, counted from sign-in (30 days): "
            "rotation never extends it.", int),
    Setting("SCOPEGATE_LAST_USED_RESOLUTION", 60,
            "`last_used_at` is written at most once per this many seconds per token, "
            "so introspection stays a read.", int),
    Setting("SCOPEGATE_MAX_BODY_BYTES", 64 * 1024,
            "Largest request body accepted; larger bodies get 413.", int),
    Setting("SCOPEGATE_PAGE_SIZE", 50, "Default page size of list endpoints (max 500).", int),
    Setting("SCOPEGATE_PURGE_RETENTION", 30 * 86400,
            "`purge-expired` deletes tokens expired or revoked longer ago than this (seconds).",
            int),
    Setting("SCOPEGATE_ACCESS_LOG", 0,
            "1: the app writes one JSON access-log line per request to stdout (`make serve` "
            "sets it), with the one-time setup code redacted from paths.", int),
    Setting("SCOPEGATE_TRUST_PROXY", 0,
            "Number of reverse proxies in front of the server whose X-Forwarded-For "
            "is trusted for the client IP recorded in the audit log.", int),
    Setting("SCOPEGATE_SESSION_IDLE_TIMEOUT", 30 * 60,
            "Dashboard sessions end after this many seconds without a request (30 minutes).",
            int),
    Setting("SCOPEGATE_SESSION_ABSOLUTE_TIMEOUT", 12 * 3600,
            "Dashboard sessions end this many seconds after sign-in, however busy (12 hours).",
            int),
    Setting("SCOPEGATE_LOGIN_MAX_FAILURES", 5,
            "Sign-in attempts allowed per email from one IP address (or one signed-in-before "
            "browser) within the throttle window; a success starts the count again. Further "
            "attempts are refused (429) before any password is checked.", int),
    Setting("SCOPEGATE_LOGIN_MAX_PER_EMAIL", 50,
            "Sign-in attempts allowed per email from all addresses together within the "
            "throttle window, except from a browser that signed in as that email before "
            "(its device cookie): a distributed guesser is stopped, the admin's own browser "
            "is not.", int),
    Setting("SCOPEGATE_LOGIN_THROTTLE_WINDOW", 15 * 60,
            "Seconds over which sign-in attempts are counted (15 minutes).", int),
    Setting("SCOPEGATE_PASSWORD_HASH_CONCURRENCY", 2,
            "Password checks (argon2id, 64 MiB and ~0.2 s each) one process runs at once; "
            "more wait, and after 5 s are refused (429).", int),
    Setting("SCOPEGATE_RATE_LIMITS", "on",
            "`on` or `off`: the request rate limits below (429 with `Retry-After`). `off` only "
            "for load benchmarks and test suites that drive thousands of requests from one "
            "address; sign-in throttling stays on either way."),
    Setting("SCOPEGATE_REDIS_URL", "",
            "Redis holding the rate-limit and sign-in counters, shared by every host "
            "(`redis://host:6379/0`). Empty: in memory, per process (one host only)."),
    Setting("SCOPEGATE_RATE_LIMIT_PER_IP", "3000/minute",
            "Requests per client IP address to each limited endpoint (`/oauth/token`, "
            "`/oauth/introspect`, `/oauth/revoke`, `/oauth/authorize`, the admin API)."),
    Setting("SCOPEGATE_RATE_LIMIT_PER_CLIENT", "1200/minute",
            "Authenticated requests per client (`client_id`) or bearer token to each limited "
            "endpoint. Failed authentications do not count here."),
    Setting("SCOPEGATE_RATE_LIMIT_FAILED_AUTH", "10/minute",
            "Failed client authentications per (client_id, IP address): a guesser is stopped "
            "at its own address and never locks the real client out of another."),
    Setting("SCOPEGATE_RATE_LIMIT_FAILED_AUTH_PER_IP", "60/minute",
            "Failed client or bearer authentications per IP address, whatever the client."),
    Setting("SCOPEGATE_RATE_LIMIT_LOGIN", "30/minute",
            "Sign-in form posts per IP address, whatever the email."),
    Setting("SCOPEGATE_AUDIT_AGGREGATE_WINDOW", 60,
            "Seconds over which repeated refused events from one source (same action, "
            "target, address and reason) are counted in one audit row instead of one each.",
            int),
    Setting("SCOPEGATE_AUDIT_RETENTION_DAYS", 365,
            "`purge-audit` deletes audit events older than this many days.", int),
    Setting("SCOPEGATE_METRICS", 0,
            "1: serve `GET /metrics` (Prometheus text format) to callers presenting "
            "`SCOPEGATE_METRICS_TOKEN` as a bearer token. 0: no such path.", int),
    Setting("SCOPEGATE_METRICS_TOKEN", "",
            "The bearer token `/metrics` requires. Unset: `/metrics` answers 404 even with "
            "`SCOPEGATE_METRICS=1` (metrics are never public)."),
    Setting("SCOPEGATE_SETUP_CODE_LIFETIME", 24 * 3600,
            "Seconds a one-time link (first-run setup, invitation, password reset) stays "
            "valid (24 hours); it also dies once used.",
            int),
    Setting("SCOPEGATE_ACCESS_TOKEN_FORMAT", "opaque",
            "`opaque` (`sgt_…`) or `jwt`: scoped tokens as RFC 9068 JWT access tokens "
            "(`typ` `at+jwt`, RS256, signed with the JWKS's RSA key) that resource servers can "
            "validate locally. Still stored by digest, introspectable and revocable."),
    Setting("SCOPEGATE_ACCESS_TOKEN_AUDIENCE", "",
            "`aud` of JWT access tokens (empty: the issuer, i.e. every resource server "
            "of this platform)."),
    Setting("SCOPEGATE_REVOCATION_FEED_LAG", 10,
            "Seconds the revocation feed re-serves recent revocations, so that one "
            "committed late (a slow transaction, clock skew between hosts) is never "
            "skipped by a cursor. Larger than any revoking transaction plus skew.", int),
    Setting("SCOPEGATE_PASSWORD_MIN_LENGTH", 12,
            "Shortest dashboard password accepted at setup.", int),
)


def _coerce(setting: Setting, raw: str) -> Any:
    if setting.type is int:
        return int(raw)
    return raw


def load(environ: os._Environ | dict | None = None) -> dict[str, Any]:
    """Defaults overridden by the environment."""
    environ = os.environ if environ is None else environ
    values = {}
    for s in SETTINGS:
        raw = environ.get(s.name)
        values[s.name] = s.default if raw is None or raw == "" else _coerce(s, raw)
    return values


def markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | `{s.default}` | {s.doc} |")
    return "\n".join(rows)
