"""Operator commands: ``flask --app wsgi <command>``. Every command takes
``--json`` for scripts; secrets are printed once and never logged."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.api.representations import iso
from app.errors import ScopegateError
from app.models import db, now
from app.services import apps, audit, callers, keys, orgs, people, tokens

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _emit(as_json: bool, data: dict, text: str) -> None:
    click.echo(json.dumps(data) if as_json else text)


def _fail(error: ScopegateError) -> None:
    raise click.ClickException(error.get_error_description() or error.error)


@click.command("init-db")
@with_appcontext
@json_option
def init_db(as_json: bool) -> None:
    """Create or upgrade the schema, and the first signing key."""
    from app.database import upgrade

    upgrade()
    created = keys.ensure_key()
    keys.ensure_key(keys.ID_TOKEN_ALG)
    resealed = keys.reseal_all()  # clear keys from before encryption, or under an old secret
    _emit(as_json, {"schema": "ok", "signing_key_created": created,
                    "signing_keys_encrypted": resealed},
          "Database ready." + (" Signing key created." if created else "")
          + (f" {resealed} signing key(s) encrypted with the current secret." if resealed
             else ""))


@click.command("create-org")
@with_appcontext
@click.argument("name")
@json_option
def create_org(name: str, as_json: bool) -> None:
    """Create an organization (a tenant)."""
    try:
        org = orgs.create_org(callers.operator(), name)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"name": org.name, "id": org.id, "created_at": iso(org.created_at)},
          f"Organization {org.name} created.")


@click.command("create-admin")
@with_appcontext
@click.option("--org", "org_name", required=True, help="Organization the admin belongs to.")
@click.option("--email", required=True, help="The admin's email (their login).")
@click.option("--password-stdin", is_flag=True,
              help="Read a dashboard password from stdin (one trailing newline stripped).")
@json_option
def create_admin(org_name: str, email: str, password_stdin: bool, as_json: bool) -> None:
    """Create a human admin account."""
    password = None
    if password_stdin:
        password = sys.stdin.read()
        if password.endswith("\n"):
            password = password[:-1]
        if not password:
            raise click.ClickException("The password read from stdin is empty.")
    try:
        org = orgs.get_org(org_name)
        account = orgs.create_admin(callers.operator(org.id), org, email, password)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"email": account.email, "org": org.name, "uid": account.uid,
                    "role": account.role, "has_password": password is not None},
          f"Admin {account.email} ({account.uid}) created in {org.name}.")


@click.command("issue-admin-token")
@with_appcontext
@click.option("--email", required=True, help="The person (admin or member) the token acts as.")
@click.option("--expires-in", type=int, default=None,
              help="Lifetime in seconds (default 90 days, max 365).")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@json_option
def issue_admin_token(email: str, expires_in: int | None, name: str, as_json: bool) -> None:
    """Issue a personal (unscoped) token for a person. Printed once.

    An admin's token carries the reserved scope ``admin``; a member's carries
    none and reaches only the member's own things."""
    try:
        account = orgs.get_account(email)
        value, token = tokens.create_personal(account, callers.operator(account.org_id),
                                              name=name, expires_in=expires_in)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"token": value, "token_id": token.token_id,
                    "expires_at": iso(token.expires_at)},
          f"{value}\n(token_id {token.token_id}, expires {iso(token.expires_at)}; "
          "shown once, store it safely)")


base_url_option = click.option(
    "--base-url", default=None,
    help="Public base URL of the dashboard for the link (default: SCOPEGATE_ISSUER).")


def _link_text(link, what: str) -> str:
    hours = current_app.config["SCOPEGATE_SETUP_CODE_LIFETIME"] // 3600
    return (f"One-time {what} link for {link.email} (works once, for {hours} h; "
            f"shown only now):\n\n    {link.url}\n")


@click.command("invite")
@with_appcontext
@click.option("--org", "org_name", required=True, help="Organization the person joins.")
@click.option("--email", required=True, help="The person's email (their sign-in name).")
@click.option("--role", required=True, type=click.Choice(people.ROLES),
              help="admin (manages the organization) or member.")
@base_url_option
@json_option
def invite(org_name: str, email: str, role: str, base_url: str | None, as_json: bool) -> None:
    """Invite a person: prints a one-time link where they choose their password."""
    try:
        org = orgs.get_org(org_name)
        account, link = people.invite(callers.operator(org.id), email, role, base_url)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"email": account.email, "role": account.role, "org": org.name,
                    "uid": account.uid, "invite_url": link.url,
                    "expires_at": iso(link.expires_at)},
          _link_text(link, "invitation"))


