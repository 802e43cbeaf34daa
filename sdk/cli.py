"""The ``scopegate`` command: the SDK for shells and scripts.

Every command maps to one SDK call. Output is a readable table or record by
default and the server's JSON with ``--json``. Any failure prints one line
(``Error: ...``) on stderr and exits with status 1 (2 for usage errors).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from sdk import __version__
from sdk.auth.client import DEFAULT_URL, TOKEN_ENV, URL_ENV, AuthClient, connect_to_auth_client
from sdk.auth.exceptions import ScopegateError
from sdk.auth.redaction import looks_like_secret, printable
from sdk.auth.scopes import CATALOG

__all__ = ["main"]

_LOG_FORMAT = "%(asctime)s:%(levelname)s:%(message)s"
_LOG_DATEFMT = "%m/%d/%Y %H:%M:%S"


class SDKFailure(click.ClickException):
    """An SDK call failed: click prints ``Error: <message>`` and exits with 1."""

    exit_code = 1


class _Group(click.Group):
    """A group that turns any SDK exception into a one-line CLI error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ScopegateError as exc:
            raise SDKFailure(" ".join(str(exc).split())) from None


class _EchoHandler(logging.Handler):
    """Writes SDK log records to the current stderr (as click sees it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:  # logging must never break a command
            self.handleError(record)


class State:
    """Global options, and the SDK client made from them on first use."""

    def __init__(
        self, url: str, token: str | None, as_json: bool, timeout: float, insecure: bool
    ) -> None:
        self.url = url
        self.token = token
        self.as_json = as_json
        self.timeout = timeout
        self.insecure = insecure
        self._client: AuthClient | None = None

    @property
    def client(self) -> AuthClient:
        if self._client is None:
            if not (self.token or "").strip():
                raise SDKFailure(f"No token: set {TOKEN_ENV} to your admin token (sgp_...) "
                                 "or pass --token.")
            self._client = connect_to_auth_client(
                token=self.token, url=self.url, timeout=self.timeout, verify=not self.insecure
            )
        return self._client


pass_state = click.make_pass_decorator(State)


def _json_here(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_object(State).as_json = True


# `--json` is accepted after the command too (`scopegate tokens list --json`),
# where people tend to type it.
json_option = click.option("--json", is_flag=True, expose_value=False, callback=_json_here,
                           help="Print the server's JSON instead of tables.")


# -- parameter types -------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Duration(click.ParamType):
    """Seconds, or a number with a unit: 90m, 12h, 7d, 2w."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(value).lower())
        if not match or int(match[1]) == 0:
            self.fail(f"{value!r} is not a duration such as 3600, 90m, 12h or 7d.", param, ctx)
        return int(match[1]) * _UNITS[match[2] or "s"]


class When(click.ParamType):
    """An ISO 8601 time (UTC unless it says otherwise), or a duration ago (1h, 7d)."""

    name = "time"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        if re.fullmatch(r"\d+\s*[smhdw]", text.lower()):
            ago = Duration().convert(text, param, ctx)
            try:
                return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ago)
            except OverflowError:
                self.fail(f"{value!r} reaches back before the year 1.", param, ctx)
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time (2024-05-01T12:00:00Z) "
                      "nor a duration ago (90m, 12h, 7d).", param, ctx)
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# -- output ----------------------------------------------------------------


def _when(value: Any) -> str:
    """A timestamp (ISO string or epoch seconds) as ``YYYY-MM-DD HH:MM:SSZ``."""
    if value in (None, ""):
        return "-"
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            when = dt.datetime.fromtimestamp(value, dt.UTC)
        else:
            when = dt.datetime.fromisoformat(str(value))
            when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    except (ValueError, OverflowError, OSError):
        return _plain(value)
    return when.strftime("%Y-%m-%d %H:%M:%SZ")


