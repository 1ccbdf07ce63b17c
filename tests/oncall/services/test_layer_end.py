"""layer_end: a layer that has not started goes; one that has ends now and
keeps its past shifts."""

import pytest
from django.utils import timezone

from oncall.models import Layer, LayerMember
from oncall.services import NotAllowed, layer_end, layer_update
from tests.oncall.services.support import days, hours, shifts, top_of_hour, who

pytestmark = pytest.mark.django_db


def test_a_started_layer_ends_now_and_keeps_its_past(cast, rotation):
    before = timezone.now()
    layer_end(actor=cast.ana, layer_id=rotation.layer.id)
    after = timezone.now()

    ended = Layer.objects.get(id=rotation.layer.id).active_until
    assert before <= ended <= after
    anchor, window_end = rotation.anchor, after + days(2)
    assert shifts(rotation.schedule, anchor, window_end) == [
        (anchor, anchor + days(1), cast.ana.id),
        (anchor + days(1), ended, cast.ben.id),
        (ended, window_end, None),
    ]
    assert who(rotation.schedule, rotation.handoff) is None


def future_layer(cast, make_schedule, make_layer, rotation, how):
    if how == "first-handoff-ahead":
        schedule = make_schedule(name="Next month")
        return make_layer(schedule, [cast.ana, cast.ben], top_of_hour(timezone.now()) + days(3))
    return layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.eli])


@pytest.mark.parametrize("how", ["first-handoff-ahead", "version-waiting-for-its-handoff"])
def test_a_layer_not_yet_started_is_deleted(cast, make_schedule, make_layer, rotation, how):
    layer = future_layer(cast, make_schedule, make_layer, rotation, how)

    gone = layer_end(actor=cast.manager, layer_id=layer.id)

    assert gone.schedule_id == layer.schedule_id
    assert not Layer.objects.filter(id=layer.id).exists()
    assert not LayerMember.objects.filter(layer_id=layer.id).exists()
    assert Layer.objects.filter(id=rotation.layer.id).exists()


def test_ending_a_waiting_version_leaves_the_old_one_ending_at_its_handoff(cast, rotation):
    waiting = layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.eli])

    layer_end(actor=cast.manager, layer_id=waiting.id)

    assert who(rotation.schedule, timezone.now()) == cast.ben.id
    assert who(rotation.schedule, rotation.handoff - hours(1)) == cast.ben.id
    assert who(rotation.schedule, rotation.handoff) is None


@pytest.mark.parametrize("actor", ["outsider", "executive", "bpo_lead"])
def test_outsiders_may_not_end_a_layer(cast, rotation, actor):
    with pytest.raises(NotAllowed):
        layer_end(actor=getattr(cast, actor), layer_id=rotation.layer.id)

    assert Layer.objects.get(id=rotation.layer.id).active_until is None


def test_ending_a_layer_drops_the_version_waiting_to_replace_it(cast, rotation):
    waiting = layer_update(actor=cast.manager, layer_id=rotation.layer.id, users=[cast.eli])

    layer_end(actor=cast.manager, layer_id=rotation.layer.id)

    assert not Layer.objects.filter(id=waiting.id).exists()
    assert who(rotation.schedule, rotation.handoff + hours(1)) is None
