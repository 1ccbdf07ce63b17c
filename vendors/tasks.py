"""Thin tasks: the periodic stale-report sweep."""

from __future__ import annotations

from celery import shared_task


@shared_task
def sweep_stale_reports() -> list[int]:
    """Beat, every minute: queues in their staffed shift with no report open
    or update a trouble incident (vendors.services.stale_reports_check)."""
    from vendors.services import stale_reports_check

    return stale_reports_check()
