"""Template helpers and the small steps pages share."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, g, redirect, request, url_for
from markupsafe import Markup, escape

from app.models import Token, now
from app.services import directory, sessions
from app.services.callers import Caller
from app.web.security import CSRF_FIELD, csrf_token


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def time_tag(epoch: int | None, empty: str = "—") -> Markup:
    """``<time>`` in UTC; app.js rewrites the text in the viewer's own format,
    and the title keeps the UTC time on hover."""
    if epoch is None:
        return Markup('<span class="muted">{}</span>').format(empty)
    at = _utc(epoch)
    return Markup('<time datetime="{}" title="{} UTC">{} UTC</time>').format(
        at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.strftime("%Y-%m-%d %H:%M:%S"),
        at.strftime("%Y-%m-%d %H:%M"))


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def token_status(token: Token) -> str:
    if token.is_revoked():
        return "revoked"
    return "expired" if token.is_expired() else "active"


def duration(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86400)
    if days and not rest:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


def safe_next(default: str) -> str:
    """A same-site path to return to (never another host: no open redirect)."""
    target = request.values.get("next", "")
    # Browsers drop tabs and newlines and read "\\" as "/": "/\t/evil.example"
    # would become "//evil.example". Only plain printable paths are followed.
    if (target.startswith("/") and not target.startswith("//")
            and all(33 <= ord(c) < 127 and c != "\\" for c in target)):
        return target
    return default


def show_once(payload: dict):
    """Keep a secret for the next page and send the browser there
    (POST-redirect-GET: reloading that page does not show it again)."""
    sessions.stash(g.web_session, g.sid, payload)
    return redirect(url_for("web.reveal"), code=303)


def display_names(caller: Caller, events=()) -> dict[str, str]:
    """Unique ID -> a readable name (admins by email, machine users and apps by name)."""
    names = {a.uid: a.email for a in directory.accounts(caller)}
    names.update({u.client_id: u.name for u in directory.machine_users(caller)})
    names.update({a.client_id: a.name for a in directory.apps(caller)})
    for e in events:
        if e.actor and e.actor_name:
            names.setdefault(e.actor, e.actor_name)
    return names


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token)

    @app.template_filter("when")
    def _when(epoch, empty="—"):
        return time_tag(epoch, empty)

    @app.template_filter("status")
    def _status(token):
        return token_status(token)

    @app.template_filter("duration")
    def _duration(seconds):
        return duration(seconds)

    @app.context_processor
    def _globals():
        return {"now": now(), "escape": escape}
