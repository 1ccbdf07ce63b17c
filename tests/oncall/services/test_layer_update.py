"""layer_update: in place before a layer starts; once it has, a new version
from the next handoff that keeps the person on call now and the rotation's
order, and leaves the past as it was."""

import pytest
from django.utils import timezone

from oncall.models import Layer, LayerMember
from oncall.services import InvalidInput, NotAllowed, OncallError, layer_update
from tests.oncall.services.support import days, hours, shifts, top_of_hour, who

pytestmark = pytest.mark.django_db


def roster(layer: Layer) -> list[str]:
    return list(
        LayerMember.objects.filter(layer=layer)
        .order_by("position")
        .values_list("user__username", flat=True)
    )


def test_rotation_fixture_has_ben_on_call_and_cai_next(cast, rotation):
    now = timezone.now()

    assert who(rotation.schedule, now) == cast.ben.id
    assert who(rotation.schedule, rotation.handoff) == cast.cai.id


@pytest.mark.parametrize(
    ("new_roster", "from_handoff"),
    [
        pytest.param(
            ["ana", "ben", "cai", "dan", "eli"],
            ["cai", "dan", "eli", "ana", "ben"],
            id="eli-added",
        ),
        pytest.param(["ana", "ben", "dan"], ["dan", "ana", "ben"], id="cai-who-was-next-removed"),
        pytest.param(["ben", "cai", "dan"], ["cai", "dan", "ben"], id="ana-removed"),
        pytest.param(["ana", "cai", "dan"], ["cai", "dan", "ana"], id="ben-on-call-now-removed"),
        pytest.param(["ben", "dan"], ["dan", "ben"], id="ana-and-cai-removed"),
        pytest.param(
            ["dan", "cai", "ben", "ana"], ["cai", "ben", "ana", "dan"], id="order-reversed"
        ),
        pytest.param(["eli", "ana"], ["ana", "eli"], id="all-but-ana-replaced"),
    ],
)
def test_a_roster_change_takes_effect_at_the_next_handoff(cast, rotation, new_roster, from_handoff):
    people = {u.username: u for u in (cast.ana, cast.ben, cast.cai, cast.dan, cast.eli)}
    ids = {u.id: name for name, u in people.items()}

    new = layer_update(
        actor=cast.ana, layer_id=rotation.layer.id, users=[people[n] for n in new_roster]
    )

    old = Layer.objects.get(id=rotation.layer.id)
    assert new.id != old.id
    assert old.active_until == rotation.handoff
    assert roster(old) == ["ana", "ben", "cai", "dan"]
    assert (new.previous_id, new.active_from, new.anchor, new.active_until) == (
        old.id,
        rotation.handoff,
        rotation.handoff,
        None,
    )
    assert (new.name, new.priority, new.unit, new.count) == (
        old.name,
        old.priority,
        old.unit,
        old.count,
    )
    assert roster(new) == from_handoff
    # The past and the shift under way stay as they were.
    schedule, anchor, handoff = rotation.schedule, rotation.anchor, rotation.handoff
    assert who(schedule, anchor + hours(1)) == cast.ana.id
    assert who(schedule, anchor + days(1)) == cast.ben.id
    assert who(schedule, timezone.now()) == cast.ben.id
    assert who(schedule, handoff - hours(1) / 60) == cast.ben.id
    # From the handoff, whoever was next goes first, then the new order.
    cycle = [ids[who(schedule, handoff + days(k) + hours(1))] for k in range(len(new_roster) + 1)]
    assert cycle == [*from_handoff, from_handoff[0]]
    assert [(s, e, ids[u]) for s, e, u in shifts(schedule, anchor, handoff + days(1))] == [
        (anchor, anchor + days(1), "ana"),
        (anchor + days(1), handoff, "ben"),
        (handoff, handoff + days(1), from_handoff[0]),
    ]


def test_a_new_shift_length_starts_at_the_next_handoff(cast, rotation):
    new = layer_update(actor=cast.manager, layer_id=rotation.layer.id, unit="hours", count=12)

    assert (new.unit, new.count, new.anchor) == ("hours", 12, rotation.handoff)
    assert roster(new) == ["cai", "dan", "ana", "ben"]
    handoff = rotation.handoff
    assert [who(rotation.schedule, handoff + hours(12 * k + 1)) for k in range(5)] == [
        cast.cai.id,
        cast.dan.id,
        cast.ana.id,
        cast.ben.id,
        cast.cai.id,
    ]
    assert who(rotation.schedule, timezone.now()) == cast.ben.id


