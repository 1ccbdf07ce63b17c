"""Vendor and queue metrics over a period, one definition each.

`VENDOR_METRICS` names every metric like incidents.metrics.METRICS (key,
label, one-sentence definition, unit). `vendor_metrics` aggregates in the
database: at most seven queries whatever the number of vendors, queues,
snapshots or incidents. It applies no permission filter: callers pass the
vendor ids the viewer may see (vendors.selectors.vendors_visible_to).

Like incidents.metrics with its facts cache, this module also writes one
thing: derived data, the daily sums of final days (QueueDayFigures,
SnapshotDay), which it rebuilds at will and which no user edits
(roll_up_days; beat runs it hourly through vendors.tasks).

SLA attainment is weighted by outflow, as on the vendor page's weekly
figures (vendors.selectors.vendor_weekly_figures): sum(attainment x
outflow) / sum(outflow), so a busy hour counts more than a quiet one. The
attainment bands use the queue's target and warn threshold as
vendors.domain.health does (below target: breach; under the warn threshold:
near; else ok); they judge the reported attainment only, not staffing,
backlog or staleness, which need the clock of each moment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, FloatField, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Least, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.domain.metrics import EXCLUDED_STATES
from incidents.metrics import MetricDefinition, Unit
from vendors.domain.health import MAX_SNAPSHOT_AGE, WARN_MARGIN
from vendors.models import (
    IncidentImpact,
    Queue,
    QueueDayFigures,
    QueueSnapshot,
    SnapshotDay,
    Vendor,
)


class VendorMetricKey:
    SLA_ATTAINMENT = "queue_sla_attainment"
    BELOW_TARGET = "snapshots_below_target"
    NEAR_TARGET = "snapshots_near_target"
    QA_ACCURACY = "qa_accuracy"
    LINKED_INCIDENTS = "linked_incidents"
    TROUBLE_INCIDENTS = "trouble_incidents"


VENDOR_METRICS: dict[str, MetricDefinition] = {
    d.key: d
    for d in (
        MetricDefinition(
            VendorMetricKey.SLA_ATTAINMENT,
            _("Queue SLA attainment"),
            _(
                "The SLA attainment reported in the queue snapshots taken in the period, "
                "averaged with each snapshot weighted by its outflow per hour; snapshots with "
                "no outflow weigh nothing."
            ),
            Unit.PERCENT,
        ),
        MetricDefinition(
            VendorMetricKey.BELOW_TARGET,
            _("Snapshots below target"),
            _(
                "Share of the queue snapshots taken in the period whose reported SLA "
                "attainment is below the queue's SLA target."
            ),
            Unit.PERCENT,
        ),
        MetricDefinition(
            VendorMetricKey.NEAR_TARGET,
            _("Snapshots near target"),
            _(
                "Share of the queue snapshots taken in the period whose reported SLA "
                "attainment meets the queue's SLA target but is below its warning threshold."
            ),
            Unit.PERCENT,
        ),
        MetricDefinition(
            VendorMetricKey.QA_ACCURACY,
            _("QA accuracy"),
            _("Mean QA accuracy of the queue snapshots taken in the period that report one."),
            Unit.PERCENT,
        ),
        MetricDefinition(
            VendorMetricKey.LINKED_INCIDENTS,
            _("Incidents involving the vendor"),
            _(
                "Number of incidents declared in the period that are linked to the vendor (or "
                "queue), leaving out merged duplicates and cancelled incidents."
            ),
            Unit.COUNT,
        ),
        MetricDefinition(
            VendorMetricKey.TROUBLE_INCIDENTS,
            _("Trouble incidents"),
            _(
                "Number of incidents declared in the period that TSCC raised automatically for "
                "the vendor's queue or site trouble (SLA breach, projected breach, missing "
                "reports, site down), leaving out merged duplicates and cancelled incidents."
            ),
            Unit.COUNT,
        ),
    )
}


@dataclass
class Figures:
    """Sums over snapshots; the metrics are derived from them so that a
    vendor's figures are exactly the sum of its queues'."""

    snapshots: int = 0
    weighted_attainment: float = 0.0  # sum(attainment x outflow)
    outflow: float = 0.0  # sum(outflow)
    below_target: int = 0
    near_target: int = 0
    qa_sum: float = 0.0
    qa_snapshots: int = 0
    linked_incidents: int = 0
    trouble_incidents: int = 0

    @property
    def sla_attainment(self) -> float | None:
        return self.weighted_attainment / self.outflow if self.outflow else None

    @property
    def qa_accuracy(self) -> float | None:
        return self.qa_sum / self.qa_snapshots if self.qa_snapshots else None

    def _share(self, n: int) -> float | None:
        return n / self.snapshots if self.snapshots else None

    @property
    def share_below_target(self) -> float | None:
        return self._share(self.below_target)

    @property
    def share_near_target(self) -> float | None:
        return self._share(self.near_target)

    @property
    def share_ok(self) -> float | None:
        return self._share(self.snapshots - self.below_target - self.near_target)

    def value(self, key: str):
        return {
            VendorMetricKey.SLA_ATTAINMENT: self.sla_attainment,
            VendorMetricKey.BELOW_TARGET: self.share_below_target,
            VendorMetricKey.NEAR_TARGET: self.share_near_target,
            VendorMetricKey.QA_ACCURACY: self.qa_accuracy,
            VendorMetricKey.LINKED_INCIDENTS: self.linked_incidents,
            VendorMetricKey.TROUBLE_INCIDENTS: self.trouble_incidents,
        }[key]


@dataclass
class QueueMetrics(Figures):
    queue_id: int = 0
    vendor_id: int = 0
    code: str = ""
    name: str = ""
    sla_percent: float = 0.0
    sla_minutes: int = 0


@dataclass
class VendorMetrics(Figures):
    vendor_id: int = 0
    code: str = ""
    name: str = ""
    queues: list[QueueMetrics] = field(default_factory=list)


def _warn_below():
    """The queue's warn threshold, as vendors.domain.health.Targets.warn_below."""
    return Coalesce(
        F("queue__warn_attainment"),
        Least(F("queue__sla_percent") + Value(WARN_MARGIN), Value(100.0)),
        output_field=FloatField(),
    )


