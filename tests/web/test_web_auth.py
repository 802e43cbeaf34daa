"""First-run setup, sign-in, sessions and throttling."""

import json
import time

import pytest
from sqlalchemy import select, update

from app.models import Account, AuditEvent, Organization, SetupCode, WebSession, db
from app.services import orgs, secrets, sessions, setup
from tests.web.conftest import PASSWORD, Browser, make_admin


def new_code(app) -> str:
    with app.app_context():
        return setup.issue()


def setup_form(org="acme", email="first@acme.test", password=PASSWORD, confirm=None):
    return {"org": org, "email": email, "password": password,
            "confirm": password if confirm is None else confirm}


# --- setup link ---------------------------------------------------------------


def test_setup_link_creates_org_and_first_admin_then_dies(app, browser):
    code = new_code(app)
    page = browser.get(f"/setup/{code}")
    assert page.status_code == 200 and "Create your organization" in page.get_data(as_text=True)
    response = browser.post(f"/setup/{code}", setup_form())
    # The admin who just chose the password is signed in, not sent to sign in again.
    assert response.status_code == 303 and response.location.endswith("/dashboard")
    dashboard = browser.get("/dashboard")
    assert dashboard.status_code == 200 and "first@acme.test" in dashboard.get_data(as_text=True)
    # Dead afterwards, on GET and POST alike.
    assert browser.get(f"/setup/{code}").status_code == 404
    again = browser.post(f"/setup/{code}", setup_form(org="evil", email="evil@x.test"))
    assert again.status_code == 404
    assert "not valid" in again.get_data(as_text=True)
    assert Browser(app.test_client()).login(
        type("A", (), {"email": "first@acme.test", "password": PASSWORD})()).status_code == 303


def test_a_used_setup_link_stays_dead_even_once_every_account_is_gone(app):
    code = new_code(app)
    with app.app_context():
        setup.complete(code, "acme", "first@acme.test", PASSWORD, PASSWORD)
        db.session.execute(db.delete(Account))  # e.g. a database restored without people
        db.session.commit()
        assert setup.needed()
        with pytest.raises(setup.DeadLink):
            setup.check(code)


def test_a_link_replaced_after_its_page_was_opened_cannot_complete_setup(app):
    """The page checked the link; a newer link printed before the form was sent kills it."""
    first = new_code(app)
    new_code(app)
    with app.app_context():
        with pytest.raises(setup.DeadLink):
            setup.complete(first, "acme", "first@acme.test", PASSWORD, PASSWORD)
        assert setup.needed()
        assert db.session.scalar(select(Organization.id)) is None