def test_new_restrictions_start_at_the_next_handoff(cast, rotation):
    new = layer_update(
        actor=cast.manager,
        layer_id=rotation.layer.id,
        restrictions=[{"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00:00", "end": "01:00"}],
    )

    assert new.restrictions == [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "01:00"}]
    assert Layer.objects.get(id=rotation.layer.id).restrictions == []
    assert Layer.objects.count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Primary (CN)"},
        {"priority": 5},
        {"unit": "days", "count": 1},  # the same rotation as before
        {"restrictions": []},
    ],
)
def test_changes_that_keep_the_rotation_stay_in_place(cast, rotation, changes):
    same = layer_update(actor=cast.ana, layer_id=rotation.layer.id, **changes)

    assert same.id == rotation.layer.id
    assert Layer.objects.count() == 1
    stored = Layer.objects.get(id=same.id)
    assert {k: getattr(stored, k) for k in changes} == changes
    assert stored.active_until is None


def test_a_layer_not_yet_started_changes_in_place(cast, make_schedule, make_layer):
    anchor = top_of_hour(timezone.now()) + days(2)
    schedule = make_schedule()
    layer = make_layer(schedule, [cast.ana, cast.ben, cast.cai], anchor)

    same = layer_update(actor=cast.manager, layer_id=layer.id, users=[cast.dan, cast.cai], count=2)

    assert same.id == layer.id
    assert Layer.objects.count() == 1
    stored = Layer.objects.get(id=layer.id)
    assert (stored.count, stored.active_from, stored.active_until, stored.previous_id) == (
        2,
        None,
        None,
        None,
    )
    assert roster(stored) == ["dan", "cai"]
    assert [who(schedule, anchor + days(n) + hours(1)) for n in (0, 1, 2, 3, 4)] == [
        cast.dan.id,
        cast.dan.id,
        cast.cai.id,
        cast.cai.id,
        cast.dan.id,
    ]


def test_a_version_waiting_for_its_handoff_changes_in_place(cast, rotation):
    waiting = layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.ana])

    again = layer_update(actor=cast.manager, layer_id=waiting.id, users=[cast.eli, cast.dan])

    assert again.id == waiting.id
    assert Layer.objects.count() == 2
    assert roster(again) == ["eli", "dan"]
    assert who(rotation.schedule, rotation.handoff + hours(1)) == cast.eli.id
    assert who(rotation.schedule, timezone.now()) == cast.ben.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": 0}, "count"),
        ({"unit": "fortnights"}, "count"),
        ({"restrictions": [{"days": [9], "start": "09:00", "end": "18:00"}]}, "restrictions"),
        ({"time_zone": "Asia/Beijing"}, "time_zone"),
    ],
)
def test_invalid_changes_are_refused(cast, rotation, changes, field):
    with pytest.raises(InvalidInput) as caught:
        layer_update(actor=cast.manager, layer_id=rotation.layer.id, **changes)

    assert set(caught.value.fields) == {field}
    stored = Layer.objects.get(id=rotation.layer.id)
    assert (stored.unit, stored.count, stored.restrictions, stored.time_zone) == (
        "days",
        1,
        [],
        "",
    )
    assert stored.active_until is None
    assert Layer.objects.count() == 1


def test_only_operations_people_join_a_layer(cast, rotation):
    with pytest.raises(InvalidInput) as caught:
        layer_update(
            actor=cast.manager, layer_id=rotation.layer.id, users=[cast.ana, cast.executive]
        )

    assert set(caught.value.fields) == {"users"}
    assert roster(Layer.objects.get(id=rotation.layer.id)) == ["ana", "ben", "cai", "dan"]
    assert Layer.objects.count() == 1


@pytest.mark.parametrize("actor", ["outsider", "executive", "bpo_lead"])
def test_outsiders_may_not_change_a_layer(cast, rotation, actor):
    with pytest.raises(NotAllowed):
        layer_update(actor=getattr(cast, actor), layer_id=rotation.layer.id, users=[cast.eli])

    assert Layer.objects.count() == 1
    assert roster(Layer.objects.get(id=rotation.layer.id)) == ["ana", "ben", "cai", "dan"]


def test_a_replaced_version_cannot_be_edited(cast, rotation):
    layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.eli])

    with pytest.raises(OncallError) as caught:
        layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.dan])

    assert caught.value.code == "layer_replaced"
    assert Layer.objects.count() == 2
