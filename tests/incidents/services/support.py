"""Small readers the service tests share: the timeline, timers, reports."""

from __future__ import annotations

from datetime import timedelta

from incidents.domain.lifecycle import State
from incidents.domain.severity import ImpactAnswers, Severity
from incidents.models import (
    GradingCriterion,
    Incident,
    IncidentTimer,
    RegulatoryReport,
    TimelineEvent,
)
from incidents.services import incident_transition

# Answers whose rubric proposal is exactly the severity.
ANSWERS = {
    Severity.SEV0: ImpactAnswers(user_harm=4),
    Severity.SEV1: ImpactAnswers(user_harm=3),
    Severity.SEV2: ImpactAnswers(reach=2),
    Severity.SEV3: ImpactAnswers(reach=1),
    Severity.SEV4: ImpactAnswers(),
}


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(id=incident.id)


def timeline(incident: Incident) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(incident_id=incident.id).order_by("seq"))


def kinds(incident: Incident) -> list[str]:
    return [e.kind for e in timeline(incident)]


def events(incident: Incident, kind: str) -> list[TimelineEvent]:
    return [e for e in timeline(incident) if e.kind == kind]


def last_event(incident: Incident) -> TimelineEvent:
    return TimelineEvent.objects.filter(incident_id=incident.id).order_by("-seq").first()


def last_seq(incident: Incident) -> int:
    return Incident.objects.values_list("last_seq", flat=True).get(id=incident.id)


def timers(incident: Incident, state: str = IncidentTimer.State.PENDING) -> dict[str, object]:
    """{kind: due_at} of the incident's timers in `state`."""
    return dict(
        IncidentTimer.objects.filter(incident_id=incident.id, state=state).values_list(
            "kind", "due_at"
        )
    )


def report(incident: Incident, code: str) -> RegulatoryReport:
    return RegulatoryReport.objects.exclude(kind=RegulatoryReport.Kind.SUPPLEMENTARY).get(
        incident_id=incident.id, obligation__code=code
    )


def report_codes(incident: Incident, *states: str) -> set[str]:
    qs = RegulatoryReport.objects.filter(incident_id=incident.id).exclude(
        kind=RegulatoryReport.Kind.SUPPLEMENTARY
    )
    if states:
        qs = qs.filter(state__in=states)
    return set(qs.values_list("obligation__code", flat=True))


def criterion(grade: str) -> GradingCriterion:
    """The first active annex criterion of `grade`."""
    return GradingCriterion.objects.filter(grade=grade, active=True).order_by("order").first()


REASONS = {
    (State.TRIAGE, State.CANCELLED),
    (State.INVESTIGATING, State.CANCELLED),
    (State.RESOLVED, State.INVESTIGATING),
    (State.CLOSED, State.INVESTIGATING),
    (State.CANCELLED, State.TRIAGE),
}


def walk(incident: Incident, actor, *targets: str) -> Incident:
    """Move through `targets` in order, giving a reason where one is needed."""
    for target in targets:
        current = State(fresh(incident).state)
        reason = "walking the lifecycle" if (current, State(target)) in REASONS else ""
        incident_transition(actor=actor, incident_id=incident.id, target=target, reason=reason)
    return fresh(incident)
