"""People signing in to apps: the authorization endpoint (sign-in, consent),
RP-initiated sign-out, and "Connected apps", where a person sees and
disconnects the apps they agreed to share with.

Pages, because they need the person's dashboard session and its CSRF
protection; every decision is ``services.signin``'s, the protocol Authlib's.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import flash, g, redirect, render_template, request, session, url_for

from app.errors import InvalidRequest
from app.oauth.oidc import Issuer
from app.oauth.server import authorization
from app.openapi import describe, page, page_errors, query_parameter, redirection
from app.services import consents, scopes, sessions, signin
from app.services.signin import Grantee, Next
from app.web import bp
from app.web.security import CSRF_FIELD, allow_form_redirect_to, login_required

_REFUSALS = {Next.LOGIN_REQUIRED: LoginRequiredError, Next.ACCESS_DENIED: AccessDeniedError,
             Next.CONSENT_REQUIRED: ConsentRequiredError}


def _to_app(error: OAuth2Error, status: int = 302):
    """An error the app must hear about: to its (verified) redirect URI with
    ``state`` and ``iss``. Without a verified redirect URI: an error page."""
    if not error.redirect_uri:
        raise error
    response = authorization().handle_error_response(None, error)
    response.status_code = status
    Issuer().add_issuer_parameter(None, response)
    return response


def _return_path() -> str:
    """This request again, minus what forced a new sign-in (``prompt=login``,
    ``max_age``): after signing in, both are satisfied."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "max_age"]
    kept = []
    for key, value in args:
        if key == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        kept.append((key, value))
    return add_params_to_uri(url_for("web.authorize"), kept)


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """GET: check the request, then sign-in, consent or a code. POST: the
    person's answer on the consent screen (303 to the app either way)."""
    account = g.account
    auth_time = g.web_session.created_at if g.web_session is not None else None
    grantee = Grantee(account, auth_time) if account is not None else None
    server = authorization()
    try:
        grant = server.get_consent_grant(end_user=grantee)
    except OAuth2Error as error:
        return _to_app(error)
    except ValueError:
        # Authlib echoes some values into error descriptions and refuses to
        # when they hold characters RFC 6749 forbids there (e.g. a non-ASCII
        # response_type): that is a malformed request, answered on a page.
        raise InvalidRequest("The request has a malformed parameter.") from None
    app, state = grant.client, request.values.get("state")
    try:
        wanted = signin.parse(request.values.get("prompt"), request.values.get("max_age"),
                              request.values.get("scope"), request.values.get("request"),
                              request.values.get("request_uri"), request.values.get("nonce"))
    except OAuth2Error as error:
        error.redirect_uri, error.state = grant.redirect_uri, state
        return _to_app(error)
    step = signin.next_step(wanted, account, auth_time, app)
    status = 303 if request.method == "POST" else 302
    if step is Next.SIGN_IN:
        if account is not None:  # prompt=login or max_age: a fresh sign-in, not this session
            sessions.end(g.sid)
            session.pop("sid", None)
        return redirect(url_for("web.login", next=_return_path()))
    if step in _REFUSALS:
        return _to_app(_REFUSALS[step](redirect_uri=grant.redirect_uri, state=state), status)
    if request.method == "POST":
        if request.form.get("decision") != "allow":
            signin.refuse_consent(account, app)
            return _to_app(AccessDeniedError(redirect_uri=grant.redirect_uri, state=state), 303)
        consents.remember(account, app, wanted.scopes)
    elif step is Next.CONSENT:
        allow_form_redirect_to(grant.redirect_uri)
        return render_template("consent.html", app=app, account=account,
                               scopes=[(s, scopes.in_words(s)) for s in wanted.scopes],
                               action=request.full_path)
    response = server.create_authorization_response(grant=grant, grant_user=grantee)
    if response.status_code == 302:
        response.status_code = status
    return response


@bp.route("/oauth/logout", methods=["GET", "POST"])
def oidc_logout():
    """RP-initiated logout: GET asks the person (a link must not sign anyone
    out), POST ends the session and returns to the app's registered URI."""
    hint = request.values.get("id_token_hint")
    target = request.values.get("post_logout_redirect_uri")
    state = request.values.get("state")
    app, uri = signin.logout_target(hint, target)
    back = add_params_to_uri(uri, [("state", state)] if state else []) if uri else None
    if g.account is None:  # nothing to end: straight back to the app
        if back:
            return redirect(back, code=303 if request.method == "POST" else 302)
        return render_template("signed_out.html", app=app)
    if request.method == "GET":
        if uri:
            allow_form_redirect_to(uri)
        return render_template("oidc_logout.html", app=app, hint=hint, target=uri, state=state)
    signin.record_logout(g.account, app)
    sessions.end(g.sid)
    session.clear()
    if back:
        return redirect(back, code=303)
    flash("You are signed out.", "success")
    return redirect(url_for("web.login"), code=303)


