"""`make soak`: mixed load on two hosts sharing PostgreSQL and Redis, with slow
clients and guessers mixed in, for 30 minutes (``--seconds`` to change).

Production serving on both hosts (``python -m config.serve``: granian, rate
limits on, counters in one Redis, metrics on). Every client binds its own
loopback source address (127.0.0.x), so per-address limits see them apart as
they would see real machines:

- legitimate machine users (one address each): client_credentials tokens,
  introspection of their own tokens, revocation, on alternating hosts;
- a resource server introspecting those tokens;
- an admin: admin-API calls, and a dashboard sign-in every minute (from the
  browser that signed in before: its device cookie keeps it out of the
  guessers' lockout);
- guessers: wrong client secrets for the real client ids, wrong passwords for
  the admin's email, from other addresses;
- slow clients: 60 connections per host that send headers and stall the
  body, and 60 that send nothing, reopened every minute.

Pass: 0 errors for legitimate clients (any unexpected status, 429
included, or a timeout), and flat memory (the hosts' RSS, sampled every 30 s: the last
quarter's mean within 10 % of the second quarter's). Results: a JSON file and
a Markdown summary under bench/profiles/ (copy the numbers to
bench/RESULTS.md). Never part of `make test`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pg  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.slow_clients import close_all, idle, stalled_body  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PASSWORD = "soak-admin-password-long"
METRICS_TOKEN = "soak-metrics-token"


class SourceAdapter(HTTPAdapter):
    """Connections from one loopback address."""

    def __init__(self, source: str, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def session_from(source: str) -> requests.Session:
    s = requests.Session()
    adapter = SourceAdapter(source)
    s.mount("http://", adapter)
    return s


def login_form(session: requests.Session, url: str, email: str, password: str) -> dict:
    """The sign-in form's fields, with the CSRF token the page hands out."""
    page = session.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return {"email": email, "password": password, "csrf_token": token}


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