def _plain(value: Any) -> str:
    """A value as table or record text; what the server sent cannot steer the terminal."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " ".join(_plain(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value)
    return printable(str(value))


def _scope_list(value: Any) -> str:
    names = value.split() if isinstance(value, str) else list(value or [])
    if names and set(names) == set(CATALOG):
        return f"all ({len(names)})"
    return ",".join(names) or "-"


def _flatten(data: dict, prefix: str = "") -> dict:
    """Nested objects as dotted keys (``token.expires_at``)."""
    flat: dict = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _record(data: dict, times: Iterable[str] = (), first: Sequence[str] = ()) -> None:
    """Print a dict as aligned ``key: value`` lines, the ``first`` keys leading."""
    times = set(times)
    ordered = {k: data[k] for k in first if k in data}
    ordered.update((k, v) for k, v in data.items() if k not in ordered)
    flat = _flatten(ordered)
    width = max((len(k) for k in flat), default=0)
    for key, value in flat.items():
        is_time = key.rsplit(".", 1)[-1] in times
        shown = _when(value) if is_time and value is not None else _plain(value)
        click.echo(f"{printable(key) + ':':<{width + 1}} {shown}")


def _table(rows: Sequence[dict], columns: Sequence[tuple[str, Callable[[dict], Any]]],
           empty: str) -> None:
    """Print rows under upper-case headers, columns padded to their widest cell."""
    if not rows:
        click.echo(empty)
        return
    cells = [[h for h, _ in columns]]
    cells += [[_plain(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for line in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def _person(name: str | None, uid: str | None, shared: bool | None) -> str | None:
    """A user as tables show it: by name, with the unique ID when the name has
    belonged to several users (a deleted user's name can be reused)."""
    if not name:
        return uid
    return f"{name} ({uid}, a reused name)" if shared and uid else name


def _emit(state: State, data: Any, human: Callable[[Any], None]) -> None:
    if state.as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        human(data)


def _token_status(meta: dict) -> str:
    if meta.get("revoked_at"):
        return "revoked"
    expires = meta.get("expires_at")
    if expires:
        try:
            when = dt.datetime.fromisoformat(str(expires))
            when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
            if when <= dt.datetime.now(dt.UTC):
                return "expired"
        except ValueError:
            pass
    return "active"


_USER_TIMES = ("created_at",)
_TOKEN_TIMES = ("created_at", "expires_at", "revoked_at", "last_used_at")
# What a reader looks for first in each kind of record (the server sorts keys).
_USER_FIRST = ("name", "email", "user_type", "active", "scopes")
_NEW_TOKEN_FIRST = ("token", "token_id", "user_id", "email", "scopes", "expires_at")
_TOKEN_FIRST = ("token_id", "kind", "user_id", "email", "scopes", "active", "expires_at",
                "clamped", "message")
_INFO_FIRST = ("active", "user_id", "email", "scope", "token_id", "user_type", "role",
               "customer", "exp", "iat")
_ME_FIRST = ("user_id", "email", "sub", "user_type", "role", "customer", "scopes")


# -- the command group -----------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar=URL_ENV, default=DEFAULT_URL, show_default=True, show_envvar=True,
              help="Base URL of the Scopegate server.")
@click.option("--token", envvar=TOKEN_ENV, show_envvar=True, metavar="TOKEN",
              help="Admin token (sgp_...). Prefer the environment variable: "
                   "other local users can read command lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's JSON instead of tables.")
@click.option("--timeout", type=click.FloatRange(min=0, max=86400, min_open=True), default=10.0,
              show_default=True, help="Most seconds a call may take, retries included.")
@click.option("--insecure", is_flag=True,
              help="Do not verify the server's TLS certificate (testing only).")
@click.option("-v", "--verbose", is_flag=True, help="Show the SDK's log lines on stderr.")
@click.version_option(__version__, "-V", "--version", prog_name="scopegate")
@click.pass_context
def main(ctx: click.Context, url: str, token: str | None, as_json: bool, timeout: float,
         insecure: bool, verbose: bool) -> None:
    """Manage Scopegate machine users, scoped tokens, people and activity.

    Set SCOPEGATE_TOKEN to your admin token and, unless the server runs at
    the default address, SCOPEGATE_URL. Every command has --help.
    """
    ctx.obj = State(url, token, as_json, timeout, insecure)
    if verbose:
        sdk_logger = logging.getLogger("sdk")
        handler = _EchoHandler()
        handler.setFormatter(logging.Formatter(_LOG_FORMAT, _LOG_DATEFMT))
        level = sdk_logger.level
        sdk_logger.addHandler(handler)
        sdk_logger.setLevel(logging.INFO)

        def restore() -> None:  # main() may run again in the same process (tests)
            sdk_logger.removeHandler(handler)
            sdk_logger.setLevel(level)

        ctx.call_on_close(restore)


