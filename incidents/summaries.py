"""Reads for the executive summary pages: what is open now, and one
incident's summary, generated from its record and timeline.

Selector-style: the query shape is chosen here once and the permission
filter applied (`incident_visible_to`). Language-dependent text (titles,
category names, status-update text) is picked when it is read, under the
language active then, so one result renders in English or Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Prefetch, Subquery

from incidents import selectors
from incidents.domain.lifecycle import OPEN_STATES, State
from incidents.domain.severity import Dimension, Severity
from incidents.labels import DIMENSION_LABELS, RUBRIC, SEVERITY_LABELS
from incidents.metrics import incident_facts
from incidents.models import (
    Incident,
    IncidentRole,
    IncidentTask,
    RegulatoryReport,
    RoleAssignment,
    StatusUpdate,
    TimelineEvent,
)
from incidents.models.reference import localized

LATEST_UPDATES = 3


def bilingual(en: str, zh: str) -> str:
    """The text in the active language, falling back to the other one."""
    return localized(en, zh) or zh


@dataclass(frozen=True)
class OwedReport:
    """A regulatory report not yet submitted (required or drafting)."""

    report: RegulatoryReport
    due_at: datetime | None
    overdue: bool

    @property
    def kind(self) -> str:
        return self.report.get_kind_display()

    @property
    def authority(self) -> str:
        obligation = self.report.obligation
        return obligation.authority if obligation is not None else self.report.authority


@dataclass(frozen=True)
class LatestUpdate:
    text_en: str
    text_zh: str
    published_at: datetime
    author: str = ""

    @property
    def text(self) -> str:
        return bilingual(self.text_en, self.text_zh)


@dataclass(frozen=True)
class OpenIncident:
    """What one card of the "now" page says about an open incident."""

    incident: Incident
    commander: str
    open_for: timedelta
    next_update_due_at: datetime | None
    update_overdue: bool
    reports_owed: tuple[OwedReport, ...]
    latest_update: LatestUpdate | None

    @property
    def markets(self) -> list[str]:
        return [m.name for m in self.incident.markets.all()]

    @property
    def surfaces(self) -> list[str]:
        return [s.name for s in self.incident.surfaces.all()]

    @property
    def reports_overdue(self) -> int:
        return sum(1 for r in self.reports_owed if r.overdue)


@dataclass(frozen=True)
class SeverityGroup:
    severity: Severity
    incidents: list[OpenIncident]

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    @property
    def count(self) -> int:
        return len(self.incidents)


def _owed(reports, now: datetime) -> tuple[OwedReport, ...]:
    return tuple(
        OwedReport(r, r.due_at, r.due_at is not None and r.due_at < now)
        for r in sorted(reports, key=lambda r: (r.due_at is None, r.due_at or now, r.id))
    )


def _commander_name(incident: Incident) -> str:
    holder = selectors.incident_roles(incident).get(IncidentRole.COMMANDER)
    return str(holder.user) if holder is not None else ""


def _pending_reports_prefetch() -> Prefetch:
    return Prefetch(
        "reports",
        queryset=RegulatoryReport.objects.filter(
            state__in=RegulatoryReport.PENDING_STATES
        ).select_related("obligation"),
        to_attr="pending_reports",
    )


def open_incident_summaries(viewer, now: datetime) -> list[SeverityGroup]:
    """The open incidents `viewer` may see, grouped by severity (most severe
    first, empty severities left out), newest first inside a group. Six
    queries whatever the number of incidents."""
    latest = StatusUpdate.objects.filter(incident=OuterRef("pk")).order_by("-published_at", "-id")
    incidents = list(
        selectors.incident_visible_to(viewer)
        .filter(state__in=[s.value for s in OPEN_STATES])
        .select_related("category")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(released_at__isnull=True).select_related(
                    "user"
                ),
                to_attr="active_roles",
            ),
            "markets",
            "surfaces",
            _pending_reports_prefetch(),
        )
        .annotate(latest_update_id=Subquery(latest.values("id")[:1]))
        .order_by("-declared_at", "-id")
    )
    update_ids = [i.latest_update_id for i in incidents if i.latest_update_id]
    updates = StatusUpdate.objects.select_related("author").in_bulk(update_ids)
    groups: dict[Severity, list[OpenIncident]] = {}
    for incident in incidents:
        update = updates.get(incident.latest_update_id)
        due = incident.next_update_due_at
        groups.setdefault(Severity(incident.severity), []).append(
            OpenIncident(
                incident=incident,
                commander=_commander_name(incident),
                open_for=max(now - incident.declared_at, timedelta(0)),
                next_update_due_at=due,
                update_overdue=due is not None and due < now,
                reports_owed=_owed(incident.pending_reports, now),
                latest_update=_latest(update),
            )
        )
    return [SeverityGroup(s, groups[s]) for s in sorted(groups, key=lambda s: s.rank)]


def _latest(update: StatusUpdate | None) -> LatestUpdate | None:
    if update is None:
        return None
    return LatestUpdate(
        update.text_en, update.text_zh, update.published_at, str(update.author or "")
    )


# --- One incident's summary --------------------------------------------------


@dataclass(frozen=True)
class ImpactAnswer:
    dimension: Dimension
    score: int

    @property
    def label(self) -> str:
        return DIMENSION_LABELS[self.dimension]

    @property
    def answer(self) -> str:
        return RUBRIC[self.dimension][self.score]


@dataclass(frozen=True)
class Durations:
    """Times the summary shows; None where the moment has not come."""

    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    open_for: timedelta


@dataclass
class IncidentSummary:
    incident: Incident
    now: datetime
    commander: str
    roles: list[tuple[str, str]]  # (role label, holder)
    impact: list[ImpactAnswer]
    open_tasks: list[IncidentTask]
    done_tasks: int
    decisions: list[TimelineEvent]
    key_facts: list[TimelineEvent]
    updates: list[LatestUpdate]
    reports: list[RegulatoryReport]
    reports_owed: tuple[OwedReport, ...]
    durations: Durations
    severity_highest: Severity | None = None

    @property
    def is_open(self) -> bool:
        return State(self.incident.state) in OPEN_STATES

    @property
    def next_update_due_at(self) -> datetime | None:
        return self.incident.next_update_due_at if self.is_open else None

    @property
    def update_overdue(self) -> bool:
        due = self.next_update_due_at
        return due is not None and due < self.now

    @property
    def markets(self) -> list[str]:
        return [m.name for m in self.incident.markets.all()]

    @property
    def surfaces(self) -> list[str]:
        return [s.name for s in self.incident.surfaces.all()]

    @property
    def latest_update(self) -> LatestUpdate | None:
        return self.updates[0] if self.updates else None

    @property
    def open_for(self) -> timedelta:
        return self.durations.open_for


def _durations(incident: Incident, now: datetime) -> tuple[Durations, Severity | None]:
    """The times to acknowledge, mitigate and resolve, and how long it has
    been (or was) open, from the timeline: the metrics' facts of this
    incident, which the trends count too."""
    facts = incident_facts(incident.id, now=now)
    if facts is None:  # no declared event to read: the state changes alone
        derived = selectors.incident_durations(incident=incident)
        end = incident.resolved_at if incident.resolved_at and not incident.is_open else now
        return (
            Durations(
                derived.to_acknowledge,
                derived.to_mitigate,
                derived.to_resolve,
                max(end - incident.declared_at, timedelta(0)),
            ),
            None,
        )
    end = facts.resolved_at or now
    if facts.excluded:  # cancelled or merged: open until it was
        end = selectors.incident_ended_at(incident=incident) or end
    return (
        Durations(
            facts.time_to_acknowledge,
            facts.time_to_mitigate,
            facts.time_to_resolve,
            max(end - facts.declared_at, timedelta(0)),
        ),
        facts.severity_highest,
    )


def _impact(incident: Incident) -> list[ImpactAnswer]:
    assessment = selectors.incident_latest_assessment(incident=incident)
    if assessment is None:
        return []
    answers = []
    for dimension in Dimension:
        score = assessment.answers.get(dimension.value, 0)
        if isinstance(score, int) and 0 < score < len(RUBRIC[dimension]):
            answers.append(ImpactAnswer(dimension, score))
    return sorted(answers, key=lambda a: -a.score)


def incident_summary(viewer, incident_id: int, now: datetime) -> IncidentSummary:
    """One incident's summary: what happened, impact, what is being done,
    decisions, key facts, current state with durations, next update and
    reports. Raises Incident.DoesNotExist when there is no such incident or
    `viewer` may not see it (no existence leak)."""
    incident = selectors.incident_get_for_detail(viewer=viewer, incident_id=incident_id)
    roles = selectors.incident_roles(incident)
    role_names = dict(IncidentRole.choices)
    tasks = list(selectors.incident_tasks(incident=incident))
    reports = list(selectors.incident_reports(incident=incident))
    updates = selectors.incident_status_updates(incident=incident)[:LATEST_UPDATES]
    durations, highest = _durations(incident, now)
    holder = roles.get(IncidentRole.COMMANDER)
    return IncidentSummary(
        incident=incident,
        now=now,
        commander=str(holder.user) if holder else "",
        roles=[
            (role_names[value], str(roles[value].user))
            for value in role_names
            if value in roles and value != IncidentRole.COMMANDER
        ],
        impact=_impact(incident),
        open_tasks=[t for t in tasks if t.state == IncidentTask.State.OPEN],
        done_tasks=sum(1 for t in tasks if t.state == IncidentTask.State.DONE),
        decisions=list(selectors.incident_decisions(incident=incident).order_by("seq")),
        key_facts=selectors.incident_key_facts(incident=incident),
        updates=[_latest(u) for u in updates],
        reports=reports,
        reports_owed=_owed([r for r in reports if r.is_pending], now),
        durations=durations,
        severity_highest=highest,
    )
