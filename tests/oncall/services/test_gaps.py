"""gaps_detect with an explicit `now`: each gap in the next 14 days recorded
and reported once, however often the sweep runs; closed once covered."""

from types import SimpleNamespace

import pytest

from oncall.models import CoverageGap
from oncall.services import gaps_detect, override_delete
from tests.oncall.services.support import SH, at, days, hours

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)
NOON = MONDAY_9 + hours(3)
BUSINESS_HOURS = [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]


def evening(day: int):
    """The gap after business hours on `day` (0 = Monday 2 March) until the next morning."""
    start = MONDAY_9 + days(day) + hours(9)
    return start, MONDAY_9 + days(day + (3 if day % 7 == 4 else 1))


@pytest.fixture
def office(cast, make_schedule, make_layer):
    """ana and ben on weekdays 09:00-18:00 in Shanghai, from Monday 2 March."""
    schedule = make_schedule()
    make_layer(schedule, [cast.ana, cast.ben], MONDAY_9, restrictions=BUSINESS_HOURS)
    return SimpleNamespace(schedule=schedule)


def open_gaps(schedule) -> list[tuple]:
    return list(
        CoverageGap.objects.filter(schedule=schedule, closed_at__isnull=True)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )


def test_every_evening_and_weekend_of_the_next_14_days_is_a_gap(office):
    assert gaps_detect(now=NOON) == 10

    assert open_gaps(office.schedule) == [evening(d) for d in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
    assert set(CoverageGap.objects.values_list("detected_at", "reported_at")) == {(NOON, NOON)}


@pytest.mark.parametrize(
    ("runs", "found"),
    [
        pytest.param([NOON, NOON, NOON + hours(1)], [10, 0, 0], id="same-gaps-again"),
        # At 19:00 the evening gap is under way (clipped to start now), and the
        # window's end reaches a new one: Monday 16 March from 18:00.
        pytest.param(
            [NOON, NOON + hours(7)], [10, 1], id="ongoing-gap-clipped-by-the-window-start"
        ),
        pytest.param(
            [NOON, NOON + hours(7), NOON + hours(8), NOON + hours(10)],
            [10, 1, 0, 0],
            id="gap-growing-at-the-window-end",
        ),
        pytest.param(
            [NOON + hours(7 + k) for k in range(15)], [11] + [0] * 14, id="hourly-through-the-night"
        ),
    ],
)
def test_each_gap_is_recorded_once_across_runs(office, runs, found):
    assert [gaps_detect(now=now) for now in runs] == found

    assert CoverageGap.objects.count() == sum(found)
    assert not CoverageGap.objects.filter(closed_at__isnull=False).exists()
    assert set(CoverageGap.objects.values_list("reported_at", flat=True)) <= set(runs)


def test_a_gap_under_way_keeps_its_record(office):
    gaps_detect(now=NOON)
    first = CoverageGap.objects.get(starts_at=evening(0)[0])

    assert gaps_detect(now=evening(0)[0] + hours(2)) == 1  # Monday 16 March, 18:00-20:00
    assert gaps_detect(now=evening(0)[0] + hours(5)) == 0

    first.refresh_from_db()
    assert (first.starts_at, first.ends_at, first.closed_at) == (*evening(0), None)


def test_a_schedule_with_nobody_is_one_gap_however_often_it_is_swept(
    cast, make_schedule, notices, django_capture_on_commit_callbacks
):
    schedule = make_schedule()

    with django_capture_on_commit_callbacks(execute=True):
        found = [gaps_detect(now=NOON + hours(k)) for k in range(0, 48, 6)]

    assert found == [1, 0, 0, 0, 0, 0, 0, 0]
    assert open_gaps(schedule) == [(NOON, NOON + hours(42) + days(14))]
    assert len(notices.sent) == 6  # ana, ben, cai, dan, eli and the manager, once


def test_an_override_over_a_gap_closes_it(cast, office, make_override):
    gaps_detect(now=NOON)
    make_override(office.schedule, cast.dan, *evening(1))

    assert gaps_detect(now=NOON + hours(1)) == 0

    closed = CoverageGap.objects.get(closed_at__isnull=False)
    assert (closed.starts_at, closed.ends_at, closed.closed_at) == (*evening(1), NOON + hours(1))
    assert evening(1) not in open_gaps(office.schedule)
    assert len(open_gaps(office.schedule)) == 9


def test_a_gap_that_comes_back_is_open_and_reported_again(
    cast, office, make_override, notices, django_capture_on_commit_callbacks
):
    gaps_detect(now=NOON)
    cover = make_override(office.schedule, cast.dan, *evening(1))
    gaps_detect(now=NOON + hours(1))
    override_delete(actor=cast.manager, override_id=cover.id)

    with django_capture_on_commit_callbacks(execute=True):
        assert gaps_detect(now=NOON + hours(2)) == 1

    assert evening(1) in open_gaps(office.schedule)
    assert len(open_gaps(office.schedule)) == 10
    assert notices.sent and all(
        "nobody on call from 03-03 18:00 CST" in t for _u, t, _l in notices.sent
    )


def test_new_gaps_are_reported_once_to_the_team_and_ops_managers(
    cast, office, make_user, notices, django_capture_on_commit_callbacks
):
    make_user(username="gone", role="responder", is_active=False).teams.add(cast.team)

    with django_capture_on_commit_callbacks(execute=True):
        gaps_detect(now=NOON)
        gaps_detect(now=NOON + hours(1))

    team = [cast.ana, cast.ben, cast.cai, cast.dan, cast.eli, cast.manager]
    assert sorted(notices.users()) == sorted(u.id for u in team)
    assert {(t, level) for _u, t, level in notices.sent} == {
        (
            "T&S Ops CN has nobody on call from 03-02 18:00 CST (10 gaps in the next 14 days).",
            "warning",
        )
    }


def test_a_schedule_without_a_team_reports_to_ops_managers(
    cast, make_schedule, notices, django_capture_on_commit_callbacks
):
    make_schedule(name="Unowned", team=None)

    with django_capture_on_commit_callbacks(execute=True):
        gaps_detect(now=NOON)

    assert notices.users() == [cast.manager.id]
    assert notices.sent[0][1] == (
        "Unowned has nobody on call from 03-02 12:00 CST (1 gap in the next 14 days)."
    )