_scope_choice = click.Choice(CATALOG)
_SCOPE_NAMES = ", ".join(CATALOG)


# -- users -----------------------------------------------------------------


@main.group()
def users() -> None:
    """Create, list, show and delete machine users."""


def _show_user(user: dict) -> None:
    _record(user, _USER_TIMES, _USER_FIRST)


@users.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=_scope_choice, metavar="SCOPE",
              help=f"A scope the user may be given (repeat; default: the whole catalog): "
                   f"{_SCOPE_NAMES}.")
@json_option
@pass_state
def users_create(state: State, name: str, scopes: tuple[str, ...]) -> None:
    """Create machine user NAME and print its generated unique ID."""
    user = state.client.create_user(name, scopes=list(scopes) or None)
    _emit(state, user, _show_user)


@users.command("list")
@json_option
@pass_state
def users_list(state: State) -> None:
    """List the organization's users."""
    rows = state.client.list_users()
    _emit(state, rows, lambda rows: _table(rows, [
        ("NAME", lambda u: u.get("name")),
        ("EMAIL", lambda u: u.get("email")),
        ("TYPE", lambda u: u.get("user_type")),
        ("ACTIVE", lambda u: u.get("active")),
        ("SCOPES", lambda u: _scope_list(u.get("scopes"))),
        ("CREATED_BY", lambda u: u.get("created_by_name") or u.get("created_by")),
        ("CREATED_AT", lambda u: _when(u.get("created_at"))),
    ], "No users."))


@users.command("show")
@click.argument("name")
@json_option
@pass_state
def users_show(state: State, name: str) -> None:
    """Show one user."""
    _emit(state, state.client.get_user(name), _show_user)


@users.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def users_delete(state: State, name: str, yes: bool) -> None:
    """Delete machine user NAME and revoke all its tokens."""
    if not yes:
        click.confirm(f"Delete machine user {name!r} and revoke all its tokens?", abort=True,
                      err=True)
    state.client.delete_user(name)
    _emit(state, {"name": name, "deleted": True},
          lambda _: click.echo(f"Deleted machine user {name}; its tokens are revoked."))


# -- people ----------------------------------------------------------------

_PERSON_TIMES = ("created_at", "joined_at", "disabled_at", "expires_at", "invite_expires_at")
_PERSON_FIRST = ("email", "uid", "role", "status")
_role_choice = click.Choice(["admin", "member"])


def _show_person(person: dict) -> None:
    _record(person, _PERSON_TIMES, _PERSON_FIRST)


def _show_link(data: dict) -> None:
    """A person and the one-time link issued for them (shown once)."""
    _record(data, _PERSON_TIMES, _PERSON_FIRST)
    click.echo("Hand the link over yourself: it works once and is shown only now.", err=True)


@main.group()
def people() -> None:
    """Invite, list, change, disable and delete the organization's people.

    Admins manage the organization; members sign in and see only their own
    things. Disabling or deleting a person ends their sessions and tokens at once.
    """


@people.command("invite")
@click.argument("email")
@click.option("--role", type=_role_choice, default="member", show_default=True,
              help="admin (manages the organization) or member.")
@json_option
@pass_state
def people_invite(state: State, email: str, role: str) -> None:
    """Invite EMAIL and print their one-time link (valid 24 h, shown once)."""
    _emit(state, state.client.invite_person(email, role=role), _show_link)


@people.command("list")
@json_option
@pass_state
def people_list(state: State) -> None:
    """List the organization's people."""
    rows = state.client.list_people()
    _emit(state, rows, lambda rows: _table(rows, [
        ("EMAIL", lambda p: p.get("email")),
        ("UID", lambda p: p.get("uid")),
        ("ROLE", lambda p: p.get("role")),
        ("STATUS", lambda p: p.get("status")),
        ("JOINED_AT", lambda p: _when(p.get("joined_at"))),
    ], "No people."))


@people.command("show")
@click.argument("email")
@json_option
@pass_state
def people_show(state: State, email: str) -> None:
    """Show one person (by email or unique ID)."""
    _emit(state, state.client.get_person(email), _show_person)


