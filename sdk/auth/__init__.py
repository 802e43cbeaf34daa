"""Manage machine users and scoped tokens from Python.

    from sdk.auth import connect_to_auth_client
    from sdk.auth.scopes import Scope

    auth_client = connect_to_auth_client()  # $SCOPEGATE_TOKEN, $SCOPEGATE_URL
    user = auth_client.create_user("demo-user")
    token = auth_client.create_token(user_id="demo-user", scopes=[Scope.create_session])

Log lines go to the ``sdk.auth`` logger (standard :mod:`logging`).
"""

from sdk.auth.client import AuthClient, connect_to_auth_client
from sdk.auth.exceptions import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    InsecureURLWarning,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ScopegateError,
    ServerError,
    ValidationError,
)
from sdk.auth.scopes import Scope

__all__ = [
    "AuthClient",
    "AuthenticationError",
    "ConfigurationError",
    "Conflict",
    "InsecureURLWarning",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Scope",
    "ScopegateError",
    "ServerError",
    "ValidationError",
    "connect_to_auth_client",
]
