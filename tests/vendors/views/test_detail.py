"""A vendor's page: queues now, history charts over 7 or 30 days, SLA
attainment and QA by ISO week, sites with status history, linking an
incident, and API tokens (the secret shown once; revoke)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.incidents.factories import declare
from tests.vendors.views.conftest import HTMX
from vendors import services
from vendors.models import IncidentImpact, VendorToken
from vendors.services.setup import token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(cast):
    """Ten days of figures every 6 hours for vendor A's queue."""
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = [
        {
            "queue_id": cast.queue.id,
            "taken_at": (top - timedelta(hours=6 * i)).isoformat(),
            "backlog": 50 + i,
            "inflow_per_hour": 300,
            "outflow_per_hour": 320,
            "oldest_item_minutes": 10,
            "sla_attainment": 96 + (i % 3),
            "staffed_headcount": 20,
            "qa_accuracy": 95 + (i % 2),
            "escalations": 1,
        }
        for i in range(28)  # 7 days back at most: the import refuses older figures
    ]
    assert services.snapshots_import(actor=cast.manager, rows=rows).ok
    return rows


def test_detail_shows_queues_history_weeks_and_sites(client, cast, history):
    services.site_status_change(
        actor=cast.lead, site_id=cast.site.id, status="bcp_active", reason="Generators"
    )
    client.force_login(cast.executive)
    url = reverse("vendors:detail", args=[cast.vendor.id])
    page = client.get(url).content.decode()
    assert 'data-queue="en-video"' in page and "Queues now" in page
    assert page.count('<figure class="chart">') == 3  # attainment, backlog, QA by week
    assert "SLA attainment by week" in page and "-W" in page and "QA 9" in page
    assert "Business-continuity plan active" in page and "Generators" in page
    assert "Operational → <strong>Business-continuity plan active</strong>" in page
    assert 'aria-current="true">7 days' in page
    partial = client.get(url, {"range": "30"}, HTTP_HX_TARGET="vendor-history", **HTMX)
    body = partial.content.decode()
    assert body.lstrip().startswith('<section class="card" id="vendor-history">')
    assert 'aria-current="true">30 days' in body and "<html" not in body
    assert client.get(url, {"range": "bogus"}).status_code == 200


def test_link_an_incident_by_reference(client, cast):
    incident = declare(cast.manager)
    client.force_login(cast.manager)
    url = reverse("vendors:link-incident", args=[cast.vendor.id])
    missing = client.post(
        url, {"link-incident": "INC-1999-00001", "link-target": f"v:{cast.vendor.id}"}
    )
    assert missing.status_code == 422 and "No such incident." in missing.content.decode()
    response = client.post(
        url,
        {
            "link-incident": incident.reference.lower(),
            "link-target": f"q:{cast.vendor.id}:{cast.queue.id}",
        },
    )
    assert response.status_code == 303 and response["Location"].endswith("#incidents")
    impact = IncidentImpact.objects.get()
    assert impact.queue == cast.queue and impact.created_by == cast.manager
    page = client.get(reverse("vendors:detail", args=[cast.vendor.id])).content.decode()
    assert incident.reference in page
    # Another vendor's queue is not a choice on this vendor's page.
    wrong = client.post(
        url,
        {
            "link-incident": incident.reference,
            "link-target": f"q:{cast.other_vendor.id}:{cast.other_queue.id}",
        },
    )
    assert wrong.status_code == 422 and IncidentImpact.objects.count() == 1
    client.force_login(cast.executive)
    assert client.post(url, {"link-incident": incident.reference}).status_code == 403


def test_tokens_are_created_once_and_revoked(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:token-create", args=[cast.vendor.id])
    unnamed = client.post(url, {"name": " "}, **HTMX)
    assert unnamed.status_code == 422 and "Name the token." in unnamed.content.decode()
    created = client.post(url, {"name": "Luzon WFM exporter"}, **HTMX)
    page = created.content.decode()
    assert created.status_code == 200 and page.startswith('<section class="card" id="tokens">')
    token = VendorToken.objects.get()
    secret = page.split("data-secret>", 1)[1].split("<", 1)[0]
    assert secret.startswith("vnd_") and token_hash(secret) == token.key_hash
    assert "it is not shown again" in page
    detail = client.get(reverse("vendors:detail", args=[cast.vendor.id])).content.decode()
    assert "Luzon WFM exporter" in detail and secret not in detail
    revoke = reverse("vendors:token-revoke", args=[cast.vendor.id, token.id])
    revoked = client.post(revoke, **HTMX)
    assert revoked.status_code == 200 and "Revoked" in revoked.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.token_authenticate(secret) is None
    # A token is revoked through its own vendor's page only.
    other = reverse("vendors:token-revoke", args=[cast.other_vendor.id, token.id])
    assert client.post(other, **HTMX).status_code == 404
