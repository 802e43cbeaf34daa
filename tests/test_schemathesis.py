"""Schemathesis, the real one, over the served OpenAPI document against a
live server with an admin's token: coverage, fuzzing and stateful phases;
no 5xx, only documented statuses and content types, bodies matching their
schemas.

``SCOPEGATE_SCHEMATHESIS`` picks the run: ``ci`` (default; fixed seed, about
a minute on two cores), ``fuzz`` (``make fuzz``: random seed, many more
examples) or ``off``. ``SCOPEGATE_SCHEMATHESIS_SEED`` replays a seed a fuzz run
printed (``Seed: ...``). It runs once, on SQLite: what it probes is HTTP input
handling, which does not depend on the store, and the PostgreSQL half of
``make test`` already covers the storage paths.
"""

import os
import subprocess

import pytest

from tests.conftest import ROOT, VENV_BIN, launch_live_server, stop_server

MODE = os.environ.get("SCOPEGATE_SCHEMATHESIS", "ci")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")
RUNS = {
    "ci": ["--seed", "20261130", "--max-examples", "30", "--workers", "1",
           "--generation-database", "none"],
    "fuzz": ["--max-examples", "500", "--workers", "2", "--generation-database", "none"],
}
if os.environ.get("SCOPEGATE_SCHEMATHESIS_SEED"):  # replaces the run's own seed, if any
    for run in RUNS.values():
        if "--seed" in run:
            del run[run.index("--seed"):run.index("--seed") + 2]
        run += ["--seed", os.environ["SCOPEGATE_SCHEMATHESIS_SEED"]]

pytestmark = [
    pytest.mark.skipif(MODE == "off", reason="SCOPEGATE_SCHEMATHESIS=off"),
    pytest.mark.skipif(bool(os.environ.get("SCOPEGATE_TEST_DATABASE_URL")),
                       reason="runs once, on SQLite (see the module docstring)"),
]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    server = launch_live_server(tmp_path_factory.mktemp("schemathesis"),
                                SCOPEGATE_RATE_LIMITS="off")
    yield server
    stop_server(server.process)


def test_schemathesis_finds_no_failure(target, tmp_path):
    env = {**target.env, "PYTHONPATH": str(ROOT),
           "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
           "SCOPEGATE_SCHEMATHESIS_ADMIN": target.admin_email}
    command = [str(VENV_BIN / "st"), "run", f"{target.url}/api/v1/openapi.json",
               "--checks", CHECKS, "--phases", "coverage,fuzzing,stateful",
               "--no-color", "--report-dir", str(tmp_path), *RUNS[MODE]]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=1800 if MODE == "fuzz" else 600)
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
    # app.errors' one-line report of a failure (generated query values can say "unexpected")
    assert "unexpected request_id=" not in target.log_path.read_text()
