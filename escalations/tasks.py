"""Thin tasks: an id, a guarded service call. The sweep is the safety net."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def fire_timer_task(timer_id: int) -> bool:
    from escalations.services import send_due_for_timer, timer_fire

    fired = timer_fire(timer_id=timer_id)
    # Also when it had already fired (in the transaction that started it):
    # what it made due is sent here; claims make a replay send nothing twice.
    send_due_for_timer(timer_id=timer_id)
    return fired


@shared_task(acks_late=True)
def send_deliveries_task(escalation_id: int) -> int:
    """Send what a page by hand made due now (claims make a replay send nothing twice)."""
    from escalations.services import send_due_for_escalation

    return send_due_for_escalation(escalation_id=escalation_id)


@shared_task(acks_late=True)
def sweep_escalations() -> list[int]:
    from escalations.services import sweep

    return list(sweep())


@shared_task
def audit_escalations() -> list[int]:
    from escalations.auditor import audit

    return audit()


@shared_task
def check_policies() -> list[int]:
    from escalations.auditor import warn_empty_policies

    return warn_empty_policies()


@shared_task(acks_late=True)
def sweep_sla() -> int:
    from escalations.services import escalations_start_missed
    from escalations.sla import sla_sweep

    escalations_start_missed()
    return sla_sweep()
