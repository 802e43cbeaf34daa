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


# -- the chart's arithmetic, on events at known times ---------------------------------

T0 = 1_800_000_000  # 2027-01-15T08:00:00Z, a whole hour
H, D = charts.HOUR, charts.DAY


def add_events(app, admin, *events) -> None:
    """(at, actor uid, actor name, count) rows in the admin's organization."""
    with app.app_context():
        db.session.execute(AuditEvent.__table__.insert(), [
            {"org_id": admin.org_id, "at": at, "actor": actor, "actor_name": name,
             "action": "user.create", "outcome": "success", "count": count}
            for at, actor, name, count in events])
        db.session.commit()


def chart_of(app, admin, **filters) -> charts.Chart:
    from app.services import callers, orgs

    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        return charts.activity_chart(caller, action="user.create", **filters)


def test_chart_buckets_are_whole_hours_and_count_repeated_events(app, admin):
    add_events(app, admin, (T0 + 1800, "u-a", "alice", 1), (T0 + 2 * H + 10, "u-a", "alice", 3),
               (T0 + 5 * H, "u-b", "bob", 1), (T0 + 5 * H + 1, "u-b", "bob", 7),
               (T0 + 60, "u-a", "alice", 5))  # in the first bucket, but before `since`
    chart = chart_of(app, admin, since=str(T0 + 1800), until=str(T0 + 5 * H))
    assert (chart.start, chart.end, chart.width, chart.unit) == (T0, T0 + 6 * H, H, "hour")
    assert [(s.key, s.label, s.counts) for s in chart.series] == [
        ("u-a", "alice", [1, 0, 3, 0, 0, 0]), ("u-b", "bob", [0, 0, 0, 0, 0, 1])]
    assert (chart.peak, chart.bucket_start(2), chart.capped, chart.others) == (
        3, T0 + 2 * H, False, 0)


def test_a_span_shorter_than_a_bucket_is_one_bucket(app, admin):
    add_events(app, admin, (T0, "u-a", "alice", 1))
    chart = chart_of(app, admin, since=str(T0), until=str(T0 + H - 1))
    assert (chart.start, chart.end, chart.series[0].counts) == (T0, T0 + H, [1])


def test_chart_buckets_widen_to_days_weeks_then_a_sixtieth_of_the_span(app, admin):
    add_events(app, admin, (T0 + 60, "u-a", "alice", 1))
    day = chart_of(app, admin, since=str(T0 + 60), until=str(T0 + 10 * D))
    assert (day.width, day.unit, day.start) == (D, "day", T0 - 8 * H)  # midnight UTC
    assert len(day.series[0].counts) == 11
    assert chart_of(app, admin, since=str(T0 - 60 * H), until=str(T0)).width == H
    assert chart_of(app, admin, since=str(T0 - 61 * H), until=str(T0)).width == D
    week = chart_of(app, admin, since=str(T0 - 100 * D), until=str(T0))
    assert (week.width, week.unit, week.start) == (charts.WEEK, "week", T0 - 100 * D)
    assert chart_of(app, admin, since=str(T0 - 420 * D), until=str(T0)).width == charts.WEEK
    years = chart_of(app, admin, since=str(T0 - 421 * D), until=str(T0))
    assert years.width == -(-421 * D // 60) and years.unit == f"{years.width}s"


def test_chart_without_since_starts_at_the_first_event_or_a_day_before_the_end(app, admin):
    midnight = T0 - 8 * H
    assert chart_of(app, admin, until=str(T0)).start == midnight - 7 * D  # no events: a week
    add_events(app, admin, (T0 - H, "u-a", "alice", 1))
    assert chart_of(app, admin, until=str(T0)).start == T0 - D  # hours, from a day before
    add_events(app, admin, (T0 - 3 * D - 5, "u-a", "alice", 1))
    assert chart_of(app, admin, until=str(T0)).start == midnight - 3 * D  # its day


def test_chart_shows_the_eight_busiest_users_and_counts_the_others(app, admin):
    add_events(app, admin, *[(T0, f"u-{i}", f"user{i}", 1) for i in range(10)],
               (T0, "u-9", "user9", 1), (T0, "u-5", "user5", 1))
    chart = chart_of(app, admin, since=str(T0), until=str(T0 + H))
    assert [s.label for s in chart.series] == [
        "user5", "user9", "user0", "user1", "user2", "user3", "user4", "user6"]
    assert chart.others == 2


def test_chart_for_chosen_users_keeps_their_order_and_a_row_for_the_idle(app, admin):
    add_events(app, admin, (T0, "u-a", "alice", 1), (T0, "u-b", "bob", 2),
               (T0 + 60, "u-a", "alice", 1))  # two events in one bucket add up
    chart = chart_of(app, admin, since=str(T0), until=str(T0 + H), users=["u-b", "idle", "u-a"])
    assert [(s.key, s.label, s.counts) for s in chart.series] == [
        ("u-b", "u-b", [2, 0]), ("idle", "idle", [0, 0]), ("u-a", "u-a", [2, 0])]


def test_chart_reads_the_newest_5000_events_page_by_page_and_says_so(app, admin):
    app.config["SCOPEGATE_PAGE_SIZE"] = 7  # the lists' page size is not the chart's
    add_events(app, admin, (T0, "u-b", "bob", 1),
               *[(T0, "u-a", "alice", 1)] * (charts.MAX_EVENTS - 500),
               *[(T0 + H, "u-a", "alice", 1)] * 500)
    chart = chart_of(app, admin, since=str(T0), until=str(T0 + H))
    assert chart.capped and chart.series[0].counts == [charts.MAX_EVENTS - 500, 500]
    # A chosen user's events are read, not the newest 5000 of everyone's.
    chosen = chart_of(app, admin, since=str(T0), until=str(T0 + H), users=["u-b"])
    assert not chosen.capped and chosen.series[0].counts == [1, 0]
