"""Reads the vendor pages need besides vendors.selectors: each is one query
whatever the number of rows, and each is given ids the caller has already
filtered through the selectors' permission filter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from incidents.domain.lifecycle import OPEN_STATES
from incidents.models import Incident, StatusUpdate
from vendors.models import IncidentImpact, QueueSnapshot, Site, SiteStatusChange


def open_incidents_by_vendor(vendor_ids: Iterable[int]) -> dict[int, list[Incident]]:
    """Open incidents linked to each vendor, newest first, each once."""
    vendor_ids = list(vendor_ids)
    if not vendor_ids:
        return {}
    links = (
        IncidentImpact.objects.filter(
            vendor_id__in=vendor_ids, incident__state__in=[s.value for s in OPEN_STATES]
        )
        .select_related("incident")
        .order_by("-incident__declared_at", "-incident_id")
    )
    out: dict[int, list[Incident]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for link in links:
        if (link.vendor_id, link.incident_id) not in seen:
            seen.add((link.vendor_id, link.incident_id))
            out[link.vendor_id].append(link.incident)
    return out


def site_changes(site_ids: Iterable[int], *, per_site: int = 5) -> dict[int, list]:
    """The latest status changes of each site (one query; the newest
    `per_site` of each kept)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    out: dict[int, list[SiteStatusChange]] = defaultdict(list)
    changes = (
        SiteStatusChange.objects.filter(site_id__in=site_ids)
        .select_related("changed_by")
        .order_by("-at", "-id")[: per_site * len(site_ids) * 4]
    )
    for change in changes:
        if len(out[change.site_id]) < per_site:
            out[change.site_id].append(change)
    return out


def company_updates(incident_ids: Iterable[int]) -> dict[int, StatusUpdate]:
    """The latest company-wide status update of each incident (the most
    public text an incident has)."""
    incident_ids = list(incident_ids)
    if not incident_ids:
        return {}
    out: dict[int, StatusUpdate] = {}
    updates = StatusUpdate.objects.filter(
        incident_id__in=incident_ids, audience=StatusUpdate.Audience.COMPANY
    ).order_by("incident_id", "-published_at", "-id")
    for update in updates:
        out.setdefault(update.incident_id, update)
    return out


def vendor_series(
    vendor_id: int, *, since: datetime, until: datetime
) -> dict[int, list[tuple[datetime, float, int, float | None]]]:
    """(taken_at, sla_attainment, backlog, qa_accuracy) by queue, oldest first."""
    rows = (
        QueueSnapshot.objects.filter(
            queue__vendor_id=vendor_id, taken_at__gte=since, taken_at__lte=until
        )
        .order_by("queue_id", "taken_at")
        .values_list("queue_id", "taken_at", "sla_attainment", "backlog", "qa_accuracy")
    )
    out: dict[int, list] = defaultdict(list)
    for queue_id, taken_at, attainment, backlog, qa in rows:
        out[queue_id].append((taken_at, attainment, backlog, qa))
    return out


def vendor_sites(vendor_id: int) -> list[Site]:
    return list(Site.objects.filter(vendor_id=vendor_id).order_by("-is_active", "name", "id"))
