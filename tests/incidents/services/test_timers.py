import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from incidents.domain.severity import Severity
from incidents.models import Incident, IncidentRole, IncidentTimer, RoleAssignment
from incidents.services import (
    incident_assign_role,
    incident_confirm_severity,
    status_update_publish,
    timer_fire,
    timers_sweep,
)
from incidents.services.common import incident_lock
from incidents.services.timers import timer_cancel
from tests.incidents.factories import declare
from tests.incidents.services.support import ANSWERS, events, fresh, minutes, timers, walk
from tscc.roles import Role

pytestmark = pytest.mark.django_db

Kind = IncidentTimer.Kind
TimerState = IncidentTimer.State


def timer_row(incident, kind) -> IncidentTimer:
    return IncidentTimer.objects.filter(incident=incident, kind=kind).latest("id")


def test_the_sweep_fires_each_due_timer_exactly_once(
    cast, pushes, django_capture_on_commit_callbacks
):
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV3])  # no commander, unconfirmed
    declared = incident.declared_at

    assert timers_sweep(now=declared + minutes(1)) == 0
    assert events(incident, "nudge") == []

    with django_capture_on_commit_callbacks(execute=True):
        assert timers_sweep(now=declared + minutes(3)) == 1
    (nudge,) = events(incident, "nudge")
    no_commander = timer_row(incident, Kind.NO_COMMANDER)
    assert nudge.actor is None
    assert nudge.data == {"nudge": "no_commander", "due_at": no_commander.due_at.isoformat()}
    assert no_commander.state == TimerState.FIRED
    assert no_commander.fired_at is not None
    assert timer_row(incident, Kind.SEVERITY_UNCONFIRMED).state == TimerState.PENDING
    # Nobody holds a role: the ops managers hear of it, once, after commit.
    assert pushes.noticed() == [cast.manager.id]
    (_user, text, level) = pushes.notices[0]
    assert incident.reference in text
    assert level == "warning"
    assert pushes.seqs(incident.id) == [nudge.seq]

    # Run again at the same moment, and fire the timer by hand: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert timers_sweep(now=declared + minutes(3)) == 0
        assert timer_fire(timer_id=no_commander.id) is False
    assert len(events(incident, "nudge")) == 1
    assert len(pushes.notices) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert timers_sweep(now=declared + minutes(6)) == 1
        assert timers_sweep(now=declared + minutes(6)) == 0
    assert [e.data["nudge"] for e in events(incident, "nudge")] == [
        "no_commander",
        "severity_unconfirmed",
    ]
    assert timers(incident) == {}


def test_a_timer_fired_by_hand_fires_once(cast):
    incident = declare(cast.member)
    timer = timer_row(incident, Kind.NO_COMMANDER)
    assert timer_fire(timer_id=timer.id) is True
    assert timer_fire(timer_id=timer.id) is False
    assert len(events(incident, "nudge")) == 1
    assert timers_sweep(now=incident.declared_at + minutes(3)) == 0


def test_the_sweep_fires_due_timers_of_every_incident_and_nothing_early(cast):
    first = declare(cast.member, answers=ANSWERS[Severity.SEV3])
    second = declare(cast.member, answers=ANSWERS[Severity.SEV3])
    later = max(first.declared_at, second.declared_at)
    assert timers_sweep(now=later + minutes(3)) == 2
    assert [len(events(i, "nudge")) for i in (first, second)] == [1, 1]
    assert timers_sweep(now=later + minutes(3)) == 0
    assert timers_sweep(now=later + minutes(10)) == 2
    assert timers_sweep(now=later + timedelta(days=1)) == 0


# --- no longer needed ----------------------------------------------------------------


def test_assigning_a_commander_cancels_the_nudge_before_it_is_due(cast, pushes):
    incident = declare(cast.member)
    incident_assign_role(
        actor=cast.member, incident_id=incident.id, role="commander", user=cast.commander
    )
    assert timer_row(incident, Kind.NO_COMMANDER).state == TimerState.CANCELLED
    assert timers_sweep(now=incident.declared_at + minutes(3)) == 0
    assert events(incident, "nudge") == []


