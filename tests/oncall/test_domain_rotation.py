"""Rotation arithmetic, table-driven: daily, weekly and custom shifts,
restrictions, layers, overrides, swaps, roster changes, and DST in
America/Los_Angeles and Europe/Dublin beside Asia/Shanghai."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall.domain.rotation import (
    LayerSpec,
    OverrideSpec,
    Restriction,
    ScheduleSpec,
    Unit,
    coverage_gaps,
    final_shifts,
    next_handoff,
    on_call_at,
)

SH, LA, DUB = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Dublin")
A, B, C, D = 1, 2, 3, 4
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def at(zone, *args):
    return datetime(*args, tzinfo=zone)


def layer(participants, anchor, unit=Unit.DAYS, count=1, **kw):
    return LayerSpec(
        id=kw.pop("id", 1),
        priority=kw.pop("priority", 0),
        participants=tuple(participants),
        anchor=anchor,
        unit=unit,
        count=count,
        **kw,
    )


def who(schedule, moment):
    return on_call_at(schedule, moment).user_id


DAILY_SH = ScheduleSpec("Asia/Shanghai", (layer([A, B, C], at(SH, 2026, 3, 2, 9)),))
WEEKLY_SH = ScheduleSpec("Asia/Shanghai", (layer([A, B], at(SH, 2026, 3, 2, 10), Unit.WEEKS),))
TWELVE_H = ScheduleSpec(
    "Asia/Shanghai", (layer([A, B, C, D], at(SH, 2026, 3, 2, 8), Unit.HOURS, 12),)
)


@pytest.mark.parametrize(
    ("schedule", "moment", "user"),
    [
        (DAILY_SH, at(SH, 2026, 3, 2, 9), A),
        (DAILY_SH, at(SH, 2026, 3, 3, 8, 59), A),
        (DAILY_SH, at(SH, 2026, 3, 3, 9), B),
        (DAILY_SH, at(SH, 2026, 3, 4, 23), C),
        (DAILY_SH, at(SH, 2026, 3, 5, 9), A),
        (DAILY_SH, at(SH, 2026, 3, 2, 8, 59), C),  # before the anchor the rotation runs backwards
        (WEEKLY_SH, at(SH, 2026, 3, 9, 9, 59), A),
        (WEEKLY_SH, at(SH, 2026, 3, 9, 10), B),
        (WEEKLY_SH, at(SH, 2026, 3, 16, 10), A),
        (TWELVE_H, at(SH, 2026, 3, 2, 19, 59), A),
        (TWELVE_H, at(SH, 2026, 3, 2, 20), B),
        (TWELVE_H, at(SH, 2026, 3, 3, 8), C),
        (TWELVE_H, at(SH, 2026, 3, 3, 20), D),
        (TWELVE_H, at(SH, 2026, 3, 4, 8), A),
    ],
)
def test_daily_weekly_and_custom_rotations(schedule, moment, user):
    assert who(schedule, moment) == user


# --- Daylight saving: wall-clock handoffs hold -------------------------------


@pytest.mark.parametrize(
    ("zone", "anchor", "checks"),
    [
        # LA springs forward on 2026-03-08 02:00 -> 03:00; falls back 2026-11-01 02:00 -> 01:00.
        (
            LA,
            at(LA, 2026, 3, 6, 9),
            [((2026, 3, 7, 9), B, 23), ((2026, 3, 8, 9), C, 24), ((2026, 3, 9, 9), A, 24)],
        ),
        (LA, at(LA, 2026, 10, 30, 9), [((2026, 10, 31, 9), B, 25), ((2026, 11, 1, 9), C, 24)]),
        # Dublin: 2026-03-29 01:00 -> 02:00 (IST), 2026-10-25 02:00 -> 01:00.
        (DUB, at(DUB, 2026, 3, 27, 9), [((2026, 3, 28, 9), B, 23), ((2026, 3, 29, 9), C, 24)]),
        (DUB, at(DUB, 2026, 10, 23, 9), [((2026, 10, 24, 9), B, 25), ((2026, 10, 25, 9), C, 24)]),
        # Shanghai has no DST: every shift is 24 h.
        (SH, at(SH, 2026, 3, 6, 9), [((2026, 3, 7, 9), B, 24), ((2026, 3, 8, 9), C, 24)]),
    ],
)
def test_daily_handoffs_stay_at_nine_local_across_dst(zone, anchor, checks):
    schedule = ScheduleSpec(str(zone), (layer([A, B, C], anchor),))
    for wall, user, hours in checks:
        moment = datetime(*wall, tzinfo=zone)
        shift = on_call_at(schedule, moment)
        assert shift.user_id == user
        assert shift.start == moment.astimezone(UTC)
        assert shift.start.astimezone(zone).hour == 9
        assert shift.end - shift.start == timedelta(hours=hours)


def test_a_handoff_at_a_wall_time_that_does_not_exist_happens_when_the_clocks_jump():
    # 02:30 on 2026-03-08 does not exist in Los Angeles.
    schedule = ScheduleSpec("America/Los_Angeles", (layer([A, B], at(LA, 2026, 3, 6, 2, 30)),))
    shift = on_call_at(schedule, at(LA, 2026, 3, 8, 12))
    assert shift.user_id == A
    assert shift.start == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # 03:30 PDT == 02:30 PST


def test_twelve_hour_shifts_keep_wall_times_across_the_dublin_change():
    schedule = ScheduleSpec(
        "Europe/Dublin", (layer([A, B], at(DUB, 2026, 3, 28, 8), Unit.HOURS, 12),)
    )
    shifts = final_shifts(schedule, at(DUB, 2026, 3, 28, 8), at(DUB, 2026, 3, 30, 8))
    assert [(s.start.astimezone(DUB).hour, s.user_id) for s in shifts] == [
        (8, A),
        (20, B),
        (8, A),
        (20, B),
    ]
    assert shifts[1].end - shifts[1].start == timedelta(hours=11)  # the night the clocks go forward


# --- Restrictions, layers, follow-the-sun ------------------------------------

BUSINESS = (Restriction(WEEKDAYS, time(9), time(18)),)


def test_a_restricted_layer_leaves_gaps_outside_its_hours():
    schedule = ScheduleSpec(
        "Asia/Shanghai", (layer([A, B], at(SH, 2026, 3, 2, 9), restrictions=BUSINESS),)
    )
    assert who(schedule, at(SH, 2026, 3, 2, 10)) == A
    assert who(schedule, at(SH, 2026, 3, 2, 19)) is None
    assert who(schedule, at(SH, 2026, 3, 7, 10)) is None  # Saturday
    gaps = coverage_gaps(schedule, at(SH, 2026, 3, 2, 0), at(SH, 2026, 3, 3, 0))
    assert [(g.start.astimezone(SH).hour, g.end.astimezone(SH).hour) for g in gaps] == [
        (0, 9),
        (18, 0),
    ]


def test_a_higher_layer_wins_where_it_covers_and_the_lower_fills_the_rest():
    base = layer([C, D], at(SH, 2026, 3, 2, 9), Unit.WEEKS, id=1, priority=0)
    day = layer([A, B], at(SH, 2026, 3, 2, 9), id=2, priority=10, restrictions=BUSINESS)
    schedule = ScheduleSpec("Asia/Shanghai", (base, day))
    assert who(schedule, at(SH, 2026, 3, 2, 12)) == A
    assert who(schedule, at(SH, 2026, 3, 2, 20)) == C
    assert who(schedule, at(SH, 2026, 3, 3, 12)) == B
    assert who(schedule, at(SH, 2026, 3, 7, 12)) == C  # weekend: the base layer
    assert coverage_gaps(schedule, at(SH, 2026, 3, 2), at(SH, 2026, 3, 16)) == []


def test_wrapping_restriction_covers_the_night():
    night = (Restriction(frozenset(range(1, 8)), time(21), time(9)),)
    schedule = ScheduleSpec(
        "Asia/Shanghai", (layer([A], at(SH, 2026, 3, 2, 9), restrictions=night),)
    )
    assert who(schedule, at(SH, 2026, 3, 3, 2)) == A
    assert who(schedule, at(SH, 2026, 3, 3, 12)) is None


def test_follow_the_sun_shanghai_and_dublin():
    shanghai = layer(
        [A, B],
        at(SH, 2026, 3, 2, 9),
        id=1,
        priority=1,
        restrictions=(Restriction(frozenset(range(1, 8)), time(9), time(21)),),
        time_zone="Asia/Shanghai",
    )
    dublin = layer(
        [C, D],
        at(DUB, 2026, 3, 2, 9),
        id=2,
        priority=1,
        restrictions=(Restriction(frozenset(range(1, 8)), time(9), time(21)),),
        time_zone="Europe/Dublin",
    )
    schedule = ScheduleSpec("UTC", (shanghai, dublin))
    # Before Dublin's DST (GMT): Shanghai 01:00-13:00 UTC, Dublin 09:00-21:00 UTC, overlap goes to
    # the later-declared equal-priority layer; 21:00-01:00 UTC is a gap.
    assert who(schedule, datetime(2026, 3, 3, 2, tzinfo=UTC)) == B
    assert who(schedule, datetime(2026, 3, 3, 15, tzinfo=UTC)) == D
    assert who(schedule, datetime(2026, 3, 3, 22, tzinfo=UTC)) is None
    # After Dublin moves to IST (UTC+1) its window is 08:00-20:00 UTC.
    assert who(schedule, datetime(2026, 4, 7, 20, 30, tzinfo=UTC)) is None
    assert who(schedule, datetime(2026, 4, 7, 19, 30, tzinfo=UTC)) in (C, D)


# --- Overrides and swaps ------------------------------------------------------


def test_an_override_wins_over_every_layer_and_over_gaps():
    schedule = ScheduleSpec(
        "Asia/Shanghai",
        (layer([A, B], at(SH, 2026, 3, 2, 9), restrictions=BUSINESS),),
        (OverrideSpec(1, D, at(SH, 2026, 3, 2, 12), at(SH, 2026, 3, 2, 20)),),
    )
    assert who(schedule, at(SH, 2026, 3, 2, 11)) == A
    assert who(schedule, at(SH, 2026, 3, 2, 12)) == D
    assert who(schedule, at(SH, 2026, 3, 2, 19)) == D  # covers the gap too
    assert who(schedule, at(SH, 2026, 3, 2, 20)) is None


def test_covering_someones_shifts_only_replaces_that_person():
    schedule = ScheduleSpec(
        "Asia/Shanghai",
        (layer([A, B], at(SH, 2026, 3, 2, 9)),),
        (OverrideSpec(1, D, at(SH, 2026, 3, 2, 0), at(SH, 2026, 3, 6, 0), replaces=A),),
    )
    shifts = final_shifts(schedule, at(SH, 2026, 3, 2, 9), at(SH, 2026, 3, 6, 9))
    assert [(s.start.astimezone(SH).day, s.user_id) for s in shifts] == [
        (2, D),
        (3, B),
        (4, D),
        (5, B),
    ]
    assert shifts[0].end == at(SH, 2026, 3, 3, 9).astimezone(UTC)  # shift end is not mutated


def test_a_swap_is_two_covers():
    swap = (
        OverrideSpec(1, B, at(SH, 2026, 3, 2, 9), at(SH, 2026, 3, 3, 9), replaces=A),
        OverrideSpec(2, A, at(SH, 2026, 3, 3, 9), at(SH, 2026, 3, 4, 9), replaces=B),
    )
    schedule = ScheduleSpec("Asia/Shanghai", (layer([A, B], at(SH, 2026, 3, 2, 9)),), swap)
    assert [who(schedule, at(SH, 2026, 3, d, 12)) for d in (2, 3, 4, 5)] == [B, A, A, B]


def test_overlapping_overrides_the_later_one_wins():
    schedule = ScheduleSpec(
        "Asia/Shanghai",
        (layer([A], at(SH, 2026, 3, 2, 9)),),
        (
            OverrideSpec(1, B, at(SH, 2026, 3, 2, 10), at(SH, 2026, 3, 2, 14)),
            OverrideSpec(2, C, at(SH, 2026, 3, 2, 12), at(SH, 2026, 3, 2, 16)),
        ),
    )
    assert [who(schedule, at(SH, 2026, 3, 2, h)) for h in (11, 13, 15, 17)] == [B, C, C, A]


# --- Roster changes mid-rotation ---------------------------------------------


def test_a_participant_added_mid_rotation_takes_effect_at_the_next_handoff():
    old = layer([A, B], at(SH, 2026, 3, 2, 9), id=1, active_until=at(SH, 2026, 3, 4, 9))
    new = layer([A, B, C], at(SH, 2026, 3, 4, 9), id=2, active_from=at(SH, 2026, 3, 4, 9))
    schedule = ScheduleSpec("Asia/Shanghai", (old, new))
    assert [who(schedule, at(SH, 2026, 3, d, 12)) for d in range(2, 9)] == [A, B, A, B, C, A, B]


def test_a_participant_removed_mid_rotation():
    old = layer([A, B, C], at(SH, 2026, 3, 2, 9), id=1, active_until=at(SH, 2026, 3, 4, 9))
    new = layer([C, A], at(SH, 2026, 3, 4, 9), id=2, active_from=at(SH, 2026, 3, 4, 9))
    schedule = ScheduleSpec("Asia/Shanghai", (old, new))
    assert [who(schedule, at(SH, 2026, 3, d, 12)) for d in range(2, 8)] == [A, B, C, A, C, A]


def test_empty_layer_and_no_layers_are_all_gap():
    assert who(ScheduleSpec("UTC"), datetime(2026, 1, 1, tzinfo=UTC)) is None
    empty = ScheduleSpec("UTC", (layer([], datetime(2026, 1, 1, tzinfo=UTC)),))
    assert [
        s.user_id
        for s in final_shifts(
            empty, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
        )
    ] == [None]


def test_next_handoff_is_strictly_after():
    spec = layer([A, B], at(LA, 2026, 3, 6, 9))
    assert next_handoff(spec, LA, at(LA, 2026, 3, 7, 9)) == at(LA, 2026, 3, 8, 9).astimezone(UTC)
    assert next_handoff(spec, LA, at(LA, 2026, 3, 7, 8, 59)) == at(LA, 2026, 3, 7, 9).astimezone(
        UTC
    )


def test_shifts_tile_the_window():
    schedule = ScheduleSpec(
        "Europe/Dublin",
        (layer([A, B], at(DUB, 2026, 3, 20, 9), restrictions=BUSINESS),),
        (OverrideSpec(1, C, at(DUB, 2026, 3, 25, 0), at(DUB, 2026, 3, 31, 0)),),
    )
    start, end = at(DUB, 2026, 3, 21), at(DUB, 2026, 4, 4)
    shifts = final_shifts(schedule, start, end)
    assert shifts[0].start == start.astimezone(UTC) and shifts[-1].end == end.astimezone(UTC)
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))