def test_setup_is_audited_as_the_operator_creating_the_organization_and_its_admin(app):
    code = new_code(app)
    with app.app_context():
        account = setup.complete(code, "acme", "first@acme.test", PASSWORD, PASSWORD)
        org_id, uid = account.org_id, account.uid
        events = db.session.execute(select(
            AuditEvent.action, AuditEvent.actor, AuditEvent.actor_name, AuditEvent.org_id,
            AuditEvent.subject, AuditEvent.target).order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [
        ("org.create", "operator", "operator", org_id, None, "acme"),
        ("account.create", "operator", "operator", org_id, uid, "first@acme.test")]


def test_only_the_code_digest_is_stored(app):
    code = new_code(app)
    assert len(code) == 32  # 192 random bits
    with app.app_context():
        stored = db.session.scalars(select(SetupCode.code_hash)).all()
    assert code not in stored and len(stored) == 1


def test_a_new_link_replaces_the_previous_one(app, browser):
    first, second = new_code(app), new_code(app)
    assert browser.get(f"/setup/{first}").status_code == 404
    assert browser.get(f"/setup/{second}").status_code == 200


def test_expired_link_is_dead(app, browser):
    code = new_code(app)
    with app.app_context():
        db.session.execute(SetupCode.__table__.update().values(expires_at=0))
        db.session.commit()
    assert browser.get(f"/setup/{code}").status_code == 404


def test_no_link_once_an_admin_exists(app, admin, browser, runner):
    with app.app_context():
        assert setup.issue() is None
    result = runner.invoke(args=["setup-link", "--json"])
    assert json.loads(result.output) == {"setup_needed": False, "url": None}
    assert browser.get("/setup/anything").status_code == 404


def test_link_of_an_existing_code_dies_when_an_admin_appears_another_way(app, browser):
    code = new_code(app)
    make_admin(app, "cli-made")
    assert browser.get(f"/setup/{code}").status_code == 404


def test_cli_prints_the_setup_link(runner):
    result = runner.invoke(args=["setup-link", "--base-url", "http://127.0.0.1:5000"])
    assert result.exit_code == 0
    assert "http://127.0.0.1:5000/setup/" in result.output
    data = json.loads(runner.invoke(args=["setup-link", "--json"]).output)
    assert data["setup_needed"] and data["url"].startswith("http://localhost/setup/")


@pytest.mark.parametrize("form, message", [
    (setup_form(password="short", confirm="short"), "at least 12"),
    (setup_form(confirm="something else entirely"), "differ"),
    (setup_form(email="not-an-email"), "not an email"),
    (setup_form(org=""), "1-100"),
])
def test_setup_mistakes_are_shown_and_do_not_burn_the_link(app, browser, form, message):
    code = new_code(app)
    browser.get(f"/setup/{code}")
    response = browser.post(f"/setup/{code}", form)
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert browser.get(f"/setup/{code}").status_code == 200
    assert browser.post(f"/setup/{code}", setup_form()).status_code == 303


def test_setup_password_is_stored_as_argon2id(app, browser):
    code = new_code(app)
    browser.get(f"/setup/{code}")
    browser.post(f"/setup/{code}", setup_form())
    from app.models import Account

    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.password_hash.startswith("$argon2id$")


def test_root_explains_setup_when_nobody_can_sign_in(browser):
    page = browser.text("/")
    assert "setup-link" in page


# --- login / logout -------------------------------------------------------------


def cookie(browser: Browser):
    return browser.client.get_cookie("scopegate_session")


def test_login_sets_a_hardened_cookie_and_a_new_session(app, admin, browser):
    browser.get("/login")
    before = cookie(browser).value
    response = browser.login(admin)
    assert response.status_code == 303 and response.location.endswith("/dashboard")
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # plain http issuer in tests
    assert cookie(browser).value != before
    with app.app_context():
        assert db.session.scalars(select(WebSession.ip)).all() == ["127.0.0.1"]
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert (event.outcome, event.actor, event.actor_name, event.subject, event.target) == (
        "success", admin.uid, admin.email, admin.uid, admin.email)


def test_cookie_is_secure_when_served_over_https(tmp_path):
    from app import create_app
    from app.database import upgrade

    app = create_app({"TESTING": True, "SCOPEGATE_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
                      "SCOPEGATE_SECRET_KEY": "k", "SCOPEGATE_ISSUER": "https://auth.example"})
    with app.app_context():
        upgrade()
    admin = make_admin(app, "secure")
    b = Browser(app.test_client())
    response = b.login(admin, base_url="https://auth.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_csrf_token_changes_at_login(admin, browser):
    browser.get("/login")
    before = browser.csrf
    browser.login(admin)
    browser.get("/dashboard")
    assert browser.csrf != before


def test_unknown_email_and_wrong_password_look_the_same(admin, browser):
    wrong = browser.post("/login", {"email": admin.email, "password": "not the password"})
    unknown = browser.post("/login", {"email": "nobody@acme.test", "password": "whatever pw"})
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: r.get_data(as_text=True).replace(admin.email, "").replace(  # noqa: E731
        "nobody@acme.test", "").replace(browser.csrf or "", "")
    assert "Email or password is incorrect." in strip(wrong)
    assert strip(wrong) == strip(unknown)


def test_an_unknown_email_costs_a_real_password_check(admin, browser, monkeypatch):
    """No timing oracle: for an email nobody has, the password is still checked
    against an argon2 hash (a fixed dummy), as long as a real account's check takes."""
    from app.services import logins, passwords

    checked = []
    real = passwords.verify_password
    monkeypatch.setattr(logins.passwords, "verify_password",
                        lambda stored, password: checked.append(stored) or real(stored, password))
    browser.get("/login")
    browser.post("/login", {"email": "nobody@acme.test", "password": "whatever pw"})
    browser.post("/login", {"email": "other@acme.test", "password": "whatever pw"})
    assert len(checked) == 2 and all(h and h.startswith("$argon2id$") for h in checked)


def test_failed_logins_are_audited_for_the_account_org(app, admin, browser):
    browser.post("/login", {"email": admin.email, "password": "nope nope nope"})
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert (event.outcome, event.org_id, event.subject, event.target, event.detail) == (
        "denied", admin.org_id, admin.uid, admin.email, "bad credentials")


def test_failed_logins_are_throttled_per_email_and_address(app, admin, browser):
    for _ in range(5):
        assert browser.post("/login", {"email": admin.email, "password": "bad"}).status_code == 401
    refused = browser.post("/login", {"email": admin.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in refused.get_data(as_text=True)
    with app.app_context():
        throttled = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "login", AuditEvent.detail == "throttled")).all()
    assert [(e.outcome, e.org_id, e.subject, e.target) for e in throttled] == [
        ("denied", admin.org_id, admin.uid, admin.email)]
    # Another address is not locked out by someone guessing elsewhere.
    elsewhere = Browser(app.test_client())
    assert elsewhere.login(admin, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 303


def test_throttle_window_passes(app, admin, browser):
    app.config["SCOPEGATE_LOGIN_THROTTLE_WINDOW"] = 1
    for _ in range(5):
        browser.post("/login", {"email": admin.email, "password": "bad"})
    assert browser.login(admin).status_code == 429
    time.sleep(1.1)
    assert browser.login(admin).status_code == 303


def test_a_successful_login_resets_the_count(app, admin, browser):
    for _ in range(4):
        browser.post("/login", {"email": admin.email, "password": "bad"})
    assert browser.login(admin).status_code == 303
    fresh = Browser(app.test_client())
    for _ in range(5):  # counted from the success on: five more are allowed
        assert fresh.post("/login", {"email": admin.email, "password": "bad"}).status_code == 401
    assert fresh.post("/login", {"email": admin.email, "password": "bad"}).status_code == 429


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\t/evil.example", "/\\evil.example", "javascript:x"])
def test_next_parameter_never_leaves_the_site(admin, browser, target):
    browser.get("/login")
    response = browser.post("/login", {"email": admin.email, "password": PASSWORD,
                                       "next": target})
    assert response.location == "/dashboard"


def test_next_parameter_returns_to_the_page_asked_for(admin, browser):
    browser.get("/login?next=/users")
    response = browser.post("/login", {"email": admin.email, "password": PASSWORD,
                                       "next": "/users?cursor=5"})
    assert response.location == "/users?cursor=5"


def test_pages_need_a_session(browser):
    response = browser.get("/tokens/scoped")
    assert response.status_code == 302 and "/login?next=/tokens/scoped" in response.location


def test_logout_ends_the_session_on_the_server(app, admin, signed_in):
    stolen = cookie(signed_in).value
    assert signed_in.get("/logout").status_code == 200  # GET only asks
    assert signed_in.get("/dashboard").status_code == 200
    response = signed_in.post("/logout")
    assert response.status_code == 303
    replay = app.test_client()
    replay.set_cookie("scopegate_session", stolen)
    assert replay.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count(WebSession.id))) == 0
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "logout")).all()
    assert (event.outcome, event.actor, event.actor_name, event.subject, event.target) == (
        "success", admin.uid, admin.email, admin.uid, admin.email)