@people.command("role")
@click.argument("email")
@click.argument("role", type=_role_choice)
@json_option
@pass_state
def people_role(state: State, email: str, role: str) -> None:
    """Give EMAIL the ROLE admin or member (their personal tokens are revoked)."""
    _emit(state, state.client.update_person(email, role=role), _show_person)


@people.command("disable")
@click.argument("email")
@json_option
@pass_state
def people_disable(state: State, email: str) -> None:
    """Disable EMAIL: their sessions and tokens end now; they cannot sign in."""
    _emit(state, state.client.update_person(email, disabled=True), _show_person)


@people.command("enable")
@click.argument("email")
@json_option
@pass_state
def people_enable(state: State, email: str) -> None:
    """Enable EMAIL again (their old tokens stay revoked)."""
    _emit(state, state.client.update_person(email, disabled=False), _show_person)


@people.command("delete")
@click.argument("email")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def people_delete(state: State, email: str, yes: bool) -> None:
    """Delete EMAIL: their sessions and tokens end now."""
    if not yes:
        click.confirm(f"Delete {email} and end their sessions and tokens?", abort=True, err=True)
    state.client.delete_person(email)
    _emit(state, {"email": email, "deleted": True},
          lambda _: click.echo(f"Deleted {email}; their sessions and tokens ended."))


@people.command("reset-link")
@click.argument("email")
@json_option
@pass_state
def people_reset_link(state: State, email: str) -> None:
    """Print a new one-time link for EMAIL to choose a password (their previous link dies)."""
    _emit(state, state.client.reset_password_link(email), _show_link)


@people.command("token")
@click.argument("email")
@click.option("--name", help="A label for the token.")
@click.option("--expires-in", type=Duration(),
              help="Lifetime: seconds or 90m, 12h, 7d (default 90 days, at most 365).")
@json_option
@pass_state
def people_token(state: State, email: str, name: str | None, expires_in: int | None) -> None:
    """Issue a personal token to member EMAIL (or yourself); shown only once."""
    token = state.client.create_person_token(email, name=name, expires_in=expires_in)

    def human(data: dict) -> None:
        _record(data, _TOKEN_TIMES, ("token", "token_id", "email", "role", "expires_at"))
        click.echo("Save the token now: it is shown only once.", err=True)

    _emit(state, token, human)


# -- credentials -----------------------------------------------------------


@main.group()
def credentials() -> None:
    """Client credentials for machine users.

    A machine user holding a client_id and client_secret can make standard
    OAuth 2.0 client_credentials requests to /oauth/token itself.
    """


@credentials.command("create")
@click.argument("name")
@json_option
@pass_state
def credentials_create(state: State, name: str) -> None:
    """Give machine user NAME a new client secret (replacing the previous one)."""
    creds = state.client.create_client_credentials(name)

    def human(data: dict) -> None:
        _record(data, first=("client_id", "client_secret"))
        click.echo("Save the client secret now: it is shown only once.", err=True)

    _emit(state, creds, human)


# -- apps ------------------------------------------------------------------


@main.group()
def apps() -> None:
    """Apps people sign in to with Scopegate (OpenID Connect clients)."""


def _show_app(app: dict) -> None:
    _record(app, ("created_at", "secret_rotated_at"),
            first=("client_id", "client_secret", "name", "public", "redirect_uris"))
    if app.get("client_secret"):
        click.echo("Save the client secret now: it is shown only once.", err=True)


@apps.command("create")
@click.argument("name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True, metavar="URI",
              help="Where the app receives codes, matched exactly (repeat for several).")
@click.option("--public", is_flag=True, help="A public app: no secret, PKCE only.")
@json_option
@pass_state
def apps_create(state: State, name: str, redirect_uris: tuple[str, ...], public: bool) -> None:
    """Register app NAME; prints its client_id (and secret, once)."""
    _emit(state, state.client.create_app(name, list(redirect_uris), public=public), _show_app)


@apps.command("list")
@json_option
@pass_state
def apps_list(state: State) -> None:
    """List the organization's apps."""
    rows = state.client.list_apps()
    _emit(state, rows, lambda rows: _table(rows, [
        ("CLIENT_ID", lambda a: a.get("client_id")),
        ("NAME", lambda a: a.get("name")),
        ("TYPE", lambda a: "public" if a.get("public") else "confidential"),
        ("REDIRECT_URIS", lambda a: " ".join(a.get("redirect_uris") or [])),
        ("CREATED_AT", lambda a: _when(a.get("created_at"))),
    ], "No apps."))


