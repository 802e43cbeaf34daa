"""The JSON API. Each view names the scope it needs in its decorator; views
that touch one session then apply the ownership rule of :func:`reachable`."""

from __future__ import annotations

import functools

from flask import Flask, abort, current_app, g, jsonify, request

from examples.sessions_service.store import Session, Store
from sdk.auth.scopes import Scope
from sdk.resource import TokenVerifier, has_scope, require_scopes

#: An admin's personal token: full access within its organization.
ADMIN = "admin"


def allows(scope: str) -> bool:
    return has_scope(g.token, scope)  # an admin's token carries every scope


def reachable(session_id: str, own_scope: Scope, all_scope: Scope | None = None) -> Session:
    """The session if the caller may act on it: its own with ``own_scope``, anyone's
    with ``all_scope`` (when the catalog has one) or as an admin. Else 403 (its
    organization) or 404 (another organization's, or none)."""
    session = current_app.extensions["sessions"].find(session_id, g.token["customer"])
    if session is None:
        abort(404)
    mine = session.owner == g.token["sub"]
    if has_scope(g.token, ADMIN):
        return session  # full access within its organization
    if (mine and allows(own_scope)) or (all_scope is not None and allows(all_scope)):
        return session
    needed = own_scope if mine or all_scope is None else f"{own_scope} or {all_scope}"
    abort(403, description=f"This session needs the scope {needed}"
                           + ("." if mine else " (it belongs to another user)."))


def register(app: Flask, verifier: TokenVerifier | None) -> None:
    store = Store()
    app.extensions["sessions"] = store

    def any_of(*scopes: Scope):
        """Any active token; the view checks which of ``scopes`` applies."""
        def check(view):
            def inner(*args, **kwargs):
                if not any(allows(s) for s in scopes):
                    abort(403, description="The token lacks the scope(s): "
                                           + " or ".join(scopes) + ".")
                return view(*args, **kwargs)
            return require_scopes(verifier=verifier)(functools.wraps(view)(inner))
        return check

    @app.post("/sessions")
    @any_of(Scope.create_session)
    def create_session():
        session = store.add_session(g.token["sub"], g.token["customer"])
        current_app.logger.info("session %s created", session.id)
        return jsonify(id=session.id, owner=session.owner), 201

    @app.post("/sessions/<session_id>/start")
    @any_of(Scope.start_session)
    def start_session(session_id):
        session = reachable(session_id, Scope.start_session)
        if session.state != "created":
            abort(409, description=f"The session is {session.state}.")
        session.state = "running"
        return jsonify(session.public())

    @app.get("/sessions/<session_id>")
    @any_of(Scope.read_user_session, Scope.read_all_session)
    def read_session(session_id):
        return jsonify(reachable(session_id, Scope.read_user_session,
                                 Scope.read_all_session).public())

    @app.post("/sessions/<session_id>/cancel")
    @any_of(Scope.cancel_user_session)
    def cancel_session(session_id):
        session = reachable(session_id, Scope.cancel_user_session)
        session.state = "cancelled"
        return jsonify(session.public())

    @app.delete("/sessions/<session_id>")
    @any_of(Scope.delete_user_session)
    def delete_session(session_id):
        store.remove(reachable(session_id, Scope.delete_user_session).id)
        return "", 204

    @app.post("/models")
    @any_of(Scope.custom_model)
    def upload_model():
        body = request.get_json(silent=True) or {}
        model = {"id": store.new_id("m"), "owner": g.token["sub"],
                 "name": str(body.get("name") or "custom")[:100]}
        store.models[model["id"]] = model
        return jsonify(model), 201

    @app.get("/sessions/<session_id>/model")
    @any_of(Scope.model_download)
    def download_model(session_id):
        # One's own session's model; anyone's when the token may also read every session.
        session = reachable(session_id, Scope.model_download, Scope.read_all_session)
        return jsonify(session=session.id, model=session.model or f"{session.id}.safetensors")

    @app.get("/versions")
    @any_of(Scope.cli)
    def versions():
        return jsonify(sdk="0.1.0", images=["trainer:1.0"])

    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(409)
    def error(e):
        code = {403: "insufficient_scope", 404: "not_found", 409: "conflict"}[e.code]
        headers = {"WWW-Authenticate": f'Bearer realm="scopegate", error="{code}"'
                   } if e.code == 403 else {}
        return jsonify(error=code, error_description=e.description), e.code, headers
