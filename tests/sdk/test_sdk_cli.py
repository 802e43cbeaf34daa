"""Unit tests of the `scopegate` command (click's CliRunner, requests-mock)."""

from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import parse_qs

import click
import pytest
import requests
from click.testing import CliRunner

from sdk import __version__
from sdk.auth.scopes import CATALOG, Scope
from sdk.cli import main
from tests.sdk.samples import ADMIN_TOKEN, BASE, EMAIL, TOKEN, TOKEN_ID, TOKEN_VALUE, USER

LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(token_id=TOKEN_ID, **changes):
    return {
        "token_id": token_id, "kind": "scoped", "user_id": "demo-user", "email": EMAIL,
        "scopes": ["create_session"], "created_by": "admin@example.com",
        "created_at": "2024-05-01T12:00:00Z", "expires_at": LATER, "revoked_at": None,
        "last_used_at": None, **changes,
    }


INFO = {
    "active": True, "scope": "create_session read_user_session", "client_id": EMAIL,
    "sub": EMAIL, "exp": 1717156800, "iat": 1714564800, "token_type": "Bearer",
    "token_id": TOKEN_ID, "user_id": "demo-user", "email": EMAIL, "customer": "acme",
    "user_type": "generated", "role": "machine", "env": "dev", "renewable": True,
}


