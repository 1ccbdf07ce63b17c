"""SLA deadlines: each breach fires exactly once, lands on the timeline,
notifies the commander, and an unacknowledged incident escalates now."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import (
    Escalation,
    EscalationPolicy,
    LevelTarget,
    PolicyLevel,
    SlaBreach,
    Timer,
)
from escalations.sla import sla_sweep
from incidents.domain.severity import ImpactAnswers
from incidents.models import TimelineEvent
from incidents.services import incident_acknowledge
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr")


def test_an_unacknowledged_sev1_breaches_once_and_escalates_now(
    manager, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("escalations.sla.notify_user", lambda uid, **kw: sent.append(uid))
    first, second = make_user(Role.RESPONDER), make_user(Role.RESPONDER)
    policy = EscalationPolicy.objects.create(name="P")
    for position, user in enumerate((first, second)):
        level = PolicyLevel.objects.create(policy=policy, position=position, wait_minutes=30)
        LevelTarget.objects.create(level=level, kind="user", user=user)
    commander = make_user(Role.RESPONDER)
    incident = declare(manager, answers=ImpactAnswers(legal=3), commander=commander)
    assert incident.severity == "sev1"  # SeverityPolicy: acknowledge within 15 minutes
    services.escalation_start(incident_id=incident.id, policy=policy)
    escalation = Escalation.objects.get()
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    later = incident.declared_at + timedelta(minutes=16)
    assert sla_sweep(now=incident.declared_at + timedelta(minutes=14)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=later) == 1
    assert sent == [commander.id]  # the commander hears of it
    assert sla_sweep(now=later + timedelta(seconds=5)) == 0  # once
    breach = SlaBreach.objects.get(kind="ack")
    assert breach.due_at == incident.declared_at + timedelta(minutes=15)
    assert (
        TimelineEvent.objects.filter(
            incident=incident, kind="page", data__action="sla_breach"
        ).count()
        == 1
    )
    assert (
        Timer.objects.get(escalation=escalation, step=1).due_at <= later
    )  # the next level is due now


def test_an_acknowledged_incident_does_not_breach_the_ack_target(manager):
    incident = declare(manager, answers=ImpactAnswers(legal=3))
    incident_acknowledge(actor=manager, incident_id=incident.id)
    sla_sweep(now=timezone.now() + timedelta(minutes=30))
    assert not SlaBreach.objects.filter(kind="ack").exists()


def test_overdue_updates_and_reports_breach_once_each(manager):
    incident = declare(manager, answers=ImpactAnswers(legal=3), involves_personal_info=True)
    far = timezone.now() + timedelta(days=2)
    sla_sweep(now=far)
    sla_sweep(now=far + timedelta(minutes=1))
    kinds = sorted(SlaBreach.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == ["ack", "report", "update"]
