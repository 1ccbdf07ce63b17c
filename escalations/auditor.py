"""The auditor: flags escalation steps and deliveries late by more than a
minute and pages the ops managers; and the health check that warns ahead of
time about policies with a level that would page nobody.

Each late item and each empty policy is reported once (a cache key per id);
if the cache is unreachable it is reported anyway: a duplicate warning is
better than a silent one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from escalations import services
from escalations.domain.policy import pages_nobody
from escalations.models import Delivery, EscalationPolicy, Timer
from tscc.realtime import notify_user
from tscc.roles import Role

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(seconds=60)
REPORTED_FOR = 3600  # seconds a late item stays reported
POLICY_WARNED_FOR = 24 * 3600


def _first_time(key: str, timeout: int) -> bool:
    """True the first time `key` is claimed within `timeout` (atomic add)."""
    try:
        return bool(cache.add(key, 1, timeout=timeout))
    except Exception:  # noqa: BLE001 - any cache failure: report rather than stay silent
        log.warning("auditor cache unavailable; reporting %s", key, exc_info=True)
        return True


def _ops_manager_ids() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(role=Role.OPS_MANAGER, is_active=True)
        .values_list("id", flat=True)
    )


def _notify_managers(text: str) -> None:
    for user_id in _ops_manager_ids():
        transaction.on_commit(
            lambda u=user_id: notify_user(u, text=text, level="danger"), robust=True
        )


def audit(*, now: datetime | None = None) -> list[int]:
    """Report pending timers and deliveries overdue by more than a minute.
    Returns the ids reported by this run (timers first, then deliveries)."""
    now = now or timezone.now()
    cutoff = now - LATE_AFTER
    reported: list[int] = []
    timers = Timer.objects.filter(state=Timer.State.PENDING, due_at__lt=cutoff).values_list(
        "id", "escalation_id", "due_at"
    )
    for timer_id, escalation_id, due_at in timers:
        if not _first_time(f"escalations:audit:timer:{timer_id}", REPORTED_FOR):
            continue
        late = int((now - due_at).total_seconds())
        log.warning(
            "escalation timer %s (escalation %s) late by %ss", timer_id, escalation_id, late
        )
        _notify_managers(
            _("Escalation %(escalation)s: a step is %(late)s s late.")
            % {"escalation": escalation_id, "late": late}
        )
        reported.append(timer_id)
    deliveries = Delivery.objects.filter(
        state=Delivery.State.PENDING, due_at__lt=cutoff
    ).values_list("id", "page_id", "due_at")
    for delivery_id, page_id, due_at in deliveries:
        if not _first_time(f"escalations:audit:delivery:{delivery_id}", REPORTED_FOR):
            continue
        late = int((now - due_at).total_seconds())
        log.warning("delivery %s (page %s) late by %ss", delivery_id, page_id, late)
        _notify_managers(
            _("Page %(page)s: a notification is %(late)s s late.") % {"page": page_id, "late": late}
        )
        reported.append(delivery_id)
    return reported


def policies_paging_nobody(*, at: datetime | None = None) -> list[tuple[int, list[int]]]:
    """(policy id, level positions) for every policy with a level that would
    page nobody at `at`."""
    at = at or timezone.now()

    def resolve(target):
        return services.resolve_target(target, at=at)

    found = []
    for policy in EscalationPolicy.objects.order_by("id"):
        snapshot = services.policy_snapshot(policy)
        if not snapshot["levels"]:
            continue  # a policy with no levels never starts paging
        positions = list(policy.levels.order_by("position").values_list("position", flat=True))
        empty = pages_nobody(services.to_domain(snapshot), resolve)
        if empty:
            found.append((policy.id, [positions[i] for i in empty]))
    return found


def warn_empty_policies(*, at: datetime | None = None) -> list[int]:
    """Warn the ops managers, once per policy per day, about policies that
    would page nobody. Returns the policy ids warned about by this run."""
    at = at or timezone.now()
    warned = []
    for policy_id, positions in policies_paging_nobody(at=at):
        key = f"escalations:audit:empty-policy:{policy_id}:{at.date().isoformat()}"
        if not _first_time(key, POLICY_WARNED_FOR):
            continue
        log.warning("escalation policy %s pages nobody at levels %s", policy_id, positions)
        _notify_managers(
            _("Escalation policy %(policy)s would page nobody at level(s) %(levels)s.")
            % {"policy": policy_id, "levels": ", ".join(str(p + 1) for p in positions)}
        )
        warned.append(policy_id)
    return warned
