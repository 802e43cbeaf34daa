"""Discovery metadata (RFC 8414 and OIDC Discovery): one document, two paths.

Only what is implemented is advertised: the authorization code flow with
PKCE ``S256`` for people's apps, refresh tokens, ``client_credentials`` for
machine users; no ``password`` or ``implicit`` grants ever; ID tokens are
signed with ``RS256`` alone (so are JWT access tokens; app/services/keys.py).
"""

from __future__ import annotations

from flask import current_app

from app.services.keys import ID_TOKEN_ALG
from app.services.scopes import APP_SCOPES

#: Claims an ID token or userinfo answer may carry.
CLAIMS = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
          "email", "email_verified", "name", "org"]


def metadata() -> dict:
    issuer = current_app.config["SCOPEGATE_ISSUER"].rstrip("/")
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "scopes_supported": list(APP_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "bearer"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "claims_supported": CLAIMS,
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
        "service_documentation": f"{issuer}/api/v1/openapi.json",
    }