# The sums every metric is derived from, per queue, over snapshot rows.
def _snapshot_sums() -> dict:
    return {
        "n": Count("id"),
        "weighted": Sum(F("sla_attainment") * F("outflow_per_hour"), output_field=FloatField()),
        "outflow": Sum("outflow_per_hour"),
        "below": Count("id", filter=Q(sla_attainment__lt=F("queue__sla_percent"))),
        "near": Count(
            "id",
            filter=Q(sla_attainment__gte=F("queue__sla_percent"))
            & Q(sla_attainment__lt=_warn_below()),
        ),
        "qa_sum": Sum("qa_accuracy"),
        "qa_n": Count("qa_accuracy"),
    }


# The same sums over QueueDayFigures rows.
_DAY_SUMS = {
    "n": Sum("snapshots"),
    "weighted": Sum("weighted_attainment"),
    "outflow": Sum("outflow"),
    "below": Sum("below_target"),
    "near": Sum("near_target"),
    "qa_sum": Sum("qa_sum"),
    "qa_n": Sum("qa_snapshots"),
}
_SUM_NAMES = tuple(_DAY_SUMS)


def _midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


# Slack past the posting window for a post or import still committing and for
# clocks that disagree between machines (a day summed too early would miss it).
FINAL_AFTER = MAX_SNAPSHOT_AGE + timedelta(hours=1)


def final_days_before(now: datetime) -> date:
    """The first UTC day that may still get snapshots: figures are posted
    for moments at most MAX_SNAPSHOT_AGE old (an hour's slack added), so
    every day before this one is final."""
    return (now - FINAL_AFTER).astimezone(UTC).date()


def _day_rows(snapshots: QuerySet) -> QuerySet:
    """Per queue and UTC day: the sums, and the targets they were judged by."""
    return (
        snapshots.order_by()
        .annotate(
            day=TruncDate("taken_at", tzinfo=UTC),
            judged_percent=F("queue__sla_percent"),
            judged_warn=_warn_below(),
        )
        .values("queue_id", "day", "judged_percent", "judged_warn")
        .annotate(**_snapshot_sums())
    )


def _store_days(rows: Iterable[dict]) -> None:
    QueueDayFigures.objects.bulk_create(
        [
            QueueDayFigures(
                queue_id=r["queue_id"],
                day=r["day"],
                snapshots=r["n"],
                weighted_attainment=r["weighted"] or 0.0,
                outflow=r["outflow"] or 0.0,
                below_target=r["below"],
                near_target=r["near"],
                qa_sum=r["qa_sum"] or 0.0,
                qa_snapshots=r["qa_n"],
                sla_percent=r["judged_percent"],
                warn_below=r["judged_warn"],
            )
            for r in rows
        ],
        batch_size=2000,
        ignore_conflicts=True,  # another process rolled the same final day up
    )


# A reader sums at most this many missing days itself (a day of 500 hourly
# queues: ~40 ms); more is beat's work (vendors.tasks), and the reader reads
# the snapshots meanwhile.
READER_ROLL_UP_DAYS = 7


