"""A throwaway PostgreSQL server for the tests, from the Debian `postgresql`
package's binaries (``/usr/lib/postgresql/<version>/bin``), in a temporary
directory, on a free port of 127.0.0.1; removed when done.

As a library (``Cluster``) the store tests start extra servers with it (to
stop one under a running app). As a program it runs a command with the
suite pointed at a fresh server, which is how ``make test`` runs the whole
suite a second time on PostgreSQL::

    python tests/pg.py -- .venv/bin/pytest

``--durable`` (before ``--``) keeps fsync on, for benchmarks (``BENCH_DB=postgres``).

It sets ``SCOPEGATE_TEST_DATABASE_URL`` (the ``app`` fixture's database),
``SCOPEGATE_TEST_LIVE_DATABASE_URL`` (the ``live_server`` fixture's) and
``SCOPEGATE_TEST_PG_URL`` (the maintenance database, for tests that create
databases of their own). Without the binaries it prints a loud banner and
exits 0 -- unless ``CI=true``, where a skipped PostgreSQL half is a failure
(exit 1). ``initdb`` refuses to run as root: as root the server runs as the
``postgres`` user (``nobody`` where that does not exist).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

#: Speed over crash safety: fsync off only matters when the *machine* crashes,
#: never when a process (ours or PostgreSQL's) is killed.
SERVER_OPTIONS = ("-c fsync=off -c full_page_writes=off -c max_connections=300 "
                  "-c shared_buffers=32MB")
#: For benchmarks (``--durable``): PostgreSQL's own crash-safe defaults, so a
#: measured commit costs what it costs in production.
DURABLE_OPTIONS = "-c max_connections=300 -c shared_buffers=128MB"


def find_bindir() -> str | None:
    """Where initdb and pg_ctl are: $SCOPEGATE_PG_BIN (then only there), else
    the newest Debian version, else the PATH."""
    override = os.environ.get("SCOPEGATE_PG_BIN", "")
    if override:
        candidates = [override]
    else:
        def version(path: str) -> int:
            name = path.split("/")[-2]
            return int(name) if name.isdigit() else 0

        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
        if shutil.which("initdb"):
            candidates.append(os.path.dirname(shutil.which("initdb")))
    for directory in candidates:
        if all(os.path.exists(os.path.join(directory, p)) for p in ("initdb", "pg_ctl")):
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The user the server runs as: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


class Cluster:
    """One PostgreSQL server in a temporary directory."""

    def __init__(self, bindir: str | None = None, options: str = SERVER_OPTIONS):
        self.options = options
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found")
        self.user = _run_as()
        self.dir = tempfile.mkdtemp(prefix="scopegate-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = _free_port()
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.dir, 0o755)
        self._pg("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-sync", "--no-instructions")
        self.start()

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            [os.path.join(self.bindir, program), *args], cwd=self.dir,
            env={"PATH": os.environ.get("PATH", ""), "HOME": self.dir, "LC_ALL": "C.UTF-8"},
            capture_output=True, text=True, check=check, timeout=120, **kwargs)

    def start(self) -> None:
        """Start (or restart) the server on the same port and data."""
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   f"{self.options}")
        result = self._pg("pg_ctl", "start", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                          "-o", options, check=False)
        if result.returncode != 0:
            tail = Path(self.log).read_text()[-2000:] if os.path.exists(self.log) else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{tail}")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "stop", "-D", self.data, "-m", mode, "-w", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        execute(self.url(), f'CREATE DATABASE "{name}"')
        return self.url(name)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def execute(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def create_database(maintenance_url: str, name: str | None = None) -> str:
    """A new empty database on the server of ``maintenance_url``; its URL."""
    name = name or f"t_{uuid.uuid4().hex[:12]}"
    execute(maintenance_url, f'CREATE DATABASE "{name}"')
    return maintenance_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    maintenance, name = url.rsplit("/", 1)
    execute(maintenance + "/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BANNER = """
##########################################################################
#  PostgreSQL half of the test suite SKIPPED: no PostgreSQL binaries      #
#  (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH.              #
#  Install them (Debian: apt-get install -y postgresql) to run it.        #
#  With CI=true this is a failure.                                        #
##########################################################################
"""


def main(argv: list[str]) -> int:
    durable = "--durable" in argv[: argv.index("--")] if "--" in argv else False
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print("usage: python tests/pg.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if find_bindir() is None:
        print(BANNER, file=sys.stderr)
        return 1 if os.environ.get("CI", "").lower() in ("true", "1", "yes") else 0
    started = time.monotonic()
    cluster = Cluster(options=DURABLE_OPTIONS if durable else SERVER_OPTIONS)
    # A SIGTERM (a CI timeout) still removes the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        env = {
            **os.environ,
            "SCOPEGATE_TEST_DATABASE_URL": cluster.create_database("scopegate_test"),
            "SCOPEGATE_TEST_LIVE_DATABASE_URL": cluster.create_database("scopegate_live"),
            "SCOPEGATE_TEST_PG_URL": cluster.url(),
        }
        print(f"== PostgreSQL ({cluster.bindir}) on 127.0.0.1:{cluster.port}, "
              f"up in {time.monotonic() - started:.1f}s: {' '.join(argv)}", file=sys.stderr)
        return subprocess.run(argv, env=env).returncode
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
