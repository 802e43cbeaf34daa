"""Schemathesis hooks for tests/test_schemathesis.py (loaded through
``SCHEMATHESIS_HOOKS``): for every request the credentials its operation
takes, so that each is exercised past its 401:

- the admin API and the OAuth endpoints: the admin's bearer token;
- ``/oauth/userinfo``: an app's access token for the admin (scopes
  ``openid email profile``), as if the admin had signed in to an app;
- ``/oauth/revocations``: a resource server's client credentials (HTTP Basic).

The run may revoke or end what it authenticates with: ``GET /api/v1/me``
shows the admin token's ``token_id`` and the stateful phase follows it into
``DELETE /api/v1/tokens/{token_id}``; it may delete the app the userinfo token
belongs to, or disable or delete people. Every later request would then be a
401 and test nothing, so a fresh token is minted, straight in the server's
database, whenever the current one is no longer active. The admin stays an
admin: the organization's last admin cannot be demoted, disabled or deleted
(people it invites through the API have not joined, so never count).
"""

from __future__ import annotations

import base64
import os
import time

import schemathesis

from app import create_app
from app.models import db
from app.services import apps, callers, orgs, signin, tokens

_app = create_app()  # the server's settings: SCOPEGATE_DATABASE_URL from the environment
_USERINFO_SCOPE = "openid email profile"


def _admin():
    return orgs.get_account(os.environ["SCOPEGATE_SCHEMATHESIS_ADMIN"])


def _admin_token() -> str:
    account = _admin()
    value, _ = tokens.create_personal(account, callers.operator(account.org_id),
                                      name="schemathesis")
    return value


def _app_token() -> str:
    account = _admin()
    app, _ = apps.create(callers.from_account(account), "schemathesis userinfo",
                         ["https://app.example/callback"])
    value, _, _ = signin.issue(app, signin.Grantee(account, int(time.time())),
                               _USERINFO_SCOPE, refreshing=False)
    db.session.commit()
    return value


def _resource_server() -> str:
    account = _admin()
    server, secret = orgs.create_resource_server(callers.operator(account.org_id),
                                                 "schemathesis resource server")
    pair = f"{server.client_id}:{secret}".encode()
    return base64.b64encode(pair).decode()


@schemathesis.auth(refresh_interval=None)
class Credentials:
    admin: str | None = None
    app: str | None = None
    resource_server: str | None = None

    def get(self, case, context) -> str:
        with _app.app_context():
            if case.operation.path == "/oauth/revocations":
                # Resource servers are not reachable through the API: made once.
                self.resource_server = self.resource_server or _resource_server()
                return f"Basic {self.resource_server}"
            if case.operation.path == "/oauth/userinfo":
                if self.app is None or tokens.authenticate(self.app) is None:
                    self.app = _app_token()
                return f"Bearer {self.app}"
            if self.admin is None or tokens.authenticate(self.admin) is None:
                self.admin = _admin_token()
            return f"Bearer {self.admin}"

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


#: Message framing, owned by the HTTP client and server, not by any operation.
_FRAMING = {"content-length", "transfer-encoding", "host", "connection"}


@schemathesis.hook
def map_headers(context, headers):
    """Drop generated framing headers. ``make fuzz`` once sent ``Content-Length: A``: such a
    request never reaches the app, because the HTTP server refuses it with its own 400 and
    closes the connection (RFC 9112 §6.3; gunicorn answers an HTML page, granian an empty
    body), so it tests the HTTP server, not Scopegate's API or its document."""
    if not headers:
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in _FRAMING}
