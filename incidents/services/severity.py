"""Severity changes and the official grade (two classifications, kept apart)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.domain.grading import Grade, grade_from_criteria
from incidents.domain.severity import ImpactAnswers, Severity, classify_severity
from incidents.exceptions import InvalidInput
from incidents.models import (
    GradingCriterion,
    GradingWorksheet,
    Incident,
    IncidentTimer,
    SeverityAssessment,
)
from incidents.services.common import ensure, incident_lock, timeline_append
from incidents.services.declare import check_severity_choice
from incidents.services.reports import reports_sync
from incidents.services.runbooks import runbooks_attach
from incidents.services.timers import (
    next_update_schedule,
    nudge_minutes,
    timer_cancel,
    timer_set,
    timers_arm_grading,
)
from incidents.signals import incident_severity_changed, send_on_commit


def _set_severity(
    *, actor, incident: Incident, severity: Severity, data: dict, reason: str
) -> None:
    previous = Severity(incident.severity)
    now = timezone.now()
    confirmed = actor is not None and actor.has_perm("incidents.command", incident)
    if confirmed:
        incident.severity_confirmed_at = now
        timer_cancel(incident, IncidentTimer.Kind.SEVERITY_UNCONFIRMED)
    if previous == severity:
        incident.save(update_fields=["severity_confirmed_at", "updated_at"])
        if confirmed:
            timeline_append(
                incident=incident,
                kind="severity_changed",
                actor=actor,
                text=reason,
                data={**data, "from": previous, "to": severity, "confirmed": True},
            )
        return
    if not confirmed and incident.is_open:
        # A new severity set by someone without command is unconfirmed
        # again until the commander or an ops manager confirms it.
        incident.severity_confirmed_at = None
        minutes = nudge_minutes(IncidentTimer.Kind.SEVERITY_UNCONFIRMED)
        if minutes is not None:
            timer_set(
                incident, IncidentTimer.Kind.SEVERITY_UNCONFIRMED, now + timedelta(minutes=minutes)
            )
    incident.severity = severity
    incident.save(update_fields=["severity", "severity_confirmed_at", "updated_at"])
    timeline_append(
        incident=incident,
        kind="severity_changed",
        actor=actor,
        text=reason,
        data={**data, "from": previous, "to": severity, "confirmed": confirmed},
    )
    runbooks_attach(incident=incident, actor=actor)
    timers_arm_grading(incident)
    if incident.is_open:
        # A new cadence counts from now, unless the current due time is sooner.
        last_due = incident.next_update_due_at
        next_update_schedule(incident, since=now)
        if (
            last_due is not None
            and incident.next_update_due_at
            and last_due < incident.next_update_due_at
        ):
            incident.next_update_due_at = last_due
            Incident.objects.filter(id=incident.id).update(next_update_due_at=last_due)
            timer_set(incident, IncidentTimer.Kind.UPDATE_DUE, last_due)
    send_on_commit(
        incident_severity_changed,
        incident_id=incident.id,
        previous=previous.value,
        current=severity.value,
    )


@transaction.atomic
def incident_assess_severity(
    *,
    actor,
    incident_id: int,
    answers: ImpactAnswers,
    severity: Severity | None = None,
    reason: str = "",
) -> SeverityAssessment:
    """Re-answer the rubric; the chosen severity (the proposal unless
    overridden with a reason) becomes the incident's. Raising is open to
    everyone who acts on the incident; lowering below the proposal or the
    current severity takes the commander or an ops manager."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    classification = classify_severity(answers, statutory_grade=incident.statutory_grade)
    chosen = Severity(severity) if severity else classification.severity
    check_severity_choice(
        actor, proposed=classification.severity, chosen=chosen, reason=reason, incident=incident
    )
    if Severity(incident.severity).is_higher_than(chosen):
        ensure(actor, "incidents.command", incident)
    assessment = SeverityAssessment.objects.create(
        incident=incident,
        answers=answers.as_dict(),
        proposed=classification.severity,
        chosen=chosen,
        reason=reason,
        assessed_by=actor,
    )
    _set_severity(
        actor=actor,
        incident=incident,
        severity=chosen,
        reason=reason,
        data={
            "proposed": classification.severity,
            "answers": answers.as_dict(),
            "assessment": assessment.id,
            "reasons": [
                r.code + (f":{r.dimension}" if r.dimension else "") for r in classification.reasons
            ],
        },
    )
    return assessment


@transaction.atomic
def incident_confirm_severity(*, actor, incident_id: int) -> Incident:
    """The commander or an ops manager confirms the current severity."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.command", incident)
    _set_severity(
        actor=actor, incident=incident, severity=Severity(incident.severity), data={}, reason=""
    )
    return incident


@transaction.atomic
def incident_grade(
    *, actor, incident_id: int, in_scope: bool, met: Mapping[int, str], rationale: str
) -> GradingWorksheet:
    """Grade the incident against the current annex criteria. `met` maps the
    ids of the criteria met to their evidence. Stores a worksheet with the
    criterion texts as evaluated, sets the grade, raises the severity to the
    grade's floor, and recomputes the reports owed."""
    incident = incident_lock(incident_id)
    if not (
        actor.has_perm("incidents.manage_reports", incident)
        or actor.has_perm("incidents.command", incident)
    ):
        ensure(actor, "incidents.manage_reports", incident)
    if not rationale.strip():
        raise InvalidInput(
            _("Record why this grade applies (or why none does)."),
            fields={"rationale": _("Required.")},
        )
    criteria = list(GradingCriterion.objects.filter(active=True))
    unknown = set(met) - {c.id for c in criteria}
    if unknown:
        raise InvalidInput(
            _("Unknown grading criteria."),
            fields={"met": _("Unknown criteria: %(ids)s") % {"ids": sorted(unknown)}},
        )
    missing_evidence = [cid for cid, evidence in met.items() if not str(evidence).strip()]
    if missing_evidence:
        raise InvalidInput(
            _("Each criterion met needs its evidence."), fields={"met": _("Evidence is missing.")}
        )
    rows = [
        {
            "criterion": c.id,
            "grade": c.grade,
            "text_zh": c.text_zh,
            "text_en": c.text_en,
            "confidence": c.confidence,
            "met": in_scope and c.id in met,
            "evidence": met.get(c.id, ""),
        }
        for c in criteria
    ]
    grade = grade_from_criteria(
        in_scope=in_scope, met=[Grade(r["grade"]) for r in rows if r["met"]]
    )
    version = criteria[0] if criteria else None
    worksheet = GradingWorksheet.objects.create(
        incident=incident,
        instrument=version.instrument if version else "",
        version=version.version if version else "",
        in_scope=in_scope,
        rows=rows,
        grade=grade,
        rationale=rationale,
        graded_by=actor,
    )
    previous = incident.statutory_grade
    incident.statutory_grade = grade
    incident.save(update_fields=["statutory_grade", "updated_at"])
    timeline_append(
        incident=incident,
        kind="grade_changed",
        actor=actor,
        text=rationale,
        data={"from": previous, "to": grade, "worksheet": worksheet.id},
    )
    timer_cancel(incident, IncidentTimer.Kind.GRADING_DUE)
    floor = classify_severity(ImpactAnswers(), statutory_grade=grade).severity
    if floor.is_higher_than(Severity(incident.severity)):
        _set_severity(
            actor=actor,
            incident=incident,
            severity=floor,
            reason=_("Raised to the official grade's floor."),
            data={"floor_from_grade": grade},
        )
    reports_sync(incident=incident, actor=actor)
    return worksheet
