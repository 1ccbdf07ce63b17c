"""vendors.metrics on hand-built snapshots and incident links with known answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.services import incident_transition
from tests.incidents.factories import declare
from vendors import services
from vendors.metrics import VENDOR_METRICS, VendorMetricKey, vendor_metrics
from vendors.models import IncidentImpact, Queue, QueueSnapshot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(second=0, microsecond=0)
START, END = NOW - timedelta(days=7), NOW + timedelta(hours=1)


def snap(queue, hours_ago, attainment, outflow, qa=None):
    return QueueSnapshot.objects.create(
        queue=queue,
        taken_at=NOW - timedelta(hours=hours_ago),
        backlog=10,
        inflow_per_hour=outflow,
        outflow_per_hour=outflow,
        oldest_item_minutes=5,
        sla_attainment=attainment,
        staffed_headcount=10,
        planned_headcount=10,
        qa_accuracy=qa,
        source=QueueSnapshot.Source.API,
    )


@pytest.fixture
def queue2(manager, vendor, site):
    return services.queue_create(
        actor=manager,
        vendor_id=vendor.id,
        site=site,
        code="zh-live",
        name="Chinese live",
        sla_percent=90,
        sla_minutes=15,
        warn_attainment=99,
    )


@pytest.fixture
def figures(queue, queue2, other_queue, manager, vendor, other_vendor, site, other_site):
    # queue: target 95 %, warn under 97 %.
    snap(queue, 1, 99, 100, qa=90)  # ok
    snap(queue, 2, 96, 300)  # near
    snap(queue, 3, 80, 100, qa=80)  # below
    snap(queue, 4, 50, 0)  # below, no outflow: weighs nothing
    snap(queue, 24 * 8, 0, 1000, qa=0)  # before the period
    snap(queue, -2, 0, 1000)  # after it
    # queue2: target 90 %, warn under 99 % (set on the queue).
    snap(queue2, 1, 95, 100, qa=100)  # near
    snap(other_queue, 1, 100, 50)

    i1, i2, i3, i4 = (declare(manager) for _ in range(4))
    IncidentImpact.objects.create(
        incident=i1, vendor=vendor, queue=queue, trouble_key=f"queue:{queue.id}"
    )
    IncidentImpact.objects.create(incident=i2, vendor=vendor, queue=queue2)
    IncidentImpact.objects.create(incident=i2, vendor=vendor, site=site)  # same incident again
    IncidentImpact.objects.create(incident=i3, vendor=vendor, queue=queue)
    incident_transition(actor=manager, incident_id=i3.id, target="cancelled", reason="No.")
    IncidentImpact.objects.create(
        incident=i4, vendor=other_vendor, site=other_site, trouble_key=f"site:{other_site.id}"
    )
    return {"queue": queue, "queue2": queue2, "other_queue": other_queue}


def by_code(rows):
    return {r.code: r for r in rows}


def test_vendor_and_queue_figures(figures, vendor, other_vendor):
    rows = by_code(vendor_metrics(start=START, end=END))
    luzon, straits = rows["luzon"], rows["straits"]
    q1, q2 = (next(q for q in luzon.queues if q.code == c) for c in ("en-video", "zh-live"))

    assert q1.snapshots == 4
    assert q1.sla_attainment == pytest.approx((99 * 100 + 96 * 300 + 80 * 100) / 500)  # 93.4
    assert (q1.below_target, q1.near_target) == (2, 1)
    assert (q1.share_below_target, q1.share_near_target, q1.share_ok) == (0.5, 0.25, 0.25)
    assert q1.qa_accuracy == 85
    assert (q1.linked_incidents, q1.trouble_incidents) == (1, 1)  # i3 was cancelled

    assert (q2.snapshots, q2.sla_attainment, q2.near_target, q2.qa_accuracy) == (1, 95, 1, 100)
    assert (q2.linked_incidents, q2.trouble_incidents) == (1, 0)

    assert luzon.snapshots == 5
    assert luzon.sla_attainment == pytest.approx((46_700 + 9_500) / 600)
    assert (luzon.below_target, luzon.near_target) == (2, 2)
    assert luzon.qa_accuracy == 90
    assert (luzon.linked_incidents, luzon.trouble_incidents) == (2, 1)  # i2 counted once

    assert straits.sla_attainment == 100 and straits.qa_accuracy is None
    assert (straits.linked_incidents, straits.trouble_incidents) == (1, 1)
    assert straits.value(VendorMetricKey.TROUBLE_INCIDENTS) == 1


def test_filter_by_vendor_and_empty_periods(figures, vendor, other_vendor):
    only = vendor_metrics(start=START, end=END, vendor_ids=[other_vendor.id])
    assert [v.code for v in only] == ["straits"]
    quiet = by_code(vendor_metrics(start=END, end=END + timedelta(hours=1)))["luzon"]
    assert quiet.snapshots == 0 and quiet.sla_attainment is None and quiet.share_ok is None
    assert quiet.linked_incidents == 0
    assert vendor_metrics(start=START, end=END, vendor_ids=[]) == []


def test_inactive_queues_are_listed_only_with_figures(figures, vendor, manager, site):
    idle = services.queue_create(
        actor=manager, vendor_id=vendor.id, site=site, code="idle", name="Idle"
    )
    Queue.objects.filter(id__in=[idle.id, figures["queue2"].id]).update(is_active=False)
    luzon = by_code(vendor_metrics(start=START, end=END))["luzon"]
    assert sorted(q.code for q in luzon.queues) == ["en-video", "zh-live"]


def test_queries_do_not_grow_with_the_data(figures, manager, vendor, other_vendor, queue):
    with CaptureQueriesContext(connection) as few:
        vendor_metrics(start=START, end=END)
    for i in range(5):
        v = services.vendor_create(actor=manager, code=f"v{i}", name=f"Vendor {i}")
        q = services.queue_create(actor=manager, vendor_id=v.id, code="q", name="Q")
        for h in range(1, 6):
            snap(q, h, 90 + i, 10 * h)
        IncidentImpact.objects.create(incident=declare(manager), vendor=v, queue=q)
    with CaptureQueriesContext(connection) as many:
        rows = vendor_metrics(start=START, end=END)
    assert len(rows) == 7
    assert len(few) == len(many) == 4


def test_every_vendor_metric_has_a_definition():
    keys = {v for k, v in vars(VendorMetricKey).items() if not k.startswith("_")}
    assert set(VENDOR_METRICS) == keys
    for key, definition in VENDOR_METRICS.items():
        assert definition.key == key and str(definition.definition).endswith(".")
