"""Incident metrics for pages, the API and the report: one definition each.

`METRICS` names every metric (a stable key, a label and a one-sentence
definition to show next to the number). `incident_metrics` loads the
incidents declared in a period and their per-incident facts in a bounded
number of queries whatever their number: from the facts cache
(incidents.models.IncidentMetricsFacts) when still true, else computed from
their timeline through incidents.domain.metrics and cached; it aggregates
compact rows (MetricRow) rather than the facts. `incident_facts` does the
same for one incident.

Scope, for every metric: incidents declared in [start, end). Merged
duplicates (counted in the incident they were merged into) and cancelled
incidents (false alarms) are left out and counted in `excluded`. TSCC has no
"test incident" flag, so nothing else is left out.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from operator import is_not, itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.domain import metrics as domain
from incidents.domain.lifecycle import OPEN_STATES, State
from incidents.domain.metrics import (
    Bucket,
    Event,
    IncidentFacts,
    MetricKey,
    ReportRecord,
    SeverityTargets,
    Summary,
)
from incidents.models import (
    Incident,
    IncidentMetricsFacts,
    RegulatoryReport,
    SeverityPolicy,
    TimelineEvent,
)

logger = logging.getLogger(__name__)


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
        # A JSON null reads as SQL NULL on PostgreSQL and as "null" on SQLite.
        if discovered and discovered != "null":
            data["discovered_at"] = discovered
        if harm and harm != "null":
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


class MetricRow(NamedTuple):
    """What the aggregates read of one incident's facts (a tuple: a year of
    trends holds thousands): durations in seconds, outcomes as their values."""

    incident_id: int
    day: date  # of the declaration, in the time zone asked for
    category: str
    severity: str  # the highest reached
    state: str
    time_to_detect: float | None
    time_to_acknowledge: float | None
    time_to_mitigate: float | None
    time_to_resolve: float | None
    ack: str
    cadence: str
    reports_met: int
    reports_judged: int


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def metric_row(incident_id: int, facts: IncidentFacts, tz: tzinfo) -> MetricRow:
    reports = domain.Attainment.of(facts.reports)
    return MetricRow(
        incident_id,
        facts.declared_at.astimezone(tz).date(),
        facts.category,
        facts.severity_highest.value,
        facts.state.value,
        _seconds(facts.time_to_detect),
        _seconds(facts.time_to_acknowledge),
        _seconds(facts.time_to_mitigate),
        _seconds(facts.time_to_resolve),
        facts.ack_outcome.value,
        facts.cadence_outcome.value,
        reports.met,
        reports.judged,
    )


_EXCLUDED = frozenset(s.value for s in domain.EXCLUDED_STATES)
_MET, _MISSED = domain.Outcome.MET.value, domain.Outcome.MISSED.value
_COLUMN = [itemgetter(n) for n in range(len(MetricRow._fields))]
(_, _, _CATEGORY, _SEVERITY, _STATE, _TTD, _TTA, _TTM, _TTR, _ACK, _CADENCE, _RMET, _RJUDGED) = (
    _COLUMN
)


_NOT_NONE = partial(is_not, None)
_NO_REPORTS = domain.Attainment()


def _durations(rows: Sequence[tuple], column) -> domain.DurationStats:
    return domain.DurationStats.of_seconds(filter(_NOT_NONE, map(column, rows)))


def _attainment(rows: Sequence[tuple], column) -> domain.Attainment:
    counted = Counter(map(column, rows))
    return domain.Attainment(counted[_MET], counted[_MET] + counted[_MISSED])


def _summary(
    kept: Sequence[tuple],
    *,
    severity: str | None = None,
    category: str | None = None,
    reports: bool = True,
) -> Summary:
    """The Summary of MetricRows, none excluded, in C-level passes over their
    columns (the trends of a year summarize thousands of rows four times
    over). `severity`/`category`: every row has this one; `reports=False`:
    no row has a judged report."""
    by_severity = {s.value: 0 for s in domain.SEVERITY_ORDER}
    if severity is not None:
        by_severity[severity] = len(kept)
    else:
        by_severity.update(Counter(map(_SEVERITY, kept)))
    if category is not None:
        by_category = {category: len(kept)} if kept else {}
    else:
        by_category = dict(sorted(Counter(map(_CATEGORY, kept)).items()))
    return Summary(
        incidents=len(kept),
        by_severity=by_severity,
        by_category=by_category,
        mttd=_durations(kept, _TTD),
        mtta=_durations(kept, _TTA),
        mttm=_durations(kept, _TTM),
        mttr=_durations(kept, _TTR),
        ack_sla=_attainment(kept, _ACK),
        update_cadence=_attainment(kept, _CADENCE),
        reports_on_time=(
            domain.Attainment(sum(map(_RMET, kept)), sum(map(_RJUDGED, kept)))
            if reports
            else _NO_REPORTS
        ),
    )


def summarize_rows(rows: Iterable[tuple]) -> Summary:
    """domain.summarize over MetricRows (the same Summary, without building
    the facts): excluded incidents (merged, cancelled) are skipped."""
    return _summary([r for r in rows if r[4] not in _EXCLUDED])


# --- the facts cache (incidents.models.IncidentMetricsFacts) --------------------------
#
# A cached row is served when (1) the incident's last_seq is the one it was
# computed at (every timeline event moves it); (2) its fingerprint matches,
# in parts: the severity targets (targets_key), the incident's reports' due
# and submission times and not-required flags (reports_key), the row's
# category and detection times (read when the DECLARED event lacks them);
# and (3) `now` lies in [computed_for, valid_until): facts that time alone
# changes (an acknowledgement, a running status-update stretch or a report
# still inside its target) are cached with the moment the first of them
# runs out (domain.incident_facts_until), so open incidents are cached too
# and never served stale. All but the reports are tested in the query; the
# rest is recomputed from the timeline and upserted in one statement.

_MF = "metrics_facts__"
# The cached MetricRow columns (after the incident id), in MetricRow order.
_ROW_COLUMNS = (
    "mf_day",
    f"{_MF}category",
    f"{_MF}severity_highest",
    f"{_MF}state",
    f"{_MF}time_to_detect",
    f"{_MF}time_to_acknowledge",
    f"{_MF}time_to_mitigate",
    f"{_MF}time_to_resolve",
    f"{_MF}ack_outcome",
    f"{_MF}cadence_outcome",
    f"{_MF}reports_met",
    f"{_MF}reports_judged",
)
_WIDTH = 1 + len(_ROW_COLUMNS)
# Their annotations, then the freshness and the reports key.
_NAMES = (
    "mf_day",
    *[f"mf_{name[len(_MF) :]}" for name in _ROW_COLUMNS[1:]],
    "mf_fresh",
    "mf_reports_key",
)
# What facts are computed from, besides the timeline and the reports.
_INPUTS = ("id", "last_seq", "category__code", "discovered_at", "harm_started_at")


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _targets_key(targets: dict[str, SeverityTargets]) -> str:
    return _key(repr(sorted((k, t.ack_minutes, t.update_minutes) for k, t in targets.items())))


def _reports_key(reports: Sequence[ReportRecord]) -> str:
    if not reports:
        return ""
    return _key(
        "|".join(
            f"{r.due_at and r.due_at.isoformat()},"
            f"{r.submitted_at and r.submitted_at.isoformat()},{r.not_required:d}"
            for r in reports
        )
    )


def _fresh(*, now: datetime, targets_key: str) -> Case:
    """True when the incident's cached facts are still true (but for its reports)."""
    same = (
        Q(**{f"{_MF}last_seq": F("last_seq")})
        & Q(**{f"{_MF}targets_key": targets_key})
        & Q(**{f"{_MF}row_category": F("category__code")})
        & Q(**{f"{_MF}row_discovered_at": F("discovered_at")})
        & (
            Q(**{f"{_MF}row_harm_started_at": F("harm_started_at")})
            | Q(**{f"{_MF}row_harm_started_at__isnull": True}, harm_started_at__isnull=True)
        )
        & Q(**{f"{_MF}computed_for__lte": now})
        & (Q(**{f"{_MF}valid_until__isnull": True}) | Q(**{f"{_MF}valid_until__gt": now}))
    )
    return Case(When(same, then=Value(True)), default=Value(False), output_field=BooleanField())


