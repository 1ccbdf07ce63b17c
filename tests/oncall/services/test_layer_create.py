"""layer_create: who takes part, shift lengths and restrictions."""

import pytest

from oncall.models import Layer, LayerMember
from oncall.services import InvalidInput, NotAllowed, layer_create
from tests.oncall.services.support import SH, at, days, hours, shifts, who
from tscc.roles import Role

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)  # Monday 2 March 2026, 09:00 in Shanghai


def test_a_layer_keeps_its_participants_in_order(cast, make_schedule, make_layer):
    schedule = make_schedule()

    layer = make_layer(schedule, [cast.cai, cast.ana, cast.ben], MONDAY_9, name="  Primary  ")

    assert layer.name == "Primary"
    assert list(
        LayerMember.objects.filter(layer=layer).values_list("user__username", "position")
    ) == [("cai", 0), ("ana", 1), ("ben", 2)]
    assert [who(schedule, MONDAY_9 + days(n) + hours(1)) for n in range(4)] == [
        cast.cai.id,
        cast.ana.id,
        cast.ben.id,
        cast.cai.id,
    ]


@pytest.mark.parametrize("role", [Role.OPS_MANAGER, Role.ADMIN, Role.RESPONDER])
def test_operations_people_may_take_part(cast, make_schedule, make_layer, make_user, role):
    person = make_user(role, username=f"p-{role}")

    layer = make_layer(make_schedule(), [cast.ana, person], MONDAY_9)

    assert layer.members.count() == 2


@pytest.mark.parametrize(
    ("role", "active"),
    [
        (Role.EXECUTIVE, True),
        (Role.BPO_LEAD, True),
        (Role.RESPONDER, False),
    ],
)
def test_other_people_cannot_be_on_call(cast, make_schedule, make_layer, make_user, role, active):
    person = make_user(role, username=f"p-{role}-{active}", is_active=active)
    schedule = make_schedule()

    with pytest.raises(InvalidInput) as caught:
        make_layer(schedule, [cast.ana, person], MONDAY_9)

    assert set(caught.value.fields) == {"users"}
    assert not Layer.objects.exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ([], []),
        (
            [{"days": [5, 1, 3, 2, 4, 1], "start": "09:00:00", "end": "18:00"}],
            [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
        ),
        (
            [{"days": ["6", "7"], "start": "22:00:00", "end": "06:00"}],
            [{"days": [6, 7], "start": "22:00", "end": "06:00"}],
        ),
    ],
)
def test_restrictions_are_normalised(cast, make_schedule, make_layer, raw, clean):
    layer = make_layer(make_schedule(), [cast.ana], MONDAY_9, restrictions=raw)

    assert Layer.objects.get(id=layer.id).restrictions == clean


@pytest.mark.parametrize(
    "raw",
    [
        [{"days": [1], "start": "09:00"}],
        [{"start": "09:00", "end": "18:00"}],
        [{"days": [], "start": "09:00", "end": "18:00"}],
        [{"days": [0, 1], "start": "09:00", "end": "18:00"}],
        [{"days": [8], "start": "09:00", "end": "18:00"}],
        [{"days": [1], "start": "09:00", "end": "09:00"}],
        [{"days": [1], "start": "9am", "end": "18:00"}],
        [{"days": [1], "start": "9:00", "end": "18:00"}],
        [{"days": [1], "start": "25:00", "end": "18:00"}],
        [{"days": "weekdays", "start": "09:00", "end": "18:00"}],
        [{"days": 1, "start": "09:00", "end": "18:00"}],
        ["Mon-Fri 9-18"],
    ],
)
def test_invalid_restrictions_are_refused(cast, make_schedule, make_layer, raw):
    with pytest.raises(InvalidInput) as caught:
        make_layer(make_schedule(), [cast.ana], MONDAY_9, restrictions=raw)

    assert set(caught.value.fields) == {"restrictions"}
    assert not Layer.objects.exists()


def test_a_restricted_layer_covers_only_its_windows(cast, make_schedule, make_layer):
    schedule = make_schedule()
    make_layer(
        schedule,
        [cast.ana, cast.ben],
        MONDAY_9,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )

    assert shifts(schedule, MONDAY_9, MONDAY_9 + days(1)) == [
        (MONDAY_9, MONDAY_9 + hours(9), cast.ana.id),
        (MONDAY_9 + hours(9), MONDAY_9 + days(1), None),
    ]
    assert who(schedule, at(SH, 2026, 3, 7, 12)) is None  # Saturday


@pytest.mark.parametrize(
    ("unit", "count"),
    [("fortnights", 1), ("", 1), ("days", 0), ("hours", 0), ("weeks", -1)],
)
def test_a_bad_shift_length_is_refused(cast, make_schedule, make_layer, unit, count):
    with pytest.raises(InvalidInput) as caught:
        make_layer(make_schedule(), [cast.ana], MONDAY_9, unit=unit, count=count)

    assert caught.value.fields
    assert not Layer.objects.exists()


def test_an_unknown_layer_zone_is_refused(cast, make_schedule, make_layer):
    schedule = make_schedule()

    with pytest.raises(InvalidInput) as caught:
        make_layer(schedule, [cast.ana], MONDAY_9, time_zone="Asia/Beijing")

    assert set(caught.value.fields) == {"time_zone"}
    assert not Layer.objects.exists()


@pytest.mark.parametrize("actor", ["ana", "admin"])
def test_the_team_and_admins_add_layers(cast, make_schedule, make_layer, actor):
    layer = make_layer(make_schedule(), [cast.ben], MONDAY_9, actor=getattr(cast, actor))

    assert layer.schedule.layers.count() == 1


@pytest.mark.parametrize("actor", ["outsider", "executive", "bpo_lead"])
def test_outsiders_may_not_add_layers(cast, make_schedule, make_layer, actor):
    schedule = make_schedule()

    with pytest.raises(NotAllowed):
        layer_create(
            actor=getattr(cast, actor),
            schedule=schedule,
            name="Mine",
            users=[cast.ana],
            unit="days",
            count=1,
            anchor=MONDAY_9,
        )

    assert not Layer.objects.exists()


def test_a_layer_covers_nobody_before_its_first_handoff(cast, make_schedule, make_layer):
    schedule = make_schedule()
    make_layer(schedule, [cast.ana, cast.ben, cast.cai], MONDAY_9)

    assert who(schedule, MONDAY_9 - hours(1)) is None
    assert who(schedule, MONDAY_9) == cast.ana.id
    assert shifts(schedule, MONDAY_9 - days(2), MONDAY_9 + hours(1)) == [
        (MONDAY_9 - days(2), MONDAY_9, None),
        (MONDAY_9, MONDAY_9 + hours(1), cast.ana.id),
    ]