def roll_up_days(
    first: date, end: date, *, now: datetime | None = None, at_most: int | None = None
) -> int | None:
    """Sum every final UTC day in [first, end) not rolled up yet into
    QueueDayFigures (one query per run of missing days), and mark it done.
    Returns how many days it rolled up; None, summing nothing, when more
    than `at_most` are missing. Idempotent; safe to run concurrently (a
    final day's sums are the same whoever computes them)."""
    end = min(end, final_days_before(now or timezone.now()))
    if first >= end:
        return 0
    done = set(
        SnapshotDay.objects.filter(day__gte=first, day__lt=end).values_list("day", flat=True)
    )
    missing = [first + timedelta(days=i) for i in range((end - first).days)]
    missing = [d for d in missing if d not in done]
    if at_most is not None and len(missing) > at_most:
        return None
    runs: list[tuple[date, date]] = []  # consecutive days, at most a month a run
    for day in missing:
        if runs and runs[-1][1] == day and (day - runs[-1][0]).days < 31:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    for lo, hi in runs:
        snapshots = QueueSnapshot.objects.filter(
            taken_at__gte=datetime.combine(lo, time(), tzinfo=UTC),
            taken_at__lt=datetime.combine(hi, time(), tzinfo=UTC),
        )
        with transaction.atomic():
            _store_days(_day_rows(snapshots))
            SnapshotDay.objects.bulk_create(
                [SnapshotDay(day=lo + timedelta(days=i)) for i in range((hi - lo).days)],
                ignore_conflicts=True,
            )
    return len(missing)


def _judge_again(queue_ids: list[int], first: date, end: date) -> None:
    """Queues whose targets changed since their days were summed: their
    days in [first, end) summed again against today's targets."""
    with transaction.atomic():
        QueueDayFigures.objects.filter(queue_id__in=queue_ids, day__gte=first, day__lt=end).delete()
        _store_days(
            _day_rows(
                QueueSnapshot.objects.filter(
                    queue_id__in=queue_ids,
                    taken_at__gte=datetime.combine(first, time(), tzinfo=UTC),
                    taken_at__lt=datetime.combine(end, time(), tzinfo=UTC),
                )
            )
        )


def _queue_sums(
    ids: list[int],
    targets: dict[int, tuple[float, float]],
    start: datetime,
    end: datetime,
    *,
    judged: bool = False,
) -> dict[int, dict]:
    """Each queue's sums over [start, end) (the queues of vendors `ids`,
    `targets`: queue id -> today's target and warn threshold): whole final
    UTC days from QueueDayFigures (summed first if a few are missing), the
    rest from snapshots; all from snapshots while more days are missing
    than a reader sums (beat sums them)."""
    # The first whole UTC day (the UTC date, whatever zone `start` is written in).
    first = _midnight(start).date() + timedelta(days=0 if start == _midnight(start) else 1)
    last = min(_midnight(end).date(), final_days_before(timezone.now()))
    sums: dict[int, dict] = {}

    def add(queue_id: int, row: dict) -> None:
        into = sums.setdefault(queue_id, dict.fromkeys(_SUM_NAMES, 0))
        for name in _SUM_NAMES:
            into[name] += row[name] or 0

    windows = [(start, end)]
    if first < last and roll_up_days(first, last, at_most=READER_ROLL_UP_DAYS) is not None:
        rolled = list(
            QueueDayFigures.objects.filter(queue_id__in=list(targets), day__gte=first, day__lt=last)
            .order_by()
            .values("queue_id")
            .annotate(
                **_DAY_SUMS,
                percent_low=Min("sla_percent"),
                percent_high=Max("sla_percent"),
                warn_low=Min("warn_below"),
                warn_high=Max("warn_below"),
            )
        )
        stale = [
            r["queue_id"]
            for r in rolled
            if not r["percent_low"] == r["percent_high"] == targets[r["queue_id"]][0]
            or not math.isclose(r["warn_low"], targets[r["queue_id"]][1])
            or not math.isclose(r["warn_high"], targets[r["queue_id"]][1])
        ]
        if stale and not judged:
            _judge_again(stale, first, last)
            return _queue_sums(ids, targets, start, end, judged=True)
        for row in rolled:
            add(row["queue_id"], row)
        # The ragged ends, each its own range (one OR of both made PostgreSQL
        # probe the snapshots queue by queue: 1.4 s instead of 20 ms).
        windows = [
            (start, datetime.combine(first, time(), tzinfo=UTC)),
            (datetime.combine(last, time(), tzinfo=UTC), end),
        ]
    for low, high in windows:
        if low >= high:
            continue
        for row in (
            QueueSnapshot.objects.filter(
                queue__vendor_id__in=ids, taken_at__gte=low, taken_at__lt=high
            )
            .order_by()
            .values("queue_id")
            .annotate(**_snapshot_sums())
        ):
            add(row["queue_id"], row)
    return sums