def _commander_arrived(incident, cast):
    RoleAssignment.objects.create(
        incident=incident, role=IncidentRole.COMMANDER, user=cast.commander
    )


def _severity_confirmed(incident, cast):
    Incident.objects.filter(id=incident.id).update(severity_confirmed_at=timezone.now())


def _graded(incident, cast):
    Incident.objects.filter(id=incident.id).update(statutory_grade="general")


def _resolved(incident, cast):
    Incident.objects.filter(id=incident.id).update(state="resolved")


@pytest.mark.parametrize(
    ("kind", "meanwhile"),
    [
        (Kind.NO_COMMANDER, _commander_arrived),
        (Kind.SEVERITY_UNCONFIRMED, _severity_confirmed),
        (Kind.GRADING_DUE, _graded),
        (Kind.NO_COMMANDER, _resolved),
        (Kind.UPDATE_DUE, _resolved),
    ],
)
def test_a_due_timer_no_longer_needed_is_cancelled_not_fired(
    cast, pushes, django_capture_on_commit_callbacks, kind, meanwhile
):
    """What the sweep finds may have changed since the timer was armed (a
    concurrent write that did not cancel it): it re-checks before nudging."""
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV1])
    timer = timer_row(incident, kind)
    assert timer.state == TimerState.PENDING
    meanwhile(incident, cast)

    with django_capture_on_commit_callbacks(execute=True):
        assert timer_fire(timer_id=timer.id) is False
    timer.refresh_from_db()
    assert timer.state == TimerState.CANCELLED
    assert timer.fired_at is None
    assert events(incident, "nudge") == []
    assert pushes.notices == []


def test_the_sweep_cancels_what_is_no_longer_needed(cast):
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV3])
    _commander_arrived(incident, cast)
    assert timers_sweep(now=incident.declared_at + minutes(3)) == 0
    assert timer_row(incident, Kind.NO_COMMANDER).state == TimerState.CANCELLED


def test_resolving_cancels_every_pending_timer(cast):
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV0])
    assert len(timers(incident)) == 4
    walk(incident, cast.manager, "resolved")
    assert timers(incident) == {}
    assert timers_sweep(now=incident.declared_at + timedelta(days=1)) == 0
    assert events(incident, "nudge") == []


# --- who hears of it ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "roles", "expected"),
    [
        (Kind.NO_COMMANDER, {}, ["manager", "other_manager"]),
        (Kind.SEVERITY_UNCONFIRMED, {}, ["manager", "other_manager"]),
        (Kind.SEVERITY_UNCONFIRMED, {"commander": "commander"}, ["commander"]),
        (Kind.UPDATE_DUE, {"commander": "commander"}, ["commander"]),
        (
            Kind.UPDATE_DUE,
            {"commander": "commander", "communications": "member"},
            ["commander", "member"],
        ),
        (Kind.UPDATE_DUE, {"commander": "commander", "communications": "commander"}, ["commander"]),
        (Kind.UPDATE_DUE, {}, ["manager", "other_manager"]),
        (Kind.GRADING_DUE, {"commander": "commander"}, ["commander"]),
        (
            Kind.GRADING_DUE,
            {"commander": "commander", "regulatory_liaison": "liaison"},
            ["commander", "liaison"],
        ),
        (Kind.GRADING_DUE, {"deputy": "deputy"}, ["manager", "other_manager"]),
    ],
)
def test_a_nudge_goes_to_the_right_people(
    cast, make_user, pushes, django_capture_on_commit_callbacks, kind, roles, expected
):
    cast.other_manager = make_user(Role.OPS_MANAGER)
    make_user(Role.OPS_MANAGER, is_active=False)  # left the company: not told
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV1])
    for role, who in roles.items():
        RoleAssignment.objects.create(incident=incident, role=role, user=getattr(cast, who))

    with django_capture_on_commit_callbacks(execute=True):
        assert timer_fire(timer_id=timer_row(incident, kind).id) is True

    assert pushes.noticed() == sorted(getattr(cast, who).id for who in expected)
    assert all(incident.reference in text for _uid, text, _level in pushes.notices)
    assert [e.data["nudge"] for e in events(incident, "nudge")] == [kind]


