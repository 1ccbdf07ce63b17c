"""The demo vendors load through the services, once; a rerun only tops up."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from incidents.models import Incident
from tscc.models import User
from vendors.models import IncidentImpact, Queue, QueueSnapshot, Site, Vendor, VendorMembership

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    assert Vendor.objects.count() == 3
    assert Site.objects.count() == 5
    assert Queue.objects.count() == 12
    snapshots = QueueSnapshot.objects.count()
    assert snapshots > 12 * 30
    assert VendorMembership.objects.get().user == User.objects.get(username="bpo-lead")
    assert Site.objects.get(name="Manila Ortigas").status == "degraded"
    assert IncidentImpact.objects.filter(trouble_key__isnull=True).count() == 1
    for vendor in Vendor.objects.all():  # each with its own two-level escalation policy
        levels = list(vendor.escalation_levels.order_by("position"))
        assert [level.wait_minutes for level in levels] == [10, 15]
        assert list(levels[1].users.all()) == [User.objects.get(username="manager")]
    incidents = Incident.objects.count()

    call_command("seed_demo")
    assert Vendor.objects.count() == 3
    assert QueueSnapshot.objects.count() - snapshots <= 12  # at most a new hour
    assert Incident.objects.count() == incidents
