"""Operator commands for people: `invite` and `reset-password` print one-time links."""

from __future__ import annotations

from app.services import links, logins
from tests.test_operator_cli import run
from tests.web.conftest import fast_argon2  # noqa: F401  (cheap argon2 for these tests)

PASSWORD = "a long enough passphrase"


def code_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_invite_prints_a_one_time_link_for_the_organization(app, client, runner, org):
    invited = run(runner, "invite", "--org", "acme", "--email", "Ann@Acme.test",
                  "--role", "member", "--json")
    assert set(invited) == {"email", "role", "org", "uid", "invite_url", "expires_at"}
    assert invited["email"] == "ann@acme.test" and invited["org"] == "acme"
    assert invited["invite_url"].startswith("http://localhost/invite/")
    assert client.get(invited["invite_url"].removeprefix("http://localhost")).status_code == 200
    [event] = client.get("/api/v1/activity?action=person.invite",
                         headers={"Authorization": f"Bearer {org.admin_token}"}
                         ).get_json()["items"]
    assert event["actor"] == "operator" and event["subject"] == invited["uid"]


def test_invite_text_output_names_the_link_and_its_lifetime(runner, org):
    result = runner.invoke(args=["invite", "--org", "acme", "--email", "ann@acme.test",
                                 "--role", "admin", "--base-url", "https://auth.acme.test/"])
    assert result.exit_code == 0, result.output
    assert "works once, for 24 h" in result.output
    assert "https://auth.acme.test/invite/" in result.output


def test_reset_password_prints_a_new_link_that_sets_a_new_password(app, runner, org):
    invited = run(runner, "invite", "--org", "acme", "--email", "ann@acme.test",
                  "--role", "member", "--json")
    with app.app_context():
        links.use(code_of(invited["invite_url"]), links.INVITE, PASSWORD, PASSWORD)
    reset = run(runner, "reset-password", "--email", "ann@acme.test", "--json")
    assert reset["purpose"] == "reset" and "/reset/" in reset["reset_url"]
    elsewhere = run(runner, "reset-password", "--email", "ann@acme.test", "--json",
                    "--base-url", "https://auth.acme.test/")
    assert elsewhere["reset_url"].startswith("https://auth.acme.test/reset/")
    with app.app_context():  # the newest link is the live one
        links.use(code_of(elsewhere["reset_url"]), links.RESET, "another good passphrase",
                  "another good passphrase")
        assert logins.authenticate("ann@acme.test", "another good passphrase", None)


def test_member_personal_token_from_the_operator_introspects_as_member(api, runner, org):
    run(runner, "invite", "--org", "acme", "--email", "ann@acme.test", "--role", "member",
        "--json")
    issued = run(runner, "issue-admin-token", "--email", "ann@acme.test", "--json")
    info = api.introspect(issued["token"]).get_json()
    assert info["active"] and info["role"] == "member" and info["scope"] == ""


def test_an_unknown_email_is_named_in_the_error(runner, org):
    for command in ("reset-password", "issue-admin-token"):
        result = runner.invoke(args=[command, "--email", "Nobody@acme.test"])
        assert result.output == "Error: No account with email 'Nobody@acme.test'.\n", command


def test_refusals_are_one_line_errors(runner, org):
    for args in (["invite", "--org", "nope", "--email", "a@b.test", "--role", "member"],
                 ["invite", "--org", "acme", "--email", org.admin_email, "--role", "member"],
                 ["invite", "--org", "acme", "--email", "bad", "--role", "member"],
                 ["reset-password", "--email", "nobody@acme.test"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, args
        assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert runner.invoke(args=["invite", "--org", "acme", "--email", "a@b.test",
                               "--role", "owner"]).exit_code == 2
