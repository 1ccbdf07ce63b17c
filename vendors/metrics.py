"""Vendor and queue metrics over a period, one definition each.

`VENDOR_METRICS` names every metric like incidents.metrics.METRICS (key,
label, one-sentence definition, unit). `vendor_metrics` aggregates in the
database: four queries whatever the number of vendors, queues, snapshots
or incidents. It applies no permission filter: callers pass the vendor ids
the viewer may see (vendors.selectors.vendors_visible_to).

SLA attainment is weighted by outflow, as on the vendor page's weekly
figures (vendors.selectors.vendor_weekly_figures): sum(attainment x
outflow) / sum(outflow), so a busy hour counts more than a quiet one. The
attainment bands use the queue's target and warn threshold as
vendors.domain.health does (below target: breach; under the warn threshold:
near; else ok); they judge the reported attainment only, not staffing,
backlog or staleness, which need the clock of each moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, FloatField, Q, Sum, Value
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext_lazy as _

from incidents.domain.metrics import EXCLUDED_STATES
from incidents.metrics import MetricDefinition, Unit
from vendors.domain.health import WARN_MARGIN
from vendors.models import IncidentImpact, Queue, QueueSnapshot, Vendor


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


def vendor_metrics(
    *, start: datetime, end: datetime, vendor_ids: Iterable[int] | None = None
) -> list[VendorMetrics]:
    """Each vendor's metrics over [start, end), with a row per queue, by
    vendor name. `vendor_ids` None: every active vendor. Queues listed: the
    active ones and any inactive one with snapshots or incidents in the
    period. Four queries."""
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
    for qid, vid, code, name, percent, minutes, is_active in (
        Queue.objects.filter(vendor_id__in=ids)
        .order_by("name", "id")
        .values_list("id", "vendor_id", "code", "name", "sla_percent", "sla_minutes", "is_active")
    ):
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

    rows = (
        QueueSnapshot.objects.filter(
            queue__vendor_id__in=ids, taken_at__gte=start, taken_at__lt=end
        )
        .order_by()
        .values("queue_id")
        .annotate(
            n=Count("id"),
            weighted=Sum(F("sla_attainment") * F("outflow_per_hour"), output_field=FloatField()),
            outflow=Sum("outflow_per_hour"),
            below=Count("id", filter=Q(sla_attainment__lt=F("queue__sla_percent"))),
            near=Count(
                "id",
                filter=Q(sla_attainment__gte=F("queue__sla_percent"))
                & Q(sla_attainment__lt=_warn_below()),
            ),
            qa_sum=Sum("qa_accuracy"),
            qa_n=Count("qa_accuracy"),
        )
    )
    for row in rows:
        q = queues[row["queue_id"]]
        q.snapshots, q.below_target, q.near_target = row["n"], row["below"], row["near"]
        q.weighted_attainment, q.outflow = row["weighted"] or 0.0, row["outflow"] or 0.0
        q.qa_sum, q.qa_snapshots = row["qa_sum"] or 0.0, row["qa_n"]

    # Incident links are few (one per incident and vendor, queue or site):
    # distinct rows, counted here so a vendor counts an incident once.
    links = (
        IncidentImpact.objects.filter(
            vendor_id__in=ids, incident__declared_at__gte=start, incident__declared_at__lt=end
        )
        .exclude(incident__state__in=[s.value for s in EXCLUDED_STATES])
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
