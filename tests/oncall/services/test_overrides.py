"""override_create, swap_create and override_delete: ranges, who may cover,
and what the final shifts become."""

from types import SimpleNamespace

import pytest

from oncall.models import Override
from oncall.services import InvalidInput, NotAllowed, override_create, override_delete, swap_create
from tests.oncall.services.support import SH, at, days, hours, shifts

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)


@pytest.fixture
def daily(cast, make_schedule, make_layer):
    """Daily ana, ben, cai from Monday 09:00 in Shanghai."""
    schedule = make_schedule()
    make_layer(schedule, [cast.ana, cast.ben, cast.cai], MONDAY_9)
    return SimpleNamespace(schedule=schedule, day=lambda n, h=0: MONDAY_9 + days(n) + hours(h))


def names(cast, rows):
    by_id = {u.id: u.username for u in (cast.ana, cast.ben, cast.cai, cast.dan, cast.eli)}
    return [(s, e, by_id.get(u)) for s, e, u in rows]


def test_an_override_covers_whoever_is_on_call(cast, daily, make_override):
    d = daily.day
    made = make_override(daily.schedule, cast.dan, d(0, 3), d(1, 3))

    assert (made.created_by_id, made.replaces_id, made.swap_id) == (cast.manager.id, None, None)
    assert names(cast, shifts(daily.schedule, d(0), d(2))) == [
        (d(0), d(0, 3), "ana"),
        (d(0, 3), d(1, 3), "dan"),
        (d(1, 3), d(2), "ben"),
    ]


def test_an_override_with_replaces_covers_only_that_persons_time(cast, daily, make_override):
    d = daily.day
    make_override(daily.schedule, cast.dan, d(0), d(3), replaces=cast.ben)

    assert names(cast, shifts(daily.schedule, d(0), d(3))) == [
        (d(0), d(1), "ana"),
        (d(1), d(2), "dan"),
        (d(2), d(3), "cai"),
    ]


def test_covering_someone_not_on_call_changes_nothing(cast, daily, make_override):
    d = daily.day
    before = shifts(daily.schedule, d(0), d(3))

    make_override(daily.schedule, cast.dan, d(0), d(3), replaces=cast.eli)

    assert shifts(daily.schedule, d(0), d(3)) == before


def test_the_latest_override_wins_where_two_overlap(cast, daily, make_override):
    d = daily.day
    make_override(daily.schedule, cast.dan, d(0, 2), d(0, 6))
    make_override(daily.schedule, cast.eli, d(0, 4), d(0, 8))

    assert names(cast, shifts(daily.schedule, d(0), d(1))) == [
        (d(0), d(0, 2), "ana"),
        (d(0, 2), d(0, 4), "dan"),
        (d(0, 4), d(0, 8), "eli"),
        (d(0, 8), d(1), "ana"),
    ]


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (0, 1, True),
        (0, 90 * 24, True),
        (0, 0, False),
        (5, 1, False),
        (0, 90 * 24 + 1, False),
    ],
)
def test_an_override_lasts_between_a_moment_and_90_days(cast, daily, start, end, ok):
    def make():
        return override_create(
            actor=cast.ana,
            schedule=daily.schedule,
            user=cast.dan,
            starts_at=MONDAY_9 + hours(start),
            ends_at=MONDAY_9 + hours(end),
        )

    if ok:
        assert make().id
        return
    with pytest.raises(InvalidInput) as caught:
        make()
    assert set(caught.value.fields) == {"ends_at"}
    assert not Override.objects.exists()


def test_nobody_covers_for_themselves(cast, daily):
    with pytest.raises(InvalidInput) as caught:
        override_create(
            actor=cast.ana,
            schedule=daily.schedule,
            user=cast.ana,
            starts_at=MONDAY_9,
            ends_at=MONDAY_9 + hours(4),
            replaces=cast.ana,
        )

    assert set(caught.value.fields) == {"replaces"}
    assert not Override.objects.exists()


@pytest.mark.parametrize("person", ["executive", "bpo_lead"])
def test_only_operations_people_cover(cast, daily, person):
    with pytest.raises(InvalidInput) as caught:
        override_create(
            actor=cast.manager,
            schedule=daily.schedule,
            user=getattr(cast, person),
            starts_at=MONDAY_9,
            ends_at=MONDAY_9 + hours(4),
        )

    assert set(caught.value.fields) == {"user"}


def test_a_swap_trades_two_shifts_and_is_undone_together(cast, daily):
    d = daily.day
    original = shifts(daily.schedule, d(0), d(3))

    first, second = swap_create(
        actor=cast.ana,
        schedule=daily.schedule,
        first=cast.ana,
        first_range=(d(0), d(1)),
        second=cast.ben,
        second_range=(d(1), d(2)),
        note=" Ana has a dentist on Monday ",
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.swap_id is not None and first.swap_id == second.swap_id
    assert (first.user_id, first.replaces_id, second.user_id, second.replaces_id) == (
        cast.ben.id,
        cast.ana.id,
        cast.ana.id,
        cast.ben.id,
    )
    assert first.note == "Ana has a dentist on Monday"
    assert names(cast, shifts(daily.schedule, d(0), d(3))) == [
        (d(0), d(1), "ben"),
        (d(1), d(2), "ana"),
        (d(2), d(3), "cai"),
    ]

    assert override_delete(actor=cast.ben, override_id=second.id) == 2

    assert not Override.objects.exists()
    assert shifts(daily.schedule, d(0), d(3)) == original


def test_a_swap_with_one_bad_half_makes_nothing(cast, daily):
    d = daily.day
    with pytest.raises(InvalidInput):
        swap_create(
            actor=cast.ana,
            schedule=daily.schedule,
            first=cast.ana,
            first_range=(d(0), d(1)),
            second=cast.ben,
            second_range=(d(2), d(1)),
        )

    assert not Override.objects.exists()


def test_deleting_a_plain_override_leaves_the_others(cast, daily, make_override):
    d = daily.day
    gone = make_override(daily.schedule, cast.dan, d(0), d(0, 4))
    kept = make_override(daily.schedule, cast.eli, d(1), d(1, 4))

    assert override_delete(actor=cast.ana, override_id=gone.id) == 1

    assert list(Override.objects.values_list("id", flat=True)) == [kept.id]


@pytest.mark.parametrize("actor", ["outsider", "executive", "bpo_lead"])
def test_outsiders_may_not_add_or_remove_overrides(cast, daily, make_override, actor):
    person = getattr(cast, actor)
    with pytest.raises(NotAllowed):
        override_create(
            actor=person,
            schedule=daily.schedule,
            user=cast.dan,
            starts_at=MONDAY_9,
            ends_at=MONDAY_9 + hours(1),
        )
    made = make_override(daily.schedule, cast.dan, MONDAY_9, MONDAY_9 + hours(1))

    with pytest.raises(NotAllowed):
        override_delete(actor=person, override_id=made.id)

    assert list(Override.objects.values_list("id", flat=True)) == [made.id]
