"""The stale-report sweep is a registered task on the beat schedule."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from tscc.celery import app
from vendors.tasks import sweep_stale_reports

pytestmark = pytest.mark.django_db


def test_sweep_is_scheduled_every_minute():
    entry = app.conf.beat_schedule["vendors-sweep-stale-reports"]
    assert entry["task"] == "vendors.tasks.sweep_stale_reports"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60.0


def test_sweep_opens_one_incident_for_a_silent_queue(queue):
    """A round-the-clock queue silent for over an hour since it was created
    is stale: one incident, which the next sweep finds again."""
    first = sweep_stale_reports()
    assert len(first) == 1
    assert sweep_stale_reports() == first
    assert Incident.objects.count() == 1


def test_a_new_queue_is_not_stale_at_once(manager, vendor):
    from vendors.services import queue_create

    queue_create(actor=manager, vendor_id=vendor.id, code="new", name="New")
    assert sweep_stale_reports() == []


def test_the_daily_sums_are_kept_on_beat():
    from tscc.celery import app

    entry = app.conf.beat_schedule["vendors-roll-up-snapshot-days"]
    assert entry["task"] == "vendors.tasks.roll_up_snapshot_days"


@pytest.mark.django_db
def test_the_roll_up_task_sums_two_years_of_final_days_once(queue):
    from vendors.models import SnapshotDay
    from vendors.tasks import roll_up_snapshot_days

    first = roll_up_snapshot_days()
    assert first == SnapshotDay.objects.count() > 700
    assert roll_up_snapshot_days() == 0