@bp.get("/connected-apps")
@login_required
def connected_apps():
    """The apps this person shares something with, and what."""
    items = [(c, [(s, scopes.in_words(s)) for s in c.scopes])
             for c in consents.connected(g.account)]
    return render_template("connected_apps.html", items=items)


@bp.post("/connected-apps/<client_id>/revoke")
@login_required
def disconnect_app(client_id: str):
    """Forget the consent and revoke the app's tokens for this person, at once."""
    revoked = consents.revoke(g.account, client_id)
    flash(f"Disconnected; {revoked} token(s) the app held for you were revoked.", "success")
    return redirect(url_for("web.connected_apps"), code=303)



# The two protocol endpoints apps send people to are documented (discovery
# advertises them); they answer the person's browser, so with pages and
# redirects, and a form POST needs the page's CSRF token. The other pages
# here are the dashboard's and stay out of the document.
_AUTHORIZE_PARAMETERS = [
    query_parameter("response_type", {"type": "string", "enum": ["code"]}),
    query_parameter("client_id", description="the app's client_id (app-...)"),
    *(query_parameter(name) for name in ("redirect_uri", "scope", "state", "nonce",
                                         "code_challenge")),
    query_parameter("code_challenge_method", {"type": "string", "enum": ["S256"]}),
    query_parameter("prompt", description="none, login and/or consent, space-separated"),
    query_parameter("max_age", {"type": "integer", "minimum": 0}),
]
_LOGOUT_PARAMETERS = [query_parameter(name) for name in
                      ("id_token_hint", "post_logout_redirect_uri", "state")]
_SIGNED_IN = "the person's dashboard session cookie, when they have one"


def _form(**fields: dict) -> dict:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": [CSRF_FIELD],
        "properties": {CSRF_FIELD: {"type": "string"}, **fields}}}}}


describe({
    "/oauth/authorize": {
        "parameters": _AUTHORIZE_PARAMETERS,
        "get": {"operationId": "authorize",
                "summary": "OpenID Connect authorization endpoint (code flow, PKCE S256): "
                           "sign-in, consent, then a code for the app",
                "description": f"Authentication: {_SIGNED_IN}.", "security": [],
                "responses": {
                    "200": page("the consent page"),
                    "302": redirection("to the sign-in page, or to the app's redirect URI with "
                                    "a code or an error (and iss, state)"),
                    **page_errors(400)}},
        "post": {"operationId": "authorize_consent",
                 "summary": "The person's answer on the consent page; back to the app "
                            "either way",
                 "description": f"Authentication: {_SIGNED_IN}.", "security": [],
                 "requestBody": _form(decision={"type": "string", "enum": ["allow", "deny"]}),
                 "responses": {
                     "302": redirection("to the sign-in page, or to the app with an error"),
                     "303": redirection("to the app's redirect URI with a code or an error"),
                     **page_errors(400, 413)}},
    },
    "/oauth/logout": {
        "parameters": _LOGOUT_PARAMETERS,
        "get": {"operationId": "oidc_logout",
                "summary": "RP-initiated logout: asks the person to confirm (a link never "
                           "signs anyone out)",
                "description": f"Authentication: {_SIGNED_IN}.", "security": [],
                "responses": {
                    "200": page("the confirmation page, or 'signed out' with no session"),
                    "302": redirection("no session: straight back to the app's registered URI"),
                    **page_errors(400)}},
        "post": {"operationId": "oidc_logout_confirm",
                 "summary": "End the session and return to the app's registered URI",
                 "description": f"Authentication: {_SIGNED_IN}.", "security": [],
                 "requestBody": _form(**{name: {"type": "string"} for name in
                                         ("id_token_hint", "post_logout_redirect_uri",
                                          "state")}),
                 "responses": {
                     "200": page("'signed out' (there was no session)"),
                     "303": redirection("to the app's registered URI, or the sign-in page"),
                     **page_errors(400, 413)}},
    },
})
