"""The paging engine through the real database: declaring an incident pages
by its routing rule, steps escalate once, acknowledging stops everything,
resolving cancels, deliveries are claimed once and retried, signed links."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations import services
from escalations.models import (
    ContactMethod,
    Delivery,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    Page,
    PolicyLevel,
    RoutingRule,
    Timer,
)
from incidents.models import TimelineEvent
from incidents.services import incident_transition
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user):
    manager = make_user(Role.OPS_MANAGER, username="mgr")
    first = make_user(Role.RESPONDER, username="first", display_name="First Responder")
    second = make_user(Role.RESPONDER, username="second", display_name="Second Responder")
    return manager, first, second


@pytest.fixture
def policy(cast):
    _manager, first, second = cast
    policy = EscalationPolicy.objects.create(name="T&S default", repeat=0, final_user=cast[0])
    for position, (user, wait) in enumerate(((first, 5), (second, 10))):
        level = PolicyLevel.objects.create(policy=policy, position=position, wait_minutes=wait)
        LevelTarget.objects.create(level=level, kind="user", user=user)
    RoutingRule.objects.create(policy=policy, position=0)
    return policy


def start(manager):
    incident = declare(manager)
    services.escalation_start(incident_id=incident.id)
    return incident, Escalation.objects.get(incident=incident)


def test_declaring_starts_paging_by_the_routing_rule(
    cast, policy, django_capture_on_commit_callbacks
):
    manager, first, _second = cast
    with django_capture_on_commit_callbacks(execute=True):
        incident = declare(manager)
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.snapshot["levels"][0]["targets"] == [{"kind": "user", "id": first.id}]
    assert Timer.objects.filter(escalation=escalation, step=0).exists()


def test_steps_fire_once_and_escalate_on_time(cast, policy):
    manager, first, second = cast
    incident, escalation = start(manager)
    timer = Timer.objects.get(escalation=escalation, step=0)
    assert services.timer_fire(timer_id=timer.id) is True
    assert services.timer_fire(timer_id=timer.id) is False  # replayed: nothing
    timer.refresh_from_db()
    page = Page.objects.get(escalation=escalation)
    assert page.user == first and page.deliveries.exists()
    nxt = Timer.objects.get(escalation=escalation, step=1)
    assert nxt.due_at - timer.fired_at == timedelta(minutes=5)
    assert services.sweep(now=nxt.due_at - timedelta(seconds=1))[0] == 0  # not yet
    fired, _sent = services.sweep(now=nxt.due_at + timedelta(seconds=1))
    assert fired == 1
    states = dict(Page.objects.filter(escalation=escalation).values_list("user__username", "state"))
    assert states["first"] == "escalated" and states["second"] in ("triggered", "notified")
    assert TimelineEvent.objects.filter(incident=incident, kind="page").count() == 2


def test_a_policy_edit_mid_incident_does_not_change_the_running_escalation(cast, policy):
    manager, first, second = cast
    _incident, escalation = start(manager)
    PolicyLevel.objects.filter(policy=policy, position=0).update(wait_minutes=60)
    assert Escalation.objects.get(id=escalation.id).snapshot["levels"][0]["wait"] == 5


def test_acknowledging_stops_the_escalation(cast, policy):
    manager, first, _second = cast
    incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    page = Page.objects.get(escalation=escalation)
    services.page_acknowledge(actor=first, page_id=page.id)
    escalation.refresh_from_db()
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == first
    assert not Timer.objects.filter(escalation=escalation, state="pending").exists()
    assert not Delivery.objects.filter(page__escalation=escalation, state="pending").exists()
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    assert incident.participants.filter(user=first).exists()
    fired, _ = services.sweep(now=timezone.now() + timedelta(hours=1))
    assert fired == 0


def test_someone_else_cannot_acknowledge_a_page(cast, policy, make_user):
    manager, first, _second = cast
    _incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    with pytest.raises(services.NotAllowed):
        services.page_acknowledge(actor=make_user(Role.RESPONDER), page_id=Page.objects.get().id)


def test_resolving_the_incident_cancels_its_timers(
    cast, policy, django_capture_on_commit_callbacks
):
    manager, _first, _second = cast
    incident, escalation = start(manager)
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(actor=manager, incident_id=incident.id, target="resolved")
    escalation.refresh_from_db()
    assert escalation.state == "resolved"
    assert not Timer.objects.filter(escalation=escalation, state="pending").exists()


def test_a_level_with_nobody_moves_on_at_once_and_is_recorded(cast, policy):
    manager, first, _second = cast
    first.is_active = False
    first.save()
    incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    nxt = Timer.objects.get(escalation=escalation, step=1)
    assert nxt.due_at <= timezone.now()
    assert TimelineEvent.objects.filter(
        incident=incident, kind="page", data__action="nobody_to_page"
    ).exists()


def test_a_delivery_is_sent_once_and_failures_retry_then_fall_back(cast, policy):
    manager, first, _second = cast
    ContactMethod.objects.create(user=first, channel="webhook", address="http://127.0.0.1:9/none")
    NotificationRule.objects.create(user=first, channel="webhook", delay_minutes=0, urgency="high")
    NotificationRule.objects.create(user=first, channel="webhook", delay_minutes=0, urgency="low")
    _incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    delivery = Delivery.objects.get(page__escalation=escalation)
    assert delivery.channel == "webhook"
    now = timezone.now()
    for _attempt in range(services.MAX_ATTEMPTS):
        delivery.refresh_from_db()
        assert (
            services.delivery_send(delivery_id=delivery.id, now=max(now, delivery.due_at)) is False
        )
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempt_log.count() == services.MAX_ATTEMPTS
    fallback = Delivery.objects.get(page__escalation=escalation, channel="app")
    assert (
        services.delivery_send(delivery_id=fallback.id, now=timezone.now() + timedelta(seconds=1))
        is True
    )
    assert (
        services.delivery_send(delivery_id=fallback.id, now=timezone.now() + timedelta(seconds=1))
        is False
    )


def test_the_signed_link_acknowledges_in_one_tap_and_expires(client, cast, policy):
    manager, first, _second = cast
    _incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    page = Page.objects.get()
    url = reverse("escalations:ack", args=[services.ack_token(page.id)])
    shown = client.get(url)
    assert shown.status_code == 200 and b"Acknowledge" in shown.content
    page.refresh_from_db()
    assert page.state != "acknowledged"  # a link preview does not acknowledge
    done = client.post(url)
    assert done.status_code == 200 and b"Escalation stopped" in done.content
    assert Escalation.objects.get().state == "acknowledged"
    assert client.get(reverse("escalations:ack", args=["forged:token"])).status_code == 404


def test_my_pages_acknowledge_in_one_tap_and_the_incident_shows_the_history(client, cast, policy):
    manager, first, _second = cast
    incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    client.force_login(first)
    page = client.get(reverse("escalations:my-pages")).content.decode()
    assert incident.reference in page and "Acknowledge" in page
    ack = client.post(
        reverse("escalations:page-ack", args=[Page.objects.get().id]), HTTP_HX_REQUEST="true"
    )
    assert ack.status_code == 200 and "Nothing waiting for you." in ack.content.decode()
    assert Escalation.objects.get().state == "acknowledged"
    history = client.get(reverse("escalations:incident-pages", args=[incident.id])).content.decode()
    assert "First Responder" in history and "Acknowledged" in history


def test_pages_are_private(client, cast, policy, make_user):
    manager, _first, _second = cast
    _incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    client.force_login(make_user(Role.RESPONDER))
    assert (
        client.post(reverse("escalations:page-ack", args=[Page.objects.get().id])).status_code
        == 404
    )
    client.force_login(make_user(Role.BPO_LEAD))
    assert client.get(reverse("escalations:incident-pages", args=[_incident.id])).status_code == 404
    assert client.get(reverse("escalations:my-pages")).status_code == 403


def test_a_malformed_address_fails_cleanly_and_falls_back(cast, policy):
    manager, first, _second = cast
    ContactMethod.objects.create(user=first, channel="slack", address="hooks.slack.com/x")
    NotificationRule.objects.create(user=first, channel="slack", delay_minutes=0, urgency="low")
    NotificationRule.objects.create(user=first, channel="slack", delay_minutes=0, urgency="high")
    _incident, escalation = start(manager)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    delivery = Delivery.objects.get(page__escalation=escalation)
    assert services.delivery_send(delivery_id=delivery.id, now=timezone.now()) is False
    delivery.refresh_from_db()
    assert delivery.attempt_log.get().ok is False and "http(s)" in delivery.last_error
