"""Small readers the on-call service tests share."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from oncall import selectors
from oncall.models import Schedule

SH = ZoneInfo("Asia/Shanghai")
DUB = ZoneInfo("Europe/Dublin")
LA = ZoneInfo("America/Los_Angeles")


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def top_of_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def who(schedule: Schedule, moment: datetime) -> int | None:
    """The id of whoever is on call for `schedule` at `moment` (None: a gap)."""
    (row,) = selectors.oncall_now(schedules=Schedule.objects.filter(id=schedule.id), at=moment)
    return row.now.user_id


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[tuple]:
    """(start, end, user id) of the final shifts tiling [start, end)."""
    return [
        (s.start, s.end, s.user_id)
        for s in selectors.schedule_shifts(schedule=schedule, start=start, end=end)
    ]
