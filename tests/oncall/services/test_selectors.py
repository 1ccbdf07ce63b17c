"""The reads the pages, the API and escalations share: a constant number of
queries however many schedules, and a person's shifts across schedules."""

import pytest

from oncall import selectors
from oncall.models import Schedule
from tests.oncall.services.support import DUB, LA, SH, at, days, hours

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)
ZONES = ["Asia/Shanghai", "Europe/Dublin", "America/Los_Angeles"]


@pytest.fixture
def many(cast, make_schedule, make_layer, make_override):
    """`n` schedules, each with a 24x7 daily layer, a business-hours layer
    above it, and an override on Monday afternoon."""
    people = [cast.ana, cast.ben, cast.cai, cast.dan, cast.eli]

    def make(n: int) -> list[Schedule]:
        made = []
        for i in range(n):
            schedule = make_schedule(name=f"Schedule {i:02d}", time_zone=ZONES[i % 3])
            make_layer(schedule, people[i % 5 :] + people[: i % 5], MONDAY_9)
            make_layer(
                schedule,
                [cast.manager, cast.admin],
                MONDAY_9,
                unit="weeks",
                priority=1,
                name="Leads",
                restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
            )
            make_override(schedule, people[(i + 2) % 5], MONDAY_9 + hours(4), MONDAY_9 + hours(6))
            made.append(schedule)
        return made

    return make


@pytest.mark.parametrize("n", [3, 30])
def test_oncall_now_is_four_queries_for_any_number_of_schedules(
    cast, many, django_assert_num_queries, n
):
    schedules = many(n)

    with django_assert_num_queries(4):  # schedules, layers, members, overrides
        rows = selectors.oncall_now(
            schedules=Schedule.objects.all(), at=MONDAY_9 + days(1) + hours(1)
        )

    assert [r.schedule.id for r in rows] == [s.id for s in schedules]
    for i, row in enumerate(rows):
        # Tuesday 10:00 in Shanghai is business hours there: the leads' layer;
        # elsewhere it is night, and the daily layer has someone on.
        assert row.now.user_id is not None
        if ZONES[i % 3] == "Asia/Shanghai":
            assert row.now.user_id == cast.manager.id
        assert row.next is not None and row.next.start >= row.now.end


@pytest.mark.parametrize("n", [3, 30])
def test_the_schedules_list_is_constant_queries(cast, many, django_assert_num_queries, n):
    many(n)

    with django_assert_num_queries(1):
        visible = list(selectors.schedule_visible_to(cast.ana))
    with django_assert_num_queries(4):
        rows = selectors.oncall_now(schedules=selectors.schedule_visible_to(cast.ana), at=MONDAY_9)

    assert len(visible) == len(rows) == n


@pytest.mark.parametrize(
    ("who", "sees"), [("ana", True), ("executive", False), ("bpo_lead", False)]
)
def test_only_operations_people_see_schedules(cast, many, who, sees):
    many(3)

    assert selectors.schedule_visible_to(getattr(cast, who)).count() == (3 if sees else 0)


def test_oncall_now_names_who_is_on_and_who_is_next(cast, make_schedule, make_layer):
    schedule = make_schedule()
    make_layer(
        schedule,
        [cast.ana, cast.ben],
        MONDAY_9,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )

    (day,) = selectors.oncall_now(schedules=Schedule.objects.all(), at=MONDAY_9 + hours(1))
    (night,) = selectors.oncall_now(schedules=Schedule.objects.all(), at=MONDAY_9 + hours(10))

    assert (day.now.user_id, day.now.start, day.now.end) == (
        cast.ana.id,
        MONDAY_9,
        MONDAY_9 + hours(9),
    )
    assert (day.next.user_id, day.next.start) == (cast.ben.id, MONDAY_9 + days(1))
    assert (night.now.user_id, night.now.start, night.now.end) == (
        None,
        MONDAY_9 + hours(9),
        MONDAY_9 + days(1),
    )
    assert night.next.user_id == cast.ben.id
    assert selectors.oncall_user_ids(schedule_id=schedule.id, at=MONDAY_9 + hours(1)) == [
        cast.ana.id
    ]
    assert selectors.oncall_user_ids(schedule_id=schedule.id, at=MONDAY_9 + hours(10)) == []


def test_user_shifts_spans_schedules_and_overrides(cast, make_schedule, make_layer, make_override):
    cn = make_schedule(name="T&S Ops CN", time_zone="Asia/Shanghai")
    make_layer(cn, [cast.ana, cast.ben], MONDAY_9)
    ie = make_schedule(name="T&S Ops IE", time_zone="Europe/Dublin", team=cast.other_team)
    make_layer(ie, [cast.ben, cast.cai], at(DUB, 2026, 3, 2, 8), unit="hours", count=12)
    cover = make_override(
        ie, cast.ana, at(DUB, 2026, 3, 2, 20), at(DUB, 2026, 3, 3, 8), replaces=cast.cai
    )
    us = make_schedule(name="T&S Ops US", time_zone="America/Los_Angeles")
    make_layer(us, [cast.dan], at(LA, 2026, 3, 2, 9))
    start, end = MONDAY_9, MONDAY_9 + days(3)

    mine = selectors.user_shifts(user=cast.ana, start=start, end=end)

    assert [(s.name, shift.start, shift.end, shift.override_id) for s, shift in mine] == [
        ("T&S Ops CN", MONDAY_9, MONDAY_9 + days(1), None),
        ("T&S Ops IE", at(DUB, 2026, 3, 2, 20), at(DUB, 2026, 3, 3, 8), cover.id),
        ("T&S Ops CN", MONDAY_9 + days(2), MONDAY_9 + days(3), None),
    ]
    covered = selectors.user_shifts(user=cast.cai, start=start, end=end)
    assert [(s.name, shift.start) for s, shift in covered] == [
        ("T&S Ops IE", at(DUB, 2026, 3, 3, 20)),
        ("T&S Ops IE", at(DUB, 2026, 3, 4, 20)),
    ]
    assert {s.name for s, _shift in selectors.user_shifts(user=cast.ben, start=start, end=end)} == {
        "T&S Ops CN",
        "T&S Ops IE",
    }
    assert selectors.user_shifts(user=cast.eli, start=start, end=end) == []
