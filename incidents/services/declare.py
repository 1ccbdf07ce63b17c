"""Declaring an incident: number it, classify it, staff it, arm its clocks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.domain.errors import SeverityOverrideInvalid
from incidents.domain.severity import ImpactAnswers, Severity, check_override, classify_severity
from incidents.exceptions import InvalidInput
from incidents.models import (
    Category,
    Incident,
    IncidentCounter,
    IncidentRole,
    Market,
    Participant,
    RoleAssignment,
    SeverityAssessment,
    Surface,
)
from incidents.services.common import ensure, timeline_append
from incidents.services.people import check_can_hold
from incidents.services.reports import reports_sync
from incidents.services.runbooks import runbooks_attach
from incidents.services.timers import next_update_schedule, timers_arm_on_declare
from incidents.signals import incident_declared, send_on_commit

CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Declaration:
    """What the declarer says. Severity None means "take the proposal"."""

    title: str
    category: Category
    answers: ImpactAnswers
    severity: Severity | None = None
    severity_reason: str = ""
    summary: str = ""
    title_zh: str = ""
    discovered_at: datetime | None = None
    harm_started_at: datetime | None = None
    markets: Iterable[Market] = field(default_factory=list)
    surfaces: Iterable[Surface] = field(default_factory=list)
    team: object | None = None
    commander: object | None = None
    is_cii: bool = False
    involves_personal_info: bool = False
    involves_minors: bool = False
    war_room_url: str = ""


def _next_number(year: int) -> int:
    counter, _created = IncidentCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def check_times(
    *, now: datetime, discovered_at: datetime, harm_started_at: datetime | None
) -> None:
    errors = {}
    if discovered_at > now + CLOCK_SKEW:
        errors["discovered_at"] = _("Discovery cannot be in the future.")
    if harm_started_at is not None and harm_started_at > discovered_at:
        errors["harm_started_at"] = _("The harm cannot begin after it was discovered.")
    if errors:
        raise InvalidInput(_("Check the times."), fields=errors)


def check_severity_choice(
    actor, *, proposed: Severity, chosen: Severity, reason: str, incident=None
) -> None:
    """Anyone who may act can pick a higher severity than proposed (with a
    reason); a lower one takes an ops manager or the commander."""
    try:
        check_override(proposed=proposed, chosen=chosen, reason=reason)
    except SeverityOverrideInvalid:
        raise InvalidInput(
            _("Say why the severity differs from the rubric's proposal (%(proposed)s).")
            % {"proposed": proposed.value.upper()},
            fields={"severity_reason": _("A reason is required to override the rubric.")},
        ) from None
    if proposed.is_higher_than(chosen):
        ensure(actor, "incidents.command", incident)


@transaction.atomic
def incident_declare(*, actor, declaration: Declaration) -> Incident:
    """Declare an incident: a numbered record with its severity assessment,
    commander (if named), runbook tasks, owed reports and armed nudges, and
    `declared` first on its timeline. Signals incident_declared after commit."""
    ensure(actor, "incidents.declare")
    d = declaration
    now = timezone.now()
    if not d.title.strip():
        raise InvalidInput(_("Give the incident a title."), fields={"title": _("Required.")})
    discovered_at = d.discovered_at or now
    check_times(now=now, discovered_at=discovered_at, harm_started_at=d.harm_started_at)
    if d.commander is not None:
        check_can_hold(d.commander, field="commander")
    classification = classify_severity(d.answers)
    chosen = d.severity or classification.severity
    check_severity_choice(
        actor, proposed=classification.severity, chosen=chosen, reason=d.severity_reason
    )
    confirmed = actor.has_perm("incidents.command", None)

    incident = Incident.objects.create(
        year=now.year,
        number=_next_number(now.year),
        title=d.title.strip(),
        title_zh=d.title_zh.strip(),
        summary=d.summary.strip(),
        category=d.category,
        severity=chosen,
        severity_confirmed_at=now if confirmed else None,
        is_cii=d.is_cii,
        involves_personal_info=d.involves_personal_info,
        involves_minors=d.involves_minors,
        team=d.team,
        war_room_url=d.war_room_url,
        harm_started_at=d.harm_started_at,
        discovered_at=discovered_at,
        declared_at=now,
        created_by=actor,
    )
    incident.markets.set(d.markets)
    incident.surfaces.set(d.surfaces)
    SeverityAssessment.objects.create(
        incident=incident,
        answers=d.answers.as_dict(),
        proposed=classification.severity,
        chosen=chosen,
        reason=d.severity_reason,
        assessed_by=actor,
        assessed_at=now,
    )
    Participant.objects.create(incident=incident, user=actor, added_at=now)
    timeline_append(
        incident=incident,
        kind="declared",
        actor=actor,
        text=d.severity_reason,
        data={
            "severity": chosen,
            "proposed": classification.severity,
            "category": d.category.code,
            # The metrics read the detection times from the timeline (ISO
            # text), not from the editable row; an unknown harm start is left
            # out (a later correction is a DETAILS_CHANGED event).
            "discovered_at": discovered_at.isoformat(),
            **(
                {"harm_started_at": d.harm_started_at.isoformat()}
                if d.harm_started_at is not None
                else {}
            ),
            "answers": d.answers.as_dict(),
            "reasons": [
                r.code + (f":{r.dimension}" if r.dimension else "") for r in classification.reasons
            ],
        },
    )
    if d.commander is not None:
        RoleAssignment.objects.create(
            incident=incident,
            role=IncidentRole.COMMANDER,
            user=d.commander,
            assigned_by=actor,
            assigned_at=now,
        )
        # Like every role holder, the commander takes part (and keeps taking
        # part after handing over command).
        Participant.objects.get_or_create(
            incident=incident, user=d.commander, defaults={"added_at": now}
        )
        timeline_append(
            incident=incident,
            kind="role_assigned",
            actor=actor,
            data={"role": IncidentRole.COMMANDER, "user": d.commander.id, "name": str(d.commander)},
        )
    runbooks_attach(incident=incident, actor=actor)
    reports_sync(incident=incident, actor=actor)
    timers_arm_on_declare(incident, has_commander=d.commander is not None, confirmed=confirmed)
    next_update_schedule(incident, since=now)
    send_on_commit(incident_declared, incident_id=incident.id)
    return incident
