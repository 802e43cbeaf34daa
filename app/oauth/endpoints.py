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

from app import metrics
from app.oauth.client_auth import caller_of
from app.services import audit, claims, reach, tokens

AUTH_METHODS = ["client_secret_basic", "bearer"]


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return tokens.find(token_string)

    def check_permission(self, token, client, request):
        return reach.may_introspect(caller_of(client), token)

    def introspect_token(self, token):
        tokens.mark_used(token)
        return claims.introspection(token)

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
            # Recorded in the token's organization: its admins see the attempt.
            audit.record("token.revoke", audit.DENIED, actor=caller, org_id=token.org_id,
                         subject=token.subject_uid, subject_name=token.subject_name,
                         target=token.token_id, detail="not the caller's token", commit=True)
            return None
        return token

    def revoke_token(self, token, request):
        tokens.revoke_by_value(caller_of(request.client), token)
