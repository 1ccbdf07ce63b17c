"""Building blocks every incident service uses: lock, check, append."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.events import on_commit_broadcast
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.models import Incident, TimelineEvent
from tscc.roles import Role

MESSAGES = {
    "incidents.act": _("You are not taking part in this incident. Join it first."),
    "incidents.command": _("Only the commander, the deputy or an ops manager can do this."),
    "incidents.manage_reports": _("Only the regulatory liaison or an ops manager can do this."),
    "incidents.declare": _("Your role cannot declare incidents."),
    "incidents.join": _("Your role cannot join incidents."),
}


def ensure(actor, perm: str, incident: Incident | None = None) -> None:
    """Raise NotAllowed unless `actor` holds `perm` on `incident`."""
    if not actor.has_perm(perm, incident):
        raise NotAllowed(str(MESSAGES.get(perm, _("You may not do this."))))


def incident_lock(incident_id: int) -> Incident:
    """The incident row, locked for this transaction (Incident.DoesNotExist if gone)."""
    assert transaction.get_connection().in_atomic_block, "incident_lock needs a transaction"
    return Incident.objects.select_for_update(no_key=True).get(id=incident_id)


def timeline_append(
    *,
    incident: Incident,
    kind: str,
    actor=None,
    text: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    refers_to: TimelineEvent | None = None,
) -> TimelineEvent:
    """Append one event with the incident's next sequence number. The caller
    holds the incident lock (incident_lock), so numbers are gap-free and
    unique; the broadcast leaves after commit."""
    now = timezone.now()
    incident.last_seq += 1
    Incident.objects.filter(id=incident.id).update(last_seq=incident.last_seq)
    event = TimelineEvent.objects.create(
        incident=incident,
        seq=incident.last_seq,
        kind=kind,
        actor=actor,
        text=text,
        data=data or {},
        occurred_at=occurred_at or now,
        recorded_at=now,
        refers_to=refers_to,
    )
    on_commit_broadcast(incident_id=incident.id, seq=event.seq, kind=kind)
    return event


def ops_manager_ids() -> list[int]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(role=Role.OPS_MANAGER, is_active=True)
        .values_list("id", flat=True)
    )


def event_of(incident: Incident, *, field: str = "event", **lookup) -> TimelineEvent:
    """The incident's event matching `lookup` (id=…, or seq=… and kind=…);
    InvalidInput naming the form `field` when there is none."""
    target = TimelineEvent.objects.filter(incident=incident, **lookup).first()
    if target is None:
        raise InvalidInput(
            _("No such event on this incident."), fields={field: _("Unknown event.")}
        )
    return target
