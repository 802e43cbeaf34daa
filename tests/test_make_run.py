"""`make run` as a new user meets it: the issuer follows PORT and HOST, and
the output is quiet (one secret-key warning, no installer notices, no token
from a mistyped URL)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port

MAKE = ["make", "--no-print-directory", "-C", str(ROOT)]


def _env(**changes: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SCOPEGATE_ISSUER", "SCOPEGATE_SECRET_KEY", "MAKEFLAGS", "MFLAGS")}
    env.update(changes)
    return env


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def fake_flask(tmp_path):
    """A `flask` that prints the issuer it was given: the Makefile's logic, in milliseconds."""
    _script(tmp_path / "flask", 'echo "flask $* ISSUER=$SCOPEGATE_ISSUER"\n')

    def run(*args: str, **env: str) -> str:
        result = subprocess.run(
            [*MAKE, "-o", ".venv/.installed", "run", f"BIN={tmp_path}", *args],
            env=_env(SCOPEGATE_DATABASE_URL=f"sqlite:///{tmp_path}/db", **env),
            capture_output=True, text=True, timeout=60, check=True)
        return result.stdout

    return run


@pytest.mark.parametrize(("args", "env", "issuer"), [
    ((), {}, "http://127.0.0.1:5000"),
    (("PORT=5731",), {}, "http://127.0.0.1:5731"),
    (("HOST=localhost", "PORT=8080"), {}, "http://localhost:8080"),
    (("HOST=0.0.0.0", "PORT=8080"), {}, "http://127.0.0.1:8080"),
    (("PORT=5731",), {"SCOPEGATE_ISSUER": "https://auth.example.com"},
     "https://auth.example.com"),
])
def test_make_run_issuer_follows_host_and_port_unless_set(fake_flask, args, env, issuer):
    out = fake_flask(*args, **env)
    lines = [line for line in out.splitlines() if line.startswith("flask ")]
    assert [line.split(" ISSUER=")[1] for line in lines] == [issuer] * 3
    assert "setup-link" in lines[1] and "--base-url" not in lines[1]  # the link follows too


def test_installer_notices_stay_out_of_make_output_unless_it_fails(tmp_path):
    venv = tmp_path / "venv"
    # A `python -m venv` whose pip prints setuptools' editable-install notice.
    python = _script(tmp_path / "python", """mkdir -p "$3/bin"
cat > "$3/bin/pip" <<'PIP'
#!/bin/sh
echo "BuildBackendWarning: Editable installation." >&2
exit ${PIP_FAIL:-0}
PIP
chmod +x "$3/bin/pip"
""")
    make = [*MAKE, "venv", f"PYTHON={python}", f"VENV={venv}"]
    quiet = subprocess.run(make, env=_env(), capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0, quiet.stderr
    assert "Editable installation" not in quiet.stdout + quiet.stderr
    (venv / ".installed").unlink()
    failed = subprocess.run(make, env=_env(PIP_FAIL="1"), capture_output=True, text=True,
                            timeout=60)
    assert failed.returncode != 0
    assert "Editable installation" in failed.stdout + failed.stderr


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """The real `make run PORT=...` on an empty database; yields its URL and output file."""
    tmp = tmp_path_factory.mktemp("make-run")
    port, out = free_port(), tmp / "out.txt"
    with open(out, "wb") as sink:
        process = subprocess.Popen(
            [*MAKE, "-o", ".venv/.installed", "run", f"PORT={port}"],
            env=_env(SCOPEGATE_DATABASE_URL=f"sqlite:///{tmp}/scopegate.db"),
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.poll() is None, out.read_text()
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url, out
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_make_run_serves_discovery_with_its_own_port_as_issuer(make_run):
    url, out = make_run
    meta = requests.get(f"{url}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == url
    assert meta["token_endpoint"] == f"{url}/oauth/token"
    assert f"{url}/setup/" in out.read_text()


def test_make_run_warns_about_the_secret_key_once(make_run):
    url, out = make_run
    requests.get(f"{url}/healthz", timeout=5)
    assert out.read_text().count("SCOPEGATE_SECRET_KEY is the development default") == 1


def test_make_run_request_log_holds_no_token_sent_in_a_path(make_run):
    url, out = make_run
    token = "sgt_" + "Q7" * 19 + "x"
    answer = requests.delete(f"{url}/api/v1/tokens/{token}", timeout=5)
    assert answer.status_code == 401 and token not in answer.text
    time.sleep(0.3)
    log = out.read_text()
    assert "DELETE /api/v1/tokens/sgt_[redacted]" in log
    assert token not in log
