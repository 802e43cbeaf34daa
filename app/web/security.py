"""What every dashboard request goes through: the server-side session, the
CSRF check on state-changing forms, security headers, and error pages.

The JSON API and the OAuth endpoints are other blueprints: bearer tokens
and client credentials are not ambient, so they need no CSRF token.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from app import ratelimits
from app.errors import Forbidden
from app.models import db
from app.services import callers, reach, sessions
from app.services.callers import Caller
from app.web import bp

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"

#: No inline script or style anywhere: the pages load app.css and app.js only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'; frame-ancestors 'none'")


def csp(form_targets=()) -> str:
    """The policy; a page whose form ends in a redirect to an app (consent,
    sign-out) names that app's origin, since browsers apply ``form-action``
    to where the form's redirect goes too."""
    if not form_targets:
        return CSP
    return CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *form_targets]))


def allow_form_redirect_to(uri: str) -> None:
    """Let this page's form redirect to ``uri``'s origin (a registered redirect URI)."""
    parts = urlsplit(uri)
    g.form_targets = (f"{parts.scheme}://{parts.netloc}",)


class CsrfError(HTTPException):
    code = 400
    name = "Form expired"
    description = ("The form could not be verified (it expired or came from another site). "
                   "Go back, reload the page and try again.")


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


#: Files, not pages: cacheable, and served without looking up a session.
STATIC_ENDPOINTS = frozenset({"web.static", "web.favicon"})


def current_caller() -> Caller:
    return g.caller


@bp.before_request
def load_session():
    """Find the signed-in person, if any (timeouts end the session here)."""
    g.web_session = g.account = g.caller = None
    g.sid = None
    if request.endpoint in STATIC_ENDPOINTS:
        return  # stylesheets, scripts and the icon need no database read
    g.sid = session.get("sid")
    if g.sid:
        row = sessions.resume(g.sid)
        if row is None:
            session.pop("sid", None)
            g.session_expired = True
        else:
            g.web_session, g.account = row, row.account
            g.caller = callers.from_account(row.account)


@bp.before_request
def check_csrf():
    """Every state-changing request carries the session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError()


@bp.after_request
def security_headers(response):
    """Headers on every page; no caching of anything but the static assets."""
    headers = response.headers
    headers["Content-Security-Policy"] = csp(g.get("form_targets", ()))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    # Setup links carry their code in the path: never leak a URL to another site.
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint not in STATIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def login_required(view):
    """Pages for signed-in admins; others go to the login page and come back."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.caller is None:
            if getattr(g, "session_expired", False):
                flash("Your session ended. Sign in again.", "info")
            if request.method in SAFE_METHODS:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            return redirect(url_for("web.login"))
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    """Pages that manage the organization: signed-in admins only; a member
    gets a 403 page (the API answers a member's token the same way)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not reach.manages_org(g.caller):
            raise Forbidden("Only an admin of the organization can open this page.")
        return view(*args, **kwargs)

    return login_required(wrapper)


def _error_page(status: int, title: str, message: str, headers=None):
    db.session.rollback()
    response = current_app.make_response(
        (render_template("error.html", status=status, title=title, message=message), status))
    for name, value in headers or ():
        if name.lower() not in ("content-type", "cache-control", "pragma"):
            response.headers[name] = value
    return response


@bp.errorhandler(OAuth2Error)
def _oauth_error(error: OAuth2Error):
    """A refused rule, as a page (the same error the API would send as JSON)."""
    return _error_page(error.status_code or 400, _TITLES.get(error.status_code, "Refused"),
                       error.get_error_description() or error.error, error.get_headers())


@bp.errorhandler(429)
def _rate_limited(error: HTTPException):
    """A request rate limit (app.ratelimits), as a page with its Retry-After."""
    return _oauth_error(ratelimits.as_error(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _error_page(error.code or 500, error.name, error.description or error.name)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unhandled error on a dashboard page")
    return _error_page(500, "Something went wrong",
                       "The server could not complete the request. Try again later.")


_TITLES = {400: "Refused", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
           409: "Conflict", 413: "Too large", 422: "Check the form", 429: "Slow down"}
