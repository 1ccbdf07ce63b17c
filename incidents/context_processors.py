"""Overdue regulatory reports stand out on every page (one COUNT query)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from incidents.models import RegulatoryReport
from incidents.selectors import reports_visible_to


def overdue_reports(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        if not user.has_perm("incidents.view_incident"):
            return 0
        return (
            reports_visible_to(user)
            .filter(
                state__in=RegulatoryReport.PENDING_STATES,
                due_at__lt=timezone.now(),
            )
            .count()
        )

    # Lazy: counted only when a template shows it (full pages, not partials).
    return {"overdue_reports_count": SimpleLazyObject(count)}
