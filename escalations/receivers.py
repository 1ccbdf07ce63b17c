"""escalations listens to incidents (never the other way round)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from incidents.domain.lifecycle import DONE_STATES
from incidents.signals import (
    incident_declared,
    incident_paging_requested,
    incident_state_changed,
    room_paged_people,
)

logger = logging.getLogger(__name__)


@receiver(incident_declared, dispatch_uid="escalations.start")
def start_paging(sender, incident_id: int, **kwargs) -> None:
    from escalations.services import escalation_start

    escalation_start(incident_id=incident_id, fire_now=True)


@receiver(incident_state_changed, dispatch_uid="escalations.stop")
def stop_paging(sender, incident_id: int, current: str, **kwargs) -> None:
    from escalations.services import escalations_resolve

    if current in {s.value for s in DONE_STATES}:
        escalations_resolve(incident_id=incident_id)


@receiver(room_paged_people, dispatch_uid="escalations.paged_people")
def paged_people(sender, incident_id: int, **kwargs) -> dict[int, dict]:
    from escalations.selectors import incident_paged_people

    return incident_paged_people(incident_id=incident_id)


@receiver(incident_paging_requested, dispatch_uid="escalations.page_people")
def page_requested_people(
    sender,
    incident_id: int,
    actor_id: int,
    user_ids=(),
    message: str = "",
    levels=None,
    name: str = "",
    key: str = "",
    **kwargs,
) -> None:
    """Another app asks for people to be paged: `levels` (a vendor's
    escalation policy) run beside the incident's policy, as a policy;
    `user_ids` are paged now, as if the asker had chosen them on the paging
    card. See incidents/signals.py."""
    from django.contrib.auth import get_user_model

    from escalations.services import escalation_start_levels, incident_page_people
    from tscc.exceptions import ApplicationError

    actor = get_user_model().objects.filter(id=actor_id, is_active=True).first()
    if actor is None:
        logger.warning("paging requested for incident %s by a missing user", incident_id)
        return
    if levels:
        try:
            escalation_start_levels(
                actor=actor,
                incident_id=incident_id,
                name=name,
                key=key,
                levels=list(levels),
                message=message,
            )
        except ApplicationError as error:
            logger.warning(
                "paging by levels requested for incident %s refused: %s %s",
                incident_id,
                error,
                getattr(error, "fields", ""),
            )
    if user_ids:
        try:
            incident_page_people(
                actor=actor, incident_id=incident_id, user_ids=list(user_ids), message=message
            )
        except ApplicationError as error:
            logger.warning("paging requested for incident %s refused: %s", incident_id, error)