def _links(ids: list[int], start: datetime, end: datetime) -> QuerySet[IncidentImpact]:
    """The vendors' links to incidents declared in [start, end); merged and
    cancelled incidents left out, as every incident metric leaves them."""
    return IncidentImpact.objects.filter(
        vendor_id__in=ids, incident__declared_at__gte=start, incident__declared_at__lt=end
    ).exclude(incident__state__in=[s.value for s in EXCLUDED_STATES])


def linked_incident_totals(
    *, vendor_ids: Iterable[int], start: datetime, end: datetime
) -> tuple[int, int]:
    """(linked, trouble): how many incidents of the period are linked to any
    of the vendors, and how many of those trouble opened, each counted once
    however many vendors it names. One query."""
    ids = list(vendor_ids)
    if not ids:
        return 0, 0
    counts = _links(ids, start, end).aggregate(
        linked=Count("incident_id", distinct=True),
        trouble=Count(
            "incident_id",
            distinct=True,
            filter=Q(trouble_key__isnull=False) & ~Q(trouble_key=""),
        ),
    )
    return counts["linked"], counts["trouble"]


def vendor_metrics(
    *, start: datetime, end: datetime, vendor_ids: Iterable[int] | None = None
) -> list[VendorMetrics]:
    """Each vendor's metrics over [start, end), with a row per queue, by
    vendor name. `vendor_ids` None: every active vendor. Queues listed: the
    active ones and any inactive one with snapshots or incidents in the
    period. Snapshots of whole final days are read from their daily sums
    (QueueDayFigures), the period's ragged ends from the snapshots; six
    queries whatever the number of vendors, queues, snapshots or incidents
    (more the first time a day is read, to sum it)."""
    vendors_qs = Vendor.objects.all()
    vendors_qs = (
        vendors_qs.filter(is_active=True)
        if vendor_ids is None
        else vendors_qs.filter(id__in=list(vendor_ids))
    )
    vendors = {
        vid: VendorMetrics(vendor_id=vid, code=code, name=name)
        for vid, code, name in vendors_qs.order_by("name", "id").values_list("id", "code", "name")
    }
    if not vendors:
        return []
    ids = list(vendors)
    queues: dict[int, QueueMetrics] = {}
    active: set[int] = set()
    targets: dict[int, tuple[float, float]] = {}
    for qid, vid, code, name, percent, minutes, is_active, warn in (
        Queue.objects.filter(vendor_id__in=ids)
        .order_by("name", "id")
        .values_list(
            "id",
            "vendor_id",
            "code",
            "name",
            "sla_percent",
            "sla_minutes",
            "is_active",
            "warn_attainment",
        )
    ):
        targets[qid] = (percent, min(percent + WARN_MARGIN, 100.0) if warn is None else warn)
        queues[qid] = QueueMetrics(
            queue_id=qid,
            vendor_id=vid,
            code=code,
            name=name,
            sla_percent=percent,
            sla_minutes=minutes,
        )
        if is_active:
            active.add(qid)

    for queue_id, row in _queue_sums(ids, targets, start, end).items():
        q = queues[queue_id]
        q.snapshots, q.below_target, q.near_target = row["n"], row["below"], row["near"]
        q.weighted_attainment, q.outflow = float(row["weighted"]), float(row["outflow"])
        q.qa_sum, q.qa_snapshots = float(row["qa_sum"]), row["qa_n"]

    # Incident links are few (one per incident and vendor, queue or site):
    # distinct rows, counted here so a vendor counts an incident once.
    links = (
        _links(ids, start, end)
        .order_by()
        .values_list("vendor_id", "queue_id", "incident_id", "trouble_key")
        .distinct()
    )
    linked: dict[tuple[str, int], set[int]] = defaultdict(set)
    trouble: dict[tuple[str, int], set[int]] = defaultdict(set)
    for vid, qid, incident_id, key in links:
        scopes = [("vendor", vid)] + ([("queue", qid)] if qid is not None else [])
        for scope in scopes:
            linked[scope].add(incident_id)
            if key:
                trouble[scope].add(incident_id)

    for q in queues.values():
        q.linked_incidents = len(linked.get(("queue", q.queue_id), ()))
        q.trouble_incidents = len(trouble.get(("queue", q.queue_id), ()))
        if q.queue_id not in active and not (q.snapshots or q.linked_incidents):
            continue
        v = vendors[q.vendor_id]
        v.queues.append(q)
        v.snapshots += q.snapshots
        v.weighted_attainment += q.weighted_attainment
        v.outflow += q.outflow
        v.below_target += q.below_target
        v.near_target += q.near_target
        v.qa_sum += q.qa_sum
        v.qa_snapshots += q.qa_snapshots
    for v in vendors.values():
        v.linked_incidents = len(linked.get(("vendor", v.vendor_id), ()))
        v.trouble_incidents = len(trouble.get(("vendor", v.vendor_id), ()))
    return list(vendors.values())