def test_a_tampered_session_cookie_is_no_session(app, signed_in):
    value = cookie(signed_in).value
    # Inside the signature, not its last character: that one's low bits are
    # base64 padding, so changing them can leave the decoded signature intact.
    i = len(value) - 5
    tampered = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]
    forger = app.test_client()
    forger.set_cookie("scopegate_session", tampered)
    assert forger.get("/dashboard").status_code == 302
    forger.set_cookie("scopegate_session", value)
    assert forger.get("/dashboard").status_code == 200  # the genuine cookie still works


@pytest.mark.parametrize("column", ["last_seen_at", "created_at"])
def test_idle_and_absolute_timeouts_end_the_session(app, signed_in, column):
    with app.app_context():
        shift = {"last_seen_at": 31 * 60, "created_at": 12 * 3600 + 1}[column]
        db.session.execute(WebSession.__table__.update().values(
            {column: getattr(WebSession, column) - shift}))
        db.session.commit()
    response = signed_in.get("/dashboard")
    assert response.status_code == 302
    assert "Your session ended" in signed_in.text("/login")


def test_activity_keeps_an_idle_session_alive(app, signed_in):
    with app.app_context():
        db.session.execute(WebSession.__table__.update().values(
            last_seen_at=WebSession.last_seen_at - 29 * 60))
        db.session.commit()
    assert signed_in.get("/dashboard").status_code == 200
    with app.app_context():
        row = db.session.scalar(select(WebSession))
        assert row.last_seen_at >= row.created_at


T0 = 1_900_000_000  # a fixed clock for the session rules


def start_at(app, monkeypatch, admin, at: int) -> str:
    """A session of ``admin`` started at ``at`` (epoch seconds); its id."""
    monkeypatch.setattr(sessions, "now", lambda: at)
    return sessions.start(orgs.get_account(admin.email), "127.0.0.1")


def resume_at(monkeypatch, sid: str, at: int) -> WebSession | None:
    monkeypatch.setattr(sessions, "now", lambda: at)
    return sessions.resume(sid)


