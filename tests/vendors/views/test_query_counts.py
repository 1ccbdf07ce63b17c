"""The portal, a vendor's page and the incident panel make as many queries
for one queue, site, incident and link as for many."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.incidents.factories import declare
from vendors import services

pytestmark = pytest.mark.django_db


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def grow(cast, n: int, start: int) -> None:
    """n more sites and queues at vendor A, with figures, status changes, a
    linked incident with a company update, and a token each."""
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for i in range(start, start + n):
        site = services.site_create(
            actor=cast.manager,
            vendor_id=cast.vendor.id,
            name=f"Site {i}",
            city="Cebu",
            country="PH",
            time_zone="Asia/Manila",
        )
        services.site_status_change(
            actor=cast.manager, site_id=site.id, status="degraded", reason="Storm"
        )
        queue = services.queue_create(
            actor=cast.manager, vendor_id=cast.vendor.id, site=site, code=f"q{i}", name=f"Q {i}"
        )
        rows += [
            {
                "queue_id": queue.id,
                "taken_at": (top - timedelta(hours=h)).isoformat(),
                "backlog": 10,
                "inflow_per_hour": 100,
                "outflow_per_hour": 110,
                "oldest_item_minutes": 5,
                "sla_attainment": 97,
                "staffed_headcount": 5,
                "qa_accuracy": 96,
            }
            for h in range(0, 48, 6)
        ]
        incident = declare(cast.manager, title=f"Incident {i}")
        services.impact_link(
            actor=cast.manager, incident_id=incident.id, vendor_id=cast.vendor.id, queue_id=queue.id
        )
        incident.status_updates.create(
            audience="company", text_en="Recovering.", severity="sev3", state="triage"
        )
        services.token_create(actor=cast.manager, vendor_id=cast.vendor.id, name=f"T{i}")
    assert services.snapshots_import(actor=cast.manager, rows=rows).ok


@pytest.mark.parametrize(
    "who,url",
    [
        ("lead", lambda cast: reverse("vendors:portal")),
        ("manager", lambda cast: reverse("vendors:portal-vendor", args=[cast.vendor.id])),
        ("manager", lambda cast: reverse("vendors:detail", args=[cast.vendor.id])),
        ("executive", lambda cast: reverse("vendors:detail", args=[cast.vendor.id]) + "?range=30"),
    ],
)
def test_pages_do_not_grow_with_rows(client, cast, who, url):
    client.force_login(getattr(cast, who))
    grow(cast, 1, 0)
    few = count(client, url(cast))
    grow(cast, 4, 1)
    many = count(client, url(cast))
    assert few == many


def test_incident_panel_does_not_grow_with_links(client, cast):
    incident = declare(cast.manager)
    client.force_login(cast.manager)
    url = reverse("vendors:impacts", args=[incident.id])
    services.impact_link(actor=cast.manager, incident_id=incident.id, vendor_id=cast.vendor.id)
    few = count(client, url)
    services.impact_link(
        actor=cast.manager, incident_id=incident.id, vendor_id=cast.vendor.id, site_id=cast.site.id
    )
    services.impact_link(
        actor=cast.manager,
        incident_id=incident.id,
        vendor_id=cast.other_vendor.id,
        queue_id=cast.other_queue.id,
    )
    assert count(client, url) == few
