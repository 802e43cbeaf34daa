"""End to end against a gunicorn process and its database, as a new user would,
with stock OAuth clients that know nothing of Scopegate."""

import requests
from authlib.integrations.requests_client import OAuth2Session
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession


def admin(live_server) -> dict:
    return {"Authorization": f"Bearer {live_server.admin_token}"}


def test_walkthrough_over_http(live_server):
    url, headers = live_server.url, admin(live_server)
    user = requests.post(f"{url}/api/v1/users", json={"name": "walk-user"}, headers=headers)
    assert user.status_code == 201
    token = requests.post(f"{url}/api/v1/users/walk-user/tokens", headers=headers,
                          json={"scopes": ["create_session", "read_user_session"]}).json()
    info = requests.post(f"{url}/oauth/introspect", data={"token": token["token"]},
                         headers=headers).json()
    assert info["active"] is True and info["user_id"] == "walk-user"
    assert info["customer"] == live_server.org and info["iss"] == live_server.url
    listed = requests.get(f"{url}/api/v1/tokens?user=walk-user", headers=headers).json()
    assert [t["token_id"] for t in listed["items"]] == [token["token_id"]]
    assert requests.delete(f"{url}/api/v1/tokens/{token['token_id']}",
                           headers=headers).status_code == 204
    assert requests.post(f"{url}/oauth/introspect", data={"token": token["token"]},
                         headers=headers).json() == {"active": False}
    assert requests.delete(f"{url}/api/v1/users/walk-user", headers=headers).status_code == 204
    events = requests.get(f"{url}/api/v1/activity?user=walk-user", headers=headers).json()
    assert [e["action"] for e in events["items"]] == [
        "user.delete", "token.revoke", "token.create", "user.create"]


def _credentials(live_server, name: str, scopes=None) -> dict:
    url, headers = live_server.url, admin(live_server)
    body = {"name": name, **({"scopes": scopes} if scopes else {})}
    assert requests.post(f"{url}/api/v1/users", json=body, headers=headers).status_code == 201
    return requests.post(f"{url}/api/v1/users/{name}/credentials", headers=headers).json()


def test_authlib_client_fetches_and_revokes_unmodified(live_server):
    creds = _credentials(live_server, "authlib-bot", ["cli", "model_download"])
    session = OAuth2Session(creds["client_id"], creds["client_secret"], scope="cli",
                            token_endpoint_auth_method="client_secret_basic")
    token = session.fetch_token(f"{live_server.url}/oauth/token",
                                grant_type="client_credentials")
    assert token["scope"] == "cli" and token["token_type"] == "Bearer"
    introspect = session.introspect_token(f"{live_server.url}/oauth/introspect",
                                          token=token["access_token"])
    assert introspect.json()["active"] is True
    revoked = session.revoke_token(f"{live_server.url}/oauth/revoke",
                                   token=token["access_token"])
    assert revoked.status_code == 200
    again = session.introspect_token(f"{live_server.url}/oauth/introspect",
                                     token=token["access_token"])
    assert again.json() == {"active": False}


def test_requests_oauthlib_client_fetches_unmodified(live_server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test server is plain http
    creds = _credentials(live_server, "oauthlib-bot")
    session = OAuthlibSession(client=BackendApplicationClient(client_id=creds["client_id"]))
    token = session.fetch_token(f"{live_server.url}/oauth/token",
                                client_id=creds["client_id"],
                                client_secret=creds["client_secret"])
    assert token["access_token"].startswith("sgt_")
    assert len(token["scope"]) == 10  # the whole catalog, as a list


def test_bad_credentials_over_http_are_401_with_challenge(live_server):
    creds = _credentials(live_server, "bad-secret-bot")
    response = requests.post(f"{live_server.url}/oauth/token",
                             data={"grant_type": "client_credentials"},
                             auth=(creds["client_id"], "sgs_wrong"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_operator_commands_reach_the_running_server(live_server):
    rs = live_server.flask_json("create-resource-server", "e2e-sessions")
    creds = _credentials(live_server, "rs-visible-bot")
    token = requests.post(f"{live_server.url}/oauth/token",
                          data={"grant_type": "client_credentials", "scope": "cli"},
                          auth=(creds["client_id"], creds["client_secret"])).json()
    info = requests.post(f"{live_server.url}/oauth/introspect",
                         data={"token": token["access_token"]},
                         auth=(rs["client_id"], rs["client_secret"])).json()
    assert info["active"] is True and info["scope"] == "cli"


def test_no_secret_reaches_the_server_log(live_server):
    creds = _credentials(live_server, "log-check-bot")
    token = requests.post(f"{live_server.url}/oauth/token",
                          data={"grant_type": "client_credentials"},
                          auth=(creds["client_id"], creds["client_secret"])).json()
    requests.post(f"{live_server.url}/oauth/token", data={"grant_type": "client_credentials"},
                  auth=(creds["client_id"], "sgs_wrong_secret_value"))
    requests.post(f"{live_server.url}/oauth/introspect", data={"token": token["access_token"]},
                  headers=admin(live_server))
    log = live_server.log_path.read_text()
    assert "POST /oauth/token" in log  # the access log is on
    for secret in (creds["client_secret"], token["access_token"], live_server.admin_token,
                   "sgs_wrong_secret_value"):
        assert secret not in log
