"""Activity: filters by users, action and time; pages; the per-user SVG chart; isolation."""

import re

from sqlalchemy import select

from app.models import AuditEvent, db
from app.services import charts
from tests.web.test_web_tokens import issue, make_user


def rows(page: str) -> list[str]:
    """The action column of the table."""
    if "<tbody>" not in page:
        return []
    return re.findall(r"<td><code>([\w.]+)</code>", page.split("<tbody>")[1])


def test_lists_events_newest_first_with_names(signed_in, admin):
    make_user(signed_in, "alice")
    page = signed_in.text("/activity")
    actions = rows(page)
    assert actions[0] == "user.create" and "login" in actions
    assert admin.email in page and "alice" in page


def test_filter_by_several_users(signed_in):
    make_user(signed_in, "alice")
    make_user(signed_in, "bob")
    make_user(signed_in, "carol")
    issue(signed_in, "alice")
    issue(signed_in, "bob")
    page = signed_in.text("/activity?user=alice&user=bob")
    assert sorted(rows(page)) == sorted(["user.create", "user.create", "token.create",
                                         "token.create"])
    assert "carol" not in page.split("<tbody>")[1]


def test_filter_by_action_and_time_range(app, signed_in):
    make_user(signed_in, "alice")
    assert set(rows(signed_in.text("/activity?action=user.create"))) == {"user.create"}
    assert rows(signed_in.text("/activity?until=2000-01-01T00:00")) == []
    assert "No events match these filters" in signed_in.text("/activity?until=2000-01-01T00:00")
    assert rows(signed_in.text("/activity?since=2000-01-01T00:00"))
    bad = signed_in.get("/activity?since=yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.get_data(as_text=True)


def test_pages_keep_their_filters(app, signed_in):
    app.config["SCOPEGATE_PAGE_SIZE"] = 2
    for name in ("u1", "u2", "u3"):
        make_user(signed_in, name)
    first = signed_in.text("/activity?action=user.create")
    older = re.search(r'href="([^"]*cursor=\d+)"', first).group(1).replace("&amp;", "&")
    assert "action=user.create" in older
    second = signed_in.text(older)
    assert rows(first) == ["user.create"] * 2 and rows(second) == ["user.create"]


def test_chart_has_a_row_per_user_drawn_as_svg(signed_in):
    make_user(signed_in, "alice")
    issue(signed_in, "alice")
    page = signed_in.text("/activity?user=alice&user=nobody-yet")
    assert page.count("<svg") == 2
    assert 'role="img"' in page and "<rect" in page and "<title>" in page
    assert "Activity per user" in page


def test_chart_counts_events_into_buckets(app, admin):
    from app.services import callers, orgs, users

    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        users.create(caller, "alice", ["cli"])
        chart = charts.activity_chart(caller, users=["alice"])
        assert [s.key for s in chart.series] == ["alice"]
        assert chart.series[0].total == 1 and chart.width == charts.HOUR
        overall = charts.activity_chart(caller)
        totals = {s.label: s.total for s in overall.series}
        assert totals == {"operator": 2, admin.email: 1}  # org + account made by the operator


def test_other_orgs_events_are_invisible(app, signed_in, other_signed_in, other_admin):
    make_user(signed_in, "alice")
    page = other_signed_in.text("/activity")
    assert "alice" not in page and "user.create" not in rows(page)
    assert rows(other_signed_in.text("/activity?user=alice")) == []
    with app.app_context():
        assert db.session.scalar(select(db.func.count(AuditEvent.id)).where(
            AuditEvent.org_id == other_admin.org_id, AuditEvent.action == "user.create")) == 0


def test_chart_and_table_both_say_unknown_for_an_event_without_actor(app, client, signed_in,
                                                                        admin):
    # A failed client authentication by an unknown client: nobody to name.
    client.post("/oauth/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="})
    with app.app_context():
        db.session.execute(AuditEvent.__table__.update()
                           .where(AuditEvent.action == "client.auth")
                           .values(org_id=db.session.scalar(select(AuditEvent.org_id)
                                                             .where(AuditEvent.org_id.is_not(None))
                                                             .limit(1))))
        db.session.commit()
    page = signed_in.text("/activity?action=client.auth")
    assert 'class="muted">unknown<' in page
    assert '<div class="chart-label" title="unknown">unknown' in page
    assert "(unknown)" not in page


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