@pytest.fixture
def run():
    """Invoke `scopegate` with a token and URL in the environment."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        environment = {"SCOPEGATE_TOKEN": ADMIN_TOKEN, "SCOPEGATE_URL": BASE}
        environment.update(env or {})
        return runner.invoke(main, list(args), input=input, env=environment)

    return invoke


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


# -- help ------------------------------------------------------------------


def _commands(group, path=()):
    yield path, group
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))


COMMANDS = list(_commands(main))


def test_every_command_named_in_the_issue_exists():
    names = {" ".join(path) for path, _ in COMMANDS}
    for wanted in ["users create", "users list", "users show", "users delete",
                   "credentials create", "tokens create", "tokens list", "tokens info",
                   "tokens revoke", "tokens renew", "activity", "scopes", "whoami"]:
        assert wanted in names


@pytest.mark.parametrize(("path", "command"), COMMANDS,
                         ids=[" ".join(p) or "scopegate" for p, _ in COMMANDS])
def test_every_command_and_option_has_help(run, path, command):
    assert command.help and command.help.strip()
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(path)} {param.opts} has no help"
    result = ok(run(*path, "--help"))
    assert result.output.startswith("Usage: ")


def test_version(run):
    assert ok(run("--version")).output.strip() == f"scopegate, version {__version__}"


# -- users -----------------------------------------------------------------


def test_users_create_prints_the_user(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users", status_code=201, json=USER)
    result = ok(run("users", "create", "demo-user"))
    assert requests_mock.last_request.json() == {"name": "demo-user"}
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert f"email:      {EMAIL}" in result.stdout
    assert "created_at: 2024-05-01 12:00:00Z" in result.stdout


def test_users_create_with_scopes_and_json(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users", status_code=201, json=USER)
    result = ok(run("--json", "users", "create", "demo-user", "--scope", "cli",
                    "--scope", "model_download"))
    assert requests_mock.last_request.json() == {"name": "demo-user",
                                                 "scopes": ["cli", "model_download"]}
    assert json.loads(result.stdout) == USER


def test_an_unknown_scope_is_a_usage_error_without_a_request(run, requests_mock):
    result = run("users", "create", "demo-user", "--scope", "read_model")
    assert result.exit_code == 2
    assert "read_model" in result.stderr and "create_session" in result.stderr
    assert requests_mock.call_count == 0


def test_users_list_is_a_table(run, requests_mock):
    other = {**USER, "name": "reader", "email": "0123456789@sg.test",
             "scopes": ["read_user_session"], "active": False}
    requests_mock.get(BASE + "/api/v1/users", [
        {"json": {"items": [USER], "next_cursor": "5"}},
        {"json": {"items": [other], "next_cursor": None}},
    ])
    lines = ok(run("users", "list")).stdout.splitlines()
    assert lines[0].split() == ["NAME", "EMAIL", "TYPE", "ACTIVE", "SCOPES", "CREATED_BY",
                                "CREATED_AT"]
    assert lines[1].split()[:6] == ["demo-user", EMAIL, "generated", "yes", "all",
                                    "(10)"]
    assert lines[2].split()[:5] == ["reader", "0123456789@sg.test", "generated", "no",
                                    "read_user_session"]
    # Columns line up.
    assert lines[0].index("EMAIL") == lines[1].index(EMAIL) == lines[2].index("0123")


def test_users_list_empty_and_json(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/users", json={"items": [], "next_cursor": None})
    assert ok(run("users", "list")).stdout == "No users.\n"
    assert json.loads(ok(run("--json", "users", "list")).stdout) == []


@pytest.mark.parametrize(("path", "command"),
                         [(p, c) for p, c in COMMANDS if not isinstance(c, click.Group)],
                         ids=[" ".join(p) for p, c in COMMANDS if not isinstance(c, click.Group)])
def test_json_is_accepted_after_every_command_too(path, command):
    assert "--json" in [opt for param in command.params for opt in param.opts]


def test_json_after_the_command(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/tokens", json={"items": [], "next_cursor": None})
    assert json.loads(ok(run("tokens", "list", "--json")).stdout) == []


def test_users_show(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/users/demo-user", json=USER)
    assert f"email:      {EMAIL}" in ok(run("users", "show", "demo-user")).stdout


def test_users_delete_asks_first(run, requests_mock):
    requests_mock.delete(BASE + "/api/v1/users/demo-user", status_code=204)
    result = run("users", "delete", "demo-user", input="n\n")
    assert result.exit_code == 1
    assert "Delete machine user 'demo-user'" in result.stderr
    assert requests_mock.call_count == 0

    result = ok(run("users", "delete", "demo-user", input="y\n"))
    assert requests_mock.call_count == 1
    assert result.stdout == "Deleted machine user demo-user; its tokens are revoked.\n"


@pytest.mark.parametrize("flag", ["--yes", "-y"])
def test_users_delete_yes_skips_the_question(run, requests_mock, flag):
    requests_mock.delete(BASE + "/api/v1/users/demo-user", status_code=204)
    result = ok(run("--json", "users", "delete", "demo-user", flag))
    assert "Delete machine user" not in result.output
    assert json.loads(result.stdout) == {"name": "demo-user", "deleted": True}


def test_users_delete_without_a_terminal_or_yes_does_nothing(run, requests_mock):
    result = run("users", "delete", "demo-user", input="")
    assert result.exit_code == 1
    assert requests_mock.call_count == 0


# -- credentials -----------------------------------------------------------


def test_credentials_create(run, requests_mock):
    creds = {"client_id": EMAIL, "client_secret": "sgs_" + "z" * 40}
    requests_mock.post(BASE + "/api/v1/users/demo-user/credentials", status_code=201,
                       json=creds)
    result = ok(run("credentials", "create", "demo-user"))
    assert f"client_secret: {creds['client_secret']}" in result.stdout
    assert "shown only once" in result.stderr
    assert json.loads(ok(run("--json", "credentials", "create", "demo-user")).stdout) == creds


# -- tokens ----------------------------------------------------------------


def test_tokens_create(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201, json=TOKEN)
    result = ok(run("tokens", "create", "--user", "demo-user", "--scope", "create_session",
                    "--scope", "read_user_session", "--expires-in", "7d"))
    assert requests_mock.last_request.json() == {
        "scopes": ["create_session", "read_user_session"], "expires_in": 7 * 86400}
    assert f"token:      {TOKEN_VALUE}" in result.stdout
    assert "expires_at: 2024-05-31 12:00:00Z" in result.stdout
    assert "shown only once" in result.stderr
    assert TOKEN_VALUE not in result.stderr


def test_tokens_create_json_is_the_answer(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201, json=TOKEN)
    result = ok(run("--json", "tokens", "create", "--user", "demo-user", "--scope", "cli"))
    assert json.loads(result.stdout) == TOKEN
    assert "expires_in" not in requests_mock.last_request.json()


@pytest.mark.parametrize(("given", "seconds"), [
    ("3600", 3600), ("90m", 5400), ("12h", 43200), ("2w", 1209600), ("45s", 45)])
def test_durations(run, requests_mock, given, seconds):
    requests_mock.post(BASE + "/api/v1/users/u/tokens", status_code=201, json=TOKEN)
    ok(run("tokens", "create", "--user", "u", "--scope", "cli", "--expires-in", given))
    assert requests_mock.last_request.json()["expires_in"] == seconds


@pytest.mark.parametrize("args", [
    ["tokens", "create", "--user", "u"],
    ["tokens", "create", "--scope", "cli"],
    ["tokens", "create", "--user", "u", "--scope", "cli", "--expires-in", "0"],
    ["tokens", "create", "--user", "u", "--scope", "cli", "--expires-in", "soon"],
    ["tokens", "list", "--kind", "other"],
    ["activity", "--since", "yesterday"],
    ["activity", "--limit", "0"],
], ids=["no-scope", "no-user", "zero-lifetime", "bad-lifetime", "bad-kind", "bad-since",
        "zero-limit"])
def test_usage_errors_exit_2_without_a_request(run, requests_mock, args):
    result = run(*args)
    assert result.exit_code == 2
    assert requests_mock.call_count == 0
    assert "Traceback" not in result.output


def test_tokens_list(run, requests_mock):
    rows = [
        meta(),
        meta("b" * 32, revoked_at="2024-05-02T00:00:00Z"),
        meta("c" * 32, expires_at="2024-01-01T00:00:00Z", kind="personal",
             user_id="admin@example.com", scopes=["admin"]),
    ]
    requests_mock.get(BASE + "/api/v1/tokens", json={"items": rows, "next_cursor": None})
    result = ok(run("tokens", "list", "--user", "demo-user", "--active", "--kind", "scoped"))
    assert requests_mock.last_request.qs == {"user": ["demo-user"], "active": ["true"],
                                             "kind": ["scoped"]}
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TOKEN_ID", "KIND", "USER", "STATUS", "SCOPES", "EXPIRES_AT",
                                "LAST_USED"]
    assert [line.split()[3] for line in lines[1:]] == ["active", "revoked", "expired"]
    assert TOKEN_VALUE not in result.stdout

    ok(run("tokens", "list", "--inactive"))
    assert requests_mock.last_request.qs == {"active": ["false"]}
    ok(run("tokens", "list"))
    assert requests_mock.last_request.qs == {}


def test_tokens_info_from_the_argument(run, requests_mock):
    requests_mock.post(BASE + "/oauth/introspect", json=INFO)
    result = ok(run("tokens", "info", TOKEN_VALUE))
    assert parse_qs(requests_mock.last_request.text) == {"token": [TOKEN_VALUE]}
    assert "active:     yes" in result.stdout
    assert "exp:        2024-05-31 12:00:00Z" in result.stdout
    assert "user_type:  generated" in result.stdout


@pytest.mark.parametrize("args", [["tokens", "info", "-"], ["tokens", "info"]],
                         ids=["dash", "no-argument"])
def test_tokens_info_reads_stdin(run, requests_mock, args):
    requests_mock.post(BASE + "/oauth/introspect", json=INFO)
    result = ok(run("--json", *args, input=f"\n{TOKEN_VALUE}\n"))
    assert parse_qs(requests_mock.last_request.text) == {"token": [TOKEN_VALUE]}
    assert json.loads(result.stdout) == INFO


def test_tokens_info_with_empty_stdin(run, requests_mock):
    result = run("tokens", "info", input="")
    assert result.exit_code == 2
    assert "No token on stdin" in result.stderr
    assert requests_mock.call_count == 0


def test_tokens_info_of_an_inactive_token(run, requests_mock):
    requests_mock.post(BASE + "/oauth/introspect", json={"active": False})
    result = ok(run("tokens", "info", "-", input="sgt_whatever\n"))
    assert result.stdout.startswith("active: no")
    assert json.loads(ok(run("--json", "tokens", "info", "-", input="x")).stdout) == {
        "active": False}


def test_tokens_revoke(run, requests_mock):
    requests_mock.delete(BASE + f"/api/v1/tokens/{TOKEN_ID}", status_code=204)
    assert ok(run("tokens", "revoke", TOKEN_ID)).stdout == f"Revoked token {TOKEN_ID}.\n"
    assert json.loads(ok(run("--json", "tokens", "revoke", TOKEN_ID)).stdout) == {
        "token_id": TOKEN_ID, "revoked": True}


@pytest.mark.parametrize("value", [TOKEN_VALUE, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"])
@pytest.mark.parametrize("command", ["revoke", "renew"])
def test_a_token_value_is_refused_where_a_token_id_belongs(run, requests_mock, command, value):
    """Opaque or JWT: a token in a URL path would land in access logs."""
    result = run("tokens", command, value)
    assert result.exit_code == 2
    assert "not a token_id" in result.stderr
    assert requests_mock.call_count == 0


def test_tokens_renew(run, requests_mock):
    answer = {**meta(), "clamped": True, "message": "Expiry clamped."}
    requests_mock.post(BASE + f"/api/v1/tokens/{TOKEN_ID}/renew", json=answer)
    result = ok(run("tokens", "renew", TOKEN_ID, "--expires-in", "1h"))
    assert requests_mock.last_request.json() == {"expires_in": 3600}
    assert "clamped:      yes" in result.stdout
    ok(run("tokens", "renew", TOKEN_ID))
    assert requests_mock.last_request.json() == {}


# -- activity, scopes, whoami ----------------------------------------------

EVENT = {
    "id": 9, "at": "2024-05-01T12:00:00Z", "actor": "admin-uid", "actor_name": "admin@example.com",
    "subject": EMAIL, "action": "token.create", "target": TOKEN_ID, "outcome": "success",
    "ip": "127.0.0.1", "request_id": "r1",
}


def test_activity_filters_and_table(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/activity", json={"items": [EVENT], "next_cursor": None})
    result = ok(run("activity", "--user", "demo-user", "--user", EMAIL, "--action",
                    "token.create", "--actor", "admin@example.com",
                    "--since", "2024-05-01T00:00:00+02:00", "--until", "2024-05-02"))
    assert requests_mock.last_request.qs == {
        "user": ["demo-user", EMAIL], "action": ["token.create"],
        "actor": ["admin@example.com"], "since": ["2024-04-30t22:00:00z"],
        "until": ["2024-05-02t00:00:00z"], "limit": ["50"]}
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["AT", "ACTION", "OUTCOME", "ACTOR", "SUBJECT", "TARGET", "IP"]
    assert lines[1].split() == ["2024-05-01", "12:00:00Z", "token.create", "success",
                                "admin@example.com", EMAIL, TOKEN_ID, "127.0.0.1"]


def test_activity_since_a_duration_ago(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/activity", json={"items": [], "next_cursor": None})
    before = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    result = ok(run("activity", "--since", "2h", "--limit", "5"))
    assert result.stdout == "No matching events.\n"
    qs = requests_mock.last_request.qs
    assert qs["limit"] == ["5"]
    sent = dt.datetime.fromisoformat(qs["since"][0].upper())
    assert before <= sent <= before + dt.timedelta(seconds=5)


def test_scopes(run, requests_mock):
    items = [{"name": s.value, "description": s.description} for s in Scope]
    requests_mock.get(BASE + "/api/v1/scopes", json={"items": items})
    lines = ok(run("scopes")).stdout.splitlines()
    assert lines[0].split() == ["SCOPE", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == list(CATALOG)
    assert json.loads(ok(run("--json", "scopes")).stdout) == {"items": items}


def test_whoami_flattens_nested_objects(run, requests_mock):
    me = {"user_id": "admin@example.com", "role": "admin",
          "token": {"token_id": "b" * 32, "expires_at": "2025-01-01T00:00:00Z"}}
    requests_mock.get(BASE + "/api/v1/me", json=me)
    out = ok(run("whoami")).stdout
    assert "role:             admin" in out
    assert "token.expires_at: 2025-01-01 00:00:00Z" in out


# -- global options --------------------------------------------------------


def test_url_and_token_options_win_over_the_environment(run, requests_mock):
    requests_mock.get("https://other.test/api/v1/me", json={})
    ok(run("--url", "https://other.test", "--token", "sgp_from_option", "whoami"))
    assert requests_mock.last_request.headers["Authorization"] == "Bearer sgp_from_option"


def test_insecure_and_timeout(run, requests_mock):
    requests_mock.get(BASE + "/api/v1/me", json={})
    ok(run("--insecure", "--timeout", "2.5", "whoami"))
    assert requests_mock.last_request.verify is False
    assert 2.0 < requests_mock.last_request.timeout <= 2.5


def test_verbose_shows_the_sdk_log_lines(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users", status_code=201,
                       json={**USER, "created_by": "8588e50d40@sg.test"})
    requests_mock.get(BASE + "/api/v1/me",
                      json={"sub": "8588e50d40@sg.test", "email": "admin@example.com"})
    result = ok(run("-v", "users", "create", "demo-user"))
    lines = result.stderr.splitlines()
    assert lines[0].endswith(f":INFO:Machine user demo-user({EMAIL}) created by "
                             "admin@example.com.")
    assert lines[1].endswith(":INFO:User activated.")
    dt.datetime.strptime(lines[0][:19], "%m/%d/%Y %H:%M:%S")
    # Without -v, nothing but the output.
    assert ok(run("users", "create", "demo-user")).stderr == ""


# -- errors: one line, exit 1, no traceback --------------------------------

ERRORS = [
    (401, "invalid_token", "The token is expired."),
    (403, "insufficient_scope", "Admin token required."),
    (404, "not_found", "No user named 'ghost'."),
    (409, "conflict", "A user named 'demo-user' already exists."),
    (422, "invalid_request", "expires_in exceeds the maximum lifespan."),
    (429, "rate_limited", "Slow down."),
    (500, "server_error", "Internal error."),
]


@pytest.mark.parametrize(("status", "code", "text"), ERRORS, ids=[str(e[0]) for e in ERRORS])
@pytest.mark.parametrize(("args", "method", "path"), [
    (["users", "create", "demo-user"], "POST", "/api/v1/users"),
    (["users", "show", "ghost"], "GET", "/api/v1/users/ghost"),
    (["users", "delete", "ghost", "--yes"], "DELETE", "/api/v1/users/ghost"),
    (["tokens", "create", "--user", "u", "--scope", "cli"], "POST", "/api/v1/users/u/tokens"),
    (["tokens", "info", TOKEN_VALUE], "POST", "/oauth/introspect"),
    (["tokens", "revoke", TOKEN_ID], "DELETE", f"/api/v1/tokens/{TOKEN_ID}"),
    (["tokens", "list"], "GET", "/api/v1/tokens"),
    (["activity"], "GET", "/api/v1/activity"),
    (["whoami"], "GET", "/api/v1/me"),
], ids=["users-create", "users-show", "users-delete", "tokens-create", "tokens-info",
        "tokens-revoke", "tokens-list", "activity", "whoami"])
@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_sdk_errors_are_one_line_and_exit_1(run, requests_mock, args, method, path, status, code,
                                            text, as_json):
    requests_mock.register_uri(method, BASE + path, status_code=status,
                               json={"error": code, "error_description": text},
                               headers={"Retry-After": "999"})
    result = run(*(["--json"] if as_json else []), *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {text} ({code}, HTTP {status})\n"
    assert TOKEN_VALUE not in result.stderr and ADMIN_TOKEN not in result.stderr


def test_no_token_is_one_line(run, requests_mock):
    result = run("users", "list", env={"SCOPEGATE_TOKEN": ""})
    assert result.exit_code == 1
    assert result.stderr == ("Error: No token: set SCOPEGATE_TOKEN to your admin token (sgp_...) "
                             "or pass --token.\n")
    assert requests_mock.call_count == 0


def test_unreachable_server_is_one_line(run, requests_mock, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    requests_mock.get(BASE + "/api/v1/me", exc=requests.ConnectionError("refused"))
    result = run("whoami")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: Could not connect to Scopegate at {BASE}")


def test_bad_url_is_one_line(run):
    result = run("--url", "localhost:5000", "whoami")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Scopegate URL must look like")


def test_tokens_info_prompts_without_echo_on_a_terminal(monkeypatch):
    import io
    import sys as system

    from sdk import cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    asked = {}

    def prompt(text, hide_input=False, err=False):
        asked.update(text=text, hide_input=hide_input, err=err)
        return f" {TOKEN_VALUE} "

    monkeypatch.setattr(system, "stdin", Terminal())
    monkeypatch.setattr(cli.click, "prompt", prompt)
    assert cli._read_token(None) == TOKEN_VALUE
    assert asked == {"text": "Token", "hide_input": True, "err": True}


def test_records_lead_with_what_matters(run, requests_mock):
    requests_mock.post(BASE + "/api/v1/users/demo-user/tokens", status_code=201,
                       json=dict(sorted(TOKEN.items())))  # the server sorts keys
    out = ok(run("tokens", "create", "--user", "demo-user", "--scope", "cli")).stdout
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "token", "token_id", "user_id", "email", "scopes", "expires_at"]
