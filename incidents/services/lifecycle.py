"""State changes, acknowledgement, merging and links."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.domain.errors import TransitionNotAllowed
from incidents.domain.lifecycle import (
    DONE_STATES,
    State,
    check_transition,
    is_reopen,
    stamp_changes,
)
from incidents.exceptions import Conflict, InvalidInput, transition_error
from incidents.models import Incident, Review
from incidents.services.common import ensure, incident_lock, timeline_append
from incidents.services.reports import reports_sync
from incidents.services.timers import next_update_schedule, timers_cancel_all
from incidents.signals import incident_state_changed, send_on_commit

# Moves only the commander, deputy or an ops manager may make.
COMMAND_TARGETS = frozenset({State.CANCELLED, State.CLOSED, State.MERGED})

STAMP_FIELDS = ("acknowledged_at", "mitigated_at", "resolved_at", "closed_at")


def _apply_transition(
    *, actor, incident: Incident, target: State, reason: str, via_merge: bool = False
) -> None:
    current = State(incident.state)
    review = Review.objects.filter(incident=incident).first()
    try:
        check_transition(
            current,
            target,
            reason=reason,
            high_severity=incident.is_high_severity,
            review_published=review is not None and review.state == Review.State.PUBLISHED,
            close_waiver=review is not None and bool(review.close_waiver.strip()),
            via_merge=via_merge,
        )
    except TransitionNotAllowed as error:
        raise transition_error(error) from None
    now = timezone.now()
    already = frozenset(f for f in STAMP_FIELDS if getattr(incident, f) is not None)
    sets, clears = stamp_changes(current, target, already_set=already)
    for name in sets:
        setattr(incident, name, now)
    for name in clears:
        setattr(incident, name, None)
    if target is State.RESOLVED and incident.handling_ended_at is None:
        incident.handling_ended_at = now
    if is_reopen(current, target):
        incident.handling_ended_at = None
    incident.state = target
    incident.save()
    timeline_append(
        incident=incident,
        kind="state_changed",
        actor=actor,
        text=reason,
        data={"from": current, "to": target, "reopen": is_reopen(current, target)},
    )
    if target in DONE_STATES:
        timers_cancel_all(incident)
        incident.next_update_due_at = None
        incident.save(update_fields=["next_update_due_at"])
    elif is_reopen(current, target) or current is State.CANCELLED:
        next_update_schedule(incident, since=now)
    reports_sync(incident=incident, actor=actor)
    send_on_commit(
        incident_state_changed,
        incident_id=incident.id,
        previous=current.value,
        current=target.value,
    )


@transaction.atomic
def incident_transition(
    *, actor, incident_id: int, target: State | str, reason: str = ""
) -> Incident:
    """Move the incident to `target` if the lifecycle allows it now; stamps
    the matching times once, appends `state_changed`, recomputes owed reports.
    Raises Conflict (409) with a clear message when the move is not allowed."""
    incident = incident_lock(incident_id)
    try:
        target = State(target)
    except ValueError:
        raise InvalidInput(_("Unknown state."), fields={"target": _("Unknown state.")}) from None
    current = State(incident.state)
    needs_command = (
        target in COMMAND_TARGETS or is_reopen(current, target) or current is State.CANCELLED
    )
    ensure(actor, "incidents.command" if needs_command else "incidents.act", incident)
    _apply_transition(actor=actor, incident=incident, target=target, reason=reason.strip())
    return incident


@transaction.atomic
def incident_acknowledge(*, actor, incident_id: int) -> Incident:
    """Someone has it: stamps acknowledged_at once (no state change)."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    if incident.acknowledged_at is not None:
        return incident
    incident.acknowledged_at = timezone.now()
    incident.save(update_fields=["acknowledged_at", "updated_at"])
    timeline_append(incident=incident, kind="acknowledged", actor=actor)
    return incident


def _lock_pair(first_id: int, second_id: int) -> tuple[Incident, Incident]:
    """Lock two incidents in id order, so two merges cannot deadlock."""
    locked = {i: incident_lock(i) for i in sorted({first_id, second_id})}
    return locked[first_id], locked[second_id]


@transaction.atomic
def incident_merge(*, actor, incident_id: int, into_id: int, reason: str = "") -> Incident:
    """Merge a duplicate into another open incident. The duplicate keeps its
    own timeline, ends in `merged` and points at the survivor; both record it."""
    if incident_id == into_id:
        raise InvalidInput(
            _("An incident cannot be merged into itself."),
            fields={"into": _("Choose another incident.")},
        )
    incident, target = _lock_pair(incident_id, into_id)
    ensure(actor, "incidents.command", incident)
    ensure(actor, "incidents.act", target)
    if not target.is_open:
        raise Conflict(_("Merge into an open incident."), code="merge_target_closed")
    _apply_transition(
        actor=actor, incident=incident, target=State.MERGED, reason=reason, via_merge=True
    )
    incident.duplicate_of = target
    incident.save(update_fields=["duplicate_of"])
    timeline_append(
        incident=incident,
        kind="merged",
        actor=actor,
        text=reason,
        data={"into": target.id, "ref": target.reference},
    )
    timeline_append(
        incident=target,
        kind="merged",
        actor=actor,
        text=reason,
        data={"from": incident.id, "ref": incident.reference},
    )
    return incident


@transaction.atomic
def incident_link(*, actor, incident_id: int, other_id: int, relation: str) -> Incident:
    """Link two incidents: `related` (both ways) or `parent` (other is the parent)."""
    if incident_id == other_id:
        raise InvalidInput(
            _("An incident cannot be linked to itself."),
            fields={"other": _("Choose another incident.")},
        )
    if relation not in ("related", "parent"):
        raise InvalidInput(_("Unknown link."), fields={"relation": _("Choose related or parent.")})
    incident, other = _lock_pair(incident_id, other_id)
    ensure(actor, "incidents.act", incident)
    if relation == "parent":
        ancestor = other
        while ancestor is not None:
            if ancestor.id == incident.id:
                raise Conflict(
                    _("That would make the incident its own ancestor."), code="link_cycle"
                )
            ancestor = ancestor.parent
        incident.parent = other
        incident.save(update_fields=["parent", "updated_at"])
    else:
        incident.related.add(other)
    timeline_append(
        incident=incident,
        kind="linked",
        actor=actor,
        data={"relation": relation, "other": other.id, "ref": other.reference},
    )
    timeline_append(
        incident=other,
        kind="linked",
        actor=actor,
        data={
            "relation": "child" if relation == "parent" else "related",
            "other": incident.id,
            "ref": incident.reference,
        },
    )
    return incident
