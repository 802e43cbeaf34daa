"""Resource-server fixtures: live Scopegate servers (opaque and JWT tokens),
resource-server credentials, and machine users with tokens, all made the
documented way (operator command, admin API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
import requests

from sdk.resource import TokenVerifier
from tests.conftest import LiveServer, launch_live_server, stop_server


@pytest.fixture(scope="session")
def jwt_server(tmp_path_factory):
    """A live server issuing RFC 9068 JWT access tokens (its own SQLite store,
    so it never shares a database with the opaque one)."""
    tmp = tmp_path_factory.mktemp("live-jwt")
    server = launch_live_server(tmp, SCOPEGATE_ACCESS_TOKEN_FORMAT="jwt",
                                SCOPEGATE_DATABASE_URL=f"sqlite:///{tmp}/live.db")
    yield server
    stop_server(server.process)


@dataclass
class Platform:
    """One live Scopegate as a resource server and an admin see it."""

    server: LiveServer
    rs_client_id: str
    rs_client_secret: str

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {self.server.admin_token}"},
                                **kw)

    def verifier(self, **options) -> TokenVerifier:
        return TokenVerifier(self.url, self.rs_client_id, self.rs_client_secret, **options)

    def user(self, scopes=None) -> str:
        """A new machine user (whole catalog unless ``scopes``); its name."""
        name = f"u-{uuid.uuid4().hex[:10]}"
        body = {"name": name, **({"scopes": scopes} if scopes else {})}
        assert self.admin("POST", "/users", json=body).status_code == 201
        return name

    def token(self, user: str, scopes) -> dict:
        """A scoped token of ``user`` made by the admin (``token``, ``token_id``...)."""
        response = self.admin("POST", f"/users/{user}/tokens", json={"scopes": list(scopes)})
        assert response.status_code == 201, response.text
        return response.json()

    def revoke(self, token_id: str) -> None:
        assert self.admin("DELETE", f"/tokens/{token_id}").status_code == 204


_credentials: dict[str, dict] = {}


def _platform(server: LiveServer) -> Platform:
    """One resource server per live server for the whole session (an operator
    command costs seconds)."""
    if server.url not in _credentials:
        _credentials[server.url] = server.flask_json(
            "create-resource-server", f"rs-{uuid.uuid4().hex[:8]}")
    rs = _credentials[server.url]
    return Platform(server, rs["client_id"], rs["client_secret"])


@pytest.fixture
def platform(live_server) -> Platform:
    return _platform(live_server)


@pytest.fixture
def jwt_platform(jwt_server) -> Platform:
    return _platform(jwt_server)


@pytest.fixture(params=["opaque", "jwt"])
def any_platform(request) -> Platform:
    """The same behaviour with either token format."""
    server = request.getfixturevalue("live_server" if request.param == "opaque"
                                     else "jwt_server")
    return _platform(server)
