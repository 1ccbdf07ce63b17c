"""impact_link / impact_unlink: who may link, and what a lead then sees."""

from __future__ import annotations

import pytest

from incidents.domain.severity import ImpactAnswers
from incidents.models import Category
from incidents.services import Declaration, incident_declare
from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.models import IncidentImpact
from vendors.selectors import incidents_for_vendor, vendor_incidents_visible_to
from vendors.services import impact_link, impact_unlink

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(manager):
    return incident_declare(
        actor=manager,
        declaration=Declaration(
            title="Manila outage",
            category=Category.objects.get(code="vendor_outage"),
            answers=ImpactAnswers(operations=2),
        ),
    )


def test_manager_links_and_lead_sees_it(manager, lead, vendor, site, queue, incident):
    impact = impact_link(
        actor=manager, incident_id=incident.id, vendor_id=vendor.id, site_id=site.id
    )
    assert impact.created_by == manager
    assert (
        impact_link(actor=manager, incident_id=incident.id, vendor_id=vendor.id, site_id=site.id)
        == impact
    )  # once
    impact_link(actor=manager, incident_id=incident.id, vendor_id=vendor.id, queue_id=queue.id)
    assert list(incidents_for_vendor(vendor)) == [incident]
    assert list(vendor_incidents_visible_to(lead)) == [incident]
    impact_unlink(actor=manager, impact_id=impact.id)
    assert IncidentImpact.objects.count() == 1


def test_queue_and_site_must_be_the_vendors(manager, vendor, other_queue, other_site, incident):
    with pytest.raises(InvalidInput):
        impact_link(
            actor=manager, incident_id=incident.id, vendor_id=vendor.id, queue_id=other_queue.id
        )
    with pytest.raises(InvalidInput):
        impact_link(
            actor=manager, incident_id=incident.id, vendor_id=vendor.id, site_id=other_site.id
        )


def test_responder_links_only_incidents_they_work(make_user, vendor, incident):
    outsider = make_user(Role.RESPONDER)
    with pytest.raises(NotAllowed):
        impact_link(actor=outsider, incident_id=incident.id, vendor_id=vendor.id)


def test_lead_cannot_link(lead, vendor, incident):
    with pytest.raises(NotAllowed):
        impact_link(actor=lead, incident_id=incident.id, vendor_id=vendor.id)


def test_lead_does_not_see_other_vendors_incidents(manager, lead, other_vendor, incident):
    impact_link(actor=manager, incident_id=incident.id, vendor_id=other_vendor.id)
    assert list(vendor_incidents_visible_to(lead)) == []
