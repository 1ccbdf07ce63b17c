"""Switching an incident's policy mid-incident (a fresh snapshot only then),
per-destination throttling with bundling, quiet hours, and the fast path's
hint that the sweep leaves alone for a moment."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from escalations import config, services
from escalations.models import (
    ContactMethod,
    Delivery,
    DeliveryAttempt,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    Page,
    PolicyLevel,
    QuietHours,
    RoutingRule,
    Timer,
)
from incidents.domain.severity import ImpactAnswers
from incidents.models import TimelineEvent
from incidents.services import incident_transition
from tests.escalations.sink import PATHS, Sink
from tests.incidents.factories import declare
from tscc.exceptions import ApplicationError
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user):
    manager = make_user(Role.OPS_MANAGER, username="mgr")
    first = make_user(Role.RESPONDER, username="first", display_name="First Responder")
    second = make_user(Role.RESPONDER, username="second", display_name="Second Responder")
    return manager, first, second


def one_level_policy(name: str, user, wait: int = 5) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(name=name)
    level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=wait)
    LevelTarget.objects.create(level=level, kind="user", user=user)
    return policy


def fire_pending(escalation: Escalation) -> None:
    for timer in Timer.objects.filter(
        escalation=escalation, state="pending", due_at__lte=timezone.now()
    ):
        services.timer_fire(timer_id=timer.id)


# --- Switching ---------------------------------------------------------------------


def test_edits_apply_only_when_someone_switches(cast):
    manager, first, second = cast
    policy = one_level_policy("Default", first)
    RoutingRule.objects.create(policy=policy, position=0)
    incident = declare(manager)
    running = services.escalation_start(incident_id=incident.id)
    fire_pending(running)
    assert Page.objects.get(escalation=running).user == first

    # The policy is edited mid-incident: the running escalation is frozen.
    config.policy_save(
        actor=manager,
        policy_id=policy.id,
        data={
            "name": "Default",
            "levels": [{"wait_minutes": 5, "targets": [{"kind": "user", "id": second.id}]}],
        },
    )
    running.refresh_from_db()
    assert running.snapshot["levels"][0]["targets"] == [{"kind": "user", "id": first.id}]

    # Switching (even to the same policy) takes a fresh snapshot and starts over.
    switched = services.escalation_switch(
        actor=manager, incident_id=incident.id, policy_id=policy.id, reason="Rota changed"
    )
    running.refresh_from_db()
    assert running.state == Escalation.State.REPLACED
    assert Page.objects.get(escalation=running).state == Page.State.ESCALATED
    assert not Timer.objects.filter(escalation=running, state="pending").exists()
    assert switched.state == Escalation.State.ACTIVE
    assert switched.snapshot["levels"][0]["targets"] == [{"kind": "user", "id": second.id}]
    assert (switched.started_by, switched.reason) == (manager, "Rota changed")
    fire_pending(switched)
    assert Page.objects.get(escalation=switched).user == second
    event = TimelineEvent.objects.filter(incident=incident, kind="page").order_by("seq")
    assert any(
        e.data.get("action") == "policy_switched" and e.data.get("policy") == "Default"
        for e in event
    )


def test_switch_is_refused_to_responders_and_for_finished_incidents(cast):
    manager, first, second = cast
    policy = one_level_policy("Default", first)
    empty = EscalationPolicy.objects.create(name="Empty")
    incident = declare(manager)
    with pytest.raises(services.NotAllowed):
        services.escalation_switch(actor=second, incident_id=incident.id, policy_id=policy.id)
    with pytest.raises(services.InvalidInput):
        services.escalation_switch(actor=manager, incident_id=incident.id, policy_id=empty.id)
    with pytest.raises(services.InvalidInput):
        services.escalation_switch(actor=manager, incident_id=incident.id, policy_id=999_999)
    incident_transition(actor=manager, incident_id=incident.id, target="resolved")
    with pytest.raises(ApplicationError) as refused:
        services.escalation_switch(actor=manager, incident_id=incident.id, policy_id=policy.id)
    assert refused.value.http_status == 409
    assert not Escalation.objects.filter(incident=incident, policy=policy).exists()


def test_switch_without_a_running_escalation_starts_one(cast):
    manager, first, _second = cast
    policy = one_level_policy("Default", first)
    incident = declare(manager)  # no routing rule: nothing pages yet
    assert not Escalation.objects.filter(incident=incident).exists()
    escalation = services.escalation_switch(
        actor=manager, incident_id=incident.id, policy_id=policy.id
    )
    fire_pending(escalation)
    assert Page.objects.get(escalation=escalation).user == first


# --- Throttling and bundling ----------------------------------------------------------


def subscribe(user, channel: str, address: str) -> None:
    ContactMethod.objects.create(user=user, channel=channel, address=address)
    for urgency in ("high", "low"):
        NotificationRule.objects.create(
            user=user, channel=channel, delay_minutes=0, urgency=urgency
        )


def page_three_times(manager, responder, *, send_each: bool = False) -> list[Escalation]:
    """Three incidents page one person; with `send_each`, each page's
    deliveries are sent as it comes (pages arriving one after another)."""
    policy = one_level_policy("Storm", responder)
    escalations = []
    for i in range(3):
        incident = declare(manager, title=f"Alert storm {i}")
        escalation = services.escalation_switch(
            actor=manager, incident_id=incident.id, policy_id=policy.id
        )
        fire_pending(escalation)
        if send_each:
            services.send_due_for_timer(
                timer_id=Timer.objects.get(escalation=escalation, step=0).id
            )
        escalations.append(escalation)
    return escalations


@override_settings(ESCALATION_THROTTLE={"feishu": (1, 60)})
def test_pages_due_together_for_one_robot_go_as_one_message(cast):
    manager, responder, _second = cast
    with Sink(200) as sink:
        subscribe(responder, "feishu", sink.base + PATHS["feishu"])
        escalations = page_three_times(manager, responder)
        _fired, sent = services.sweep(now=timezone.now() + services.HINT_GRACE * 2)
        assert sent == 1
        [request] = sink.requests
        text = json.loads(request["body"])["content"]["text"]
        assert all(e.incident.reference in text for e in escalations)
        assert text.count("/escalations/ack/") == 3
        assert set(
            Delivery.objects.filter(page__escalation__in=escalations).values_list(
                "state", flat=True
            )
        ) == {"sent"}


@override_settings(ESCALATION_THROTTLE={"feishu": (1, 60)})
def test_repeated_sends_to_one_robot_are_throttled_then_bundled(cast):
    manager, responder, _second = cast
    with Sink(200) as sink:
        subscribe(responder, "feishu", sink.base + PATHS["feishu"])
        escalations = page_three_times(manager, responder, send_each=True)
        deliveries = list(
            Delivery.objects.filter(page__escalation__in=escalations, channel="feishu").order_by(
                "id"
            )
        )
        assert len(deliveries) == 3
        assert len(sink.requests) == 1
        first = Delivery.objects.get(id=deliveries[0].id)
        waiting = Delivery.objects.filter(id__in=[d.id for d in deliveries[1:]])
        # Held until the destination's window frees, not counted as attempts.
        assert {(d.state, d.attempts) for d in waiting} == {("pending", 0)}
        assert {d.due_at for d in waiting} == {first.sent_at + timedelta(seconds=60)}
        assert services.sweep(now=first.sent_at + timedelta(seconds=59))[1] == 0
        assert len(sink.requests) == 1

        # When the window frees, one message carries both waiting pages.
        _fired, sent = services.sweep(now=first.sent_at + timedelta(seconds=61))
        assert sent == 1
        assert len(sink.requests) == 2
        text = json.loads(sink.requests[1]["body"])["content"]["text"]
        for escalation in escalations[1:]:
            assert escalation.incident.reference in text
        assert text.count("/escalations/ack/") == 2  # each page keeps its own ack link
        waiting = list(
            Delivery.objects.filter(id__in=[d.id for d in deliveries[1:]]).order_by("id")
        )
        assert {d.state for d in waiting} == {"sent"}
        assert waiting[1].bundled_into_id == waiting[0].id
        assert DeliveryAttempt.objects.filter(delivery=waiting[1], ok=True).count() == 1
        assert set(
            Page.objects.filter(escalation__in=escalations).values_list("state", flat=True)
        ) == {"notified"}
        assert services.sweep(now=first.sent_at + timedelta(minutes=3)) == (0, 0)
        assert len(sink.requests) == 2


@override_settings(ESCALATION_THROTTLE={"feishu": (1, 60)})
def test_an_acknowledged_page_drops_out_of_the_bundle(cast):
    manager, responder, _second = cast
    with Sink(200) as sink:
        subscribe(responder, "feishu", sink.base + PATHS["feishu"])
        escalations = page_three_times(manager, responder, send_each=True)
        ids = list(
            Delivery.objects.filter(page__escalation__in=escalations)
            .order_by("id")
            .values_list("id", flat=True)
        )
        now = timezone.now()
        services.page_acknowledge(
            actor=responder, page_id=Page.objects.get(escalation=escalations[1]).id
        )
        services.sweep(now=now + timedelta(seconds=61))
        assert len(sink.requests) == 2
        text = json.loads(sink.requests[1]["body"])["content"]["text"]
        assert escalations[2].incident.reference in text
        assert escalations[1].incident.reference not in text
        assert Delivery.objects.get(id=ids[1]).state == "cancelled"


def test_webhooks_are_not_throttled(cast):
    manager, responder, _second = cast
    with Sink(200) as sink:
        subscribe(responder, "webhook", sink.base + PATHS["webhook"])
        escalations = page_three_times(manager, responder)
        now = timezone.now()
        for d in Delivery.objects.filter(page__escalation__in=escalations):
            assert services.delivery_send(delivery_id=d.id, now=now) is True
        assert len(sink.requests) == 3
        keys = {json.loads(r["body"])["idempotency_key"] for r in sink.requests}
        assert len(keys) == 3  # one payload per page for machines


# --- Quiet hours --------------------------------------------------------------------


def test_quiet_hours_hold_low_urgency_but_never_sev1(cast):
    manager, responder, _second = cast
    responder.time_zone = "Asia/Shanghai"
    responder.save()
    ContactMethod.objects.create(user=responder, channel="sms", address="+8613800138000")
    for urgency in ("high", "low"):
        NotificationRule.objects.create(
            user=responder, channel="sms", delay_minutes=0, urgency=urgency
        )
    now_local = timezone.now().astimezone(ZoneInfo("Asia/Shanghai"))
    start = (now_local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now_local + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    config.quiet_hours_save(
        actor=responder, user_id=responder.id, data={"start": start, "end": end}
    )
    assert QuietHours.objects.get(user=responder).start == start
    policy = one_level_policy("Night", responder)

    low = declare(manager, title="Low", answers=ImpactAnswers())
    high = declare(manager, title="High", answers=ImpactAnswers(user_harm=4, reach=4, legal=4))
    assert low.severity in ("sev3", "sev4") and high.severity in ("sev0", "sev1")
    for incident in (low, high):
        escalation = services.escalation_switch(
            actor=manager, incident_id=incident.id, policy_id=policy.id
        )
        fire_pending(escalation)
    held = Delivery.objects.get(page__escalation__incident=low, channel="sms")
    at_once = Delivery.objects.get(page__escalation__incident=high, channel="sms")
    assert held.due_at > timezone.now() + timedelta(minutes=100)
    assert at_once.due_at <= timezone.now()

    # Clearing them is one call; a time that is not a time is refused with its field.
    with pytest.raises(config.InvalidInput) as bad:
        config.quiet_hours_save(
            actor=responder, user_id=responder.id, data={"start": "25:00", "end": "07:00"}
        )
    assert "start" in bad.value.fields
    config.quiet_hours_save(actor=responder, user_id=responder.id, data={"enabled": False})
    assert not QuietHours.objects.filter(user=responder).exists()


# --- Fast path and sweep ----------------------------------------------------------------


def test_the_sweep_leaves_fresh_fast_path_work_alone_then_takes_it_over(cast):
    manager, first, _second = cast
    policy = one_level_policy("Default", first)
    RoutingRule.objects.create(policy=policy, position=0)
    incident = declare(manager)
    escalation = services.escalation_start(incident_id=incident.id)
    timer = Timer.objects.get(escalation=escalation, step=0)
    assert timer.hinted_until is not None
    # Within the grace the on-commit task owns it: the sweep does not race it.
    assert services.sweep(now=timezone.now()) == (0, 0)
    timer.refresh_from_db()
    assert timer.state == "pending"
    # The task was lost: after the grace, the sweep fires it and sends what is due.
    fired, sent = services.sweep(now=timezone.now() + services.HINT_GRACE + timedelta(seconds=1))
    assert (fired, sent) == (1, 1)
    assert Delivery.objects.get(page__escalation=escalation).state == "sent"  # the in-app channel


def test_an_incident_whose_paging_start_was_lost_is_started_by_the_sweep(cast):
    manager, first, _second = cast
    policy = one_level_policy("Default", first)
    incident = declare(manager)  # no routing rule yet: its on-commit start found nothing
    RoutingRule.objects.create(policy=policy, position=0)
    assert not Escalation.objects.filter(incident=incident).exists()
    # Too fresh: the on-commit start may still be on its way.
    assert services.escalations_start_missed(now=incident.declared_at) == []
    later = incident.declared_at + timedelta(seconds=30)
    assert services.escalations_start_missed(now=later) == [incident.id]
    escalation = Escalation.objects.get(incident=incident)
    assert Page.objects.get(escalation=escalation).user == first  # fired at once
    assert services.escalations_start_missed(now=later) == []  # once
    # Too old: routing added hours later does not page old incidents.
    old = declare(manager, title="Old")
    Escalation.objects.filter(incident=old).delete()
    assert services.escalations_start_missed(now=old.declared_at + timedelta(hours=1)) == []
