"""The iCal feeds (RFC 5545): they parse with the icalendar library, their
events are the final shifts, the URL is a revocable secret, rate-limited."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from oncall import feeds, selectors, services
from oncall.ical import feed_window
from tests.factories import TeamFactory
from tscc.roles import Role

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client():
    """A client with an address of its own, so rate counts never mix."""
    n = next(_addresses)
    return Client(REMOTE_ADDR=f"10.30.{n // 250}.{n % 250 + 1}")


def _off_office_hours(start, *, hours: int) -> bool:
    """No hour of [start, start + hours) is 09:00-18:00 in Shanghai."""
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    return all(
        not 9 <= (start + timedelta(hours=h)).astimezone(shanghai).hour < 18 for h in range(hours)
    )


@pytest.fixture
def world(make_user):
    """ "T&S Ops CN" (Shanghai): daily ana, ben, cai; above it, dan on weekdays
    09:00-18:00; ben covers for cai for six hours of cai's next day and
    eli for everyone for a day next week. "Ads review" (Dublin): weekly
    ana and eli."""
    team = TeamFactory(name="T&S Ops CN", slug="ts-ops-cn")
    people = SimpleNamespace(
        manager=make_user(Role.OPS_MANAGER, display_name="Manager"),
        **{
            name: make_user(Role.RESPONDER, display_name=name.title())
            for name in ("ana", "ben", "cai", "dan", "eli")
        },
    )
    people.ana.teams.add(team)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    anchor = now - timedelta(days=1, hours=3)
    handoff = anchor + timedelta(days=2)
    cn = services.schedule_save(
        actor=people.manager, name="T&S Ops CN", time_zone="Asia/Shanghai", team=team
    )
    layer = {"actor": people.manager, "schedule": cn}
    services.layer_create(
        **layer,
        name="Primary",
        users=[people.ana, people.ben, people.cai],
        unit="days",
        count=1,
        anchor=anchor,
    )
    services.layer_create(
        **layer,
        name="Office",
        users=[people.dan],
        unit="weeks",
        count=1,
        anchor=anchor,
        priority=1,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )
    cover = {"actor": people.manager, "schedule": cn}
    # Six hours of cai's day outside dan's office hours (09:00-18:00 in
    # Shanghai), whatever the hour the test runs at: inside them dan, not
    # cai, is on call, and a cover "for cai" would replace nobody.
    cover_start = handoff
    while not _off_office_hours(cover_start, hours=6):
        cover_start += timedelta(hours=1)
    assert cover_start + timedelta(hours=6) <= handoff + timedelta(days=1)
    services.override_create(
        **cover,
        user=people.ben,
        starts_at=cover_start,
        ends_at=cover_start + timedelta(hours=6),
        replaces=people.cai,
    )
    services.override_create(
        **cover,
        user=people.eli,
        starts_at=handoff + timedelta(days=7),
        ends_at=handoff + timedelta(days=8),
    )
    ads = services.schedule_save(actor=people.manager, name="Ads review", time_zone="Europe/Dublin")
    services.layer_create(
        actor=people.manager,
        schedule=ads,
        name="Weekly",
        users=[people.ana, people.eli],
        unit="weeks",
        count=1,
        anchor=anchor - timedelta(days=10),
    )
    return SimpleNamespace(people=people, cn=cn, ads=ads, handoff=handoff)


def url(token: str) -> str:
    return f"/oncall/ical/{token}.ics"


def events(response) -> tuple[Calendar, list]:
    calendar = Calendar.from_ical(response.content)
    return calendar, list(calendar.walk("VEVENT"))


def as_tuples(items) -> list[tuple]:
    return sorted((e.decoded("dtstart"), e.decoded("dtend"), str(e.get("summary"))) for e in items)


def window_of(items) -> tuple[datetime, datetime]:
    """The feed's window, from the DTSTAMP it was made at."""
    return feed_window(items[0].decoded("dtstamp"))


