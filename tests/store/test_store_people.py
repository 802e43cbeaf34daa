"""People under concurrency, on two live hosts sharing one database: the
last-admin rule holds when two admins demote each other at the same moment,
and a token issued while its person is being disabled never outlives it."""

from __future__ import annotations

import requests
from sqlalchemy import select

from app.models import Account, Token, db
from app.services import callers, links, tokens
from tests.store.conftest import make_app
from tests.store.test_store_concurrency import run_together

PASSWORD = "a long enough passphrase"


def second_admin(dep, host) -> str:
    """A second admin who joined, and an operator-issued token of theirs."""
    invited = requests.post(f"{host.url}/api/v1/people", headers=dep.headers(), timeout=30,
                            json={"email": "boss@acme.test", "role": "admin"}).json()
    app = make_app(dep.db_url)
    with app.app_context():
        account = links.use(invited["invite_url"].rsplit("/", 1)[1], links.INVITE,
                            PASSWORD, PASSWORD)
        value, _ = tokens.create_personal(account, callers.operator(account.org_id))
        db.engine.dispose()
    return value


def test_two_admins_demoting_each_other_at_once_leave_one_admin(deployment):
    dep = deployment
    a, b = dep.start("host-a"), dep.start("host-b")
    boss_token = second_admin(dep, a)
    first = requests.get(f"{a.url}/api/v1/me", headers=dep.headers(), timeout=30).json()

    answers = run_together([
        lambda: requests.patch(f"{a.url}/api/v1/people/boss@acme.test", json={"role": "member"},
                               headers=dep.headers(), timeout=60),
        lambda: requests.patch(f"{b.url}/api/v1/people/{first['email']}",
                               json={"role": "member"}, timeout=60,
                               headers={"Authorization": f"Bearer {boss_token}"}),
    ])
    statuses = sorted(r.status_code for r in answers)
    # One demotion wins; the other is refused as the last admin, or finds its
    # own token revoked by the winner (401). Never both, never a 500.
    assert statuses in ([200, 401], [200, 409]), [r.text for r in answers]
    app = make_app(dep.db_url)
    with app.app_context():
        admins = db.session.scalars(select(Account.email).where(Account.role == "admin")).all()
        db.engine.dispose()
    assert len(admins) == 1


def test_a_token_issued_during_a_disabling_does_not_outlive_it(deployment):
    dep = deployment
    a, b = dep.start("host-a"), dep.start("host-b")
    requests.post(f"{a.url}/api/v1/people", headers=dep.headers(), timeout=30,
                  json={"email": "ann@acme.test", "role": "member"})
    for _ in range(5):
        requests.patch(f"{a.url}/api/v1/people/ann@acme.test", json={"disabled": False},
                       headers=dep.headers(), timeout=60)
        answers = run_together([
            lambda: requests.post(f"{a.url}/api/v1/people/ann@acme.test/tokens", json={},
                                  headers=dep.headers(), timeout=60),
            lambda: requests.patch(f"{b.url}/api/v1/people/ann@acme.test",
                                   json={"disabled": True}, headers=dep.headers(), timeout=60),
        ])
        assert answers[0].status_code in (201, 409) and answers[1].status_code == 200
    app = make_app(dep.db_url)
    with app.app_context():
        live = db.session.scalars(select(Token.token_id).where(
            Token.subject_name == "ann@acme.test", Token.revoked_at.is_(None))).all()
        db.engine.dispose()
    assert live == []