def _events(incidents: QuerySet, ids: list[int] | None) -> dict[int, list[Event]]:
    """The relevant events of `ids` (None: of every incident in `incidents`), by incident."""
    events: dict[int, list[Event]] = defaultdict(list)
    event_rows = TimelineEvent.objects.filter(
        incident_id__in=incidents.order_by().values("id") if ids is None else ids,
        kind__in=domain.RELEVANT_KINDS,
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
    return events


def _fetch(annotated: QuerySet, tz: tzinfo) -> list[tuple]:
    """The cached MetricRows, freshness and reports key of `annotated`'s
    incidents, as the database driver returns them: a year of trends has
    thousands of rows, and Django's per-row iteration and converters would
    cost more than the query."""
    names = list(_NAMES)
    query = annotated.values_list("id", *names).query
    if list(query.extra_select) or list(query.values_select) != ["id"]:
        return list(annotated.values_list("id", *names))  # not the plain shape read below
    # SELECT id, then the annotations in the order they were made (as named).
    assert list(query.annotation_select) == names, list(query.annotation_select)
    connection = connections[annotated.db]
    try:
        sql, params = query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        # SQLite answers the day as text (Django converts it, row by row).
        parse = date.fromisoformat
        rows = [(r[0], r[1] and parse(r[1]), *r[2:]) for r in rows]
    return rows


def _load(
    incidents: QuerySet,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    full: bool = False,
    cache: bool = True,
    write: bool = True,
) -> list[tuple[tuple, IncidentFacts | None]]:
    """(MetricRow, facts if `full`) of each incident in `incidents` that has a
    timeline. Queries, whatever the number of incidents: the severity
    targets, their reports, the incidents with their cached facts; and, when
    some are not cached or stale, their rows (unless `full`: read at once),
    their events and one upsert (in a savepoint). `cache=False`: every
    incident from its timeline, and nothing written; `write=False`: the
    cache read but not written."""
    targets = severity_targets()
    targets_key = _targets_key(targets)
    reports: dict[int, list[ReportRecord]] = defaultdict(list)
    not_required = RegulatoryReport.State.NOT_REQUIRED
    for incident_id, due_at, submitted_at, state in (
        RegulatoryReport.objects.filter(incident_id__in=incidents.order_by().values("id"))
        .order_by("incident_id", "id")
        .values_list("incident_id", "due_at", "submitted_at", "state")
    ):
        reports[incident_id].append(
            ReportRecord(
                due_at=due_at, submitted_at=submitted_at, not_required=state == not_required
            )
        )
    reports_keys = {incident_id: _reports_key(r) for incident_id, r in reports.items()}

    out: list[tuple[tuple, IncidentFacts | None]] = []
    missing: list[int] | None = None  # None: all of them
    if cache:
        annotated = incidents.order_by().annotate(
            mf_day=TruncDate(f"{_MF}declared_at", tzinfo=tz),
            **{f"mf_{name[len(_MF) :]}": F(name) for name in _ROW_COLUMNS[1:]},
            mf_fresh=_fresh(now=now, targets_key=targets_key),
            mf_reports_key=F(f"{_MF}reports_key"),
        )
        if full:  # few incidents: their inputs at once, in case they are stale
            rows = list(annotated.values_list("id", *_NAMES, *_INPUTS[1:], f"{_MF}facts"))
        else:
            rows = _fetch(annotated, tz)
        if not rows:
            return []
        missing = []
        no_key = ""
        inputs = []
        for row in rows:
            if row[_WIDTH] and row[_WIDTH + 1] == reports_keys.get(row[0], no_key):
                out.append((row[:_WIDTH], domain.facts_from_json(row[-1]) if full else None))
            else:
                missing.append(row[0])
                if full:
                    inputs.append((row[0], *row[_WIDTH + 2 : _WIDTH + 6]))
        if not missing:
            return out
        if len(missing) == len(rows):
            missing = None
    if full and cache:
        stale = inputs
    else:
        chosen = incidents if missing is None else Incident.objects.filter(id__in=missing)
        stale = list(chosen.order_by().values_list(*_INPUTS))
    events = _events(incidents, missing)
    prepared = domain.PreparedTargets.of(targets)
    no_reports: tuple = ()
    fresh = []
    for incident_id, last_seq, category, discovered_at, harm_started_at in stale:
        if not events.get(incident_id):
            continue  # no timeline (not born through the service): nothing to measure
        facts, valid_until = domain.incident_facts_until(
            events[incident_id],
            targets=prepared,
            reports=reports.get(incident_id, no_reports),
            now=now,
            category=category,
            discovered_at=discovered_at,
            harm_started_at=harm_started_at,
        )
        metric = metric_row(incident_id, facts, tz)
        out.append((metric, facts if full else None))
        if cache and write:
            fresh.append(
                (
                    incident_id,
                    last_seq,
                    targets_key,
                    reports_keys.get(incident_id, ""),
                    category,
                    discovered_at,
                    harm_started_at,
                    now,
                    valid_until,
                    facts.declared_at,
                    *metric[2:],
                    domain.facts_to_json(facts),
                )
            )
    if fresh:
        _store(fresh, using=incidents.db)
    return out


# The columns _load writes, in the order of its tuples (MetricRow's after declared_at).
_STORED = (
    "incident_id",
    "last_seq",
    "targets_key",
    "reports_key",
    "row_category",
    "row_discovered_at",
    "row_harm_started_at",
    "computed_for",
    "valid_until",
    "declared_at",
    "category",
    "severity_highest",
    "state",
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "ack_outcome",
    "cadence_outcome",
    "reports_met",
    "reports_judged",
    "facts",
)
assert {f.attname for f in IncidentMetricsFacts._meta.concrete_fields} == set(_STORED)


def _store(fresh: list[tuple], *, using: str) -> None:
    """Upsert the rows (in incident order, so two writers lock alike), in one
    statement. A cache: when it cannot be written (a read-only replica, a
    race lost), the answer stands and the next reader computes again."""
    fresh.sort(key=itemgetter(0))
    connection = connections[using]
    try:
        with transaction.atomic(using=using):
            if not (connection.vendor == "postgresql" and _store_postgresql(fresh, connection)):
                IncidentMetricsFacts.objects.using(using).bulk_create(
                    [IncidentMetricsFacts(**dict(zip(_STORED, row, strict=True))) for row in fresh],
                    update_conflicts=True,
                    unique_fields=["incident"],
                    update_fields=list(_STORED[1:]),
                )
    except DatabaseError:
        logger.warning("could not store %d incidents' metrics facts", len(fresh), exc_info=True)


def _store_postgresql(fresh: list[tuple], connection) -> bool:
    """INSERT ... ON CONFLICT with the rows quoted by the driver: thousands
    of rows (a full recompute) without Django preparing each value. False
    when the driver cannot quote (then bulk_create does it)."""
    table = connection.ops.quote_name(IncidentMetricsFacts._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _STORED)
    updates = ", ".join(
        f"{connection.ops.quote_name(c)} = EXCLUDED.{connection.ops.quote_name(c)}"
        for c in _STORED[1:]
    )
    row_sql = "(" + ", ".join(["%s"] * len(_STORED)) + ")"
    dumps = json.dumps
    with connection.cursor() as cursor:
        mogrify = getattr(cursor.cursor, "mogrify", None)  # the driver's own cursor
        if mogrify is None:
            return False
        values = b",".join(mogrify(row_sql, (*row[:-1], dumps(row[-1]))) for row in fresh)
        cursor.execute(
            # Every value quoted by the driver (mogrify); names are ours.
            f"INSERT INTO {table} ({columns}) VALUES {values.decode()} "  # noqa: S608  # nosec B608
            f"ON CONFLICT ({connection.ops.quote_name('incident_id')}) DO UPDATE SET {updates}"
        )
    return True


def _load_facts(
    incidents: QuerySet, *, now: datetime, cache: bool = True
) -> list[tuple[int, IncidentFacts]]:
    """(incident id, facts) of each incident in `incidents` that has a timeline."""
    return [(row[0], facts) for row, facts in _load(incidents, now=now, full=True, cache=cache)]


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
    cache: bool = True,
) -> MetricsResult:
    """Every incident metric over incidents declared in [start, end), with
    breakdowns by highest severity and by category and a series by `bucket`
    (day, week or month, in `time_zone`, default the current one). Filters:
    `severities` (highest severity reached), `categories` (category codes),
    `teams` (owning team ids). Per-incident facts come from the facts cache
    when still true (see above; `cache=False` computes every one from its
    timeline and writes nothing). Three queries whatever the number of
    incidents, and when some facts are not cached or stale three more (their
    rows, their events, one upsert in a savepoint)."""
    now = now or timezone.now()
    bucket = Bucket(bucket)
    tz = _zone(time_zone)
    incidents = Incident.objects.filter(declared_at__gte=start, declared_at__lt=end)
    if categories is not None:
        incidents = incidents.filter(category__code__in=list(categories))
    if teams is not None:
        incidents = incidents.filter(team_id__in=list(teams))
    rows = [row for row, _facts in _load(incidents, now=now, tz=tz, cache=cache)]
    if severities is not None:
        wanted = {str(s) for s in severities}
        rows = [r for r in rows if r[3] in wanted]
    excluded = dict(Counter(r[4] for r in rows if r[4] in _EXCLUDED))
    if excluded:
        rows = [r for r in rows if r[4] not in _EXCLUDED]

    by_severity: dict[str, list[tuple]] = {s.value: [] for s in domain.SEVERITY_ORDER}
    by_category: dict[str, list[tuple]] = defaultdict(list)
    by_bucket: dict[date, list[tuple]] = {
        day: [] for day in domain.buckets_between(start, end, size=bucket, tz=tz)
    }
    reports = any(map(_RJUDGED, rows))
    first_day = _first_day(bucket)
    firsts: dict[date, date] = {}
    for r in rows:
        by_severity[r[3]].append(r)
        by_category[r[2]].append(r)
        day = r[1]
        first = firsts.get(day)
        if first is None:
            first = firsts[day] = first_day(day)
        by_bucket.setdefault(first, []).append(r)
    return MetricsResult(
        start=start,
        end=end,
        bucket=bucket.value,
        time_zone=str(tz),
        totals=_summary(rows, reports=reports),
        by_severity={k: _summary(v, severity=k, reports=reports) for k, v in by_severity.items()},
        by_category={
            k: _summary(v, category=k, reports=reports) for k, v in sorted(by_category.items())
        },
        series=[(day, _summary(by_bucket[day], reports=reports)) for day in sorted(by_bucket)],
        excluded=excluded,
    )


