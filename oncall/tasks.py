"""Thin beat tasks: plan and send handoff notices, find coverage gaps."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def sweep_handoffs() -> int:
    from oncall.services import handoffs_plan, handoffs_send_due

    handoffs_plan()
    return handoffs_send_due()


@shared_task(acks_late=True)
def sweep_coverage_gaps() -> int:
    from oncall.services import gaps_detect

    return gaps_detect()
