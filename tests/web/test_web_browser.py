"""The dashboard in a real browser: Debian's Chromium driven by Playwright
through every journey of the issue, against a live gunicorn server that
starts with an empty database. A screenshot of each page goes to
``test-artifacts/screenshots/``.

The journeys build on each other, as a person's first hour would (setup,
sign in, generate a token, create machine users, manage tokens, read the
activity, invite and offboard a person), so the tests in this module run in file order and share one
browser context. Set ``SCOPEGATE_UPDATE_DOCS_SCREENSHOT=1`` to refresh
``docs/dashboard.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
import requests

from tests.web.conftest import PASSWORD, ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "test-artifacts" / "screenshots"
EMAIL = "ada@example.com"
TOKEN_RE = re.compile(r"^sg[pts]_[0-9A-Za-z]{39}$")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        message = f"BROWSER TESTS NOT RUN: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — CI must run them (.ci/run installs chromium)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        instance = p.chromium.launch(executable_path=executable, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def page(browser, dashboard_server):
    context = browser.new_context(base_url=dashboard_server.url,
                                  viewport={"width": 1280, "height": 860},
                                  locale="en-GB", timezone_id="Europe/Paris")
    context.grant_permissions(["clipboard-read", "clipboard-write"],
                              origin=dashboard_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    # Script errors and CSP violations; a 404/410 page the tests asked for is no error.
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def flash(page) -> str:
    return page.locator(".flash").inner_text()


def sign_in(page, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# --- 1. first run --------------------------------------------------------------


def test_first_run_setup_link(page, dashboard_server):
    page.goto("/")
    assert "not set up yet" in page.inner_text("h1")
    shot(page, "01-not-set-up")
    page.goto(dashboard_server.setup_url)
    assert page.inner_text("h1") == "Create your organization"
    shot(page, "02-setup")
    page.get_by_label("Organization name").fill("Acme Research")
    page.get_by_label("Your email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create organization and admin").click()
    # Signed in at once: the admin who just chose the password lands on the dashboard.
    page.wait_for_url("**/dashboard")
    assert "Organization Acme Research created" in flash(page)
    assert EMAIL in page.locator("header").inner_text()
    shot(page, "03-dashboard-after-setup")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    # The link is dead afterwards.
    response = page.goto(dashboard_server.setup_url)
    assert response.status == 404 and "not valid" in page.inner_text("main")
    shot(page, "04-setup-link-dead")


# --- 2. log in / log out -------------------------------------------------------


def test_login_and_logout(page, dashboard_server):
    sign_in(page, "wrong password, wrong")
    assert "Email or password is incorrect." in page.inner_text("[role=alert]")
    shot(page, "05-login-failed")
    sign_in(page)
    page.wait_for_url("**/dashboard")
    cookie = next(c for c in page.context.cookies() if c["name"] == "scopegate_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert "signed out" in flash(page)
    # The old session is gone: the dashboard asks to sign in again.
    page.goto("/dashboard")
    assert "/login" in page.url
    sign_in(page)
    page.wait_for_url("**/dashboard")


# --- 3. Dashboard → Generate Access Token -----------------------------------------


def generate(page, name: str) -> str:
    page.goto("/dashboard")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Lifetime").select_option("30")
    page.get_by_role("button", name="Generate Access Token").click()
    page.wait_for_url("**/once")
    return page.get_by_label("Token", exact=True).input_value()


def test_generate_access_token_shown_once(page, dashboard_server):
    page.goto("/dashboard")
    assert "You have no personal tokens yet" in page.inner_text("main")
    shot(page, "06-dashboard-empty")
    token = generate(page, "notebook")
    assert TOKEN_RE.match(token) and token.startswith("sgp_")
    assert "cannot be retrieved again" in page.inner_text("main")
    copy = page.get_by_role("button", name="Copy")
    assert copy.is_visible()
    copy.click()
    page.wait_for_selector("text=Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == token
    shot(page, "07-token-shown-once")
    page.reload()
    assert page.inner_text("h1") == "Already shown"
    assert token not in page.content()
    shot(page, "08-token-reload-not-shown")
    # It works against the admin API, as the SDK would use it.
    me = requests.get(f"{dashboard_server.url}/api/v1/me",
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200
    dashboard_server.admin_token = token


def bottom(locator) -> float:
    box = locator.bounding_box()
    return box["y"] + box["height"]


def test_generate_button_lines_up_with_its_fields(page):
    page.goto("/dashboard")
    button = page.get_by_role("button", name="Generate Access Token")
    lifetime = page.get_by_label("Lifetime")
    assert abs(bottom(button) - bottom(lifetime)) <= 1
    assert abs(button.bounding_box()["y"] - lifetime.bounding_box()["y"]) <= 1


def test_every_page_has_an_icon(page, dashboard_server):
    icon = page.request.get(f"{dashboard_server.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
    page.goto("/dashboard")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{dashboard_server.url}{href}").status == 200


def test_personal_tokens_listed_and_revoked(page, dashboard_server):
    doomed = generate(page, "old-laptop")
    page.goto("/dashboard")
    table = page.locator("table").inner_text()
    assert "notebook" in table and "old-laptop" in table and "never" in table
    # Times are in the viewer's format, with UTC on hover.
    first_time = page.locator("td time").first
    assert "UTC" in first_time.get_attribute("title")
    assert not first_time.inner_text().endswith("UTC")
    shot(page, "09-dashboard-tokens")
    if os.environ.get("SCOPEGATE_UPDATE_DOCS_SCREENSHOT"):
        page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
    page.get_by_role("link", name="Revoke old-laptop").click()
    assert "Revoke this token?" in page.inner_text("h1")
    shot(page, "10-revoke-personal-confirm")
    page.get_by_role("button", name="Revoke token").click()
    page.wait_for_url("**/dashboard")
    assert "is revoked" in flash(page)
    assert requests.get(f"{dashboard_server.url}/api/v1/me", timeout=10,
                        headers={"Authorization": f"Bearer {doomed}"}).status_code == 401


# --- 5. machine users (before 4: tokens need users) --------------------------------


def create_user(page, name: str, scopes: list[str]) -> None:
    page.goto("/users/new")
    page.get_by_label("Name").fill(name)
    for scope in scopes:
        page.get_by_label(scope, exact=True).check()
    page.get_by_role("button", name="Create machine user").click()
    page.wait_for_url(f"**/users/{name}")


def issue_token(page, name: str, scopes: list[str]) -> str:
    page.goto(f"/users/{name}")
    for scope in scopes:
        page.get_by_label(scope, exact=True).check()
    page.get_by_role("button", name="Issue scoped token").click()
    page.wait_for_url("**/once")
    return page.get_by_label("Token", exact=True).input_value()


def test_machine_users(page, dashboard_server):
    page.get_by_role("link", name="Machine Users").click()
    assert "No machine users yet" in page.inner_text("main")
    shot(page, "11-machine-users-empty")
    page.get_by_role("link", name="Create machine user").click()
    assert "Allows a user to create a training session." in page.inner_text("main")
    shot(page, "12-create-machine-user")
    create_user(page, "demo-user", ["create_session", "read_user_session", "revoke_user_token"])
    assert "Machine user demo-user" in flash(page)
    shot(page, "13-machine-user")

    token = issue_token(page, "demo-user", ["create_session", "read_user_session"])
    assert token.startswith("sgt_") and "cannot be retrieved again" in page.inner_text("main")
    shot(page, "14-scoped-token-shown-once")
    page.reload()
    assert token not in page.content()

    page.goto("/users/demo-user")
    page.get_by_role("button", name="Issue client credentials").click()
    page.wait_for_url("**/once")
    secret = page.get_by_label("Client secret").input_value()
    client_id = page.get_by_label("Client ID").input_value()
    assert secret.startswith("sgs_") and client_id.endswith("@scopegate.local")
    shot(page, "15-client-credentials-shown-once")
    issued = requests.post(f"{dashboard_server.url}/oauth/token", timeout=10,
                           data={"grant_type": "client_credentials", "scope": "create_session"},
                           auth=(client_id, secret))
    assert issued.status_code == 200

    create_user(page, "analytics-bot", ["read_all_session", "model_download"])
    issue_token(page, "analytics-bot", ["read_all_session"])
    # One more through the admin API, as the SDK does it.
    headers = {"Authorization": f"Bearer {dashboard_server.admin_token}"}
    requests.post(f"{dashboard_server.url}/api/v1/users", json={"name": "sdk-user"},
                  headers=headers, timeout=10)
    sdk_token = requests.post(f"{dashboard_server.url}/api/v1/users/sdk-user/tokens",
                              timeout=10, json={"scopes": ["cli"]}, headers=headers).json()
    dashboard_server.sdk_token_id = sdk_token["token_id"]
    page.goto("/users")
    assert page.locator("tbody tr").count() == 3
    shot(page, "16-machine-users")


# --- 4. Token Management → User Scoped Tokens --------------------------------------


def test_token_management_user_scoped_tokens(page, dashboard_server):
    page.goto("/dashboard")
    page.get_by_role("link", name="Token Management").click()
    assert page.get_by_role("heading", name="User Scoped Tokens").is_visible()
    table = page.locator("table").inner_text()
    for text in ["demo-user", "analytics-bot", "sdk-user", "create_session", EMAIL, "active"]:
        assert text in table
    assert page.locator("tbody tr").count() == 4, table  # demo-user x2 (one via credentials)
    shot(page, "17-user-scoped-tokens")
    # A token_id from the SDK can be found in the Token ID column.
    headers = page.locator("thead th").all_inner_texts()
    column = headers.index("Token ID") + 1
    ids = page.locator(f"tbody tr td:nth-child({column})").all_inner_texts()
    assert dashboard_server.sdk_token_id in ids
    button, user = page.get_by_role("button", name="Filter"), page.get_by_label("User")
    assert abs(bottom(button) - bottom(user)) <= 1  # the button lines up with the fields

    page.get_by_label("User").select_option("analytics-bot")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1
    shot(page, "18-user-scoped-tokens-filtered")
    page.get_by_role("link", name="Revoke token of analytics-bot").click()
    assert "Revoke this token?" in page.inner_text("h1")
    shot(page, "19-revoke-scoped-confirm")
    page.get_by_role("button", name="Revoke token").click()
    assert "is revoked" in flash(page)
    assert "No active scoped tokens for analytics-bot" in page.inner_text("main")
    page.get_by_label("Status").select_option("inactive")
    page.get_by_role("button", name="Filter").click()
    assert "revoked" in page.locator("tbody").inner_text()
    shot(page, "20-user-scoped-tokens-revoked")


def test_delete_confirmation_mentions_credentials_only_when_there_are_some(page):
    page.goto("/users/sdk-user")
    page.get_by_role("link", name="Delete sdk-user…").click()
    warning = page.inner_text("[role=alert]")
    assert "1 live token" in warning and "client credentials" not in warning
    page.goto("/users/demo-user")
    page.get_by_role("link", name="Delete demo-user…").click()
    assert "its client credentials stop working" in page.inner_text("[role=alert]")


def test_delete_machine_user_says_how_many_tokens_die(page, dashboard_server):
    page.goto("/users/demo-user")
    page.get_by_role("link", name="Delete demo-user…").click()
    assert "2 live tokens" in page.inner_text("[role=alert]")
    shot(page, "21-delete-user-confirm")
    page.get_by_role("button", name=re.compile("Delete demo-user")).click()
    page.wait_for_url("**/users")
    assert "2 token(s) revoked" in flash(page)
    assert "demo-user" not in page.locator("table").inner_text()


# --- 6. Activity --------------------------------------------------------------------


def test_activity_filtered_with_chart(page, dashboard_server):
    # Enough events for a full page, as a busy organization has.
    headers = {"Authorization": f"Bearer {dashboard_server.admin_token}"}
    for _ in range(12):
        requests.post(f"{dashboard_server.url}/api/v1/users/sdk-user/tokens", timeout=10,
                      json={"scopes": ["cli"]}, headers=headers)
    page.get_by_role("link", name="Activity").click()
    assert page.locator("svg.spark").count() >= 2
    rows = page.locator("tbody tr")
    assert rows.count() > 20
    # One line per event (two with a detail): the table does not wrap.
    heights = [rows.nth(i).bounding_box()["height"] for i in range(rows.count())]
    assert max(heights) < 64, heights
    # The Users box shows every entry whole (no scrolling, nothing cut in half).
    users = page.get_by_label("Users")
    assert users.evaluate("el => el.scrollHeight <= el.clientHeight")
    shot(page, "22-activity")
    page.get_by_label("Users").select_option(["analytics-bot", "sdk-user"])
    page.get_by_label("Action").select_option("token.create")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**user=sdk-user**")
    page.wait_for_load_state()  # count() does not wait; a loaded machine showed the old page
    assert page.locator("svg.spark").count() == 2
    actions = page.locator("tbody tr td:nth-child(3) code").all_inner_texts()
    assert actions and set(actions) == {"token.create"}
    assert "user=analytics-bot" in page.url and "user=sdk-user" in page.url
    shot(page, "23-activity-filtered")


# --- 7. People -----------------------------------------------------------------------


def test_people_invite_member_and_offboard(page, browser, dashboard_server):
    page.get_by_role("link", name="People").click()
    assert EMAIL in page.locator("table").inner_text()
    page.get_by_label("Email", exact=True).fill("grace@example.com")
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Invite").click()
    page.wait_for_url("**/once")
    link = page.get_by_label("One-time link").input_value()
    assert "/invite/" in link and "cannot be retrieved again" in page.inner_text("main")
    shot(page, "25-invitation-link-shown-once")

    # Grace opens the link in her own browser, chooses a password, is signed in.
    context = browser.new_context(base_url=dashboard_server.url)
    grace = context.new_page()
    grace.goto(link)
    assert grace.inner_text("h1") == "Join Acme Research"
    shot(grace, "26-invitation-page")
    grace.get_by_label("Password", exact=True).fill(PASSWORD)
    grace.get_by_label("Password again").fill(PASSWORD)
    grace.get_by_role("button", name="Set password and sign in").click()
    grace.wait_for_url("**/dashboard")
    nav = grace.get_by_role("navigation", name="Main").inner_text()
    assert "People" not in nav and "Machine Users" not in nav  # a member's own things only
    assert "Generate Access Token" not in grace.inner_text("main")
    shot(grace, "27-member-dashboard")
    assert grace.goto("/people").status == 403

    page.goto("/people")
    assert "active" in page.locator("tbody").inner_text()
    shot(page, "28-people")
    page.get_by_role("button", name="Disable grace@example.com").click()
    assert "sessions and tokens ended" in flash(page)
    grace.goto("/dashboard")
    assert "/login" in grace.url  # her session ended at once
    context.close()

    page.get_by_role("link", name="Delete grace@example.com").click()
    assert "Delete grace@example.com?" in page.inner_text("h1")
    shot(page, "29-delete-person-confirm")
    page.get_by_role("button", name="Delete grace@example.com").click()
    assert "grace@example.com deleted" in flash(page)
def test_activity_marks_a_name_several_users_had(page, dashboard_server):
    headers = {"Authorization": f"Bearer {dashboard_server.admin_token}"}
    api = f"{dashboard_server.url}/api/v1/users"
    first = requests.post(api, json={"name": "twice"}, headers=headers, timeout=10).json()
    requests.delete(f"{api}/twice", headers=headers, timeout=10)
    second = requests.post(api, json={"name": "twice"}, headers=headers, timeout=10).json()
    page.goto("/activity?user=twice")
    notice = page.locator(".warning").inner_text()
    assert "twice has been the name of 2 users" in notice
    assert first["email"] in notice and second["email"] in notice
    table = page.locator("tbody").inner_text()
    assert "reused name" in table and first["email"] in table and second["email"] in table
    shot(page, "24-activity-reused-name")


def test_keyboard_navigation_and_no_console_errors(page):
    page.goto("/dashboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("INPUT", "A", "BUTTON", "SELECT")
    assert page.console_errors == []  # e.g. no CSP violation


def test_pages_work_without_javascript(browser, dashboard_server):
    context = browser.new_context(base_url=dashboard_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    page.wait_for_url("**/dashboard")
    token = generate(page, "no-js")
    assert token.startswith("sgp_")
    assert not page.get_by_role("button", name="Copy").is_visible()  # the one JS feature
    assert "UTC" in page.locator("time").first.inner_text()  # times stay readable, in UTC
    shot(page, "25-no-javascript-token")
    context.close()
