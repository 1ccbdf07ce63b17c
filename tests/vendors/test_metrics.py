"""vendors.metrics on hand-built snapshots and incident links with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.services import incident_transition
from tests.incidents.factories import declare
from vendors import services
from vendors.metrics import (
    READER_ROLL_UP_DAYS,
    VENDOR_METRICS,
    VendorMetricKey,
    final_days_before,
    roll_up_days,
    vendor_metrics,
)
from vendors.models import IncidentImpact, Queue, QueueDayFigures, QueueSnapshot, SnapshotDay

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(second=0, microsecond=0)
START, END = NOW - timedelta(days=7), NOW + timedelta(hours=1)


def snap(queue, hours_ago, attainment, outflow, qa=None, *, back=timedelta(0)):
    """A snapshot `hours_ago` before NOW (and `back` before that), written
    directly: the services refuse figures over a week old."""
    return QueueSnapshot.objects.create(
        queue=queue,
        taken_at=NOW - back - timedelta(hours=hours_ago),
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


def more_vendors(manager, count, hours, *, back=timedelta(0), every=1):
    """`count` more vendors, each with one queue reporting `hours` times
    (`every` hours apart): the data a query count must not grow with."""
    queues = []
    for i in range(count):
        v = services.vendor_create(actor=manager, code=f"v{i}", name=f"Vendor {i}")
        q = services.queue_create(actor=manager, vendor_id=v.id, code="q", name="Q")
        for h in range(1, hours + 1):
            snap(q, h * every, 90 + i, 10 * h, back=back)
        queues.append(q)
    return queues


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


def place_snapshots(queue, queue2, other_queue, back=timedelta(0)):
    """The hand-built figures of the period [START, END) shifted `back`."""
    # queue: target 95 %, warn under 97 %.
    snap(queue, 1, 99, 100, qa=90, back=back)  # ok
    snap(queue, 2, 96, 300, back=back)  # near
    snap(queue, 3, 80, 100, qa=80, back=back)  # below
    snap(queue, 4, 50, 0, back=back)  # below, no outflow: weighs nothing
    snap(queue, 24 * 8, 0, 1000, qa=0, back=back)  # before the period
    snap(queue, -2, 0, 1000, back=back)  # after it
    # queue2: target 90 %, warn under 99 % (set on the queue).
    snap(queue2, 1, 95, 100, qa=100, back=back)  # near
    snap(other_queue, 1, 100, 50, back=back)


@pytest.fixture
def figures(queue, queue2, other_queue, manager, vendor, other_vendor, site, other_site):
    place_snapshots(queue, queue2, other_queue)

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
    for q in more_vendors(manager, 5, 5):
        IncidentImpact.objects.create(incident=declare(manager), vendor=q.vendor, queue=q)
    with CaptureQueriesContext(connection) as many:
        rows = vendor_metrics(start=START, end=END)
    assert len(rows) == 7
    assert len(few) == len(many) == 4


def test_every_vendor_metric_has_a_definition():
    keys = {v for k, v in vars(VendorMetricKey).items() if not k.startswith("_")}
    assert set(VENDOR_METRICS) == keys
    for key, definition in VENDOR_METRICS.items():
        assert definition.key == key and str(definition.definition).endswith(".")


# --- weeks-old figures: read from the daily sums ------------------------------------

# The period's NOW moved to 00:30 UTC a month ago: the hand-built figures
# (1 to 4 hours before it) fill the whole day before, read from its sums.
BACK = NOW - datetime.combine((NOW - timedelta(days=30)).date(), time(0, 30), tzinfo=UTC)


def snapshot_figures(rows):
    return {
        v.code: (
            v.snapshots,
            v.weighted_attainment,
            v.outflow,
            v.below_target,
            v.near_target,
            v.qa_sum,
            v.qa_snapshots,
            sorted(
                (q.code, q.snapshots, q.weighted_attainment, q.below_target, q.near_target)
                for q in v.queues
            ),
        )
        for v in rows
    }


def test_weeks_old_figures_come_from_daily_sums_with_the_same_answers(
    queue, queue2, other_queue, vendor
):
    place_snapshots(queue, queue2, other_queue, back=BACK)
    start, end = START - BACK, END - BACK
    rows = by_code(vendor_metrics(start=start, end=end))
    q1 = next(q for q in rows["luzon"].queues if q.code == "en-video")
    assert q1.snapshots == 4
    assert q1.sla_attainment == pytest.approx(93.4)
    assert (q1.below_target, q1.near_target, q1.qa_accuracy) == (2, 1, 85)
    luzon = rows["luzon"]
    assert (luzon.snapshots, luzon.below_target, luzon.near_target) == (5, 2, 2)
    assert luzon.sla_attainment == pytest.approx((46_700 + 9_500) / 600)
    assert rows["straits"].sla_attainment == 100
    # The period's whole days were summed once, every day of it, data or not.
    days = (end.date() - start.date()).days - 1
    assert SnapshotDay.objects.count() == days
    assert QueueDayFigures.objects.filter(queue=queue).exists()
    again = vendor_metrics(start=start, end=end)
    assert snapshot_figures(again) == snapshot_figures(rows.values())
    # The figures read straight from the snapshots agree, whatever the split.
    SnapshotDay.objects.all().delete()
    QueueDayFigures.objects.all().delete()
    for shifted in (start + timedelta(hours=5), start - timedelta(hours=13)):
        a = vendor_metrics(start=shifted, end=end)
        SnapshotDay.objects.all().delete()
        QueueDayFigures.objects.all().delete()
        b = vendor_metrics(start=shifted, end=end)
        assert snapshot_figures(a) == snapshot_figures(b)


def test_a_changed_target_judges_the_summed_days_again(queue, queue2, other_queue, vendor):
    place_snapshots(queue, queue2, other_queue, back=BACK)
    start, end = START - BACK, END - BACK
    vendor_metrics(start=start, end=end)  # the days summed against 95 % / 97 %
    Queue.objects.filter(id=queue.id).update(sla_percent=97)  # warn now under 99 %
    luzon = by_code(vendor_metrics(start=start, end=end))["luzon"]
    q1 = next(q for q in luzon.queues if q.code == "en-video")
    assert (q1.below_target, q1.near_target) == (3, 0)  # 96, 80 and 50 below; 99 is ok
    assert set(
        QueueDayFigures.objects.filter(queue=queue).values_list("sla_percent", flat=True)
    ) == {97}


def test_days_that_can_still_get_figures_are_not_summed(queue):
    today = NOW.date()
    assert roll_up_days(today - timedelta(days=7), today + timedelta(days=1), now=NOW) == 0
    assert not SnapshotDay.objects.exists()
    # Posts may be a week old (an hour's slack for posts still committing and
    # clocks that disagree): the day before NOW - 7 days 1 hour is final.
    assert final_days_before(NOW) == (NOW - timedelta(days=7, hours=1)).date()
    summed = roll_up_days(today - timedelta(days=10), today, now=NOW)
    days = set(SnapshotDay.objects.values_list("day", flat=True))
    assert summed == len(days) and max(days) == final_days_before(NOW) - timedelta(days=1)
    assert min(days) == today - timedelta(days=10)
    assert roll_up_days(today - timedelta(days=10), today, now=NOW) == 0  # done already


def test_queries_stay_fixed_with_daily_sums(queue, queue2, other_queue, manager):
    place_snapshots(queue, queue2, other_queue, back=BACK)
    start, end = START - BACK, END - BACK
    vendor_metrics(start=start, end=end)  # sums the days
    with CaptureQueriesContext(connection) as few:
        vendor_metrics(start=start, end=end)
    more_vendors(manager, 3, 29, back=BACK, every=7)
    with CaptureQueriesContext(connection) as many:
        vendor_metrics(start=start, end=end)
    # Vendors, queues, the summed days' check, their sums, two ragged ends, links
    # (plus one to sum the new vendors' days: none here, the days were summed).
    assert len(few) == len(many) == 7


def test_a_reader_leaves_many_missing_days_to_beat(queue, queue2, other_queue):
    place_snapshots(queue, queue2, other_queue, back=BACK)
    start, end = NOW - timedelta(days=60), NOW  # ~50 final days, none summed
    with CaptureQueriesContext(connection) as read:
        raw = snapshot_figures(vendor_metrics(start=start, end=end))
    assert not SnapshotDay.objects.exists()  # read from the snapshots, nothing summed
    assert len(read) == 5  # vendors, queues, the days' check, snapshots, links
    assert roll_up_days(start.date(), end.date()) > READER_ROLL_UP_DAYS  # beat's run
    assert snapshot_figures(vendor_metrics(start=start, end=end)) == raw


def test_a_start_written_in_another_zone_is_the_same_instant(queue, queue2, other_queue):
    """A period starting at UTC midnight, written as 19:00 the day before in
    New York: no day before it is counted."""
    place_snapshots(queue, queue2, other_queue, back=BACK)
    midnight = datetime.combine((NOW - BACK).date(), time(), tzinfo=UTC) - timedelta(days=1)
    snap(queue, 2, 10, 100, back=BACK + timedelta(days=1))  # the day before the period
    new_york = midnight.astimezone(ZoneInfo("America/New_York"))
    assert new_york.date() != midnight.date()
    end = NOW - BACK + timedelta(hours=1)
    in_utc = snapshot_figures(vendor_metrics(start=midnight, end=end))
    assert snapshot_figures(vendor_metrics(start=new_york, end=end)) == in_utc
    assert by_code(vendor_metrics(start=new_york, end=end))["luzon"].snapshots == 5


def test_summing_runs_a_month_at_a_time(queue, queue2, other_queue):
    today = NOW.date()
    with CaptureQueriesContext(connection) as summing:
        summed = roll_up_days(today - timedelta(days=100), today, now=NOW)
    inserts = [q for q in summing if "INSERT" in q["sql"] and '"vendors_snapshotday"' in q["sql"]]
    assert summed == len(SnapshotDay.objects.all()) and len(inserts) == -(-summed // 31)
