"""The sample notebook ships inside the package and shows the documented walkthrough.

(Its execution against a live server is in test_e2e.py.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = resources.files("sdk") / "sample_notebook" / "scopegate_auth.ipynb"


def test_notebook_is_valid_and_has_the_walkthrough():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.reads(NOTEBOOK.read_text(), as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for line in [
        "from sdk.auth import connect_to_auth_client",
        "from sdk.auth.scopes import Scope",
        'IAI_TOKEN = os.environ.get("SCOPEGATE_TOKEN")',
        "auth_client = connect_to_auth_client(token=IAI_TOKEN)",
        "user = auth_client.create_user(user_name)",
        "token = auth_client.create_token(user_id=user_name, "
        "scopes=[Scope.create_session, Scope.read_user_session])",
        "print(token)",
        'auth_client.token_info(token["token"])',
        'auth_client.revoke_token(token["token_id"])',
        "auth_client.delete_user(user_name)",
    ]:
        assert line in code
    assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 6
    # Shipped clean: no outputs, and never a token.
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    for prefix in ("sgp_", "sgt_", "sgs_"):
        assert f'"{prefix}' not in NOTEBOOK.read_text()


def test_the_wheel_contains_the_notebook(tmp_path):
    # Build from a copy: no build/ directory in the checkout, no stale files in the wheel.
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "sdk", source / "sdk",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (source / "README.md").write_text("Scopegate\n")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(source)],
        capture_output=True, text=True, timeout=300,
    )
    if build.returncode != 0:  # e.g. no package index to fetch the build backend from
        pytest.skip(f"cannot build a wheel here: {build.stderr[-300:]}")
    (wheel,) = tmp_path.glob("scopegate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sdk/sample_notebook/scopegate_auth.ipynb" in names
    assert "sdk/cli.py" in names and "sdk/auth/client.py" in names
    assert not any(n.startswith(("app/", "tests/")) for n in names)
