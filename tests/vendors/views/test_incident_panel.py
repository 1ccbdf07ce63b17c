"""The incident page's "Impacted vendors" panel: what is linked, link and
unlink in place for those who may, read-only for others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.incidents.factories import declare
from tests.vendors.views.conftest import HTMX
from vendors import services
from vendors.models import IncidentImpact

pytestmark = pytest.mark.django_db


def test_the_incident_page_loads_the_panel(client, cast):
    incident = declare(cast.manager)
    client.force_login(cast.manager)
    page = client.get(reverse("incidents:detail", args=[incident.id])).content.decode()
    assert f'hx-get="/vendors/incidents/{incident.id}/impacts/"' in page
    assert "Impacted vendors" in page


def test_link_and_unlink_in_place(client, cast):
    incident = declare(cast.manager)
    client.force_login(cast.manager)
    panel = client.get(reverse("vendors:impacts", args=[incident.id])).content.decode()
    assert "No vendor is linked to this incident." in panel and "Link a vendor" in panel
    assert f'value="s:{cast.vendor.id}:{cast.site.id}"' in panel
    link = reverse("vendors:impact-link", args=[incident.id])
    response = client.post(link, {"impact-target": f"s:{cast.vendor.id}:{cast.site.id}"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<div id="incident-impacts"')
    assert "Luzon BPO" in page and "site Manila" in page
    impact = IncidentImpact.objects.get()
    assert impact.site == cast.site
    bad = client.post(link, {"impact-target": "q:1:99999"}, **HTMX)
    assert bad.status_code == 422
    unlink = reverse("vendors:impact-unlink", args=[incident.id, impact.id])
    response = client.post(unlink, **HTMX)
    assert response.status_code == 200 and not IncidentImpact.objects.exists()
    assert client.post(unlink, **HTMX).status_code == 404


def test_readers_see_links_without_forms(client, cast):
    incident = declare(cast.manager)
    services.impact_link(actor=cast.manager, incident_id=incident.id, vendor_id=cast.vendor.id)
    impact = IncidentImpact.objects.get()
    client.force_login(cast.executive)
    panel = client.get(reverse("vendors:impacts", args=[incident.id])).content.decode()
    assert "Luzon BPO" in panel and "Link a vendor" not in panel and "Unlink" not in panel
    unlink = reverse("vendors:impact-unlink", args=[incident.id, impact.id])
    assert client.post(unlink, **HTMX).status_code == 403
    assert IncidentImpact.objects.exists()
    # A responder not working the incident reads only.
    client.force_login(cast.responder)
    panel = client.get(reverse("vendors:impacts", args=[incident.id])).content.decode()
    assert "Link a vendor" not in panel
