"""Audit flooding (issue 13): refused attempts repeated from one source are
one row with a count, so a flood neither explodes the table nor pushes real
events out of the activity chart; ``purge-audit`` enforces a retention."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from app.models import Account, AuditEvent, db, now
from app.services import audit, callers, charts
from tests.conftest import basic

GUESSER = {"REMOTE_ADDR": "203.0.113.9"}


def guess(client, client_id: str, environ=GUESSER):
    return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic(client_id, "sgs_wrong"), environ_base=environ)


def flood(app, n: int, client_id: str, ip: str = "203.0.113.9") -> None:
    """``n`` refused client authentications as the token endpoint records them
    (directly: over HTTP the failed-secret rate limit would stop most of them)."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": ip}):
        for _ in range(n):
            audit.record("client.auth", audit.DENIED, target=client_id,
                         detail="bad client credentials", commit=True)


def denied_auth_rows(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "client.auth").order_by(AuditEvent.id)))


def test_bad_secrets_from_one_source_are_one_row_with_the_count(app, client, machine_user):
    for _ in range(8):
        assert guess(client, machine_user.client_id).status_code == 401
    rows = denied_auth_rows(app)
    assert len(rows) == 1
    assert (rows[0].count, rows[0].outcome, rows[0].ip) == (8, "denied", "203.0.113.9")
    assert rows[0].last_at >= rows[0].at


def test_a_flood_stays_one_row(app):
    flood(app, 1500, "known@scopegate.local")
    assert [r.count for r in denied_auth_rows(app)] == [1500]


def test_the_activity_api_reports_the_count(api, client, machine_user):
    for _ in range(3):
        guess(client, machine_user.client_id)
    event = api.get("/activity?action=client.auth").get_json()["items"][0]
    assert event["count"] == 3 and event["last_at"]


def test_another_source_gets_its_own_row(app, client, machine_user):
    guess(client, machine_user.client_id)
    guess(client, machine_user.client_id, {"REMOTE_ADDR": "198.51.100.1"})
    guess(client, "unknown@scopegate.local")
    assert [r.count for r in denied_auth_rows(app)] == [1, 1, 1]


def test_a_new_window_starts_a_new_row(app, client, machine_user):
    guess(client, machine_user.client_id)
    with app.app_context():  # the first row's window is over
        db.session.execute(AuditEvent.__table__.update().values(at=AuditEvent.at - 3600))
        db.session.commit()
    guess(client, machine_user.client_id)
    assert [r.count for r in denied_auth_rows(app)] == [1, 1]


def test_successes_are_never_aggregated(app, api):
    for i in range(3):
        api.post("/users", {"name": f"u{i}"})
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.create")).all()
    assert [r.count for r in rows] == [1, 1, 1]


def test_the_chart_keeps_real_events_through_a_flood(app, api, org):
    """6,000 refusals used to be 6,000 rows: more than the chart reads (5,000),
    so the real events behind them fell out."""
    assert api.post("/users", {"name": "real-work"}).status_code == 201
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        for _ in range(charts.MAX_EVENTS + 1000):  # aimed at the org (a known client_id)
            audit.record("client.auth", audit.DENIED, org_id=org.id, target="x",
                         detail="bad client credentials", commit=True)
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == org.admin_email))
        chart = charts.activity_chart(callers.from_account(account))
    assert not chart.capped
    totals = {s.label: s.total for s in chart.series}
    assert totals["unknown"] == charts.MAX_EVENTS + 1000  # every refusal, counted
    assert totals[org.admin_email] >= 1  # the real user.create is still there


def test_purge_audit_deletes_events_older_than_the_retention(app, runner, api):
    api.post("/users", {"name": "old"})
    api.post("/users", {"name": "new"})
    with app.app_context():
        db.session.execute(AuditEvent.__table__.update()
                           .where(AuditEvent.subject_name == "old")
                           .values(at=now() - 40 * 86400))
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = runner.invoke(args=["purge-audit", "--days", "30", "--json"])
    assert result.exit_code == 0, result.output
    assert '"removed": 1' in result.output
    with app.app_context():
        names = set(db.session.scalars(select(AuditEvent.subject_name)))
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert "old" not in names and "new" in names and "audit.purge" in actions
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_purge_audit_defaults_to_the_retention_setting(app, runner, api):
    app.config["SCOPEGATE_AUDIT_RETENTION_DAYS"] = 7
    api.post("/users", {"name": "x"})
    with app.app_context():
        db.session.execute(AuditEvent.__table__.update().values(at=now() - 8 * 86400))
        db.session.commit()
    result = runner.invoke(args=["purge-audit", "--json"])
    assert '"retention_days": 7' in result.output and '"removed": 0' not in result.output


def add_events(at: int, n: int) -> None:
    db.session.execute(insert(AuditEvent), [
        {"at": at, "action": "user.create", "outcome": "success"} for _ in range(n)])
    db.session.commit()


def test_purge_audit_keeps_an_event_exactly_at_the_cutoff(app):
    cutoff = now() - 86400
    with app.app_context():
        add_events(cutoff - 1, 1)
        add_events(cutoff, 1)
        assert audit.purge(cutoff) == 1
        assert list(db.session.scalars(select(AuditEvent.at))) == [cutoff]


def test_purge_audit_empties_a_backlog_bigger_than_one_batch(app):
    cutoff = now() - 86400
    with app.app_context():
        add_events(cutoff - 10, 12_000)
        assert audit.purge(cutoff) == 12_000
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert audit.purge(cutoff) == 0  # nothing old left: returns at once


def test_the_aggregation_window_includes_its_last_second(app, monkeypatch):
    window = app.config["SCOPEGATE_AUDIT_AGGREGATE_WINDOW"]
    clock = [1_800_000_000]
    monkeypatch.setattr(audit, "now", lambda: clock[0])
    flood(app, 1, "known@scopegate.local")
    clock[0] += window  # still the first row's window
    flood(app, 1, "known@scopegate.local")
    clock[0] += 1  # one second past it
    flood(app, 1, "known@scopegate.local")
    rows = denied_auth_rows(app)
    assert [(r.count, r.at, r.last_at) for r in rows] == [
        (2, 1_800_000_000, 1_800_000_000 + window), (1, 1_800_000_000 + window + 1, None)]


def test_a_long_detail_keeps_its_first_500_characters(app):
    with app.app_context():
        audit.record("user.create", detail="d" * 499 + "ef", commit=True)
        assert db.session.scalar(select(AuditEvent.detail)) == "d" * 499 + "e"
