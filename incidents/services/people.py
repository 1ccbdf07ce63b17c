"""Roles, command handover and participants."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import Conflict, InvalidInput
from incidents.models import Incident, IncidentRole, IncidentTimer, Participant, RoleAssignment
from incidents.services.common import ensure, incident_lock, timeline_append
from incidents.services.timers import timer_cancel
from incidents.signals import incident_commander_changed, send_on_commit
from tscc.roles import OPERATIONS_ROLES


def check_can_hold(user, *, field: str = "user") -> None:
    """Raise InvalidInput (on `field`) unless `user` may hold an incident role."""
    if not (user.is_active and (user.role in OPERATIONS_ROLES or user.is_superuser)):
        raise InvalidInput(
            _("%(name)s cannot hold an incident role.") % {"name": user},
            fields={field: _("Choose a responder or ops manager.")},
        )


def _join(incident: Incident, user, *, actor) -> bool:
    _participant, created = Participant.objects.get_or_create(incident=incident, user=user)
    if created:
        timeline_append(
            incident=incident,
            kind="participant_added",
            actor=actor,
            data={"user": user.id, "name": str(user)},
        )
    return created


def _assign(incident: Incident, role: str, user, *, actor) -> RoleAssignment:
    now = timezone.now()
    assignment = RoleAssignment.objects.create(
        incident=incident, role=role, user=user, assigned_by=actor, assigned_at=now
    )
    _join(incident, user, actor=actor)
    if hasattr(incident, "_member_ids"):
        del incident._member_ids
    return assignment


@transaction.atomic
def incident_assign_role(*, actor, incident_id: int, role: str, user) -> RoleAssignment:
    """Give a vacant role, or move a non-commander role to someone else.
    The commander role changes hands only by handover (explicit, recorded)."""
    if role not in IncidentRole.values:
        raise InvalidInput(_("Unknown role."), fields={"role": _("Unknown role.")})
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    check_can_hold(user)
    current = RoleAssignment.objects.filter(
        incident=incident, role=role, released_at__isnull=True
    ).first()
    if current is not None and role == IncidentRole.COMMANDER:
        raise Conflict(
            _("This incident has a commander; hand over command instead."), code="commander_taken"
        )
    if current is not None and current.user_id == user.id:
        return current
    if current is not None:
        current.released_at = timezone.now()
        current.save(update_fields=["released_at"])
    assignment = _assign(incident, role, user, actor=actor)
    timeline_append(
        incident=incident,
        kind="role_assigned",
        actor=actor,
        data={
            "role": role,
            "user": user.id,
            "name": str(user),
            "replaces": current.user_id if current else None,
        },
    )
    if role == IncidentRole.COMMANDER:
        timer_cancel(incident, IncidentTimer.Kind.NO_COMMANDER)
        send_on_commit(incident_commander_changed, incident_id=incident.id, user_id=user.id)
    return assignment


@transaction.atomic
def incident_release_role(*, actor, incident_id: int, role: str) -> None:
    incident = incident_lock(incident_id)
    ensure(
        actor, "incidents.command" if role == IncidentRole.COMMANDER else "incidents.act", incident
    )
    current = RoleAssignment.objects.filter(
        incident=incident, role=role, released_at__isnull=True
    ).first()
    if current is None:
        return
    if role == IncidentRole.COMMANDER and incident.is_open:
        raise Conflict(
            _("An open incident keeps a commander; hand over command instead."),
            code="commander_required",
        )
    current.released_at = timezone.now()
    current.save(update_fields=["released_at"])
    timeline_append(
        incident=incident,
        kind="role_released",
        actor=actor,
        data={"role": role, "user": current.user_id, "name": str(current.user)},
    )


@transaction.atomic
def incident_hand_over_command(
    *, actor, incident_id: int, to_user, note: str = ""
) -> RoleAssignment:
    """The explicit, recorded act of handing over command. With no commander
    yet, any participant may take it; otherwise the commander, the deputy or
    an ops manager hands it over."""
    incident = incident_lock(incident_id)
    current = (
        RoleAssignment.objects.filter(
            incident=incident, role=IncidentRole.COMMANDER, released_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    ensure(actor, "incidents.command" if current else "incidents.act", incident)
    check_can_hold(to_user)
    if current is not None and current.user_id == to_user.id:
        raise Conflict(
            _("%(name)s is already the commander.") % {"name": to_user}, code="already_commander"
        )
    now = timezone.now()
    if current is not None:
        current.released_at = now
        current.save(update_fields=["released_at"])
    # The new commander stops being deputy, if they were.
    RoleAssignment.objects.filter(
        incident=incident, role=IncidentRole.DEPUTY, user=to_user, released_at__isnull=True
    ).update(released_at=now)
    assignment = _assign(incident, IncidentRole.COMMANDER, to_user, actor=actor)
    timeline_append(
        incident=incident,
        kind="command_handed_over",
        actor=actor,
        text=note,
        data={
            "from": current.user_id if current else None,
            "from_name": str(current.user) if current else "",
            "to": to_user.id,
            "to_name": str(to_user),
        },
    )
    timer_cancel(incident, IncidentTimer.Kind.NO_COMMANDER)
    send_on_commit(incident_commander_changed, incident_id=incident.id, user_id=to_user.id)
    return assignment


@transaction.atomic
def incident_join(*, actor, incident_id: int) -> bool:
    """Take part in an incident (any responder or ops manager may)."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.join", incident)
    return _join(incident, actor, actor=actor)