def _first_day(size: Bucket) -> Callable[[date], date]:
    """domain.bucket_of on a local day."""
    if size is Bucket.DAY:
        return lambda day: day
    if size is Bucket.WEEK:
        return lambda day: day - timedelta(days=day.weekday())
    return lambda day: day.replace(day=1)


def incident_facts(incident_id: int, *, now: datetime | None = None) -> IncidentFacts | None:
    """One incident's metric facts (for its summary page), from the facts
    cache when still true, else from its timeline (not written back: one
    incident is cheap to compute); None when there is no such incident.
    At most four queries."""
    loaded = _load(
        Incident.objects.filter(id=incident_id), now=now or timezone.now(), full=True, write=False
    )
    return loaded[0][1] if loaded else None


# --- a week's incidents and reports (the weekly report) --------------------------


def incidents_resolved_between(*, start: datetime, end: datetime) -> QuerySet[Incident]:
    """Incidents moved to resolved at some moment in [start, end), by their
    timeline (a later reopening does not undo that it was resolved then)."""
    resolutions = TimelineEvent.objects.filter(
        incident=OuterRef("pk"),
        kind=TimelineEvent.Kind.STATE_CHANGED,
        data__to=State.RESOLVED.value,
        occurred_at__gte=start,
        occurred_at__lt=end,
    )
    return Incident.objects.filter(declared_at__lt=end).filter(Exists(resolutions))


