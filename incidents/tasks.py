"""Thin tasks: call a service. The sweep is idempotent (timers fire once)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def sweep_incident_timers() -> int:
    """Beat, every 2 s: fire the incident nudges that are due."""
    from incidents.services import timers_sweep

    return timers_sweep()


@shared_task(acks_late=True)
def sweep_weekly_reports() -> int:
    """Beat, every 5 min: send the weekly reports whose local send time has
    passed and that are not sent yet (each list and week once)."""
    from incidents.services import weekly_reports_send_due

    return weekly_reports_send_due()


@shared_task(acks_late=True)
def warm_metrics_cache() -> int:
    """Beat, every 10 min: recompute the metrics' cached facts that a new
    event, a changed target or the passing time made stale, so the trends
    page and the metrics API read them warm."""
    from incidents.metrics import metrics_cache_warm

    return metrics_cache_warm()
