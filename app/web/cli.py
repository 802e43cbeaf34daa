"""``flask --app wsgi setup-link``: the first-run link `make run` prints."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from app.services import setup


@click.command("setup-link")
@click.option("--base-url", default=None,
              help="Public base URL of the dashboard (default: SCOPEGATE_ISSUER).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_appcontext
def setup_link(base_url: str | None, as_json: bool) -> None:
    """Print a one-time setup link while no admin exists (a new one each run)."""
    code = setup.issue()
    base = (base_url or current_app.config["SCOPEGATE_ISSUER"]).rstrip("/")
    url = f"{base}/setup/{code}" if code else None
    if as_json:
        click.echo(json.dumps({"setup_needed": code is not None, "url": url}))
    elif url:
        hours = current_app.config["SCOPEGATE_SETUP_CODE_LIFETIME"] // 3600
        click.echo(f"\n  No admin exists yet. Open this one-time setup link to create the\n"
                   f"  organization and the first admin (valid once, for {hours} h):\n\n"
                   f"    {url}\n")
    else:
        click.echo("Setup done: an admin exists (sign in at /login).")
