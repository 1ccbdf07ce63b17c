"""Nudges as durable timers: rows with a due time, fired once by the sweep.

The fast path and the safety net are the same sweep (beat, every 2 s), since
these nudges tolerate seconds; no Celery countdowns (Redis visibility).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.domain.severity import Severity
from incidents.events import on_commit_notify
from incidents.models import Incident, IncidentRole, IncidentTimer, NudgeRule, SeverityPolicy
from incidents.services.common import ops_manager_ids, timeline_append

Kind = IncidentTimer.Kind

NUDGE_TEXT = {
    Kind.NO_COMMANDER: _("%(ref)s has no commander yet."),
    Kind.SEVERITY_UNCONFIRMED: _("%(ref)s: nobody has confirmed its severity yet."),
    Kind.UPDATE_DUE: _("%(ref)s: a status update is overdue."),
    Kind.GRADING_DUE: _("%(ref)s: the official grade has not been assessed."),
}


def nudge_minutes(kind: str) -> int | None:
    rule = NudgeRule.objects.filter(kind=kind, enabled=True).first()
    return rule.minutes if rule else None


def update_cadence(severity: str) -> timedelta | None:
    policy = SeverityPolicy.objects.filter(severity=severity).first()
    return timedelta(minutes=policy.update_minutes) if policy and policy.update_minutes else None


def timer_set(incident: Incident, kind: str, due_at: datetime | None) -> None:
    """Replace the pending timer of this kind (none when due_at is None)."""
    timer_cancel(incident, kind)
    if due_at is not None:
        IncidentTimer.objects.create(incident=incident, kind=kind, due_at=due_at)


def timer_cancel(incident: Incident, kind: str) -> None:
    IncidentTimer.objects.filter(
        incident=incident, kind=kind, state=IncidentTimer.State.PENDING
    ).update(state=IncidentTimer.State.CANCELLED)


def timers_cancel_all(incident: Incident) -> None:
    IncidentTimer.objects.filter(incident=incident, state=IncidentTimer.State.PENDING).update(
        state=IncidentTimer.State.CANCELLED
    )


def grading_applies(incident: Incident) -> bool:
    """Grade security-relevant incidents: the severe ones, and any touching
    CII or personal information (../shared/domain §2.1 "Ops team must")."""
    return (
        Severity(incident.severity).rank <= 2 or incident.is_cii or incident.involves_personal_info
    ) and incident.statutory_grade == "unassessed"


def timers_arm_on_declare(incident: Incident, *, has_commander: bool, confirmed: bool) -> None:
    declared = incident.declared_at
    if not has_commander and (minutes := nudge_minutes(Kind.NO_COMMANDER)) is not None:
        timer_set(incident, Kind.NO_COMMANDER, declared + timedelta(minutes=minutes))
    if not confirmed and (minutes := nudge_minutes(Kind.SEVERITY_UNCONFIRMED)) is not None:
        timer_set(incident, Kind.SEVERITY_UNCONFIRMED, declared + timedelta(minutes=minutes))
    timers_arm_grading(incident)


def timers_arm_grading(incident: Incident) -> None:
    if not grading_applies(incident):
        timer_cancel(incident, Kind.GRADING_DUE)
        return
    timers = IncidentTimer.objects.filter(incident=incident, kind=Kind.GRADING_DUE)
    if timers.filter(state=IncidentTimer.State.FIRED).exists():
        return  # a fired nudge is not re-armed (a cancelled one is)
    minutes = nudge_minutes("grading_due_cii" if incident.is_cii else "grading_due")
    due = incident.discovered_at + timedelta(minutes=minutes) if minutes is not None else None
    # Re-arm only when the due time moved (CII flagged, discovery moved).
    if not timers.filter(state=IncidentTimer.State.PENDING, due_at=due).exists():
        timer_set(incident, Kind.GRADING_DUE, due)


def next_update_schedule(incident: Incident, *, since: datetime) -> None:
    """Set when the next status update is due from the severity's cadence."""
    cadence = update_cadence(incident.severity)
    incident.next_update_due_at = since + cadence if cadence else None
    Incident.objects.filter(id=incident.id).update(next_update_due_at=incident.next_update_due_at)
    timer_set(incident, Kind.UPDATE_DUE, incident.next_update_due_at)


def timers_claim_due(*, now: datetime, limit: int = 100) -> list[int]:
    """Ids of pending timers that are due, skipping rows another sweeper has
    locked. Firing re-checks the state under the row lock, so a timer listed
    twice still fires once."""
    with transaction.atomic():
        return list(
            IncidentTimer.objects.select_for_update(skip_locked=True)
            .filter(state=IncidentTimer.State.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )


def _still_needed(timer: IncidentTimer, incident: Incident) -> bool:
    if not incident.is_open:
        return False
    if timer.kind == Kind.NO_COMMANDER:
        return not incident.role_assignments.filter(
            role=IncidentRole.COMMANDER, released_at__isnull=True
        ).exists()
    if timer.kind == Kind.SEVERITY_UNCONFIRMED:
        return incident.severity_confirmed_at is None
    if timer.kind == Kind.GRADING_DUE:
        return incident.statutory_grade == "unassessed"
    return True


def _recipients(timer: IncidentTimer, incident: Incident) -> list[int]:
    roles = dict(
        incident.role_assignments.filter(released_at__isnull=True).values_list("role", "user_id")
    )
    preferred = {
        Kind.UPDATE_DUE: [IncidentRole.COMMUNICATIONS, IncidentRole.COMMANDER],
        Kind.GRADING_DUE: [IncidentRole.REGULATORY_LIAISON, IncidentRole.COMMANDER],
        Kind.SEVERITY_UNCONFIRMED: [IncidentRole.COMMANDER],
    }.get(timer.kind, [])
    ids = [roles[r] for r in preferred if r in roles]
    return ids or ops_manager_ids()


@transaction.atomic
def timer_fire(*, timer_id: int) -> bool:
    """Fire one timer once: a nudge on the timeline and to the right people.
    Returns False when it was already fired or cancelled, or no longer needed."""
    # Lock the incident first, then the timer: the order every service takes
    # them (incident_lock, then timer_set/timer_cancel), so a sweep and a
    # service touching the same timer wait for each other, never deadlock.
    incident_id = IncidentTimer.objects.values_list("incident_id", flat=True).get(id=timer_id)
    incident = Incident.objects.select_for_update(no_key=True).get(id=incident_id)
    timer = IncidentTimer.objects.select_for_update().get(id=timer_id)
    if timer.state != IncidentTimer.State.PENDING:
        return False
    if not _still_needed(timer, incident):
        timer.state = IncidentTimer.State.CANCELLED
        timer.save(update_fields=["state"])
        return False
    timer.state = IncidentTimer.State.FIRED
    timer.fired_at = timezone.now()
    timer.save(update_fields=["state", "fired_at"])
    text = NUDGE_TEXT[timer.kind] % {"ref": incident.reference}
    timeline_append(
        incident=incident,
        kind="nudge",
        data={"nudge": timer.kind, "due_at": timer.due_at.isoformat()},
    )
    on_commit_notify(_recipients(timer, incident), text=text, level="warning")
    return True


def timers_sweep(*, now: datetime | None = None) -> int:
    """Fire every due timer; returns how many fired."""
    fired = 0
    for timer_id in timers_claim_due(now=now or timezone.now()):
        fired += timer_fire(timer_id=timer_id)
    return fired
