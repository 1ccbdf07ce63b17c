"""The auditor flags late steps once and pages the ops managers; the health
check lists policies with a level that would page nobody."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from escalations import auditor, services
from escalations.models import (
    Delivery,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    PolicyLevel,
    RoutingRule,
    Timer,
)
from oncall.services import schedule_save
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user):
    manager = make_user(Role.OPS_MANAGER, username="mgr")
    responder = make_user(Role.RESPONDER, username="resp")
    return manager, responder


def user_policy(name: str, user, *, position: int = 0) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(name=name)
    level = PolicyLevel.objects.create(policy=policy, position=position, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="user", user=user)
    return policy


def escalation_for(manager, responder) -> Escalation:
    policy = user_policy("Paging", responder)
    RoutingRule.objects.create(policy=policy, position=0)
    incident = declare(manager)
    return services.escalation_start(incident_id=incident.id)


def test_a_step_late_by_two_minutes_is_reported_once(
    cast, caplog, django_capture_on_commit_callbacks, monkeypatch
):
    manager, responder = cast
    escalation = escalation_for(manager, responder)
    now = timezone.now()
    late = Timer.objects.get(escalation=escalation, step=0)
    Timer.objects.filter(id=late.id).update(due_at=now - timedelta(minutes=2))
    Timer.objects.create(
        kind=Timer.Kind.ESCALATE,
        escalation=escalation,
        step=1,
        due_at=now - timedelta(seconds=30),
    )
    Timer.objects.create(
        kind=Timer.Kind.ESCALATE, escalation=escalation, step=2, due_at=now + timedelta(hours=1)
    )
    notices = []
    monkeypatch.setattr(auditor, "notify_user", lambda uid, **kw: notices.append((uid, kw)))

    with (
        caplog.at_level(logging.WARNING, logger="escalations.auditor"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert auditor.audit(now=now) == [late.id]
    assert [uid for uid, _kw in notices] == [manager.id]
    assert notices[0][1]["level"] == "danger"
    assert any(str(late.id) in r.getMessage() for r in caplog.records)

    with django_capture_on_commit_callbacks(execute=True):
        assert auditor.audit(now=now) == []  # reported already
        assert auditor.audit(now=now + timedelta(seconds=10)) == []
    assert len(notices) == 1


def test_a_late_delivery_is_reported_once_and_a_future_one_never(cast, monkeypatch):
    manager, responder = cast
    escalation = escalation_for(manager, responder)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    delivery = Delivery.objects.get(page__escalation=escalation)
    now = timezone.now()
    Delivery.objects.filter(id=delivery.id).update(due_at=now - timedelta(minutes=5))
    Timer.objects.filter(escalation=escalation, state="pending").update(
        due_at=now + timedelta(minutes=5)
    )
    monkeypatch.setattr(auditor, "notify_user", lambda *a, **kw: None)
    assert auditor.audit(now=now) == [delivery.id]
    assert auditor.audit(now=now) == []


def test_policies_that_would_page_nobody_are_listed(cast, make_user):
    manager, responder = cast
    healthy = user_policy("Healthy", responder)

    schedule = schedule_save(actor=manager, name="Empty rotation", time_zone="Asia/Shanghai")
    empty_schedule = EscalationPolicy.objects.create(name="No layers")
    level = PolicyLevel.objects.create(policy=empty_schedule, position=0, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="schedule", schedule=schedule)

    gone = make_user(Role.RESPONDER, username="gone", is_active=False)
    inactive = user_policy("Inactive only", gone)

    second_level = user_policy("Second level empty", responder)
    level = PolicyLevel.objects.create(policy=second_level, position=1, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="user", user=gone)

    EscalationPolicy.objects.create(name="No levels yet")

    found = dict(auditor.policies_paging_nobody())
    assert found == {empty_schedule.id: [0], inactive.id: [0], second_level.id: [1]}
    assert healthy.id not in found


def test_empty_policies_are_warned_about_once_a_day(
    cast, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    manager, _responder = cast
    other_manager = make_user(Role.OPS_MANAGER, username="mgr2")
    make_user(Role.OPS_MANAGER, username="mgr-gone", is_active=False)
    gone = make_user(Role.RESPONDER, username="gone", is_active=False)
    policy = user_policy("Inactive only", gone)
    notices = []
    monkeypatch.setattr(auditor, "notify_user", lambda uid, **kw: notices.append(uid))

    with django_capture_on_commit_callbacks(execute=True):
        assert auditor.warn_empty_policies() == [policy.id]
        assert auditor.warn_empty_policies() == []
    assert sorted(notices) == sorted([manager.id, other_manager.id])
