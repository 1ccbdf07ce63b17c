"""Calendar feeds as iCalendar (RFC 5545): one VEVENT per final shift
(gaps left out) from 7 days back to 60 days ahead, times in UTC.

The window starts at a UTC midnight, so within a day the same shifts come
out the same way, and a shift's UID is stable: schedule, person and start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from oncall.domain.rotation import Shift
from oncall.models import CalendarFeed, Schedule
from oncall.selectors import schedule_shifts, user_shifts

PRODID = "-//TSCC//On-call feed//EN"
DAYS_BACK = 7
DAYS_AHEAD = 60
REFRESH = timedelta(hours=1)


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """[start, end): from the UTC midnight 7 days back to past 60 days ahead."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD + 1)


def shift_uid(schedule_id: int, shift: Shift) -> str:
    return f"oncall-{schedule_id}-{shift.user_id}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@tscc"


def _calendar(name: str, time_zone: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", time_zone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def _event(schedule_id: int, shift: Shift, summary: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", shift_uid(schedule_id, shift))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", summary)
    # Being on call does not make the person busy for meetings.
    event.add("transp", "TRANSPARENT")
    return event


def schedule_calendar(schedule: Schedule, *, now: datetime) -> Calendar:
    """Everyone's final shifts of one schedule: "<person> on call"."""
    start, end = feed_window(now)
    shifts = [s for s in schedule_shifts(schedule=schedule, start=start, end=end) if not s.is_gap]
    people = get_user_model().objects.in_bulk({s.user_id for s in shifts})
    cal = _calendar(_("%(schedule)s: on call") % {"schedule": schedule.name}, schedule.time_zone)
    for shift in shifts:
        summary = _("%(person)s on call") % {"person": people.get(shift.user_id, "?")}
        cal.add_component(_event(schedule.id, shift, summary, now))
    return cal


def person_calendar(user, *, now: datetime) -> Calendar:
    """One person's final shifts across schedules: "On call: <schedule>"."""
    start, end = feed_window(now)
    cal = _calendar(_("%(person)s: on call") % {"person": user}, user.time_zone)
    for schedule, shift in user_shifts(user=user, start=start, end=end):
        summary = _("On call: %(schedule)s") % {"schedule": schedule.name}
        cal.add_component(_event(schedule.id, shift, summary, now))
    return cal


def feed_calendar(feed: CalendarFeed, *, now: datetime) -> bytes:
    """The feed's calendar as bytes, in its owner's language."""
    with translation.override(feed.owner.language or None):
        if feed.schedule is not None:
            cal = schedule_calendar(feed.schedule, now=now)
        else:
            cal = person_calendar(feed.owner, now=now)
    return cal.to_ical()
