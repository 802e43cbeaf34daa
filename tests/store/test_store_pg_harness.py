"""The PostgreSQL half is never skipped silently: without the binaries
tests/pg.py prints a banner and exits 0 locally, 1 under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def run_harness(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "tests/pg.py", "--", sys.executable, "-c", "pass"],
                          cwd=ROOT, env={**environ, **env}, capture_output=True, text=True,
                          timeout=60)


def test_missing_binaries_skip_loudly_locally():
    result = run_harness(SCOPEGATE_PG_BIN="/nonexistent")
    assert result.returncode == 0
    assert "PostgreSQL half of the test suite SKIPPED" in result.stderr


def test_missing_binaries_fail_under_ci():
    result = run_harness(SCOPEGATE_PG_BIN="/nonexistent", CI="true")
    assert result.returncode == 1
    assert "SKIPPED" in result.stderr and "CI=true" in result.stderr
