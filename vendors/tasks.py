"""Thin tasks: the periodic stale-report sweep, and the daily sums of
snapshots the period metrics read."""

from __future__ import annotations

from celery import shared_task


@shared_task
def sweep_stale_reports() -> list[int]:
    """Beat, every minute: queues in their staffed shift with no report open
    or update a trouble incident (vendors.services.stale_reports_check)."""
    from vendors.services import stale_reports_check

    return stale_reports_check()


ROLL_UP_DAYS = 2 * 366  # as far back as the summaries look


@shared_task
def roll_up_snapshot_days() -> int:
    """Beat, hourly: sum each day that can get no more snapshots (two years
    back), so no reader of the summaries pays for it (vendors.metrics)."""
    from datetime import timedelta

    from django.utils import timezone

    from vendors.metrics import roll_up_days

    today = timezone.now().date()
    return roll_up_days(today - timedelta(days=ROLL_UP_DAYS), today)
