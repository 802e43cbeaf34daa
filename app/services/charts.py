"""Activity over time, per user: the numbers behind the dashboard's small
server-side SVG charts. The events come from ``services.activity.query``
(same filters, same tenant rule); this module only counts them into buckets.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from app.models import now
from app.services import activity, subjects
from app.services.callers import Caller

HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
#: The chart reads at most this many events (newest first); it says so when capped.
MAX_EVENTS = 5000
MAX_SERIES = 8
MAX_BUCKETS = 60


@dataclass
class Series:
    key: str
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Chart:
    start: int
    end: int
    width: int  # seconds per bucket
    series: list[Series] = field(default_factory=list)
    capped: bool = False
    others: int = 0  # users left out beyond MAX_SERIES

    @property
    def peak(self) -> int:
        return max((max(s.counts) for s in self.series if s.counts), default=0)

    @property
    def unit(self) -> str:
        return {HOUR: "hour", DAY: "day", WEEK: "week"}.get(self.width, f"{self.width}s")

    def bucket_start(self, index: int) -> int:
        return self.start + index * self.width


def _bucket_width(span: int) -> int:
    for width in (HOUR, DAY, WEEK):
        if span / width <= MAX_BUCKETS:
            return width
    return -(-span // MAX_BUCKETS)


def activity_chart(caller: Caller, *, users: list[str] = (), action: str | None = None,
                   since: str | None = None, until: str | None = None) -> Chart:
    """Counts of events per user and time bucket for the filtered audit log.

    With a ``users`` filter there is one series per chosen user (events it
    acted in or is the subject of, as the filter means); without one, a
    series per acting user, busiest first.
    """
    events, cursor, capped = [], None, False
    while True:
        page = activity.query(caller, users=list(users), action=action, since=since,
                              until=until, cursor=cursor, limit=500)
        events.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
        if len(events) >= MAX_EVENTS:
            capped = True
            break
    end = activity.parse_time(until, "until") or now()
    start = activity.parse_time(since, "since")
    if start is None:
        start = min((e.at for e in events), default=end - 7 * DAY)
        start = min(start, end - DAY)
    width = _bucket_width(max(1, end - start))
    start -= start % width if width in (HOUR, DAY) else 0  # align to whole hours/days (UTC)
    buckets = max(1, -(-(end - start + 1) // width))

    keyed: dict[str, Counter] = defaultdict(Counter)
    labels: dict[str, str] = {}
    if users:
        wanted = {u: subjects.uids(caller, u) or {u} for u in users}
        for u in users:
            keyed.setdefault(u, Counter())  # a chosen user with no events still gets a row
        for e in events:
            for name, uids in wanted.items():
                if e.actor in uids or e.subject in uids:
                    keyed[name][(e.at - start) // width] += e.count
        labels = {u: u for u in users}
    else:
        for e in events:
            key = e.actor or "unknown"  # as the activity table says
            keyed[key][(e.at - start) // width] += e.count
            labels.setdefault(key, e.actor_name or key)
    series = [Series(k, labels.get(k, k), [c.get(i, 0) for i in range(buckets)])
              for k, c in keyed.items()]
    series.sort(key=lambda s: (-s.total, s.label))
    if users:
        series.sort(key=lambda s: list(users).index(s.key))
    return Chart(start, start + buckets * width, width, series[:MAX_SERIES], capped,
                 max(0, len(series) - MAX_SERIES))