def incidents_open_at(moment: datetime) -> QuerySet[Incident]:
    """Incidents open at `moment` by their timeline: declared before it, and
    their last state change before it (if any) left them in an open state —
    whatever happened to them since."""
    last_state = (
        TimelineEvent.objects.filter(
            incident=OuterRef("pk"),
            kind=TimelineEvent.Kind.STATE_CHANGED,
            occurred_at__lt=moment,
        )
        .order_by("-seq")
        .annotate(to=KT("data__to"))
        .values("to")[:1]
    )
    return (
        Incident.objects.filter(declared_at__lt=moment)
        .annotate(state_then=Subquery(last_state))
        .filter(Q(state_then__isnull=True) | Q(state_then__in=[s.value for s in OPEN_STATES]))
    )


@dataclass(frozen=True)
class DueReport:
    reference: str
    authority: str
    kind: str
    due_at: datetime
    submitted_at: datetime | None
    outcome: domain.Outcome  # judged by the "reports on time" metric's own rule


def reports_due_between(*, start: datetime, end: datetime, now: datetime) -> list[DueReport]:
    """Regulatory reports due in [start, end) (not-required ones left out),
    oldest deadline first, each judged at `now` as the reports-on-time metric
    judges a report (domain.report_outcome). One query."""
    rows = (
        RegulatoryReport.objects.exclude(state=RegulatoryReport.State.NOT_REQUIRED)
        .filter(due_at__gte=start, due_at__lt=end)
        .order_by("due_at", "id")
        .values_list(
            "incident__year", "incident__number", "authority", "kind", "due_at", "submitted_at"
        )
    )
    return [
        DueReport(
            reference=f"INC-{year}-{number:05d}",
            authority=authority,
            kind=kind,
            due_at=due_at,
            submitted_at=submitted_at,
            outcome=domain.report_outcome(
                ReportRecord(due_at=due_at, submitted_at=submitted_at), now
            ),
        )
        for year, number, authority, kind, due_at, submitted_at in rows
    ]