@click.command("reset-password")
@with_appcontext
@click.option("--email", required=True, help="The person who forgot their password.")
@base_url_option
@json_option
def reset_password(email: str, base_url: str | None, as_json: bool) -> None:
    """Print a new one-time link where a person chooses a new password
    (their previous link dies; the current password works until it is used)."""
    try:
        account = orgs.get_account(email)
        link = people.reset_link(callers.operator(account.org_id), account.uid, base_url)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"email": link.email, "purpose": link.purpose, "reset_url": link.url,
                    "expires_at": iso(link.expires_at)},
          _link_text(link, "password" if link.purpose == "reset" else "invitation"))


@click.command("create-resource-server")
@with_appcontext
@click.argument("name")
@click.option("--may-revoke", is_flag=True,
              help="Also allow it to revoke any token (incident-response tools only).")
@json_option
def create_resource_server(name: str, may_revoke: bool, as_json: bool) -> None:
    """Register a platform service allowed to introspect every organization's tokens."""
    try:
        server, secret = orgs.create_resource_server(callers.operator(), name,
                                                     may_revoke=may_revoke)
    except ScopegateError as e:
        _fail(e)
    _emit(as_json, {"client_id": server.client_id, "client_secret": secret, "name": name,
                    "may_revoke": may_revoke},
          f"client_id: {server.client_id}\nclient_secret: {secret}\n(shown once)")


@click.command("create-app")
@with_appcontext
@click.argument("name")
@click.option("--org", "org_name", required=True, help="Organization whose people the app serves.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="Where the app receives codes (exact; https except loopback). Repeatable.")
@click.option("--public", is_flag=True, help="A public app (no secret; PKCE only).")
@json_option
def create_app(name: str, org_name: str, redirect_uris: tuple[str, ...], public: bool,
               as_json: bool) -> None:
    """Register an app people sign in to (OpenID Connect). The secret is printed once."""
    try:
        org = orgs.get_org(org_name)
        app, secret = apps.create(callers.operator(org.id), name, list(redirect_uris), public)
    except ScopegateError as e:
        _fail(e)
    data = {"client_id": app.client_id, "name": app.name, "redirect_uris": app.redirect_uris,
            "public": app.public, "org": org.name}
    if secret is not None:
        data["client_secret"] = secret
    text = f"client_id: {app.client_id}" + (
        f"\nclient_secret: {secret}\n(shown once)" if secret else "\n(public app: no secret)")
    _emit(as_json, data, text)


@click.command("rotate-keys")
@with_appcontext
@json_option
def rotate_keys(as_json: bool) -> None:
    """Create a new signing key; the previous one stays published."""
    kid, dropped = keys.rotate(callers.operator())
    _emit(as_json, {"kid": kid, "removed": dropped},
          f"New signing key {kid}; removed {len(dropped)} old key(s).")


@click.command("purge-expired")
@with_appcontext
@click.option("--retention", type=int, default=None,
              help="Seconds since expiry/revocation to keep (default: setting).")
@json_option
def purge_expired(retention: int | None, as_json: bool) -> None:
    """Delete tokens expired or revoked longer ago than the retention."""
    retention = current_app.config["SCOPEGATE_PURGE_RETENTION"] if retention is None else retention
    removed = tokens.purge(retention)
    audit.record("token.purge", actor=callers.operator(), detail=f"{removed} removed")
    db.session.commit()
    _emit(as_json, {"removed": removed, "retention": retention},
          f"Removed {removed} token(s).")


@click.command("purge-audit")
@with_appcontext
@click.option("--days", type=int, default=None,
              help="Keep this many days of audit events (default: SCOPEGATE_AUDIT_RETENTION_DAYS).")
@json_option
def purge_audit(days: int | None, as_json: bool) -> None:
    """Delete audit events older than the retention (run it daily, e.g. from cron)."""
    days = current_app.config["SCOPEGATE_AUDIT_RETENTION_DAYS"] if days is None else days
    if days < 1:
        raise click.ClickException("--days must be at least 1.")
    removed = audit.purge(now() - days * 86400)
    audit.record("audit.purge", actor=callers.operator(), detail=f"{removed} removed")
    db.session.commit()
    _emit(as_json, {"removed": removed, "retention_days": days},
          f"Removed {removed} audit event(s) older than {days} day(s).")


def init_app(app: Flask) -> None:
    for command in (init_db, create_org, create_admin, issue_admin_token, invite,
                    reset_password, create_resource_server, create_app, rotate_keys,
                    purge_expired, purge_audit):
        app.cli.add_command(command)