@pytest.mark.parametrize("limit", ["idle", "absolute"])
def test_a_session_ends_on_the_second_its_limit_is_reached(app, admin, monkeypatch, limit):
    idle = app.config["SCOPEGATE_SESSION_IDLE_TIMEOUT"]
    absolute = app.config["SCOPEGATE_SESSION_ABSOLUTE_TIMEOUT"]
    with app.app_context():
        before, at = (start_at(app, monkeypatch, admin, T0) for _ in range(2))
        if limit == "absolute":  # busy all along: only the absolute limit applies
            db.session.execute(update(WebSession).values(last_seen_at=T0 + absolute - 1))
            db.session.commit()
        ends = T0 + (idle if limit == "idle" else absolute)
        assert resume_at(monkeypatch, before, ends - 1) is not None
        assert resume_at(monkeypatch, at, ends) is None
        assert db.session.scalar(select(db.func.count(WebSession.id))) == 1


def test_signing_in_sweeps_every_session_that_timed_out(app, admin, monkeypatch):
    idle = app.config["SCOPEGATE_SESSION_IDLE_TIMEOUT"]
    absolute = app.config["SCOPEGATE_SESSION_ABSOLUTE_TIMEOUT"]
    later = T0 + absolute
    with app.app_context():
        sids = {name: start_at(app, monkeypatch, admin, T0) for name in ("idle", "old", "live")}
        times = {"idle": (later - absolute + 1, later - idle), "old": (later - absolute, later),
                 "live": (later - absolute + 1, later - idle + 1)}
        for name, (created, seen) in times.items():
            db.session.execute(update(WebSession)
                               .where(WebSession.sid_hash == secrets.digest(sids[name]))
                               .values(created_at=created, last_seen_at=seen))
        db.session.commit()
        fresh = start_at(app, monkeypatch, admin, later)
        left = set(db.session.scalars(select(WebSession.sid_hash)))
    assert left == {secrets.digest(sids["live"]), secrets.digest(fresh)}


def test_last_seen_is_written_at_most_once_a_minute(app, admin, monkeypatch):
    with app.app_context():
        sid = start_at(app, monkeypatch, admin, T0)
        assert resume_at(monkeypatch, sid, T0 + sessions.TOUCH_RESOLUTION - 1).last_seen_at == T0
        touched = T0 + sessions.TOUCH_RESOLUTION
        assert resume_at(monkeypatch, sid, touched).last_seen_at == touched
        db.session.expire_all()
        assert db.session.scalar(select(WebSession.last_seen_at)) == touched


def test_a_session_that_raced_a_disabling_ends_at_its_next_request(app, admin, signed_in):
    with app.app_context():  # disabled without the offboarding that deletes sessions
        db.session.execute(update(Account).values(disabled_at=T0))
        db.session.commit()
    assert signed_in.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count(WebSession.id))) == 0


def test_a_waiting_secret_is_shown_until_its_lifetime_ends(app, admin, monkeypatch):
    with app.app_context():
        sids = [start_at(app, monkeypatch, admin, T0) for _ in range(2)]
        rows = [resume_at(monkeypatch, sid, T0) for sid in sids]
        for row, sid in zip(rows, sids):
            sessions.stash(row, sid, {"kind": "token", "secret": "sgp_x"})
        shown = T0 + sessions.PENDING_LIFETIME
        monkeypatch.setattr(sessions, "now", lambda: shown)
        assert sessions.pop(rows[0], sids[0]) == {"at": T0, "kind": "token", "secret": "sgp_x"}
        monkeypatch.setattr(sessions, "now", lambda: shown + 1)
        assert sessions.pop(rows[1], sids[1]) is None


def test_a_secret_taken_by_a_concurrent_page_load_is_not_shown_again(app, admin, monkeypatch):
    with app.app_context():
        sid = start_at(app, monkeypatch, admin, T0)
        row = resume_at(monkeypatch, sid, T0)
        sessions.stash(row, sid, {"kind": "token", "secret": "sgp_x"})
        assert row.pending_secret  # this request read it; then another one took it
        db.session.execute(update(WebSession).values(pending_secret=None)
                           .execution_options(synchronize_session=False))
        assert sessions.pop(row, sid) is None


def test_setup_link_is_dead_from_its_expiry_second(app, browser, monkeypatch):
    code = new_code(app)
    with app.app_context():
        expires_at = db.session.scalar(select(SetupCode.expires_at))
    monkeypatch.setattr(setup, "now", lambda: expires_at - 1)
    assert browser.get(f"/setup/{code}").status_code == 200
    monkeypatch.setattr(setup, "now", lambda: expires_at)
    assert browser.get(f"/setup/{code}").status_code == 404
