"""Examples in the docs run as written, against a live server (only the
placeholders a reader replaces are replaced)."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from tests.conftest import ROOT


def example(containing: str, language: str = "python") -> str:
    """The one ```language block of README.md or docs/*.md that holds ``containing``."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S):
            if containing in block:
                found.append(block)
    assert len(found) == 1, f"{len(found)} {language} examples hold {containing!r}"
    return found[0]


def _run(command: list[str], env: dict) -> str:
    run = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_readme_walkthrough_runs_verbatim_with_the_sdk(live_server):
    env = {**live_server.env, "SCOPEGATE_TOKEN": live_server.admin_token,
           "SCOPEGATE_URL": live_server.url}
    # Verbatim, but for the user's name: the live server is shared with other tests.
    code = example("connect_to_auth_client(token=IAI_TOKEN)").replace("demo-user", "readme-sdk")
    out = _run([sys.executable, "-c", code], env)
    assert "'token_id':" in out and "sgt_…" in out  # printed, the token itself hidden


def test_readme_walkthrough_runs_verbatim_with_the_cli(live_server):
    env = {**live_server.env, "SCOPEGATE_TOKEN": live_server.admin_token,
           "SCOPEGATE_URL": live_server.url}
    script = example(".venv/bin/scopegate users create", "sh").replace("demo-user", "readme-cli")
    out = _run(["bash", "-euo", "pipefail", "-c", script], env)
    assert "readme-cli" in out and "token.create" in out


def test_requests_oauthlib_example_works_on_local_http(live_server, tmp_path):
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    requests.post(f"{live_server.url}/api/v1/users", json={"name": "docs-oauthlib"},
                  headers=headers, timeout=10)
    creds = requests.post(f"{live_server.url}/api/v1/users/docs-oauthlib/credentials",
                          headers=headers, timeout=10).json()
    code = (example("requests_oauthlib")
            .replace("f1bd9ff87c@scopegate.local", creds["client_id"])
            .replace("sgs_…", creds["client_secret"])
            .replace("http://127.0.0.1:5000", live_server.url))
    env = {k: v for k, v in live_server.env.items() if k != "OAUTHLIB_INSECURE_TRANSPORT"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("2592000")
