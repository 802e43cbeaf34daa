"""The People page: invite (link shown once), the invitation and reset pages,
role change, disable, delete with confirmation, members' view, CSRF and
tenant isolation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, db
from tests.web.conftest import PASSWORD, Admin, Browser
from tests.web.test_web_security import check_headers

LINK_RE = re.compile(r'value="(http://localhost/(?:invite|reset)/[^"]+)"')


def invite(browser: Browser, email="ann@acme.test", role="member") -> str:
    """Invite from the page; the path of the one-time link it shows."""
    browser.get("/people")
    response = browser.post("/people", {"email": email, "role": role})
    assert response.status_code == 303 and response.location.endswith("/once"), \
        response.get_data(as_text=True)
    return urlsplit(LINK_RE.search(browser.text("/once")).group(1)).path


def accept(app, path: str, password=PASSWORD) -> Browser:
    """The invited person opens the link in their own browser and chooses a password."""
    person = Browser(app.test_client())
    assert person.get(path).status_code == 200
    response = person.post(path, {"password": password, "confirm": password})
    assert response.status_code == 303 and response.location.endswith("/dashboard")
    return person


@pytest.fixture
def ann(app, signed_in) -> Browser:
    """A member who accepted her invitation and is signed in."""
    return accept(app, invite(signed_in))


def test_people_page_lists_people_with_role_status_and_unique_id(signed_in, admin):
    invite(signed_in)
    page = signed_in.text("/people")
    assert admin.email in page and f"<code>{admin.uid}</code>" in page
    assert "ann@acme.test" in page and "invited" in page
    check_headers(signed_in.get("/people"))


def test_invitation_link_is_shown_once(signed_in):
    path = invite(signed_in)
    assert path.startswith("/invite/")
    assert signed_in.get("/once").status_code == 410
    assert path not in signed_in.text("/people")


@pytest.mark.parametrize("email, role, status, message", [
    ("not-an-email", "member", 422, "is not an email address"),
    ("ann@acme.test", "owner", 422, "`role` must be"),
    ("admin@acme.test", "member", 409, "already exists"),
])
def test_invite_mistakes_are_shown_on_the_page(signed_in, email, role, status, message):
    signed_in.get("/people")
    response = signed_in.post("/people", {"email": email, "role": role})
    assert response.status_code == status
    assert message in response.get_data(as_text=True).replace("&#39;", "'").replace("&#96;", "`")


def test_invited_person_chooses_a_password_and_is_signed_in(app, signed_in):
    path = invite(signed_in)
    person = Browser(app.test_client())
    page = person.text(path)
    assert "Join acme" in page and "member" in page
    check_headers(person.get(path))
    short = person.post(path, {"password": "short", "confirm": "short"})
    assert short.status_code == 422  # the rule as at setup; the link survives
    response = person.post(path, {"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 303
    assert "ann@acme.test" in person.text("/dashboard")
    assert person.get(path).status_code == 404  # used: dead
    assert Browser(app.test_client()).login(Admin("ann@acme.test", "", "acme", 0)) \
        .status_code == 303


def test_a_member_sees_only_their_own_things(ann):
    page = ann.text("/dashboard")
    assert "member" in page and "Generate Access Token" not in page
    assert 'href="/people"' not in page and 'href="/users"' not in page
    for path in ("/people", "/users", "/users/new", "/tokens/scoped", "/activity"):
        response = ann.get(path)
        assert response.status_code == 403, path
        assert "Only an admin" in response.get_data(as_text=True)
    refused = ann.post("/dashboard/tokens", {"name": "mine", "lifetime_days": "30"})
    assert refused.status_code == 403
    assert ann.post("/people", {"email": "x@acme.test", "role": "admin"}).status_code == 403


def test_role_change_from_the_page(app, signed_in, ann):
    response = signed_in.post("/people/ann@acme.test/role", {"role": "admin"})
    assert response.status_code == 303
    assert "ann@acme.test is now admin" in signed_in.text("/people")
    assert 'href="/people"' in ann.text("/dashboard")  # her session follows her new role


def test_disabling_from_the_page_ends_that_person_s_session(signed_in, ann):
    assert signed_in.post("/people/ann@acme.test/disable").status_code == 303
    assert "sessions and tokens ended" in signed_in.text("/people")
    assert ann.get("/dashboard").location.startswith("/login")
    assert signed_in.post("/people/ann@acme.test/enable").status_code == 303
    assert "active" in signed_in.text("/people")


def test_the_last_admin_refusal_is_shown_not_applied(app, signed_in, admin):
    response = signed_in.post(f"/people/{admin.email}/disable")
    assert response.status_code == 303 and response.location.endswith("/people")
    assert "last admin of the organization" in signed_in.text("/people")
    with app.app_context():
        assert db.session.scalar(select(Account.disabled_at)
                                 .where(Account.email == admin.email)) is None


def test_delete_asks_first_then_ends_everything(app, signed_in, ann):
    confirm = signed_in.text("/people/ann@acme.test/delete")
    assert "1 dashboard session</strong> end" in confirm and "0 live tokens" in confirm
    response = signed_in.post("/people/ann@acme.test/delete")
    assert response.status_code == 303
    assert "ann@acme.test deleted: 1 session(s) ended" in signed_in.text("/people")
    assert ann.get("/dashboard").location.startswith("/login")
    assert ann.login(Admin("ann@acme.test", "", "acme", 0)).status_code == 401


def test_the_delete_page_counts_only_that_persons_sessions(signed_in):
    invite(signed_in)  # never signed in; the admin looking at the page is
    assert "0 dashboard sessions</strong> end" in signed_in.text("/people/ann@acme.test/delete")


def test_reset_link_from_the_page_sets_a_new_password(app, signed_in, ann):
    signed_in.get("/people")
    assert signed_in.post("/people/ann@acme.test/reset-link").status_code == 303
    page = signed_in.text("/once")
    assert "Password reset link for ann@acme.test" in page
    path = urlsplit(LINK_RE.search(page).group(1)).path
    assert path.startswith("/reset/")
    person = accept(app, path, "an entirely new passphrase")
    assert "Your new password is set" in person.text("/dashboard")
    assert ann.get("/dashboard").location.startswith("/login")  # her old session ended


def test_another_organization_s_people_are_404_pages(signed_in, other_signed_in):
    invite(signed_in)
    assert other_signed_in.get("/people/ann@acme.test/delete").status_code == 404
    for action in ("disable", "delete", "reset-link"):
        assert other_signed_in.post(f"/people/ann@acme.test/{action}").status_code == 404
    assert other_signed_in.post("/people/ann@acme.test/role", {"role": "admin"}) \
        .status_code == 404
    assert "ann@acme.test" not in other_signed_in.text("/people")
    assert "invited" in signed_in.text("/people")


FORMS = [
    ("/people", {"email": "csrf@acme.test", "role": "admin"}),
    ("/people/ann@acme.test/role", {"role": "admin"}),
    ("/people/ann@acme.test/disable", {}),
    ("/people/ann@acme.test/reset-link", {}),
    ("/people/ann@acme.test/delete", {}),
]


@pytest.mark.parametrize("path, form", FORMS)
def test_every_people_form_refuses_a_missing_csrf_token(app, signed_in, ann, path, form):
    response = signed_in.post(path, form, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        people = db.session.execute(select(Account.email, Account.role, Account.disabled_at)
                                    .order_by(Account.id)).all()
    assert [tuple(p) for p in people] == [("admin@acme.test", "admin", None),
                                          ("ann@acme.test", "member", None)]


def test_invite_page_refuses_a_missing_csrf_token(app, signed_in):
    path = invite(signed_in)
    person = Browser(app.test_client())
    person.get(path)
    assert person.post(path, {"password": PASSWORD, "confirm": PASSWORD},
                       csrf=False).status_code == 400
    assert person.post(path, {"password": PASSWORD, "confirm": PASSWORD}).status_code == 303


def test_get_of_the_delete_page_changes_nothing(app, signed_in, ann):
    assert signed_in.get("/people/ann@acme.test/delete").status_code == 200
    assert ann.get("/dashboard").status_code == 200


def test_an_admin_who_deletes_themselves_lands_signed_out(app, signed_in, admin):
    boss = accept(app, invite(signed_in, "boss@acme.test", "admin"))
    signed_in.get(f"/people/{admin.email}/delete")
    response = signed_in.post(f"/people/{admin.email}/delete")
    assert response.status_code == 303 and response.location.endswith("/login")
    assert signed_in.get("/dashboard").location.startswith("/login")
    assert admin.email not in boss.text("/people")
