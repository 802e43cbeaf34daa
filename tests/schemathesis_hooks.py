"""Schemathesis hooks for tests/test_schemathesis.py (loaded through
``SCHEMATHESIS_HOOKS``): the admin's bearer token for every request.

The run may revoke the very token it authenticates with (``GET /api/v1/me``
shows its ``token_id``; the stateful phase follows that into ``DELETE
/api/v1/tokens/{token_id}``). Every later request would then be a 401 and
test nothing, so a fresh admin token is minted, straight in the server's
database, whenever the current one is no longer active.
"""

from __future__ import annotations

import os

import schemathesis

from app import create_app
from app.services import callers, orgs, tokens

_app = create_app()  # the server's settings: SCOPEGATE_DATABASE_URL from the environment


@schemathesis.auth(refresh_interval=None)
class AdminToken:
    value: str | None = None

    def get(self, case, context) -> str:
        with _app.app_context():
            if self.value is None or tokens.authenticate(self.value) is None:
                account = orgs.get_account(os.environ["SCOPEGATE_SCHEMATHESIS_ADMIN"])
                self.value, _ = tokens.create_personal(
                    account, callers.operator(account.org_id), name="schemathesis")
        return self.value

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
