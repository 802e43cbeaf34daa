"""Discovery metadata (RFC 8414 and OIDC Discovery): one document, two paths.

Only what is implemented is advertised: ``client_credentials`` today, no
``password`` or ``implicit`` grants ever.
"""

from __future__ import annotations

from flask import current_app

from app.services.keys import ALG
from sdk.auth.scopes import CATALOG


def metadata() -> dict:
    issuer = current_app.config["SCOPEGATE_ISSUER"].rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "scopes_supported": list(CATALOG),
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "bearer"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALG],
        "service_documentation": f"{issuer}/api/v1/openapi.json",
    }
