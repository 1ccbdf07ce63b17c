"""Which incidents touch which vendors, queues and sites (IncidentImpact),
set by hand; automatic trouble links its own (vendors.services.trouble)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from incidents.models import Incident
from tscc.exceptions import InvalidInput, NotAllowed
from vendors.exceptions import NotFound
from vendors.models import IncidentImpact, Queue, Site, Vendor


def _ensure_can_link(actor, incident: Incident) -> None:
    """Ops managers and admins, or anyone who may act on the incident."""
    if not (actor.has_perm("vendors.manage") or actor.has_perm("incidents.act", incident)):
        raise NotAllowed(_("Only people working this incident can link vendors to it."))


@transaction.atomic
def impact_link(
    *,
    actor,
    incident_id: int,
    vendor_id: int,
    queue_id: int | None = None,
    site_id: int | None = None,
) -> IncidentImpact:
    """Say the incident touches the vendor (and one of its queues or sites).
    Linking the same thing twice returns the existing link. The vendor's
    leads then see the incident in their portal."""
    incident = Incident.objects.filter(id=incident_id).first()
    if incident is None:
        raise NotFound(_("No such incident."))
    _ensure_can_link(actor, incident)
    vendor = Vendor.objects.filter(id=vendor_id).first()
    if vendor is None:
        raise InvalidInput(_("Check the link."), fields={"vendor": _("No such vendor.")})
    queue = site = None
    if queue_id is not None:
        queue = Queue.objects.filter(id=queue_id, vendor=vendor).first()
        if queue is None:
            raise InvalidInput(
                _("Check the link."), fields={"queue": _("No such queue at this vendor.")}
            )
    if site_id is not None:
        site = Site.objects.filter(id=site_id, vendor=vendor).first()
        if site is None:
            raise InvalidInput(
                _("Check the link."), fields={"site": _("No such site at this vendor.")}
            )
    existing = IncidentImpact.objects.filter(
        incident=incident, vendor=vendor, queue=queue, site=site
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return IncidentImpact.objects.create(
                incident=incident, vendor=vendor, queue=queue, site=site, created_by=actor
            )
    except IntegrityError:  # linked concurrently
        return IncidentImpact.objects.get(incident=incident, vendor=vendor, queue=queue, site=site)


@transaction.atomic
def impact_unlink(*, actor, impact_id: int) -> None:
    """Remove a link. A trouble link goes too (the next trouble of its kind
    then opens a new incident)."""
    impact = IncidentImpact.objects.select_related("incident").filter(id=impact_id).first()
    if impact is None:
        raise NotFound(_("No such link."))
    _ensure_can_link(actor, impact.incident)
    impact.delete()
