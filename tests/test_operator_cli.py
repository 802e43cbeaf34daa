"""Operator commands: from an empty database to an admin holding a token."""

import json

from tests.conftest import Api


def run(runner, *args, input=None):
    result = runner.invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_setup_from_empty_database(app, client, runner):
    assert run(runner, "init-db", "--json")["schema"] == "ok"
    assert run(runner, "create-org", "initech", "--json")["name"] == "initech"
    admin = run(runner, "create-admin", "--org", "initech", "--email", "Boss@Initech.test",
                "--json")
    assert admin == {"email": "boss@initech.test", "org": "initech", "uid": admin["uid"],
                     "role": "admin", "has_password": False}
    issued = run(runner, "issue-admin-token", "--email", "boss@initech.test", "--json")
    assert set(issued) == {"token", "token_id", "expires_at"}
    assert issued["token"].startswith("sgp_")
    assert Api(client, issued["token"]).post("/users", {"name": "bot"}).status_code == 201
    rs = run(runner, "create-resource-server", "models-service", "--json")
    assert rs["client_secret"].startswith("sgs_")


def test_password_stdin_strips_one_trailing_newline(app, runner):
    from app.models import Account, db
    from app.services.passwords import verify_password

    run(runner, "create-org", "initech", "--json")
    run(runner, "create-admin", "--org", "initech", "--email", "a@initech.test",
        "--password-stdin", "--json", input="long pa ss phrase\n\n")
    with app.app_context():
        account = db.session.scalar(db.select(Account))
        assert verify_password(account.password_hash, "long pa ss phrase\n")
        assert not verify_password(account.password_hash, "long pa ss phrase")


def test_password_stdin_enforces_the_minimum_length(app, runner):
    run(runner, "create-org", "initech", "--json")
    result = runner.invoke(args=["create-admin", "--org", "initech", "--email", "a@initech.test",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert "short" not in result.output.replace("at least", "")
    with app.app_context():
        from app.models import Account, db

        assert db.session.scalar(db.select(Account).where(
            Account.email == "a@initech.test")) is None


def test_admin_token_lifetime_above_365_days_is_refused(runner, org):
    result = runner.invoke(args=["issue-admin-token", "--email", org.admin_email,
                                 "--expires-in", str(366 * 86400)])
    assert result.exit_code != 0
    assert "maximum lifetime" in result.output
    assert "Traceback" not in result.output


def test_an_existing_organization_name_is_named_in_the_error(runner, org):
    result = runner.invoke(args=["create-org", "acme"])
    assert result.output == "Error: An organization named 'acme' already exists.\n"


def test_errors_are_one_line_not_tracebacks(runner, org):
    for args in (["create-org", "acme"], ["create-admin", "--org", "nope", "--email", "x@y.z"],
                 ["issue-admin-token", "--email", "nobody@x.test"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert result.output.startswith("Error: ")
        assert "Traceback" not in result.output


def test_purge_expired_removes_old_dead_tokens(app, api, runner, scoped_token):
    from sqlalchemy import update

    from app.models import Token, db

    api.delete(f"/tokens/{scoped_token['token_id']}")
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == scoped_token["token_id"])
                           .values(revoked_at=1))
        db.session.commit()
    out = run(runner, "purge-expired", "--json")
    assert out["removed"] == 1
    assert api.get(f"/tokens/{scoped_token['token_id']}").status_code == 404
    assert api.get("/users").status_code == 200  # the admin's live token survived
