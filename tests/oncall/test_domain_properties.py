"""Properties of the rotation arithmetic over random schedules (hypothesis):
the final shifts tile the window without overlap, and "on call at T" agrees
with the shift list for random T."""

from datetime import UTC, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall.domain.rotation import (
    LayerSpec,
    OverrideSpec,
    Restriction,
    ScheduleSpec,
    Unit,
    final_shifts,
    on_call_at,
)

ZONES = ["Asia/Shanghai", "America/Los_Angeles", "Europe/Dublin", "UTC"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=365 * 24 * 60).map(
    lambda m: BASE + timedelta(minutes=m)
)

restrictions = st.lists(
    st.builds(
        Restriction,
        days=st.frozensets(st.integers(1, 7), min_size=1),
        start=st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])),
        end=st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])),
    ),
    max_size=2,
).map(tuple)


@st.composite
def layers(draw, layer_id):
    unit = draw(st.sampled_from(list(Unit)))
    count = draw(st.integers(1, 36 if unit is Unit.HOURS else 3))
    active_from = draw(st.one_of(st.none(), moments))
    active_until = draw(st.one_of(st.none(), moments))
    return LayerSpec(
        id=layer_id,
        priority=draw(st.integers(0, 3)),
        participants=tuple(draw(st.lists(st.integers(1, 6), max_size=4))),
        anchor=draw(moments),
        unit=unit,
        count=count,
        active_from=active_from,
        active_until=active_until,
        restrictions=draw(restrictions),
        time_zone=draw(st.one_of(st.none(), st.sampled_from(ZONES))),
    )


@st.composite
def schedules(draw):
    n = draw(st.integers(0, 3))
    spec_layers = tuple(draw(layers(i + 1)) for i in range(n))
    overrides = []
    for i in range(draw(st.integers(0, 3))):
        start = draw(moments)
        overrides.append(
            OverrideSpec(
                i + 1,
                draw(st.integers(1, 6)),
                start,
                start + timedelta(minutes=draw(st.integers(1, 5 * 24 * 60))),
                replaces=draw(st.one_of(st.none(), st.integers(1, 6))),
            )
        )
    return ScheduleSpec(draw(st.sampled_from(ZONES)), spec_layers, tuple(overrides))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), moments, st.integers(min_value=60, max_value=21 * 24 * 60))
def test_final_shifts_tile_the_window_without_overlap(schedule, start, minutes):
    end = start + timedelta(minutes=minutes)
    shifts = final_shifts(schedule, start, end)
    assert shifts[0].start == start and shifts[-1].end == end
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert a.end == b.start
    assert all(s.end > s.start for s in shifts)
    # Neighbours are merged when they are the same person from the same source.
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert (a.user_id, a.layer_id, a.override_id) != (b.user_id, b.layer_id, b.override_id)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), moments, st.lists(st.integers(0, 14 * 24 * 60 - 1), min_size=1, max_size=5))
def test_on_call_at_agrees_with_the_shift_list(schedule, start, offsets):
    end = start + timedelta(days=14)
    shifts = final_shifts(schedule, start, end)
    for offset in offsets:
        t = start + timedelta(minutes=offset)
        listed = next(s for s in shifts if s.start <= t < s.end)
        assert on_call_at(schedule, t).user_id == listed.user_id
