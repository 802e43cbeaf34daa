"""RFC 7662 introspection and RFC 7009 revocation, on Authlib's endpoints.

Both search by value whatever the ``token_type_hint`` says (the RFCs require
the search to extend beyond the hint) and ask ``services.reach`` whether the
caller may see the token: a token out of reach is ``{"active": false}`` to
introspection and a no-op 200 to revocation (RFC 7009 §2.2 treats it as an
invalid token), so neither reveals that it exists.
"""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app

from app import metrics
from app.models import TokenSnapshot
from app.oauth.client_auth import caller_of
from app.services import audit, lifetimes, reach, tokens

AUTH_METHODS = ["client_secret_basic", "bearer"]


def introspection_claims(token: TokenSnapshot) -> dict:
    """RFC 7662 members plus the product's own (``customer``, ``user_type``...)."""
    personal = token.kind == tokens.PERSONAL
    cfg = current_app.config
    return {
        "active": True,
        "scope": token.scope,
        "client_id": token.client_id or token.subject_uid,
        "sub": token.subject_uid,
        "exp": token.expires_at,
        "iat": token.issued_at,
        "iss": cfg["SCOPEGATE_ISSUER"],
        "token_type": "Bearer",
        "token_id": token.token_id,
        "user_id": token.subject_name,
        "email": token.subject_name if personal else token.subject_uid,
        "customer": token.org_name,
        "user_type": "human" if personal else "generated",
        "role": "admin" if personal else "machine",
        "env": cfg["SCOPEGATE_ENV"],
        "renewable": lifetimes.renewable(token.kind, token.issued_at, token.expires_at),
    }


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return tokens.find(token_string)

    def check_permission(self, token, client, request):
        return reach.may_introspect(caller_of(client), token)

    def introspect_token(self, token):
        tokens.mark_used(token)
        return introspection_claims(token)

    def create_introspection_payload(self, token):
        payload = super().create_introspection_payload(token)
        metrics.introspected(bool(payload.get("active")))
        return payload


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def authenticate_token(self, request, client):
        self.check_params(request, client)
        token = tokens.find(request.form["token"])
        if token is None:
            return None
        caller = caller_of(client)
        if not reach.may_revoke_by_value(caller, token):
            audit.record("token.revoke", audit.DENIED, actor=caller, target=token.token_id,
                         detail="not the caller's token", commit=True)
            return None
        return token

    def query_token(self, token_string, token_type_hint):
        return tokens.find(token_string)

    def revoke_token(self, token, request):
        tokens.revoke_by_value(caller_of(request.client), token)
