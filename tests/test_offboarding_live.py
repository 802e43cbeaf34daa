"""Offboarding, as an attacker would try it, against a live gunicorn server
(two worker processes, tests/conftest.py `live_server`): the moment the
admin's call to disable or delete a person returns, every credential the
person held is dead on every worker: their dashboard sessions, their
personal admin token (introspection and API), their password, their links.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from sdk.auth import AuthenticationError, connect_to_auth_client

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r"\bsgp_[0-9A-Za-z]{39}\b")
PASSWORD = "offboarding test passphrase"


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, allow_redirects=False)
    assert page.status_code == 200, (url, page.status_code)
    return CSRF_RE.search(page.text).group(1)


def accept_invitation(url: str) -> requests.Session:
    """The person opens their link, chooses a password and is signed in."""
    browser = requests.Session()
    token = csrf(browser, url)
    response = browser.post(url, data={"csrf_token": token, "password": PASSWORD,
                                       "confirm": PASSWORD}, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    return browser


def sign_in(base: str, email: str) -> requests.Response:
    browser = requests.Session()
    token = csrf(browser, f"{base}/login")
    response = browser.post(f"{base}/login", data={"csrf_token": token, "email": email,
                                                   "password": PASSWORD},
                            allow_redirects=False)
    response.browser = browser
    return response


def generate_personal_token(base: str, browser: requests.Session) -> str:
    """Dashboard → Generate Access Token, as the signed-in person."""
    token = csrf(browser, f"{base}/dashboard")
    response = browser.post(f"{base}/dashboard/tokens", allow_redirects=False,
                            data={"csrf_token": token, "name": "laptop", "lifetime_days": "30"})
    assert response.status_code == 303
    return TOKEN_RE.search(browser.get(f"{base}/once").text).group(0)


def signed_in(base: str, browser: requests.Session) -> bool:
    response = browser.get(f"{base}/dashboard", allow_redirects=False)
    return response.status_code == 200


@pytest.fixture
def admin(live_server):
    with connect_to_auth_client(token=live_server.admin_token, url=live_server.url) as client:
        yield client


@pytest.mark.parametrize("how", ["disable", "delete"])
def test_every_credential_of_an_offboarded_admin_dies_at_once(live_server, admin, how):
    base = live_server.url
    email = f"leaver-{uuid.uuid4().hex[:8]}@live.test"
    invitation = admin.invite_person(email, role="admin")

    # The person joins, signs in twice (two browsers), and takes an admin token.
    first = accept_invitation(invitation["invite_url"])
    second = sign_in(base, email)
    assert second.status_code == 303
    second = second.browser
    leaver_token = generate_personal_token(base, first)
    with connect_to_auth_client(token=leaver_token, url=base) as leaver:
        assert leaver.whoami()["role"] == "admin"
        bot = f"bot-{uuid.uuid4().hex[:8]}"
        leaver.create_user(bot)
        scoped = leaver.create_token(user_id=bot, scopes=["cli"])
        reset = admin.reset_password_link(email)

        if how == "disable":
            admin.update_person(email, disabled=True)
        else:
            admin.delete_person(email)

        # No wait, no retry: every worker refuses everything now.
        for _ in range(4):  # requests land on both workers
            assert admin.token_info(leaver_token) == {"active": False}
            with pytest.raises(AuthenticationError):
                leaver.whoami()
            with pytest.raises(AuthenticationError):
                leaver.list_users()
            assert not signed_in(base, first) and not signed_in(base, second)
    assert sign_in(base, email).status_code == 401
    assert requests.get(reset["reset_url"], allow_redirects=False).status_code == 404
    # What the person made for a program belongs to the program and stays.
    assert admin.token_info(scoped["token"])["active"] is True
    [event] = admin.list_activity(action=f"person.{how}", user=invitation["uid"])
    assert event["subject"] == invitation["uid"]
    assert event["detail"] == "2 session(s) ended, 1 token(s) revoked"
    admin.delete_user(bot)


def test_a_members_personal_token_is_member_only_end_to_end(live_server, admin):
    email = f"member-{uuid.uuid4().hex[:8]}@live.test"
    admin.invite_person(email)
    issued = admin.create_person_token(email, name="notebook")
    assert issued["role"] == "member"
    info = admin.token_info(issued["token"])
    assert info["active"] and info["role"] == "member" and "admin" not in info["scope"]
    with connect_to_auth_client(token=issued["token"], url=live_server.url) as member:
        assert member.whoami()["role"] == "member"
        response = requests.get(f"{live_server.url}/api/v1/people",
                                headers={"Authorization": f"Bearer {issued['token']}"})
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
    admin.delete_person(email)
    assert admin.token_info(issued["token"]) == {"active": False}