@apps.command("show")
@click.argument("client_id")
@json_option
@pass_state
def apps_show(state: State, client_id: str) -> None:
    """Show one app."""
    _emit(state, state.client.get_app(client_id), _show_app)


@apps.command("rotate-secret")
@click.argument("client_id")
@json_option
@pass_state
def apps_rotate_secret(state: State, client_id: str) -> None:
    """Give app CLIENT_ID a new secret (the previous one stops working)."""
    _emit(state, state.client.rotate_app_secret(client_id), _show_app)


@apps.command("delete")
@click.argument("client_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def apps_delete(state: State, client_id: str, yes: bool) -> None:
    """Delete app CLIENT_ID and revoke every token issued to it."""
    if not yes:
        click.confirm(f"Delete app {client_id!r} and revoke every token issued to it?",
                      abort=True, err=True)
    state.client.delete_app(client_id)
    _emit(state, {"client_id": client_id, "deleted": True},
          lambda _: click.echo(f"Deleted app {client_id}; its tokens are revoked."))


# -- tokens ----------------------------------------------------------------


@main.group()
def tokens() -> None:
    """Create, list, inspect, revoke and renew tokens."""


@tokens.command("create")
@click.option("--user", "user", required=True, help="Name of the machine user.")
@click.option("--scope", "scopes", multiple=True, required=True, type=_scope_choice,
              metavar="SCOPE", help=f"A scope to grant (repeat for several): {_SCOPE_NAMES}.")
@click.option("--expires-in", type=Duration(),
              help="Lifetime: seconds or 90m, 12h, 7d (default and maximum: 30 days).")
@json_option
@pass_state
def tokens_create(state: State, user: str, scopes: tuple[str, ...],
                  expires_in: int | None) -> None:
    """Create a scoped token for a machine user and print it (shown only once)."""
    token = state.client.create_token(user_id=user, scopes=list(scopes), expires_in=expires_in)

    def human(data: dict) -> None:
        _record(data, ("expires_at",), _NEW_TOKEN_FIRST)
        click.echo("Save the token now: it is shown only once.", err=True)

    _emit(state, token, human)


@tokens.command("list")
@click.option("--user", help="Only tokens of this user (name or unique ID).")
@click.option("--active/--inactive", default=None,
              help="Only live tokens, or only expired and revoked ones (default: all).")
@click.option("--kind", type=click.Choice(["personal", "scoped"]), help="Only this kind of token.")
@json_option
@pass_state
def tokens_list(state: State, user: str | None, active: bool | None, kind: str | None) -> None:
    """List token metadata (never the tokens themselves)."""
    rows = state.client.list_tokens(user=user, active=active, kind=kind)
    _emit(state, rows, lambda rows: _table(rows, [
        ("TOKEN_ID", lambda t: t.get("token_id")),
        ("KIND", lambda t: t.get("kind")),
        ("USER", lambda t: _person(t.get("user_id"), t.get("email"), t.get("user_name_shared"))),
        ("STATUS", _token_status),
        ("SCOPES", lambda t: _scope_list(t.get("scopes"))),
        ("EXPIRES_AT", lambda t: _when(t.get("expires_at"))),
        ("LAST_USED", lambda t: _when(t.get("last_used_at"))),
    ], "No tokens."))


def _read_token(argument: str | None) -> str:
    """The token from the argument, else from stdin (a hidden prompt on a terminal)."""
    if argument not in (None, "-"):
        return argument.strip()
    stdin = sys.stdin  # CliRunner swaps sys.stdin too
    if argument is None and stdin.isatty():
        return click.prompt("Token", hide_input=True, err=True).strip()
    for line in stdin.read().splitlines():
        if line.strip():
            return line.strip()
    raise click.UsageError("No token on stdin.")


def _show_info(info: dict) -> None:
    if not info.get("active"):
        click.echo("active: no (the token is invalid, expired, revoked or unknown)")
        return
    _record(info, ("exp", "iat", "nbf"), _INFO_FIRST)


@tokens.command("info")
@click.argument("token", required=False, metavar="[TOKEN|-]")
@json_option
@pass_state
def tokens_info(state: State, token: str | None) -> None:
    """Introspect a token: is it active, whose is it, what may it do.

    Reads the token from stdin when TOKEN is "-" or missing, so that it
    need not appear on the command line:  scopegate tokens info < token.txt
    """
    value = _read_token(token)
    _emit(state, state.client.token_info(value), _show_info)


def _check_token_id(token_id: str) -> None:
    if looks_like_secret(token_id):
        raise click.BadParameter(
            "that is a token, not a token_id; find its token_id with `scopegate tokens info -` "
            "(reading the token from stdin) or `scopegate tokens list`.",
            param_hint="TOKEN_ID",
        )


@tokens.command("revoke")
@click.argument("token_id")
@json_option
@pass_state
def tokens_revoke(state: State, token_id: str) -> None:
    """Revoke the token with TOKEN_ID (already revoked is fine)."""
    _check_token_id(token_id)
    state.client.revoke_token(token_id)
    _emit(state, {"token_id": token_id, "revoked": True},
          lambda _: click.echo(f"Revoked token {token_id}."))


@tokens.command("renew")
@click.argument("token_id")
@click.option("--expires-in", type=Duration(),
              help="New lifetime from now: seconds or 90m, 12h, 7d "
                   "(never past issue time + the maximum lifespan).")
@json_option
@pass_state
def tokens_renew(state: State, token_id: str, expires_in: int | None) -> None:
    """Extend the lifetime of the token with TOKEN_ID."""
    _check_token_id(token_id)
    meta = state.client.renew_token(token_id, expires_in=expires_in)
    _emit(state, meta, lambda m: _record(m, _TOKEN_TIMES, _TOKEN_FIRST))


# -- activity, scopes, whoami ---------------------------------------------


@main.command()
@click.option("--user", "users_", multiple=True,
              help="Events where this user (name or unique ID) acted or is the subject "
                   "(repeat for several).")
@click.option("--actor", help="Only events where this user (name or unique ID) acted.")
@click.option("--action", help="Only this action, e.g. token.create or user.delete.")
@click.option("--since", type=When(), help="From this time: ISO 8601, or a duration ago (7d).")
@click.option("--until", type=When(), help="Up to this time: ISO 8601, or a duration ago (1h).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many events (newest first).")
@json_option
@pass_state
def activity(state: State, users_: tuple[str, ...], actor: str | None, action: str | None,
             since: dt.datetime | None, until: dt.datetime | None, limit: int) -> None:
    """Show the audit trail (filter by user, action, time)."""
    rows = state.client.list_activity(user=list(users_) or None, actor=actor, action=action,
                                      since=since, until=until, limit=limit)
    _emit(state, rows, lambda rows: _table(rows, [
        ("AT", lambda e: _when(e.get("at"))),
        ("ACTION", lambda e: e.get("action")),
        ("OUTCOME", lambda e: e.get("outcome")),
        ("ACTOR", lambda e: _person(e.get("actor_name"), e.get("actor"),
                                    e.get("actor_name_shared"))),
        ("SUBJECT", lambda e: _person(e.get("subject_name"), e.get("subject"),
                                      e.get("subject_name_shared"))),
        ("TARGET", lambda e: e.get("target")),
        ("IP", lambda e: e.get("ip")),
    ], "No matching events."))


def _scope_rows(data: Any) -> list[dict]:
    """The catalog as rows, whichever JSON shape the server chose."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    elif isinstance(data, dict) and "scopes" in data:
        data = data["scopes"]
    if isinstance(data, dict):
        return [{"name": k, "description": v} for k, v in data.items()]
    return [s if isinstance(s, dict) else {"name": s} for s in data or []]


@main.command()
@json_option
@pass_state
def scopes(state: State) -> None:
    """List the scopes a token can carry, with what each allows."""
    data = state.client.scopes()
    _emit(state, data, lambda d: _table(_scope_rows(d), [
        ("SCOPE", lambda s: s.get("name")),
        ("DESCRIPTION", lambda s: s.get("description")),
    ], "No scopes."))


@main.command()
@json_option
@pass_state
def whoami(state: State) -> None:
    """Show who the token in use belongs to, and its metadata."""
    _emit(state, state.client.whoami(),
          lambda me: _record(me, _TOKEN_TIMES, _ME_FIRST))