# --- the update clock ---------------------------------------------------------------


def test_publishing_a_status_update_rearms_the_update_clock(cast, staffed, pushes):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    first_due = incident.next_update_due_at
    assert first_due == incident.declared_at + minutes(240)
    assert timers(incident)[Kind.UPDATE_DUE] == first_due

    assert timers_sweep(now=first_due + minutes(1)) >= 1
    assert [e.data["nudge"] for e in events(incident, "nudge")][-1] == "update_due"
    assert Kind.UPDATE_DUE not in timers(incident)

    update = status_update_publish(
        actor=cast.member, incident_id=incident.id, audience="company", text_en="Contained."
    )
    incident = fresh(incident)
    assert incident.next_update_due_at == update.published_at + minutes(240)
    assert update.next_update_due_at == incident.next_update_due_at
    assert timers(incident) == {Kind.UPDATE_DUE: incident.next_update_due_at}
    assert IncidentTimer.objects.filter(incident=incident, kind=Kind.UPDATE_DUE).count() == 2

    nudges = len(events(incident, "nudge"))
    assert timers_sweep(now=incident.next_update_due_at - timedelta(seconds=1)) == 0
    assert timers_sweep(now=incident.next_update_due_at) == 1
    assert len(events(incident, "nudge")) == nudges + 1


def test_publishing_before_the_due_time_moves_the_pending_timer(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV1])
    status_update_publish(
        actor=cast.member, incident_id=incident.id, audience="responders", text_en="a", text_zh="甲"
    )
    status_update_publish(
        actor=cast.member, incident_id=incident.id, audience="responders", text_en="b", text_zh="乙"
    )
    incident = fresh(incident)
    pending = IncidentTimer.objects.filter(
        incident=incident, kind=Kind.UPDATE_DUE, state=TimerState.PENDING
    )
    assert [t.due_at for t in pending] == [incident.next_update_due_at]
    assert (
        IncidentTimer.objects.filter(
            incident=incident, kind=Kind.UPDATE_DUE, state=TimerState.CANCELLED
        ).count()
        == 2
    )


def test_confirming_severity_before_the_nudge_means_no_nudge(cast):
    incident = declare(cast.member)
    incident_confirm_severity(actor=cast.manager, incident_id=incident.id)
    timers_sweep(now=incident.declared_at + minutes(6))
    assert "severity_unconfirmed" not in [e.data["nudge"] for e in events(incident, "nudge")]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_and_a_service_cancelling_the_same_timer_do_not_deadlock(make_user, pushes):
    """Services lock the incident, then touch its timers; firing takes the
    locks in the same order, so the two wait for each other instead of
    deadlocking."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; lock order is checked on PostgreSQL")
    responder = make_user(Role.RESPONDER)
    incident = declare(responder, answers=ANSWERS[Severity.SEV3])
    timer = timer_row(incident, Kind.NO_COMMANDER)
    service_has_lock = threading.Event()
    errors, fired = [], []

    def service():
        try:
            with transaction.atomic():
                locked = incident_lock(incident.id)
                service_has_lock.set()
                time.sleep(1.5)  # the sweep is now waiting for the incident
                timer_cancel(locked, Kind.NO_COMMANDER)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def sweep():
        try:
            service_has_lock.wait(timeout=10)
            fired.append(timer_fire(timer_id=timer.id))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=service), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert fired == [False]
    timer.refresh_from_db()
    assert timer.state == TimerState.CANCELLED
    assert events(incident, "nudge") == []
