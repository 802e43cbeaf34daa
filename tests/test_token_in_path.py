"""A token sent where its token_id goes (an easy slip) is never echoed back
nor written to a log line: the answer says what went wrong without it."""

import logging

import pytest
import requests
from werkzeug._internal import _log as werkzeug_log


@pytest.mark.parametrize(("method", "path"), [
    ("delete", "/tokens/{token}"),
    ("post", "/tokens/{token}/renew"),
    ("get", "/tokens/{token}"),
])
def test_a_token_in_a_token_id_path_is_not_echoed(api, scoped_token, method, path):
    response = getattr(api, method)(path.format(token=scoped_token["token"]))
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert scoped_token["token"] not in body
    assert "not a token_id" in response.get_json()["error_description"]


def test_no_error_message_echoes_a_token_from_the_path(api, scoped_token):
    response = api.get(f"/users/{scoped_token['token']}")
    assert response.status_code == 404
    assert scoped_token["token"] not in response.get_data(as_text=True)
    assert "sgt_[redacted]" in response.get_json()["error_description"]


def test_the_development_server_log_never_holds_a_token(app, caplog, scoped_token):
    caplog.set_level(logging.INFO, logger="werkzeug")
    werkzeug_log("info", '%s - - [%s] "%s" %s %s', "127.0.0.1", "now",
                 f"DELETE /api/v1/tokens/{scoped_token['token']} HTTP/1.1", "404", "-")
    assert "DELETE /api/v1/tokens/sgt_[redacted] HTTP/1.1" in caplog.text
    assert scoped_token["token"] not in caplog.text


def test_the_access_log_never_holds_a_token_sent_in_a_path(live_server):
    url, headers = live_server.url, {"Authorization": f"Bearer {live_server.admin_token}"}
    requests.post(f"{url}/api/v1/users", json={"name": "path-slip"}, headers=headers)
    token = requests.post(f"{url}/api/v1/users/path-slip/tokens", json={"scopes": ["cli"]},
                          headers=headers).json()["token"]
    slip = requests.delete(f"{url}/api/v1/tokens/{token}", headers=headers)
    query = requests.get(f"{url}/api/v1/tokens?user={token}", headers=headers)
    assert slip.status_code == 404 and token not in slip.text
    assert token not in query.text
    log = live_server.log_path.read_text()
    assert "/api/v1/tokens/sgt_[redacted]" in log
    assert token not in log and token[4:] not in log


def test_the_audit_log_never_holds_a_token_from_a_refused_path(client, api, scoped_token):
    # A scoped token may not renew: the refusal is audited with the path it asked for.
    path = f"/api/v1/tokens/{scoped_token['token']}/renew"
    refused = client.post(path, headers={"Authorization": f"Bearer {scoped_token['token']}"})
    assert refused.status_code == 403
    events = api.get("/activity?action=api.call").get_json()["items"]
    assert events and all(scoped_token["token"] not in (e["target"] or "") for e in events)
    assert "sgt_[redacted]" in events[0]["target"]
