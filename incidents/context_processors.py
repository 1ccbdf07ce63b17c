"""Overdue regulatory reports stand out on every page (one COUNT query)."""

from __future__ import annotations

from django.utils import timezone

from incidents.models import RegulatoryReport
from incidents.selectors import incident_visible_to


def overdue_reports(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("incidents.view_incident"):
        return {}
    count = RegulatoryReport.objects.filter(
        incident__in=incident_visible_to(user),
        state__in=RegulatoryReport.PENDING_STATES,
        due_at__lt=timezone.now(),
    ).count()
    return {"overdue_reports_count": count}