def test_schedule_feed_events_are_the_final_shifts(client, world):
    _feed, token = services.feed_create(actor=world.people.ana, schedule=world.cn)
    response = client.get(url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    calendar, items = events(response)
    assert str(calendar["version"]) == "2.0"
    assert "TSCC" in str(calendar["prodid"])
    assert str(calendar["x-wr-calname"]) == "T&S Ops CN: on call"
    start, end = window_of(items)
    assert start <= timezone.now() - timedelta(days=7)
    assert end >= timezone.now() + timedelta(days=60)
    shifts = selectors.schedule_shifts(schedule=world.cn, start=start, end=end)
    people = {p.id: str(p) for p in vars(world.people).values()}
    expected = sorted(
        (s.start, s.end, f"{people[s.user_id]} on call") for s in shifts if not s.is_gap
    )
    assert as_tuples(items) == expected
    # Everyone is there: the rotation, the restricted layer (Dan), the overrides.
    summaries = {summary for _s, _e, summary in expected}
    assert summaries == {f"{n} on call" for n in ("Ana", "Ben", "Cai", "Dan", "Eli")}
    assert len(items) > 60
    assert len({s.override_id for s in shifts if s.override_id}) == 2
    # Before the rotation began nobody was on call: no event says so.
    assert any(s.is_gap for s in shifts) and len(items) == len(expected)


def test_events_are_in_utc_with_stable_uids(client, world):
    _feed, token = services.feed_create(actor=world.people.ana, schedule=world.cn)
    first = client.get(url(token))
    _calendar, items = events(first)
    for item in items:
        assert item.decoded("dtstart").utcoffset() == timedelta(0)
        assert item.decoded("dtend").utcoffset() == timedelta(0)
        assert item.decoded("dtstamp").tzinfo is not None
    assert b"DTSTART:" in first.content and b"TZID" not in first.content
    uids = [str(item["uid"]) for item in items]
    assert len(set(uids)) == len(uids)
    _calendar, again = events(client.get(url(token)))
    assert [str(item["uid"]) for item in again] == uids


def test_gaps_are_left_out(client, world):
    services.layer_end(
        actor=world.people.manager,
        layer_id=world.cn.layers.get(name="Primary").id,
    )
    _feed, token = services.feed_create(actor=world.people.ana, schedule=world.cn)
    _calendar, items = events(client.get(url(token)))
    start, end = window_of(items)
    shifts = selectors.schedule_shifts(schedule=world.cn, start=start, end=end)
    assert any(s.is_gap for s in shifts)
    assert len(items) == len([s for s in shifts if not s.is_gap])


def test_personal_feed_has_only_that_persons_shifts(client, world):
    ana = world.people.ana
    _feed, token = services.feed_create(actor=ana)
    calendar, items = events(client.get(url(token)))
    assert str(calendar["x-wr-calname"]) == "Ana: on call"
    start, end = window_of(items)
    expected = sorted(
        (s.start, s.end, f"On call: {schedule.name}")
        for schedule in (world.cn, world.ads)
        for s in selectors.schedule_shifts(schedule=schedule, start=start, end=end)
        if s.user_id == ana.id
    )
    assert as_tuples(items) == expected
    assert {summary for _s, _e, summary in expected} == {
        "On call: T&S Ops CN",
        "On call: Ads review",
    }


def test_a_revoked_or_unknown_token_is_404(client, world):
    feed, token = services.feed_create(actor=world.people.ana)
    assert client.get(url(token)).status_code == 200
    services.feed_revoke(actor=world.people.ana, feed_id=feed.id)
    assert client.get(url(token)).status_code == 404
    assert client.get(url("cal_not-a-real-token")).status_code == 404


def test_a_feed_stops_when_its_owner_loses_access(client, world):
    _feed, token = services.feed_create(actor=world.people.ben, schedule=world.cn)
    world.people.ben.role = Role.EXECUTIVE
    world.people.ben.save(update_fields=["role"])
    assert client.get(url(token)).status_code == 404


def test_no_login_is_needed_and_only_reads_are_allowed(client, world):
    _feed, token = services.feed_create(actor=world.people.ana)
    assert client.get(url(token)).status_code == 200
    assert client.head(url(token)).status_code == 200
    assert client.post(url(token)).status_code == 405


def test_rate_limit_per_address(monkeypatch, client, world):
    monkeypatch.setattr(feeds, "RATE_LIMIT", 3)
    frozen = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    monkeypatch.setattr(feeds, "time", SimpleNamespace(time=lambda: frozen))
    _feed, token = services.feed_create(actor=world.people.ana)
    assert client.get(url(token)).status_code == 200
    assert client.get(url("cal_guess-one")).status_code == 404  # misses count too
    assert client.get(url(token)).status_code == 200
    refused = client.get(url(token))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    other = Client(REMOTE_ADDR="10.31.0.1")
    assert other.get(url(token)).status_code == 200
    # The next window starts afresh.
    monkeypatch.setattr(feeds, "time", SimpleNamespace(time=lambda: frozen + 60))
    assert client.get(url(token)).status_code == 200
