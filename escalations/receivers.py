"""escalations listens to incidents (never the other way round)."""

from __future__ import annotations

from django.dispatch import receiver

from incidents.domain.lifecycle import DONE_STATES
from incidents.signals import incident_declared, incident_state_changed, room_paged_people


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
