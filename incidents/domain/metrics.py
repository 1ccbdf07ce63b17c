"""Incident metrics, defined once, from an incident's timeline.

Pure Python: the caller (incidents.metrics) loads the relevant timeline
events, the reports' due and submission times and the severity targets, and
these functions turn them into per-incident facts and aggregates. The
incident's cached columns (acknowledged_at, resolved_at, severity, ...) are
never read: they can be edited; the append-only timeline cannot.

Per incident (`incident_facts`):

- declared_at: the DECLARED event.
- severity_declared: the DECLARED event's severity; severity_highest: the
  most severe of it and every SEVERITY_CHANGED target. Trends count an
  incident under its highest severity.
- discovered_at / harm_started_at: the last DETAILS_CHANGED correction of
  each if there is one, else the DECLARED event's value if it carries one,
  else the value recorded at declaration (passed in by the caller: the
  declare service copies these times into the DECLARED event, but incidents
  declared before it did, and an unknown harm start, have none there; every
  later change goes through a DETAILS_CHANGED correction).
  "Detection time is known" means harm_started_at is recorded: then
  time_to_detect = discovered_at - harm_started_at.
- acknowledged_at: the first ACKNOWLEDGED event, or the first STATE_CHANGED
  into investigating, mitigating, monitoring or resolved, whichever comes
  first (leaving triage acknowledges, as the lifecycle stamps it; moving to
  cancelled or merged does not).
- mitigated_at: the first STATE_CHANGED into monitoring or resolved.
- resolved_at: the LAST STATE_CHANGED into resolved, provided no reopen
  (a STATE_CHANGED back into an open state) follows it; an incident that was
  reopened and is open again has no resolution. A reopened and re-resolved
  incident therefore counts its time to the final resolution.
- time_to_acknowledge / _mitigate / _resolve: from declared_at, never negative.
- acknowledgement SLA: the live clock's rule. The target is declared_at plus
  the acknowledgement minutes of the severity in force at each moment; it is
  missed when at any moment before the acknowledgement (or before `now`,
  when not acknowledged) that target had passed. Not yet judged (None) while
  unacknowledged and inside the target.
- status-update cadence: while the incident is open, each stretch between
  status updates (starting at declaration, at each update and at each
  reopen) must end (with the next update, or by leaving the open states) by
  its due time: the stretch's start plus the cadence of its severity; a
  severity change at t moves the due time to t + the new cadence, unless the
  earlier due time is sooner (as the service schedules it). A stretch still
  running and not yet due is not judged. Kept when every judged stretch was
  kept; None when no stretch had a due time.
- reports: each report with a due time and not set aside as not required is
  on time when submitted at or before its due time, late when submitted
  after it or still unsubmitted past it, and not judged while pending and
  not yet due.

Aggregates: count, mean, median and 90th percentile (nearest rank) of the
durations that exist; attainment as met / judged.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from incidents.domain.lifecycle import OPEN_STATES, State
from incidents.domain.severity import Severity

# Timeline event kinds (the values of TimelineEvent.Kind) the metrics read.
DECLARED = "declared"
STATE_CHANGED = "state_changed"
SEVERITY_CHANGED = "severity_changed"
ACKNOWLEDGED = "acknowledged"
STATUS_UPDATE = "status_update"
DETAILS_CHANGED = "details_changed"
RELEVANT_KINDS = frozenset(
    {DECLARED, STATE_CHANGED, SEVERITY_CHANGED, ACKNOWLEDGED, STATUS_UPDATE, DETAILS_CHANGED}
)

ZERO = timedelta(0)

# Leaving triage for one of these acknowledges (incidents.domain.lifecycle.stamp_changes).
ACKNOWLEDGING_STATES = frozenset(
    {State.INVESTIGATING, State.MITIGATING, State.MONITORING, State.RESOLVED}
)
MITIGATING_STATES = frozenset({State.MONITORING, State.RESOLVED})
# Incidents in these final states are left out of every metric: a merged
# duplicate is counted in the incident it was merged into, and a cancelled
# incident was a false alarm.
EXCLUDED_STATES = frozenset({State.MERGED, State.CANCELLED})


class MetricKey(StrEnum):
    """Stable keys: pages, the API and the report name metrics by these."""

    INCIDENTS = "incidents"
    MTTD = "mttd"
    MTTA = "mtta"
    MTTM = "mttm"
    MTTR = "mttr"
    ACK_SLA = "ack_sla"
    UPDATE_CADENCE = "update_cadence"
    REPORTS_ON_TIME = "reports_on_time"


NO_DATA: Mapping[str, Any] = MappingProxyType({})


class Event(NamedTuple):
    """One timeline event, as the metrics need it (a tuple: tens of thousands
    are built for a year's trends)."""

    kind: str
    at: datetime
    data: Mapping[str, Any] = NO_DATA
    seq: int = 0


@dataclass(frozen=True)
class SeverityTargets:
    """A severity's response targets (SeverityPolicy), in minutes; None: no target."""

    ack_minutes: int | None = None
    update_minutes: int | None = None


@dataclass(frozen=True)
class ReportRecord:
    """A regulatory report's deadline and submission."""

    due_at: datetime | None
    submitted_at: datetime | None = None
    not_required: bool = False


class Outcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"  # not yet judged: still inside its target
    NOT_APPLICABLE = "n/a"  # no target applies


class CadenceStretch(NamedTuple):
    """One stretch of an open incident between status updates."""

    start: datetime
    end: datetime | None  # None: still running at `now`
    due_at: datetime | None
    outcome: Outcome


@dataclass(frozen=True)
class IncidentFacts:
    declared_at: datetime
    category: str
    severity_declared: Severity
    severity_highest: Severity
    state: State
    discovered_at: datetime | None
    harm_started_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    ack_outcome: Outcome
    ack_breached_at: datetime | None
    cadence: tuple[CadenceStretch, ...]
    reports: tuple[Outcome, ...]

    # Derived once at construction (summaries read them many times).
    excluded: bool = field(init=False)
    time_to_detect: timedelta | None = field(init=False)
    time_to_acknowledge: timedelta | None = field(init=False)
    time_to_mitigate: timedelta | None = field(init=False)
    time_to_resolve: timedelta | None = field(init=False)
    cadence_outcome: Outcome = field(init=False)

    def __post_init__(self) -> None:
        def since(start: datetime | None, moment: datetime | None) -> timedelta | None:
            if start is None or moment is None:
                return None
            return max(moment - start, ZERO)

        put = object.__setattr__
        put(self, "excluded", self.state in EXCLUDED_STATES)
        put(self, "time_to_detect", since(self.harm_started_at, self.discovered_at))
        put(self, "time_to_acknowledge", since(self.declared_at, self.acknowledged_at))
        put(self, "time_to_mitigate", since(self.declared_at, self.mitigated_at))
        put(self, "time_to_resolve", since(self.declared_at, self.resolved_at))
        put(self, "cadence_outcome", _overall(s.outcome for s in self.cadence))


def _overall(outcomes: Iterable[Outcome]) -> Outcome:
    """Missed if any was missed; met if any was met; else pending if any is
    pending; else not applicable."""
    seen = set(outcomes)
    for outcome in (Outcome.MISSED, Outcome.MET, Outcome.PENDING):
        if outcome in seen:
            return outcome
    return Outcome.NOT_APPLICABLE


class EventsInvalid(ValueError):
    """The events do not describe an incident (no DECLARED event)."""


def _parse_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _correction(data: Mapping[str, Any], name: str) -> tuple[bool, datetime | None]:
    """(whether the DETAILS_CHANGED event changed `name`, its new value)."""
    changes = data.get("changes") or {}
    if name not in changes:
        return False, None
    pair = changes[name]
    if isinstance(pair, str):  # read as JSON text from the database
        pair = json.loads(pair)
    return True, _parse_time(pair[1])


_SEVERITIES = {s.value: s for s in Severity}
_STATES = {s.value: s for s in State}
# Plain strings inside the loops: hashing an enum member runs Python code.
_OPEN = frozenset(s.value for s in OPEN_STATES)
_ACKNOWLEDGING = frozenset(s.value for s in ACKNOWLEDGING_STATES)
_MITIGATING = frozenset(s.value for s in MITIGATING_STATES)
_RESOLVED = State.RESOLVED.value


def _severity(value: Any) -> Severity | None:
    return _SEVERITIES.get(value)


def _minutes(targets: Mapping[str, SeverityTargets], attribute: str) -> dict[str, timedelta]:
    """{severity value: target} for the severities that have this target."""
    out = {}
    for severity, target in targets.items():
        minutes = getattr(target, attribute)
        if minutes:
            out[str(severity.value if isinstance(severity, Severity) else severity)] = timedelta(
                minutes=minutes
            )
    return out


@dataclass(frozen=True)
class PreparedTargets:
    """The targets as timedeltas by severity value, built once for many incidents."""

    ack: Mapping[str, timedelta]
    cadence: Mapping[str, timedelta]

    @classmethod
    def of(cls, targets: Mapping[str, SeverityTargets] | PreparedTargets) -> PreparedTargets:
        if isinstance(targets, PreparedTargets):
            return targets
        return cls(_minutes(targets, "ack_minutes"), _minutes(targets, "update_minutes"))


def _ack_outcome(
    *,
    declared_at: datetime,
    acknowledged_at: datetime | None,
    severities: Sequence[tuple[datetime, str]],
    ack: Mapping[str, timedelta],
    until: datetime,
) -> tuple[Outcome, datetime | None]:
    """The acknowledgement clock as the live SLA sweep runs it: at each moment
    t before the acknowledgement (or `until`), the target is declared_at +
    the ack minutes of the severity in force at t; missed once t reaches it.
    Returns (outcome, the first moment it was breached)."""
    end = acknowledged_at if acknowledged_at is not None else until
    any_target = False
    for i, (start, severity) in enumerate(severities):
        target = ack.get(severity)
        if target is None:
            continue
        any_target = True
        stop = severities[i + 1][0] if i + 1 < len(severities) else None
        first = max(start, declared_at + target)  # the first moment of this stretch past it
        if (stop is None or first < stop) and first < end:
            return Outcome.MISSED, first
    if not any_target:
        return Outcome.NOT_APPLICABLE, None
    if acknowledged_at is None:
        return Outcome.PENDING, None
    return Outcome.MET, None


def _cadence(
    *, events: Sequence[Event], cadence: Mapping[str, timedelta], until: datetime
) -> tuple[CadenceStretch, ...]:
    """The open stretches between status updates and whether each was kept."""
    stretches: list[CadenceStretch] = []
    severity = None
    is_open = True
    start: datetime | None = None
    due: datetime | None = None

    def close(at: datetime | None) -> None:
        if due is None:
            outcome = Outcome.NOT_APPLICABLE
        elif at is not None:
            outcome = Outcome.MET if at <= due else Outcome.MISSED
        else:
            outcome = Outcome.MISSED if due <= until else Outcome.PENDING
        stretches.append(CadenceStretch(start, at, due, outcome))

    for event in events:
        kind = event.kind
        if kind == STATUS_UPDATE:
            if start is not None:
                close(event.at)
                start = event.at
                step = cadence.get(severity)
                due = start + step if step is not None else None
        elif kind == STATE_CHANGED:
            target = event.data.get("to")
            if target not in _STATES:
                continue
            now_open = target in _OPEN
            if is_open and not now_open and start is not None:
                close(event.at)
                start = due = None
            elif now_open and not is_open:
                start = event.at
                step = cadence.get(severity)
                due = start + step if step is not None else None
            is_open = now_open
        elif kind == SEVERITY_CHANGED:
            new = event.data.get("to")
            if new not in _SEVERITIES or new == severity:
                continue  # a confirmation: the cadence does not move
            severity = new
            if start is not None:
                step = cadence.get(new)
                fresh = event.at + step if step is not None else None
                if not (due is not None and fresh is not None and due < fresh):
                    due = fresh
        elif kind == DECLARED:
            severity = event.data.get("severity")
            start = event.at
            step = cadence.get(severity)
            due = start + step if step is not None else None
    if start is not None:
        close(None)
    return tuple(stretches)


class Milestones(NamedTuple):
    """Where an incident's lifecycle stands, from its timeline."""

    state: State
    acknowledged_at: datetime | None  # the first acknowledgement
    mitigated_at: datetime | None  # the first move to monitoring or resolved
    resolved_at: datetime | None  # the resolution still in force (None if reopened since)


def milestones(events: Iterable[Event]) -> Milestones:
    """The one definition of acknowledged, mitigated and resolved (the
    metrics' facts and the incident page's durations read it): events of any
    order, taken by seq, then time. Acknowledged: a page or the incident
    acknowledged, or the incident leaving triage for work (not for
    cancelled or merged). Resolved: the latest resolution, unless the
    incident was reopened after it."""
    state, acknowledged, mitigated, resolved = _milestones(
        sorted(events, key=lambda e: (e.seq, e.at))
    )
    return Milestones(_STATES[state], acknowledged, mitigated, resolved)


def _milestones(
    ordered: Sequence[Event],
) -> tuple[str, datetime | None, datetime | None, datetime | None]:
    state = State.TRIAGE.value
    acknowledged = mitigated = resolved = None
    for event in ordered:
        kind = event.kind
        if kind == STATE_CHANGED:
            target = event.data.get("to")
            if target not in _STATES:
                continue
            state = target
            if acknowledged is None and target in _ACKNOWLEDGING:
                acknowledged = event.at
            if mitigated is None and target in _MITIGATING:
                mitigated = event.at
            if target == _RESOLVED:
                resolved = event.at
            elif target in _OPEN:
                resolved = None  # reopened: the earlier resolution no longer stands
        elif kind == ACKNOWLEDGED and acknowledged is None:
            acknowledged = event.at
    return state, acknowledged, mitigated, resolved


def report_outcome(report: ReportRecord, until: datetime) -> Outcome:
    """A report judged at `until`: met if submitted by its due time, missed if
    submitted after it or still unsubmitted past it, pending before it."""
    if report.not_required or report.due_at is None:
        return Outcome.NOT_APPLICABLE
    if report.submitted_at is not None:
        return Outcome.MET if report.submitted_at <= report.due_at else Outcome.MISSED
    return Outcome.MISSED if report.due_at <= until else Outcome.PENDING


def incident_facts(
    events: Iterable[Event],
    *,
    targets: Mapping[str, SeverityTargets] | PreparedTargets,
    reports: Iterable[ReportRecord] = (),
    now: datetime,
    category: str = "",
    discovered_at: datetime | None = None,
    harm_started_at: datetime | None = None,
) -> IncidentFacts:
    """The facts of one incident from its timeline events (any order; sorted
    by seq, then time). `discovered_at`/`harm_started_at` are the values
    recorded at declaration, used when no event carries them; `category` is
    used when the DECLARED event does not name one. `now` bounds the clocks
    of an incident still running. `targets` maps severity values to their
    targets (or is PreparedTargets.of them, for many incidents)."""
    return incident_facts_until(
        events,
        targets=targets,
        reports=reports,
        now=now,
        category=category,
        discovered_at=discovered_at,
        harm_started_at=harm_started_at,
    )[0]


_NEVER = datetime.max.replace(tzinfo=UTC)


def incident_facts_until(
    events: Iterable[Event],
    *,
    targets: Mapping[str, SeverityTargets] | PreparedTargets,
    reports: Iterable[ReportRecord] = (),
    now: datetime,
    category: str = "",
    discovered_at: datetime | None = None,
    harm_started_at: datetime | None = None,
) -> tuple[IncidentFacts, datetime | None]:
    """incident_facts, and until when they stay true without a new event:
    the facts computed for `now` are the facts for every moment in
    [now, valid_until) (None: for ever). Only a clock not yet judged moves
    with time alone (an acknowledgement, a running status-update stretch or
    a report still inside its target), and each turns to missed at one known
    moment; valid_until is the earliest of those moments."""
    reports = tuple(reports)
    targets = PreparedTargets.of(targets)
    ordered = sorted(events, key=lambda e: (e.seq, e.at))
    declared = next((e for e in ordered if e.kind == DECLARED), None)
    if declared is None:
        raise EventsInvalid("no declared event")
    severity = _severity(declared.data.get("severity"))
    if severity is None:
        raise EventsInvalid("the declared event has no severity")
    category = declared.data.get("category") or category
    if "discovered_at" in declared.data:
        discovered_at = _parse_time(declared.data["discovered_at"])
    if "harm_started_at" in declared.data:
        harm_started_at = _parse_time(declared.data["harm_started_at"])

    severities: list[tuple[datetime, str]] = [(declared.at, severity.value)]
    highest = severity.value
    state, acknowledged, mitigated, resolved = _milestones(ordered)
    for event in ordered:
        kind = event.kind
        if kind == SEVERITY_CHANGED:
            new = event.data.get("to")
            if new in _SEVERITIES and new != severities[-1][1]:
                severities.append((event.at, new))
                highest = min(highest, new)  # "sev0" < "sev1": the most severe
        elif kind == DETAILS_CHANGED:
            changed, value = _correction(event.data, "discovered_at")
            if changed and value is not None:
                discovered_at = value
            changed, value = _correction(event.data, "harm_started_at")
            if changed:
                harm_started_at = value

    ack_outcome, breached_at = _ack_outcome(
        declared_at=declared.at,
        acknowledged_at=acknowledged,
        severities=severities,
        ack=targets.ack,
        until=now,
    )
    facts = IncidentFacts(
        declared_at=declared.at,
        category=category,
        severity_declared=severity,
        severity_highest=_SEVERITIES[highest],
        state=_STATES[state],
        discovered_at=discovered_at,
        harm_started_at=harm_started_at,
        acknowledged_at=acknowledged,
        mitigated_at=mitigated,
        resolved_at=resolved,
        ack_outcome=ack_outcome,
        ack_breached_at=breached_at,
        cadence=_cadence(events=ordered, cadence=targets.cadence, until=now),
        reports=tuple(report_outcome(r, now) for r in reports),
    )
    deadlines = []
    if ack_outcome is Outcome.PENDING:
        # Missed from the first moment t > deadline: the clock run to the end of time.
        _outcome, deadline = _ack_outcome(
            declared_at=declared.at,
            acknowledged_at=None,
            severities=severities,
            ack=targets.ack,
            until=_NEVER,
        )
        if deadline is not None:
            deadlines.append(deadline)
    deadlines.extend(
        s.due_at for s in facts.cadence if s.outcome is Outcome.PENDING and s.due_at is not None
    )
    deadlines.extend(
        r.due_at
        for r, outcome in zip(reports, facts.reports, strict=True)
        if outcome is Outcome.PENDING and r.due_at is not None
    )
    return facts, min(deadlines) if deadlines else None


# --- facts as JSON (the facts cache) ----------------------------------------------


def _time_json(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time_of(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def facts_to_json(facts: IncidentFacts) -> dict[str, Any]:
    """The facts as JSON-ready values (times as ISO 8601 text with their
    offset and microseconds); facts_from_json(facts_to_json(f)) == f."""
    t = _time_json
    return {
        "declared_at": t(facts.declared_at),
        "category": facts.category,
        "severity_declared": facts.severity_declared.value,
        "severity_highest": facts.severity_highest.value,
        "state": facts.state.value,
        "discovered_at": t(facts.discovered_at),
        "harm_started_at": t(facts.harm_started_at),
        "acknowledged_at": t(facts.acknowledged_at),
        "mitigated_at": t(facts.mitigated_at),
        "resolved_at": t(facts.resolved_at),
        "ack_outcome": facts.ack_outcome.value,
        "ack_breached_at": t(facts.ack_breached_at),
        "cadence": [[t(s.start), t(s.end), t(s.due_at), s.outcome.value] for s in facts.cadence],
        "reports": [o.value for o in facts.reports],
    }


_OUTCOMES = {o.value: o for o in Outcome}


def facts_from_json(data: Mapping[str, Any]) -> IncidentFacts:
    """The IncidentFacts that facts_to_json wrote."""
    t = _time_of
    return IncidentFacts(
        declared_at=datetime.fromisoformat(data["declared_at"]),
        category=data["category"],
        severity_declared=_SEVERITIES[data["severity_declared"]],
        severity_highest=_SEVERITIES[data["severity_highest"]],
        state=_STATES[data["state"]],
        discovered_at=t(data["discovered_at"]),
        harm_started_at=t(data["harm_started_at"]),
        acknowledged_at=t(data["acknowledged_at"]),
        mitigated_at=t(data["mitigated_at"]),
        resolved_at=t(data["resolved_at"]),
        ack_outcome=_OUTCOMES[data["ack_outcome"]],
        ack_breached_at=t(data["ack_breached_at"]),
        cadence=tuple(
            CadenceStretch(t(start), t(end), t(due), _OUTCOMES[outcome])
            for start, end, due, outcome in data["cadence"]
        ),
        reports=tuple(_OUTCOMES[o] for o in data["reports"]),
    )


# --- aggregates ----------------------------------------------------------------


@dataclass(frozen=True)
class DurationStats:
    """Count, mean, median and 90th percentile (nearest rank) of durations."""

    count: int = 0
    mean: timedelta | None = None
    median: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def of(cls, values: Iterable[timedelta | None]) -> DurationStats:
        return cls.of_seconds(v.total_seconds() for v in values if v is not None)

    @classmethod
    def of_seconds(cls, values: Iterable[float]) -> DurationStats:
        """The same from durations already in seconds (timedelta.total_seconds())."""
        seconds = sorted(values)
        n = len(seconds)
        if not n:
            return cls()
        rank = max(1, math.ceil(0.9 * n))
        half = n // 2
        # statistics.median's arithmetic, on the list already sorted.
        median = seconds[half] if n % 2 else (seconds[half - 1] + seconds[half]) / 2
        return cls(
            count=n,
            mean=timedelta(seconds=statistics.fmean(seconds)),
            median=timedelta(seconds=median),
            p90=timedelta(seconds=seconds[rank - 1]),
        )


@dataclass(frozen=True)
class Attainment:
    """met of judged; ratio None when nothing was judged."""

    met: int = 0
    judged: int = 0

    @property
    def ratio(self) -> float | None:
        return self.met / self.judged if self.judged else None

    @property
    def percent(self) -> float | None:
        return None if self.judged == 0 else 100.0 * self.met / self.judged

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Attainment:
        met = judged = 0
        for outcome in outcomes:
            if outcome is Outcome.MET:
                met += 1
                judged += 1
            elif outcome is Outcome.MISSED:
                judged += 1
        return cls(met, judged)


SEVERITY_ORDER = tuple(Severity)


@dataclass(frozen=True)
class Summary:
    """Every metric over one group of incidents (excluded ones already left out)."""

    incidents: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    mttd: DurationStats
    mtta: DurationStats
    mttm: DurationStats
    mttr: DurationStats
    ack_sla: Attainment
    update_cadence: Attainment
    reports_on_time: Attainment

    def value(self, key: MetricKey | str):
        return getattr(self, MetricKey(key).value)


def summarize(facts: Iterable[IncidentFacts]) -> Summary:
    """The metrics of these incidents; excluded ones (merged, cancelled) are skipped."""
    kept = [f for f in facts if not f.excluded]
    by_severity = {s.value: 0 for s in SEVERITY_ORDER}
    by_category: dict[str, int] = {}
    for f in kept:
        by_severity[f.severity_highest.value] += 1
        by_category[f.category] = by_category.get(f.category, 0) + 1
    return Summary(
        incidents=len(kept),
        by_severity=by_severity,
        by_category=dict(sorted(by_category.items())),
        mttd=DurationStats.of(f.time_to_detect for f in kept),
        mtta=DurationStats.of(f.time_to_acknowledge for f in kept),
        mttm=DurationStats.of(f.time_to_mitigate for f in kept),
        mttr=DurationStats.of(f.time_to_resolve for f in kept),
        ack_sla=Attainment.of(f.ack_outcome for f in kept),
        update_cadence=Attainment.of(f.cadence_outcome for f in kept),
        reports_on_time=Attainment.of(o for f in kept for o in f.reports),
    )


# --- buckets for charts ----------------------------------------------------------


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, starting Monday
    MONTH = "month"


def bucket_of(moment: datetime, *, size: Bucket | str, tz: tzinfo) -> date:
    """The first day (in `tz`) of the bucket that holds `moment`."""
    day = moment.astimezone(tz).date()
    size = Bucket(size)
    if size is Bucket.DAY:
        return day
    if size is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_bucket(day: date, size: Bucket) -> date:
    if size is Bucket.DAY:
        return day + timedelta(days=1)
    if size is Bucket.WEEK:
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets_between(
    start: datetime, end: datetime, *, size: Bucket | str, tz: tzinfo
) -> list[date]:
    """Every bucket that holds a moment of [start, end), in order (empty ones too)."""
    size = Bucket(size)
    if end <= start:
        return []
    last = bucket_of(end - timedelta(microseconds=1), size=size, tz=tz)
    day = bucket_of(start, size=size, tz=tz)
    out = []
    while day <= last:
        out.append(day)
        day = _next_bucket(day, size)
    return out
