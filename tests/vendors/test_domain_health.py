"""The pure vendor rules: breach projection, staffed windows (overnight,
weekdays, DST), queue and vendor health. No database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vendors.domain.health import (
    Figures,
    Health,
    Level,
    Reason,
    ShiftWindow,
    Targets,
    in_staffed_window,
    projected_breach,
    queue_health,
    shift_start,
    site_health,
    vendor_health,
    worst,
)

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 14:00 in Manila, a Tuesday


def figures(**overrides) -> Figures:
    values = {
        "taken_at": NOW - timedelta(minutes=10),
        "backlog": 50,
        "inflow_per_hour": 300.0,
        "outflow_per_hour": 320.0,
        "oldest_item_minutes": 12.0,
        "sla_attainment": 98.5,
        "staffed_headcount": 20,
        "planned_headcount": 20,
    }
    values.update(overrides)
    return Figures(**values)


def targets(**overrides) -> Targets:
    values = {"sla_percent": 95.0, "sla_minutes": 30, "shift": ShiftWindow("Asia/Manila")}
    values.update(overrides)
    return Targets(**values)


def proj(backlog, inflow, outflow, oldest, sla):
    return projected_breach(
        backlog=backlog,
        inflow_per_hour=inflow,
        outflow_per_hour=outflow,
        oldest_item_minutes=oldest,
        sla_minutes=sla,
    )


# --- projected_breach -------------------------------------------------------


@pytest.mark.parametrize(
    "backlog,inflow,outflow,oldest,sla,expected",
    [
        # Oldest item at or over the SLA: breached now.
        (10, 100, 200, 30, 30, 0.0),
        (10, 100, 200, 45, 30, 0.0),
        # Backlog over what the outflow clears in the SLA (200 * 30/60 = 100).
        (101, 100, 200, 5, 30, 0.0),
        # Backlog at capacity, growing: breaks now.
        (100, 300, 200, 5, 30, 0.0),
        # Growing by 100/h from 50 towards 100: half an hour.
        (50, 300, 200, 5, 30, 30.0),
        # Growing by 50/h from 0 towards 100: two hours.
        (0, 250, 200, 0, 30, 120.0),
        # Shrinking or stable: no breach projected.
        (50, 150, 200, 5, 30, None),
        (50, 200, 200, 5, 30, None),
        (0, 0, 200, 0, 30, None),
        # Nothing moves, items waiting: the oldest reaches the SLA.
        (10, 50, 0, 20, 30, 10.0),
        (10, 0, 0, 0, 30, 30.0),
        # Nothing moves, nothing waiting, items arriving: the first breaks it.
        (0, 50, 0, 0, 30, 30.0),
        # Nothing at all.
        (0, 0, 0, 0, 30, None),
    ],
)
def test_projected_breach_cases(backlog, inflow, outflow, oldest, sla, expected):
    assert proj(backlog, inflow, outflow, oldest, sla) == pytest.approx(expected)


rates = st.floats(min_value=0, max_value=5000, allow_nan=False)
backlogs = st.integers(min_value=0, max_value=20000)
slas = st.integers(min_value=1, max_value=1440)


@given(backlogs, rates, rates, st.floats(0, 2000, allow_nan=False), slas)
def test_projection_is_none_or_non_negative(backlog, inflow, outflow, oldest, sla):
    minutes = proj(backlog, inflow, outflow, oldest, sla)
    assert minutes is None or minutes >= 0
    if oldest >= sla:
        assert minutes == 0


@given(backlogs, rates, st.floats(min_value=1, max_value=5000), slas)
def test_growing_backlog_reaches_capacity_at_the_projection(backlog, inflow, outflow, sla):
    """Where a positive time is projected, the backlog grown for that time is
    what the outflow clears in the SLA."""
    minutes = proj(backlog, inflow, outflow, 0, sla)
    if minutes is None or minutes == 0:
        return
    grown = backlog + (inflow - outflow) * minutes / 60
    assert grown == pytest.approx(outflow * sla / 60, rel=1e-6, abs=1e-6)


@given(backlogs, backlogs, rates, st.floats(min_value=1, max_value=5000), slas)
def test_more_backlog_never_delays_the_breach(a, b, inflow, outflow, sla):
    small, large = sorted((a, b))
    t_small, t_large = proj(small, inflow, outflow, 0, sla), proj(large, inflow, outflow, 0, sla)
    if t_small is not None and t_large is not None:
        assert t_large <= t_small + 1e-9
    if t_small is not None:
        assert t_large is not None or inflow <= outflow


@given(backlogs, rates, st.floats(min_value=1, max_value=5000), slas)
def test_no_breach_when_the_backlog_is_under_capacity_and_not_growing(
    backlog, inflow, outflow, sla
):
    if inflow <= outflow and backlog <= outflow * sla / 60:
        assert proj(backlog, inflow, outflow, 0, sla) is None


# --- staffed windows -----------------------------------------------------------


def local(zone: str, *args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    "moment,start,end,days,expected",
    [
        # Day shift 09:00-18:00 Manila, every day.
        (local("Asia/Manila", 2026, 12, 1, 9, 0), time(9), time(18), range(1, 8), True),
        (local("Asia/Manila", 2026, 12, 1, 17, 59), time(9), time(18), range(1, 8), True),
        (local("Asia/Manila", 2026, 12, 1, 18, 0), time(9), time(18), range(1, 8), False),
        (local("Asia/Manila", 2026, 12, 1, 8, 59), time(9), time(18), range(1, 8), False),
        # Weekdays only: Saturday 2026-12-05 is off.
        (local("Asia/Manila", 2026, 12, 5, 10, 0), time(9), time(18), range(1, 6), False),
        (local("Asia/Manila", 2026, 12, 4, 10, 0), time(9), time(18), range(1, 6), True),
        # Overnight 22:00-06:00: late evening and early morning.
        (local("Asia/Manila", 2026, 12, 1, 23, 0), time(22), time(6), range(1, 8), True),
        (local("Asia/Manila", 2026, 12, 2, 5, 59), time(22), time(6), range(1, 8), True),
        (local("Asia/Manila", 2026, 12, 2, 6, 0), time(22), time(6), range(1, 8), False),
        (local("Asia/Manila", 2026, 12, 2, 12, 0), time(22), time(6), range(1, 8), False),
        # Overnight shift that starts Friday only: Saturday 03:00 is in it,
        # Friday 03:00 is not (Thursday's shift does not exist).
        (local("Asia/Manila", 2026, 12, 5, 3, 0), time(22), time(6), [5], True),
        (local("Asia/Manila", 2026, 12, 4, 3, 0), time(22), time(6), [5], False),
        (local("Asia/Manila", 2026, 12, 4, 23, 0), time(22), time(6), [5], True),
        # Start == end: 24 hours.
        (local("Asia/Manila", 2026, 12, 1, 3, 0), time(0), time(0), range(1, 8), True),
        (local("Asia/Manila", 2026, 12, 1, 7, 0), time(8), time(8), [2], False),
        (local("Asia/Manila", 2026, 12, 1, 9, 0), time(8), time(8), [2], True),
        # Daylight saving (Dublin, last Sunday of March 2026 = 29 March,
        # 01:00 -> 02:00): a 09:00-17:00 shift stays 09:00-17:00 local.
        (datetime(2026, 3, 28, 9, 30, tzinfo=UTC), time(9), time(17), range(1, 8), True),
        (datetime(2026, 3, 30, 8, 30, tzinfo=UTC), time(9), time(17), range(1, 8), True),
        (datetime(2026, 3, 30, 7, 30, tzinfo=UTC), time(9), time(17), range(1, 8), False),
        (datetime(2026, 3, 30, 16, 30, tzinfo=UTC), time(9), time(17), range(1, 8), False),
    ],
)
def test_in_staffed_window(moment, start, end, days, expected):
    zone = "Europe/Dublin" if moment.tzinfo is UTC else "Asia/Manila"
    assert in_staffed_window(moment, zone, start, end, days) is expected


def test_round_the_clock_cover_has_no_daily_restart():
    """24/7 (and back-to-back 24-hour days) started long ago: no grace hour
    after each midnight in which a silent queue would not be stale."""
    now = local("Asia/Manila", 2026, 12, 2, 0, 30)
    started = shift_start(now, ShiftWindow("Asia/Manila"))
    assert now - started >= timedelta(days=7)
    weekdays = ShiftWindow("Asia/Manila", time(0), time(0), frozenset({1, 2, 3, 4, 5}))
    # Wednesday 00:30: the run began Monday 00:00.
    assert shift_start(now, weekdays) == local("Asia/Manila", 2026, 11, 30, 0, 0)
    health = queue_health(
        figures(taken_at=now - timedelta(minutes=61)), targets(), now.astimezone(UTC)
    )
    assert health.level is Level.STALE


def test_shift_start_across_midnight_and_dst_gap():
    window = ShiftWindow("Asia/Manila", time(22), time(6))
    started = shift_start(local("Asia/Manila", 2026, 12, 2, 3, 0), window)
    assert started == local("Asia/Manila", 2026, 12, 1, 22, 0)
    # A shift starting at 01:30 on the night Dublin skips 01:00-02:00 starts
    # when the clocks reach 02:30 (01:30 UTC, as 01:30 GMT would have been).
    gap = ShiftWindow("Europe/Dublin", time(1, 30), time(9))
    started = shift_start(datetime(2026, 3, 29, 3, 0, tzinfo=UTC), gap)
    assert started.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@given(
    st.integers(0, 366 * 24 * 60),
    st.sampled_from(["Asia/Shanghai", "Europe/Dublin", "America/Los_Angeles", "UTC"]),
    st.integers(0, 23),
    st.integers(0, 23),
    st.frozensets(st.integers(1, 7), min_size=1),
)
def test_shift_start_is_at_most_a_day_before_and_in_the_window(minute, zone, h1, h2, days):
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    window = ShiftWindow(zone, time(h1), time(h2), days)
    started = shift_start(now, window)
    if started is None:
        return
    assert started <= now
    assert started.isoweekday() in days
    if h1 != h2:
        assert now - started <= timedelta(hours=25)  # a shift, plus a DST hour
    else:  # back-to-back 24-hour shifts run together, a week at most
        assert now - started <= timedelta(days=8)


# --- queue health ----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,level,reasons",
    [
        ({}, Level.OK, ()),
        ({"sla_attainment": 94.9}, Level.BREACH, (Reason.ATTAINMENT_BELOW_SLA,)),
        ({"sla_attainment": 95.0}, Level.WARN, (Reason.ATTAINMENT_NEAR_SLA,)),
        ({"sla_attainment": 96.9}, Level.WARN, (Reason.ATTAINMENT_NEAR_SLA,)),
        ({"sla_attainment": 97.0}, Level.OK, ()),
        ({"oldest_item_minutes": 31}, Level.BREACH, (Reason.OLDEST_OVER_SLA,)),
        ({"staffed_headcount": 18}, Level.OK, ()),  # 90%: fine
        ({"staffed_headcount": 17}, Level.WARN, (Reason.UNDERSTAFFED,)),  # 85%
        ({"staffed_headcount": 15}, Level.WARN, (Reason.UNDERSTAFFED,)),  # 75%
        ({"staffed_headcount": 14}, Level.BREACH, (Reason.SEVERELY_UNDERSTAFFED,)),
        ({"planned_headcount": 0, "staffed_headcount": 0}, Level.OK, ()),
        # 160 - 320*30/60 = -> capacity 160; backlog 140 growing 100/h: 12 min.
        (
            {"backlog": 140, "inflow_per_hour": 420},
            Level.WARN,
            (Reason.PROJECTED_BREACH,),
        ),
        # Growing, but the breach is more than an hour away: fine.
        ({"backlog": 0, "inflow_per_hour": 330}, Level.OK, ()),
        (
            {"sla_attainment": 90, "staffed_headcount": 16, "backlog": 140, "inflow_per_hour": 420},
            Level.BREACH,
            (Reason.ATTAINMENT_BELOW_SLA, Reason.UNDERSTAFFED, Reason.PROJECTED_BREACH),
        ),
    ],
)
def test_queue_health_from_figures(overrides, level, reasons):
    health = queue_health(figures(**overrides), targets(), NOW)
    assert health.level is level
    assert health.reasons == reasons


def test_warn_threshold_can_be_set():
    health = queue_health(figures(sla_attainment=98.5), targets(warn_attainment=99), NOW)
    assert health.reasons == (Reason.ATTAINMENT_NEAR_SLA,)
    assert targets(sla_percent=99.5).warn_below == 100.0


def test_projection_is_reported_even_when_far():
    health = queue_health(figures(backlog=0, inflow_per_hour=330), targets(), NOW)
    assert health.projected_breach_minutes == pytest.approx(960)
    assert not health.is_trouble


@pytest.mark.parametrize(
    "last_minutes_ago,shift,level,reason",
    [
        # 24/7: stale after 60 minutes.
        (59, ShiftWindow("Asia/Manila"), Level.OK, None),
        (60, ShiftWindow("Asia/Manila"), Level.STALE, Reason.STALE_REPORT),
        (None, ShiftWindow("Asia/Manila"), Level.STALE, Reason.STALE_REPORT),
        # Off shift (NOW is 14:00 Manila; shift 22:00-06:00): old figures are
        # not shown as current.
        (300, ShiftWindow("Asia/Manila", time(22), time(6)), Level.UNKNOWN, Reason.OFF_SHIFT),
        (None, ShiftWindow("Asia/Manila", time(22), time(6)), Level.UNKNOWN, Reason.NO_REPORT),
        # Shift opened at 13:30: 30 minutes in, not stale yet; waiting.
        (300, ShiftWindow("Asia/Manila", time(13, 30), time(20)), Level.UNKNOWN, Reason.NO_REPORT),
        (None, ShiftWindow("Asia/Manila", time(13, 30), time(20)), Level.UNKNOWN, Reason.NO_REPORT),
        # Shift opened at 12:30: 90 minutes without a report.
        (300, ShiftWindow("Asia/Manila", time(12, 30), time(20)), Level.STALE, Reason.STALE_REPORT),
        (
            None,
            ShiftWindow("Asia/Manila", time(12, 30), time(20)),
            Level.STALE,
            Reason.STALE_REPORT,
        ),
    ],
)
def test_stale_and_unknown(last_minutes_ago, shift, level, reason):
    snap = None
    if last_minutes_ago is not None:
        snap = figures(taken_at=NOW - timedelta(minutes=last_minutes_ago))
    health = queue_health(snap, targets(shift=shift), NOW)
    assert health.level is level
    if reason is not None:
        assert health.reasons == (reason,)


def test_is_trouble_for_breach_or_projection_only():
    assert queue_health(figures(sla_attainment=80), targets(), NOW).is_trouble
    assert queue_health(figures(backlog=140, inflow_per_hour=420), targets(), NOW).is_trouble
    assert not queue_health(figures(sla_attainment=96), targets(), NOW).is_trouble
    assert not queue_health(figures(staffed_headcount=17), targets(), NOW).is_trouble


# --- sites and vendors --------------------------------------------------------------


@pytest.mark.parametrize(
    "status,level",
    [
        ("operational", Level.OK),
        ("degraded", Level.WARN),
        ("bcp_active", Level.WARN),
        ("down", Level.BREACH),
    ],
)
def test_site_health(status, level):
    assert site_health(status).level is level


def test_vendor_health_is_the_worst_known():
    ok = Health(Level.OK)
    warn = Health(Level.WARN, (Reason.UNDERSTAFFED,), projected_breach_minutes=200)
    unknown = Health(Level.UNKNOWN, (Reason.OFF_SHIFT,))
    assert vendor_health([ok, unknown], ["operational"]).level is Level.OK
    health = vendor_health([ok, warn, unknown], ["degraded"])
    assert health.level is Level.WARN
    assert health.reasons == (Reason.UNDERSTAFFED, Reason.SITE_DEGRADED)
    assert health.projected_breach_minutes == 200
    assert vendor_health([warn], ["down"]).reasons == (Reason.SITE_DOWN,)
    assert vendor_health([unknown], []).level is Level.UNKNOWN
    assert vendor_health([], []).level is Level.UNKNOWN
    assert vendor_health([], ["operational"]).level is Level.OK


@given(st.lists(st.sampled_from(list(Level)), max_size=6))
def test_worst_is_an_upper_bound(levels):
    top = worst(levels)
    assert all(level.rank <= top.rank for level in levels)
    assert top in levels or (not levels and top is Level.OK)


def test_a_new_queue_gets_its_stale_period_before_going_stale():
    fresh = targets(active_since=NOW - timedelta(minutes=30))
    assert queue_health(None, fresh, NOW).level is Level.UNKNOWN
    older = targets(active_since=NOW - timedelta(minutes=60))
    assert queue_health(None, older, NOW).level is Level.STALE
