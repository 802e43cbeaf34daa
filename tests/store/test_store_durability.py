"""Durability: SIGKILL a server (master and workers) in the middle of a
stream of writes; after a restart every write that was answered 2xx is in
the database. SQLite runs in WAL with synchronous=NORMAL: a commit is in the
WAL file when the answer leaves, so a killed *process* loses nothing (an OS
crash or power cut could lose the last commits; PostgreSQL's defaults
survive those too)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.models import Token, db
from tests.store.conftest import make_app


def test_every_acknowledged_write_survives_a_sigkill(deployment):
    dep = deployment
    host = dep.start("victim")
    h = dep.headers()
    assert requests.post(f"{host.url}/api/v1/users", json={"name": "svc"}, headers=h,
                         timeout=30).status_code == 201

    created: list[str] = []  # token_ids answered 201
    revoked: list[str] = []  # token_ids answered 204
    interrupted: list[str] = []  # requests the kill cut off (never acknowledged)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                r = session.post(f"{host.url}/api/v1/users/svc/tokens",
                                 json={"scopes": ["cli"]}, headers=h, timeout=10)
                if r.status_code == 201:
                    with lock:
                        created.append(r.json()["token_id"])
                        victim = created[-2] if n % 2 and len(created) > 1 else None
                    if victim:
                        d = session.delete(f"{host.url}/api/v1/tokens/{victim}", headers=h,
                                           timeout=10)
                        if d.status_code == 204:
                            with lock:
                                revoked.append(victim)
            except requests.RequestException as e:
                interrupted.append(type(e).__name__)
                session = requests.Session()  # the server is gone; keep trying until told
                time.sleep(0.01)

    with ThreadPoolExecutor(6) as pool:
        for n in range(6):
            pool.submit(writer, n)
        deadline = time.monotonic() + 60
        while len(created) < 60 and time.monotonic() < deadline:  # a steady stream first
            time.sleep(0.05)
        dep.kill(host)  # mid-stream: requests are in flight right now
        stop.set()
    assert len(created) >= 60 and revoked, "the write stream never got going"
    assert interrupted, "the kill cut off no request: it was not mid-stream"

    restarted = dep.start("restarted")  # same database, fresh processes
    assert requests.get(f"{restarted.url}/readyz", timeout=30).status_code == 200

    app = make_app(dep.db_url)
    with app.app_context():
        rows = {t.token_id: t for t in db.session.scalars(select(Token))}
        db.engine.dispose()
    missing = [t for t in created if t not in rows]
    assert not missing, f"{len(missing)} acknowledged token(s) lost: {missing[:5]}"
    unrevoked = [t for t in revoked if rows[t].revoked_at is None]
    assert not unrevoked, f"{len(unrevoked)} acknowledged revocation(s) lost"
    # and the restarted server answers for them
    listed = requests.get(f"{restarted.url}/api/v1/tokens/{revoked[-1]}", headers=h,
                          timeout=30).json()
    assert listed["revoked_at"] is not None