class Tally:
    """Outcomes per client kind; errors of legitimate clients with examples."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.errors: Counter = Counter()
        self.examples: list[str] = []
        self.latencies: dict[str, list[float]] = {}

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.counts[kind] += 1
            self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.examples) < 30:
                self.examples.append(f"{time.strftime('%H:%M:%S')} {kind}: {what[:300]}")

    def seen(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1


class Soak:
    def __init__(self, seconds: int, workers: int):
        self.seconds, self.workers = seconds, workers
        self.stop = threading.Event()
        self.tally = Tally()
        self.rss: list[dict] = []
        self.hosts: list[dict] = []

    # -- set-up ---------------------------------------------------------
    def flask(self, env: dict, *args: str, input: str | None = None) -> str:
        out = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                             env=env, capture_output=True, text=True, input=input, check=True)
        return out.stdout

    def start_host(self, env: dict, name: str, log_dir: Path) -> dict:
        port = free_port()
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the host
        process = subprocess.Popen(
            [sys.executable, "-m", "config.serve"], cwd=ROOT,
            env={**env, "SCOPEGATE_BIND": f"127.0.0.1:{port}",
                 "SCOPEGATE_WORKERS": str(self.workers),
                 "PROMETHEUS_MULTIPROC_DIR": str(log_dir / f"metrics-{name}")},
            stdout=log, stderr=log, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/readyz", timeout=2).ok:
                    return {"name": name, "url": url, "port": port, "process": process}
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not start")

    # -- load -----------------------------------------------------------
    def loop(self, fn, *args) -> None:
        while not self.stop.is_set():
            try:
                fn(*args)
            except requests.RequestException as e:
                self.tally.error(fn.__name__, f"{type(e).__name__}: {e}")
            except Exception as e:  # noqa: BLE001 - a soak records, it does not stop
                self.tally.error(fn.__name__, f"{type(e).__name__}: {e}")

    def expect(self, kind: str, response: requests.Response, *codes: int) -> bool:
        if response.status_code in codes:
            self.tally.ok(kind, response.elapsed.total_seconds())
            return True
        self.tally.error(kind, f"{response.request.method} {response.url} -> "
                               f"{response.status_code} {response.text[:200]}")
        return False

    def machine_user(self, index: int, creds: dict, rs: dict) -> None:
        """A legitimate machine user: token, introspect, sometimes revoke."""
        s = session_from(f"127.0.0.{20 + index}")
        host = self.hosts[index % 2]["url"]
        other = self.hosts[(index + 1) % 2]["url"]
        r = s.post(f"{host}/oauth/token", data={"grant_type": "client_credentials",
                                                "scope": "create_session cli"},
                   headers=basic(creds["client_id"], creds["client_secret"]), timeout=30)
        if not self.expect("token", r, 200):
            return
        token = r.json()["access_token"]
        for url in (host, other):
            r = s.post(f"{url}/oauth/introspect", data={"token": token},
                       headers=basic(creds["client_id"], creds["client_secret"]), timeout=30)
            if self.expect("introspect_own", r, 200) and not r.json().get("active"):
                self.tally.error("introspect_own", "fresh token inactive")
        r = s.post(f"{other}/oauth/introspect", data={"token": token},
                   headers=basic(rs["client_id"], rs["client_secret"]), timeout=30)
        self.expect("introspect_rs", r, 200)
        if random.random() < 0.3:
            r = s.post(f"{other}/oauth/revoke", data={"token": token},
                       headers=basic(creds["client_id"], creds["client_secret"]), timeout=30)
            if self.expect("revoke", r, 200):
                r = s.post(f"{host}/oauth/introspect", data={"token": token},
                           headers=basic(rs["client_id"], rs["client_secret"]), timeout=30)
                if self.expect("introspect_rs", r, 200) and r.json() != {"active": False}:
                    self.tally.error("revoke", "revoked token still active on the other host")
        self.stop.wait(0.15)

    def admin(self, token: str) -> None:
        s = session_from("127.0.0.40")
        h = {"Authorization": f"Bearer {token}"}
        for host in self.hosts:
            url = host["url"]
            self.expect("api_list", s.get(f"{url}/api/v1/users", headers=h, timeout=30), 200)
            r = s.post(f"{url}/api/v1/users/soak-0/tokens",
                       json={"scopes": ["cli"], "expires_in": 600}, headers=h, timeout=30)
            if self.expect("api_token", r, 201):
                self.expect("api_revoke", s.delete(f"{url}/api/v1/tokens/{r.json()['token_id']}",
                                                   headers=h, timeout=30), 204)
            self.expect("api_activity", s.get(f"{url}/api/v1/activity?limit=20", headers=h,
                                              timeout=30), 200)
        self.stop.wait(0.5)

    def dashboard(self, session: requests.Session, email: str) -> None:
        """The admin's own browser signs in every minute (its device cookie in the jar)."""
        for host in self.hosts:
            r = session.post(f"{host['url']}/login", allow_redirects=False, timeout=30,
                             data=login_form(session, host["url"], email, PASSWORD))
            self.expect("login", r, 303)
        self.stop.wait(60)

    def guess_secrets(self, index: int, client_ids: list[str]) -> None:
        s = session_from(f"127.0.0.{60 + index}")
        host = random.choice(self.hosts)["url"]
        r = s.post(f"{host}/oauth/token", data={"grant_type": "client_credentials"},
                   headers=basic(random.choice(client_ids), f"sgs_wrong{random.random()}"),
                   timeout=30)
        self.tally.seen(f"guess_secret_{r.status_code}")
        self.stop.wait(0.05)

    def guess_logins(self, index: int, email: str) -> None:
        s = session_from(f"127.0.0.{80 + index}")
        host = random.choice(self.hosts)["url"]
        target = email if random.random() < 0.5 else f"nobody{random.randint(0, 10**6)}@x.test"
        r = s.post(f"{host}/login", data=login_form(s, host, target, "guess"),
                   allow_redirects=False, timeout=30)
        self.tally.seen(f"guess_login_{r.status_code}")
        self.stop.wait(0.2)

    def slow_clients(self) -> None:
        socks = []
        for host in self.hosts:
            for _ in range(60):
                with contextlib.suppress(OSError):
                    socks.append(stalled_body("127.0.0.1", host["port"], source="127.0.0.100"))
                with contextlib.suppress(OSError):
                    socks.append(idle("127.0.0.1", host["port"], source="127.0.0.101"))
        self.tally.seen("slow_client_batches")
        self.stop.wait(60)
        close_all(socks)

    def health(self) -> None:
        for host in self.hosts:
            started = time.monotonic()
            r = requests.get(f"{host['url']}/healthz", timeout=30)
            if self.expect("healthz", r, 200) and time.monotonic() - started > 2:
                self.tally.seen("healthz_over_2s")  # slow, not failed: reported apart
            m = requests.get(f"{host['url']}/metrics", timeout=30,
                             headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            self.expect("metrics", m, 200)
        self.stop.wait(5)

    # -- memory ---------------------------------------------------------
    def sample_rss(self) -> None:
        while not self.stop.wait(30):
            row = {"t": round(time.monotonic() - self.started), "load1": os.getloadavg()[0]}
            for host in self.hosts:
                row[host["name"]] = tree_rss_kib(host["process"].pid)
            self.rss.append(row)

    # -- run ------------------------------------------------------------
    def run(self, out_dir: Path) -> dict:
        cluster = pg.Cluster(options=pg.DURABLE_OPTIONS)
        redis = RedisServer()
        try:
            db_url = cluster.create_database("soak")
            env = {**os.environ, "SCOPEGATE_DATABASE_URL": db_url,
                   "SCOPEGATE_SECRET_KEY": "soak-secret-key-" + "x" * 24,
                   "SCOPEGATE_ISSUER": "http://scopegate.soak", "SCOPEGATE_REDIS_URL": redis.url,
                   "SCOPEGATE_RATE_LIMITS": "on", "SCOPEGATE_METRICS": "1",
                   "SCOPEGATE_METRICS_TOKEN": METRICS_TOKEN, "SCOPEGATE_ACCESS_LOG": "0"}
            self.flask(env, "init-db")
            self.flask(env, "create-org", "soak")
            email = "admin@soak.test"
            self.flask(env, "create-admin", "--org", "soak", "--email", email,
                       "--password-stdin", input=PASSWORD + "\n")
            admin_token = json.loads(self.flask(env, "issue-admin-token", "--email", email,
                                                "--json"))["token"]
            rs = json.loads(self.flask(env, "create-resource-server", "soak-rs", "--json"))
            self.hosts = [self.start_host(env, "host-a", out_dir),
                          self.start_host(env, "host-b", out_dir)]
            h = {"Authorization": f"Bearer {admin_token}"}
            machines = []
            for i in range(4):
                url = self.hosts[0]["url"]
                requests.post(f"{url}/api/v1/users", json={"name": f"soak-{i}"}, headers=h,
                              timeout=30).raise_for_status()
                machines.append(requests.post(f"{url}/api/v1/users/soak-{i}/credentials",
                                              headers=h, timeout=30).json())
            browser = session_from("127.0.0.41")
            for host in self.hosts:  # the admin's browser signs in before the guessing starts
                assert browser.post(f"{host['url']}/login", allow_redirects=False, timeout=30,
                                    data=login_form(browser, host["url"], email, PASSWORD),
                                    ).status_code == 303

            self.started = time.monotonic()
            threads = [threading.Thread(target=self.sample_rss, daemon=True)]
            threads += [threading.Thread(target=self.loop, args=(self.machine_user, i, c, rs),
                                         daemon=True) for i, c in enumerate(machines)]
            threads += [threading.Thread(target=self.loop, args=(self.admin, admin_token),
                                         daemon=True),
                        threading.Thread(target=self.loop, args=(self.dashboard, browser, email),
                                         daemon=True),
                        threading.Thread(target=self.loop, args=(self.slow_clients,), daemon=True),
                        threading.Thread(target=self.loop, args=(self.health,), daemon=True)]
            ids = [m["client_id"] for m in machines]
            threads += [threading.Thread(target=self.loop, args=(self.guess_secrets, i, ids),
                                         daemon=True) for i in range(2)]
            threads += [threading.Thread(target=self.loop, args=(self.guess_logins, i, email),
                                         daemon=True) for i in range(2)]
            for t in threads:
                t.start()
            self.stop.wait(self.seconds)
            self.stop.set()
            for t in threads:
                t.join(timeout=90)
            audit_rows = audit_counts(db_url)
            metrics_text = requests.get(f"{self.hosts[0]['url']}/metrics", timeout=30, headers={
                "Authorization": f"Bearer {METRICS_TOKEN}"}).text
        finally:
            for host in self.hosts:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(host["process"].pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    host["process"].wait(timeout=30)
            redis.stop()
            cluster.destroy()
        return self.summary(audit_rows, metrics_text)

    def summary(self, audit_rows: dict, metrics_text: str) -> dict:
        def quarter_mean(name: str, q: int) -> float:
            values = [r[name] for r in self.rss]
            n = len(values)
            part = values[q * n // 4:(q + 1) * n // 4] or values[-1:]
            return statistics.mean(part) if part else 0.0

        memory = {}
        for host in ("host-a", "host-b"):
            second, last = quarter_mean(host, 1), quarter_mean(host, 3)
            memory[host] = {"q2_mean_kib": round(second), "q4_mean_kib": round(last),
                            "growth_pct": round(100 * (last - second) / second, 1) if second
                            else None}
        latency = {k: {"n": len(v), "p50_ms": round(1000 * statistics.median(v), 1),
                       "p99_ms": round(1000 * sorted(v)[min(len(v) - 1, int(len(v) * 0.99))], 1)}
                   for k, v in self.tally.latencies.items() if v}
        flat = all(m["growth_pct"] is not None and m["growth_pct"] < 10 for m in memory.values())
        limited = sum(float(m.group(1)) for m in re.finditer(
            r"^scopegate_rate_limited_total\{[^}]*\} ([0-9.e+]+)$", metrics_text, re.M))
        return {
            "seconds": self.seconds, "workers_per_host": self.workers,
            "legit_errors": sum(self.tally.errors.values()),
            "errors_by_kind": dict(self.tally.errors), "error_examples": self.tally.examples,
            "counts": dict(self.tally.counts), "latency": latency, "memory": memory,
            "memory_flat": flat, "rss_samples": self.rss, "audit": audit_rows,
            "rate_limited_total_from_metrics": limited,
            "passed": sum(self.tally.errors.values()) == 0 and flat,
        }


def tree_rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def audit_counts(db_url: str) -> dict:
    import psycopg

    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        rows, events = conn.execute(
            "SELECT count(*), coalesce(sum(count), 0) FROM audit_event").fetchone()
        denied_rows, denied_events = conn.execute(
            "SELECT count(*), coalesce(sum(count), 0) FROM audit_event "
            "WHERE outcome = 'denied'").fetchone()
    return {"rows": rows, "events": int(events), "denied_rows": denied_rows,
            "denied_events": int(denied_events)}


def markdown(result: dict) -> str:
    lines = [f"# Soak {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             f"- duration {result['seconds']} s, {result['workers_per_host']} granian workers "
             "per host, two hosts, one PostgreSQL, one Redis",
             f"- passed: **{result['passed']}** (legitimate errors: {result['legit_errors']}, "
             f"memory flat: {result['memory_flat']})",
             f"- requests by kind: {json.dumps(result['counts'])}",
             f"- load average (1 min) during the run: "
             f"{min(r['load1'] for r in result['rss_samples']):.1f}-"
             f"{max(r['load1'] for r in result['rss_samples']):.1f} (shared machine)",
             f"- audit: {json.dumps(result['audit'])}",
             f"- 429s counted by host-a's /metrics (its workers): "
             f"{result['rate_limited_total_from_metrics']}",
             "", "| host | RSS mean, 2nd quarter (KiB) | last quarter (KiB) | growth |",
             "| --- | --- | --- | --- |"]
    for host, m in result["memory"].items():
        lines.append(f"| {host} | {m['q2_mean_kib']} | {m['q4_mean_kib']} | {m['growth_pct']} % |")
    lines += ["", "| client | n | p50 ms | p99 ms |", "| --- | --- | --- | --- |"]
    for kind, m in sorted(result["latency"].items()):
        lines.append(f"| {kind} | {m['n']} | {m['p50_ms']} | {m['p99_ms']} |")
    if result["error_examples"]:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in result["error_examples"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 1800)))
    parser.add_argument("--workers", type=int, default=2, help="granian workers per host")
    parser.add_argument("--out", default=str(ROOT / "bench" / "profiles"))
    args = parser.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    work = Path(f"/tmp/scopegate-soak-{stamp}")
    work.mkdir(parents=True, exist_ok=True)
    result = Soak(args.seconds, args.workers).run(work)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=1))
    (out / f"soak-{stamp}.md").write_text(markdown(result))
    print(markdown(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
