"""A relying party as an app team would write it, on stock libraries only:
requests-oauthlib for the authorization code flow with PKCE, PyJWT for the
ID token (signature against the JWKS, ``iss``, ``aud``, ``exp``, ``nonce``,
``at_hash``). Nothing here imports Scopegate.

The browser tests drive it: ``/login`` starts a sign-in, ``/callback``
finishes it and shows what it learned as JSON. A few query switches make it
misbehave on purpose (no PKCE, ``plain``, a wrong verifier, a second
redemption of the code) so the tests can watch Scopegate refuse.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field

import jwt
import requests
from flask import Flask, jsonify, redirect, request
from requests_oauthlib import OAuth2Session
from werkzeug.serving import make_server


@dataclass
class Registration:
    client_id: str
    client_secret: str | None  # None: a public app


@dataclass
class RelyingParty:
    issuer: str
    port: int
    apps: dict[str, Registration]
    pending: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    def discovery(self) -> dict:
        return requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10).json()


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of the SHA-256 of the token, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def validate_id_token(rp: RelyingParty, id_token: str, client_id: str, nonce: str | None,
                      access_token: str) -> dict:
    meta = rp.discovery()
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key.key, algorithms=meta["id_token_signing_alg_values_supported"],
                        audience=client_id, issuer=meta["issuer"],
                        options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    if claims.get("nonce") != nonce:
        raise ValueError("nonce mismatch")
    if claims.get("at_hash") != at_hash(access_token):
        raise ValueError("at_hash mismatch")
    return claims


def build(rp: RelyingParty) -> Flask:
    web = Flask("relying_party")

    @web.get("/login")
    def login():
        which = request.args.get("app", "confidential")
        reg = rp.apps[which]
        pkce = request.args.get("pkce", "S256")
        session = OAuth2Session(reg.client_id, redirect_uri=rp.redirect_uri,
                                scope=request.args.get("scope",
                                                       "openid email profile offline_access"),
                                pkce="S256" if pkce in ("S256", "plain") else None)
        nonce = secrets.token_urlsafe(16)
        extra = {"nonce": nonce}
        for name in ("prompt", "max_age"):
            if request.args.get(name):
                extra[name] = request.args[name]
        url, state = session.authorization_url(rp.discovery()["authorization_endpoint"], **extra)
        if pkce == "plain":  # a client that never upgraded to S256
            url = url.replace("code_challenge_method=S256", "code_challenge_method=plain")
        rp.pending[state] = (which, session, nonce, request.args.to_dict())
        return redirect(url)

    @web.get("/callback")
    def callback():
        which, session, nonce, switches = rp.pending.pop(request.args.get("state"), (None,) * 4)
        if which is None:
            return jsonify(rp_error="unknown state"), 400
        answer = {"iss": request.args.get("iss"), "app": which}
        if "error" in request.args:
            return jsonify(**answer, error=request.args["error"],
                           error_description=request.args.get("error_description"))
        if request.args.get("iss") != rp.issuer:  # RFC 9207: mix-up defence
            return jsonify(rp_error="wrong issuer"), 400
        reg = rp.apps[which]
        if switches.get("verifier") == "wrong":
            session._code_verifier = secrets.token_urlsafe(48)
        endpoint = rp.discovery()["token_endpoint"]
        # Confidential: HTTP Basic (client_secret_basic); public: client_id in the body.
        kwargs = dict(authorization_response=request.url, client_secret=reg.client_secret,
                      include_client_id=reg.client_secret is None)
        try:
            token = session.fetch_token(endpoint, **kwargs)
        except Exception as e:  # noqa: BLE001 - oauthlib raises one class per OAuth error
            return jsonify(**answer, error=getattr(e, "error", str(e)))
        answer.update(token=dict(token))
        if switches.get("reuse"):
            try:
                session.fetch_token(endpoint, **kwargs)
                answer["second_redemption"] = "accepted"
            except Exception as e:  # noqa: BLE001
                answer["second_redemption"] = getattr(e, "error", str(e))
        answer["claims"] = validate_id_token(rp, token["id_token"], reg.client_id, nonce,
                                             token["access_token"])
        return jsonify(answer)

    @web.get("/signed-out")
    def signed_out():
        return jsonify(signed_out=True, state=request.args.get("state"))

    return web


class Serving:
    """The relying party on a loopback port, in a thread of the test process."""

    def __init__(self, rp: RelyingParty):
        self.server = make_server("127.0.0.1", rp.port, build(rp), threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