def reports_owed_from_before(moment: datetime) -> int:
    """Reports still not submitted whose deadline passed before `moment`."""
    return RegulatoryReport.objects.filter(
        due_at__lt=moment, state__in=RegulatoryReport.PENDING_STATES
    ).count()


WARM_DAYS = 2 * 366  # the longest period the summaries offer: two years


def metrics_cache_warm(*, now: datetime | None = None) -> int:
    """Bring the facts cache up to date for every incident the summaries can
    show (declared in the last two years), so no reader pays for a cold
    recompute after a deploy or a change of severity targets (a year of
    5,000 incidents: ~3 s cold, ~0.2 s warm). Idempotent; returns the number
    of incidents looked at. Beat runs it every 10 minutes."""
    now = now or timezone.now()
    incidents = Incident.objects.filter(declared_at__gte=now - timedelta(days=WARM_DAYS))
    return len(_load(incidents, now=now, tz=UTC, cache=True))


def metric_filter_choices() -> tuple[dict[str, str], list[tuple[str, str]], list[tuple[int, str]]]:
    """For the summaries' filters: (every category's name by code in the
    active language, the active categories, the teams). Two queries."""
    from incidents.models import Category
    from incidents.models.reference import localized
    from tscc.models import Team

    names, active = {}, []
    for code, en, zh, is_active in Category.objects.order_by("order", "name_en").values_list(
        "code", "name_en", "name_zh", "active"
    ):
        names[code] = localized(en, zh)
        if is_active:
            active.append((code, names[code]))
    teams = list(Team.objects.order_by("name").values_list("id", "name"))
    return names, active, teams


def incident_facts_in_period(
    *,
    start: datetime,
    end: datetime,
    categories: Iterable[str] | None = None,
    teams: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[tuple[str, str, str, IncidentFacts]]:
    """(reference, title, Chinese title, facts) of each incident declared in
    [start, end) with the filters, oldest first, from the facts the metrics
    use (excluded ones included, marked by their facts). Five queries."""
    now = now or timezone.now()
    incidents = Incident.objects.filter(declared_at__gte=start, declared_at__lt=end)
    if categories is not None:
        incidents = incidents.filter(category__code__in=list(categories))
    if teams is not None:
        incidents = incidents.filter(team_id__in=list(teams))
    facts = dict(_load_facts(incidents, now=now))
    if not facts:
        return []
    described = (
        Incident.objects.filter(id__in=list(facts))
        .order_by("declared_at", "id")
        .values_list("id", "year", "number", "title", "title_zh")
    )
    return [
        (f"INC-{year}-{number:05d}", title, title_zh, facts[incident_id])
        for incident_id, year, number, title, title_zh in described
    ]
