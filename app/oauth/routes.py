"""OAuth HTTP endpoints. Each view is one line into Authlib; the shared
steps (reject repeated parameters, never cache) run before and after."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.errors import InvalidRequest
from app.oauth.discovery import metadata
from app.oauth.server import authorization
from app.services import keys

bp = Blueprint("oauth", __name__)


def reject_repeated(names) -> None:
    """RFC 6749 §3.1/§3.2: a parameter MUST NOT be included more than once."""
    seen = set()
    for name in names:
        if name in seen:
            raise InvalidRequest(f"Parameter {name!r} is repeated.")
        seen.add(name)


@bp.before_request
def reject_repeated_parameters():
    if request.method == "POST":
        reject_repeated([name for source in (request.args, request.form)
                         for name, _ in source.items(multi=True)])


@bp.after_request
def no_store(response):
    if request.method != "POST":
        return response  # discovery and JWKS are public and cacheable
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth/token")
def token():
    return authorization().create_token_response()


@bp.post("/oauth/introspect")
def introspect():
    return authorization().create_endpoint_response("introspection")


@bp.post("/oauth/revoke")
def revoke():
    return authorization().create_endpoint_response("revocation")


@bp.get("/oauth/jwks")
def jwks():
    return jsonify(keys.jwks())


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery():
    return jsonify(metadata())
