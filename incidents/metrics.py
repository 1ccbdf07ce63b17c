"""Incident metrics for pages, the API and the report: one definition each.

`METRICS` names every metric (a stable key, a label and a one-sentence
definition to show next to the number). `incident_metrics` loads the
incidents declared in a period and their timeline in four queries whatever
their number, and computes every metric through incidents.domain.metrics;
`incident_facts` does the same for one incident.

Scope, for every metric: incidents declared in [start, end). Merged
duplicates (counted in the incident they were merged into) and cancelled
incidents (false alarms) are left out and counted in `excluded`. TSCC has no
"test incident" flag, so nothing else is left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import Case, QuerySet, TextField, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.domain import metrics as domain
from incidents.domain.metrics import (
    Bucket,
    Event,
    IncidentFacts,
    MetricKey,
    ReportRecord,
    SeverityTargets,
    Summary,
    summarize,
)
from incidents.models import Incident, RegulatoryReport, SeverityPolicy, TimelineEvent


class Unit:
    COUNT = "count"
    DURATION = "duration"
    PERCENT = "percent"


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    label: Promise
    definition: Promise
    unit: str


SCOPE = _(
    "Every incident metric covers the incidents declared in the period; merged duplicates "
    "and cancelled incidents are left out, and times are read from the timeline, not "
    "from editable fields."
)

METRICS: dict[str, MetricDefinition] = {
    d.key: d
    for d in (
        MetricDefinition(
            MetricKey.INCIDENTS,
            _("Incidents"),
            _(
                "Number of incidents declared in the period, counted under the highest "
                "severity each reached and the category it was declared with."
            ),
            Unit.COUNT,
        ),
        MetricDefinition(
            MetricKey.MTTD,
            _("Mean time to detect"),
            _(
                "Mean time from when the harm began to when it was discovered, over incidents "
                "declared in the period whose harm start is recorded."
            ),
            Unit.DURATION,
        ),
        MetricDefinition(
            MetricKey.MTTA,
            _("Mean time to acknowledge"),
            _(
                "Mean time from declaration to the first acknowledgement (a page acknowledged, "
                "or the incident leaving triage for work), over incidents declared in the "
                "period that were acknowledged."
            ),
            Unit.DURATION,
        ),
        MetricDefinition(
            MetricKey.MTTM,
            _("Mean time to mitigate"),
            _(
                "Mean time from declaration to the first move to monitoring or resolved, over "
                "incidents declared in the period that got there."
            ),
            Unit.DURATION,
        ),
        MetricDefinition(
            MetricKey.MTTR,
            _("Mean time to resolve"),
            _(
                "Mean time from declaration to the last resolution, over incidents declared in "
                "the period that are resolved now; a reopened incident counts to its final "
                "resolution, and one reopened and not resolved again is left out."
            ),
            Unit.DURATION,
        ),
        MetricDefinition(
            MetricKey.ACK_SLA,
            _("Acknowledged within target"),
            _(
                "Share of incidents declared in the period that were acknowledged before the "
                "acknowledgement target of their severity (the severity in force at each "
                "moment) ran out; unacknowledged incidents still inside their target are not "
                "counted."
            ),
            Unit.PERCENT,
        ),
        MetricDefinition(
            MetricKey.UPDATE_CADENCE,
            _("Status-update cadence kept"),
            _(
                "Share of incidents declared in the period in which, while open, every status "
                "update came (or the incident was resolved) within the update cadence of the "
                "severity in force; incidents whose severity has no cadence are not counted."
            ),
            Unit.PERCENT,
        ),
        MetricDefinition(
            MetricKey.REPORTS_ON_TIME,
            _("Regulatory reports on time"),
            _(
                "Share of regulatory reports with a due time, of incidents declared in the "
                "period, submitted at or before their due time; unsubmitted reports past due "
                "count as late, and reports not yet due or not required are not counted."
            ),
            Unit.PERCENT,
        ),
    )
}


@dataclass
class MetricsResult:
    start: datetime
    end: datetime
    bucket: str
    time_zone: str
    totals: Summary
    by_severity: dict[str, Summary]  # highest severity reached
    by_category: dict[str, Summary]  # category code
    series: list[tuple[date, Summary]]  # bucket's first day (local), its metrics
    excluded: dict[str, int] = field(default_factory=dict)  # final state -> count
    definitions: dict[str, MetricDefinition] = field(default_factory=lambda: METRICS)


# --- loading ---------------------------------------------------------------------


def _only(kinds, path: str) -> When:
    return When(kind__in=list(kinds), then=KT(path))


# Only the JSON keys the metrics read, and only for the kinds that carry
# them (a status update's text or a details diff of the summary is never
# loaded): value is a state change's or severity change's target, or the
# declared severity; discovered/harm are the DECLARED event's times (if it
# carries them) or a DETAILS_CHANGED correction's [old, new] pair.
EVENT_COLUMNS = {
    "value": Case(
        _only((domain.STATE_CHANGED, domain.SEVERITY_CHANGED), "data__to"),
        _only((domain.DECLARED,), "data__severity"),
        output_field=TextField(),
    ),
    "category": Case(_only((domain.DECLARED,), "data__category"), output_field=TextField()),
    "discovered": Case(
        _only((domain.DECLARED,), "data__discovered_at"),
        _only((domain.DETAILS_CHANGED,), "data__changes__discovered_at"),
        output_field=TextField(),
    ),
    "harm": Case(
        _only((domain.DECLARED,), "data__harm_started_at"),
        _only((domain.DETAILS_CHANGED,), "data__changes__harm_started_at"),
        output_field=TextField(),
    ),
}


def _event(kind: str, at: datetime, seq: int, value, category, discovered, harm) -> Event:
    if kind == domain.STATE_CHANGED or kind == domain.SEVERITY_CHANGED:
        return Event(kind, at, {"to": value}, seq)
    if kind == domain.DECLARED:
        data = {"severity": value}
        if category:
            data["category"] = category
        if discovered:
            data["discovered_at"] = discovered
        if harm is not None:
            data["harm_started_at"] = harm
        return Event(kind, at, data, seq)
    if kind == domain.DETAILS_CHANGED:
        changes = {}
        if discovered is not None:
            changes["discovered_at"] = json.loads(discovered)
        if harm is not None:
            changes["harm_started_at"] = json.loads(harm)
        return Event(kind, at, {"changes": changes}, seq)
    return Event(kind, at, domain.NO_DATA, seq)


def _sqlite_time(text: str) -> datetime:
    # Naive UTC text; appending the offset parses faster than replace(tzinfo=).
    return datetime.fromisoformat(text + "+00:00")


def severity_targets() -> dict[str, SeverityTargets]:
    return {
        severity: SeverityTargets(ack, update)
        for severity, ack, update in SeverityPolicy.objects.values_list(
            "severity", "ack_minutes", "update_minutes"
        )
    }


def _load_facts(incidents: QuerySet, *, now: datetime) -> list[tuple[int, IncidentFacts]]:
    """(incident id, facts) of each incident in `incidents`, in four queries:
    the incidents, their relevant events, their reports, the severity targets."""
    rows = list(
        incidents.order_by().values_list("id", "category__code", "discovered_at", "harm_started_at")
    )
    if not rows:
        return []
    ids = incidents.order_by().values("id")
    events: dict[int, list[Event]] = defaultdict(list)
    event_rows = TimelineEvent.objects.filter(
        incident_id__in=ids, kind__in=domain.RELEVANT_KINDS
    ).annotate(**EVENT_COLUMNS)
    at_column, parse_at = "occurred_at", None
    if connections[event_rows.db].vendor == "sqlite":
        # SQLite keeps datetimes as naive UTC text, which Django converts
        # slowly row by row; tens of thousands of events read faster as
        # text parsed by fromisoformat.
        event_rows = event_rows.annotate(at_text=Cast("occurred_at", TextField()))
        at_column, parse_at = "at_text", _sqlite_time
    no_data = domain.NO_DATA
    for incident_id, kind, at, seq, value, category, discovered, harm in (
        event_rows.order_by("incident_id", "seq")
        .values_list("incident_id", "kind", at_column, "seq", *EVENT_COLUMNS)
        .iterator(chunk_size=5000)
    ):
        if parse_at is not None:
            at = parse_at(at)
        if value is None and discovered is None and harm is None:
            # Most events (status updates, acknowledgements) carry nothing we read.
            events[incident_id].append(Event(kind, at, no_data, seq))
        else:
            events[incident_id].append(_event(kind, at, seq, value, category, discovered, harm))
    reports: dict[int, list[ReportRecord]] = defaultdict(list)
    for incident_id, due_at, submitted_at, state in (
        RegulatoryReport.objects.filter(incident_id__in=ids)
        .order_by()
        .values_list("incident_id", "due_at", "submitted_at", "state")
    ):
        reports[incident_id].append(
            ReportRecord(
                due_at=due_at,
                submitted_at=submitted_at,
                not_required=state == RegulatoryReport.State.NOT_REQUIRED,
            )
        )
    targets = domain.PreparedTargets.of(severity_targets())
    out = []
    for incident_id, category, discovered_at, harm_started_at in rows:
        if not events.get(incident_id):
            continue  # no timeline (not born through the service): nothing to measure
        out.append(
            (
                incident_id,
                domain.incident_facts(
                    events[incident_id],
                    targets=targets,
                    reports=reports.get(incident_id, ()),
                    now=now,
                    category=category,
                    discovered_at=discovered_at,
                    harm_started_at=harm_started_at,
                ),
            )
        )
    return out


def _zone(time_zone: str | tzinfo | None) -> tzinfo:
    if time_zone is None:
        return timezone.get_current_timezone()
    if isinstance(time_zone, str):
        return ZoneInfo(time_zone)
    return time_zone


def incident_metrics(
    *,
    start: datetime,
    end: datetime,
    severities: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    teams: Iterable[int] | None = None,
    bucket: Bucket | str = Bucket.WEEK,
    time_zone: str | tzinfo | None = None,
    now: datetime | None = None,
) -> MetricsResult:
    """Every incident metric over incidents declared in [start, end), with
    breakdowns by highest severity and by category and a series by `bucket`
    (day, week or month, in `time_zone`, default the current one). Filters:
    `severities` (highest severity reached), `categories` (category codes),
    `teams` (owning team ids). Four queries whatever the number of incidents."""
    now = now or timezone.now()
    bucket = Bucket(bucket)
    tz = _zone(time_zone)
    incidents = Incident.objects.filter(declared_at__gte=start, declared_at__lt=end)
    if categories is not None:
        incidents = incidents.filter(category__code__in=list(categories))
    if teams is not None:
        incidents = incidents.filter(team_id__in=list(teams))
    facts = [f for _id, f in _load_facts(incidents, now=now)]
    if severities is not None:
        wanted = {str(s) for s in severities}
        facts = [f for f in facts if f.severity_highest.value in wanted]
    excluded: dict[str, int] = defaultdict(int)
    for f in facts:
        if f.excluded:
            excluded[f.state.value] += 1
    facts = [f for f in facts if not f.excluded]

    by_severity: dict[str, list[IncidentFacts]] = {s.value: [] for s in domain.SEVERITY_ORDER}
    by_category: dict[str, list[IncidentFacts]] = defaultdict(list)
    by_bucket: dict[date, list[IncidentFacts]] = {
        day: [] for day in domain.buckets_between(start, end, size=bucket, tz=tz)
    }
    for f in facts:
        by_severity[f.severity_highest.value].append(f)
        by_category[f.category].append(f)
        by_bucket.setdefault(domain.bucket_of(f.declared_at, size=bucket, tz=tz), []).append(f)
    return MetricsResult(
        start=start,
        end=end,
        bucket=bucket.value,
        time_zone=str(tz),
        totals=summarize(facts),
        by_severity={k: summarize(v) for k, v in by_severity.items()},
        by_category={k: summarize(v) for k, v in sorted(by_category.items())},
        series=[(day, summarize(by_bucket[day])) for day in sorted(by_bucket)],
        excluded=dict(excluded),
    )


def incident_facts(incident_id: int, *, now: datetime | None = None) -> IncidentFacts | None:
    """One incident's metric facts (for its summary page), from its timeline;
    None when there is no such incident. Four queries."""
    loaded = _load_facts(Incident.objects.filter(id=incident_id), now=now or timezone.now())
    return loaded[0][1] if loaded else None
