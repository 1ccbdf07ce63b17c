"""System checks for paging settings (`manage.py check`)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from escalations.delivery.base import TIMEOUT_SECONDS


@checks.register(checks.Tags.compatibility)
def lease_outlasts_provider_calls(app_configs=None, **kwargs):
    """A delivery's lease must outlast a provider call, or a slow (but alive)
    call is claimed again by the sweep and the message is sent twice."""
    lease = settings.ESCALATION_DELIVERY_LEASE_SECONDS
    if lease <= TIMEOUT_SECONDS * 2:
        return [
            checks.Warning(
                f"ESCALATION_DELIVERY_LEASE_SECONDS is {lease} s, not more than twice the "
                f"provider timeout ({TIMEOUT_SECONDS} s): slow sends may be repeated.",
                hint="Use 60 s (the default) unless a test needs a short lease.",
                id="escalations.W001",
            )
        ]
    return []
