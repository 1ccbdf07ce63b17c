"""Thin tasks: call a service. The sweep is idempotent (timers fire once)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def sweep_incident_timers() -> int:
    """Beat, every 2 s: fire the incident nudges that are due."""
    from incidents.services import timers_sweep

    return timers_sweep()
