"""snapshot_post: validation, duplicates, who may post where."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.vendors.conftest import minutes_ago
from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.exceptions import DuplicateSnapshot, NotFound
from vendors.models import QueueSnapshot
from vendors.services import snapshot_post, token_create

pytestmark = pytest.mark.django_db


def test_lead_posts_for_own_queue(lead, queue, healthy):
    snapshot = snapshot_post(actor=lead, queue_id=queue.id, fields=healthy())
    snapshot.refresh_from_db()
    assert snapshot.reported_by == lead
    assert snapshot.source == "portal"
    assert snapshot.planned_headcount == 20  # copied from the queue
    assert snapshot.taken_at.second == 0


def test_text_figures_and_offsets_are_read(lead, queue, healthy):
    moment = minutes_ago(30)
    fields = {
        k: str(v)
        for k, v in healthy(taken_at=moment.astimezone(timezone.get_fixed_timezone(480))).items()
    }
    fields["taken_at"] = moment.astimezone(timezone.get_fixed_timezone(480)).isoformat()
    fields["aht_seconds"] = "42.5"
    snapshot = snapshot_post(actor=lead, queue_id=queue.id, fields=fields)
    assert snapshot.taken_at == moment
    assert snapshot.aht_seconds == 42.5


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"backlog": -1}, "backlog"),
        ({"backlog": 1.5}, "backlog"),
        ({"backlog": "many"}, "backlog"),
        ({"backlog": None}, "backlog"),
        ({"sla_attainment": 100.1}, "sla_attainment"),
        ({"sla_attainment": -0.1}, "sla_attainment"),
        ({"qa_accuracy": 101}, "qa_accuracy"),
        ({"inflow_per_hour": float("nan")}, "inflow_per_hour"),
        ({"inflow_per_hour": True}, "inflow_per_hour"),
        ({"staffed_headcount": -3}, "staffed_headcount"),
        ({"escalations": -1}, "escalations"),
        ({"taken_at": "2026-12-01T09:00"}, "taken_at"),  # no offset
        ({"taken_at": "yesterday"}, "taken_at"),
        # Times relative to when the test runs, not to when it was collected.
        ({"taken_at": lambda: timezone.now() + timedelta(minutes=6)}, "taken_at"),
        ({"taken_at": lambda: timezone.now() - timedelta(days=7, minutes=1)}, "taken_at"),
    ],
)
def test_bad_figures_are_refused_with_field_errors(lead, queue, healthy, overrides, field):
    overrides = {k: v() if callable(v) else v for k, v in overrides.items()}
    with pytest.raises(InvalidInput) as error:
        snapshot_post(actor=lead, queue_id=queue.id, fields=healthy(**overrides))
    assert field in error.value.fields
    assert not QueueSnapshot.objects.exists()


def test_near_future_within_skew_is_accepted(lead, queue, healthy):
    soon = timezone.now() + timedelta(minutes=4)
    snapshot_post(actor=lead, queue_id=queue.id, fields=healthy(taken_at=soon))


def test_same_minute_twice_is_refused(lead, queue, healthy):
    snapshot_post(actor=lead, queue_id=queue.id, fields=healthy())
    with pytest.raises(DuplicateSnapshot) as error:
        snapshot_post(actor=lead, queue_id=queue.id, fields=healthy(backlog=60))
    assert error.value.http_status == 409
    assert "taken_at" in error.value.fields
    assert QueueSnapshot.objects.count() == 1


def test_lead_cannot_post_to_another_vendors_queue(lead, other_queue, healthy):
    with pytest.raises(NotFound):
        snapshot_post(actor=lead, queue_id=other_queue.id, fields=healthy())
    assert not QueueSnapshot.objects.exists()


def test_unknown_queue_is_not_found(lead, healthy):
    with pytest.raises(NotFound):
        snapshot_post(actor=lead, queue_id=999999, fields=healthy())


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.EXECUTIVE])
def test_readers_cannot_post(make_user, queue, healthy, role):
    with pytest.raises(NotAllowed):
        snapshot_post(actor=make_user(role), queue_id=queue.id, fields=healthy())


def test_agent_member_cannot_post(make_user, manager, vendor, queue, healthy):
    from vendors.services import membership_set

    agent = make_user(Role.BPO_LEAD, username="agent")
    membership_set(actor=manager, vendor_id=vendor.id, user_id=agent.id, role="agent")
    with pytest.raises(NotAllowed):
        snapshot_post(actor=agent, queue_id=queue.id, fields=healthy())


def test_manager_posts_anywhere(manager, other_queue, healthy):
    snapshot_post(actor=manager, queue_id=other_queue.id, fields=healthy(), source="api")
    assert QueueSnapshot.objects.get().source == "api"


def test_token_posts_for_its_vendor_only(manager, vendor, queue, other_queue, healthy):
    token, _secret = token_create(actor=manager, vendor_id=vendor.id, name="WFM feed")
    snapshot = snapshot_post(actor=token, queue_id=queue.id, fields=healthy())
    assert snapshot.source == "token" and snapshot.reported_by is None
    with pytest.raises(NotFound):
        snapshot_post(actor=token, queue_id=other_queue.id, fields=healthy())


def test_closed_queue_refuses_figures(manager, lead, queue, healthy):
    from vendors.services import queue_update

    queue_update(actor=manager, queue_id=queue.id, is_active=False)
    with pytest.raises(InvalidInput):
        snapshot_post(actor=lead, queue_id=queue.id, fields=healthy())
