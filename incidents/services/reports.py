"""Regulatory reports: which are owed (from data), drafting, submission.

A submitted report is frozen: its content hash is stored, and later facts go
into a supplementary report."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.domain.clocks import IncidentFacts, is_owed, obligation_due
from incidents.domain.grading import Grade
from incidents.exceptions import Conflict, InvalidInput
from incidents.models import Incident, RegulatoryReport, ReportingObligation, TimelineEvent
from incidents.services.common import ensure, incident_lock, timeline_append

State = RegulatoryReport.State


def _facts(incident: Incident) -> IncidentFacts:
    return IncidentFacts(
        grade=Grade(incident.statutory_grade),
        is_cii=incident.is_cii,
        involves_personal_info=incident.involves_personal_info,
        involves_minors=incident.involves_minors,
    )


def _kind_for(obligation: ReportingObligation) -> str:
    if obligation.anchor == ReportingObligation.Anchor.HANDLING_ENDED:
        return RegulatoryReport.Kind.SUMMARY
    return RegulatoryReport.Kind.INITIAL if obligation.min_grade else RegulatoryReport.Kind.NOTICE


def reports_sync(*, incident: Incident, actor=None) -> list[RegulatoryReport]:
    """Bring the owed reports in line with the incident's facts. The caller
    holds the incident lock. New duties get a REQUIRED row with its due time;
    pending rows get their due time recomputed (e.g. the summary clock starts
    when handling ends); a pending duty no longer owed becomes NOT_REQUIRED
    with the reason recorded. Submitted reports are never touched."""
    facts = _facts(incident)
    existing = {
        r.obligation_id: r
        for r in RegulatoryReport.objects.filter(
            incident=incident, obligation__isnull=False
        ).exclude(kind=RegulatoryReport.Kind.SUPPLEMENTARY)
    }
    created = []
    for obligation in ReportingObligation.objects.filter(active=True):
        rule = obligation.as_rule()
        due = obligation_due(
            rule, discovered_at=incident.discovered_at, handling_ended_at=incident.handling_ended_at
        )
        report = existing.get(obligation.id)
        owed = is_owed(rule, facts)
        if owed and report is None:
            report = RegulatoryReport.objects.create(
                incident=incident,
                obligation=obligation,
                kind=_kind_for(obligation),
                authority=obligation.authority_zh,
                due_at=due,
            )
            created.append(report)
            _synced(incident, actor, report, obligation, "owed", due_at=due and due.isoformat())
        elif report is not None and report.is_pending:
            if owed and report.due_at != due:
                previous, report.due_at = report.due_at, due
                report.save(update_fields=["due_at"])
                # The deadline is what "reports on time" judges: its move is on the record.
                _synced(
                    incident,
                    actor,
                    report,
                    obligation,
                    "due_changed",
                    **{
                        "from": previous and previous.isoformat(),
                        "due_at": due and due.isoformat(),
                    },
                )
            elif not owed:
                report.state = State.NOT_REQUIRED
                report.not_required_reason = _(
                    "No longer owed: the incident's facts changed (grade %(grade)s)."
                ) % {"grade": incident.get_statutory_grade_display()}
                report.save(update_fields=["state", "not_required_reason"])
                _synced(incident, actor, report, obligation, "not_required", automatic=True)
        elif (
            report is not None
            and report.state == State.NOT_REQUIRED
            and owed
            and _released_automatically(report)
        ):
            report.state = State.REQUIRED
            report.due_at = due
            report.save(update_fields=["state", "due_at"])
            _synced(incident, actor, report, obligation, "owed")
    return created


def _synced(incident, actor, report, obligation, action: str, **data) -> None:
    """reports_sync's record of what it did to one report, on the timeline."""
    timeline_append(
        incident=incident,
        kind="report",
        actor=actor,
        data={"action": action, "report": report.id, "obligation": obligation.code, **data},
    )


def _released_automatically(report: RegulatoryReport) -> bool:
    """Whether the report was set aside by reports_sync (the facts changed),
    not by a person with a reason (report_mark_not_required): only the
    former comes back when the facts make it owed again."""
    last = (
        TimelineEvent.objects.filter(
            incident_id=report.incident_id,
            kind=TimelineEvent.Kind.REPORT,
            data__report=report.id,
            data__action="not_required",
        )
        .order_by("-seq")
        .first()
    )
    return last is None or last.data.get("automatic", False)


def _lock_report(report_id: int) -> tuple[RegulatoryReport, Incident]:
    report = RegulatoryReport.objects.get(id=report_id)
    incident = incident_lock(report.incident_id)
    report = RegulatoryReport.objects.select_for_update().get(id=report_id)
    return report, incident


@transaction.atomic
def report_save_draft(
    *, actor, report_id: int, content_zh: str, content_en: str = ""
) -> RegulatoryReport:
    report, incident = _lock_report(report_id)
    ensure(actor, "incidents.manage_reports", incident)
    if not report.is_pending:
        raise Conflict(
            _(
                "This report was already submitted or is not required; "
                "add a supplementary report instead."
            )
        )
    report.content_zh, report.content_en = content_zh, content_en
    report.state = State.DRAFTING
    report.save(update_fields=["content_zh", "content_en", "state"])
    return report


@transaction.atomic
def report_submit(
    *, actor, report_id: int, channel: str, submitted_at: datetime, reference_number: str = ""
) -> RegulatoryReport:
    """Record that the report went to the authority. Content in Chinese is
    required; the content hash freezes what was sent."""
    report, incident = _lock_report(report_id)
    ensure(actor, "incidents.manage_reports", incident)
    if not report.is_pending:
        raise Conflict(_("This report was already submitted or is not required."))
    if not report.content_zh.strip():
        raise InvalidInput(
            _("A report to a PRC authority needs its content in Chinese."),
            fields={"content_zh": _("Required.")},
        )
    if channel not in RegulatoryReport.Channel.values:
        raise InvalidInput(_("Choose how it was submitted."), fields={"channel": _("Required.")})
    if submitted_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            _("The submission time cannot be in the future."),
            fields={"submitted_at": _("In the future.")},
        )
    report.state = State.SUBMITTED
    report.channel = channel
    report.submitted_at = submitted_at
    report.submitted_by = actor
    report.reference_number = reference_number
    report.content_sha256 = hashlib.sha256(
        report.content_zh.encode() + b"\0" + report.content_en.encode()
    ).hexdigest()
    report.save()
    on_time = report.due_at is None or submitted_at <= report.due_at
    timeline_append(
        incident=incident,
        kind="report",
        actor=actor,
        data={
            "action": "submitted",
            "report": report.id,
            "channel": channel,
            "on_time": on_time,
            "reference": reference_number,
        },
    )
    return report


@transaction.atomic
def report_record_receipt(*, actor, report_id: int, reference_number: str) -> RegulatoryReport:
    report, incident = _lock_report(report_id)
    ensure(actor, "incidents.manage_reports", incident)
    if report.state != State.SUBMITTED:
        raise Conflict(_("Only a submitted report can be acknowledged by the authority."))
    report.state = State.ACKNOWLEDGED
    report.reference_number = reference_number or report.reference_number
    report.save(update_fields=["state", "reference_number"])
    timeline_append(
        incident=incident,
        kind="report",
        actor=actor,
        data={"action": "acknowledged", "report": report.id},
    )
    return report


@transaction.atomic
def report_mark_not_required(*, actor, report_id: int, reason: str) -> RegulatoryReport:
    report, incident = _lock_report(report_id)
    ensure(actor, "incidents.manage_reports", incident)
    if not reason.strip():
        raise InvalidInput(_("Say why no report is owed."), fields={"reason": _("Required.")})
    if not report.is_pending:
        raise Conflict(_("This report was already submitted or is not required."))
    report.state = State.NOT_REQUIRED
    report.not_required_reason = reason
    report.save(update_fields=["state", "not_required_reason"])
    timeline_append(
        incident=incident,
        kind="report",
        actor=actor,
        text=reason,
        data={"action": "not_required", "report": report.id},
    )
    return report


@transaction.atomic
def report_add_supplement(*, actor, report_id: int) -> RegulatoryReport:
    """A supplementary report to a submitted one; no statutory hour count is
    known (../shared/domain §2.1), so it has no due time of its own."""
    original, incident = _lock_report(report_id)
    ensure(actor, "incidents.manage_reports", incident)
    if original.state not in (State.SUBMITTED, State.ACKNOWLEDGED):
        raise Conflict(_("Only a submitted report can be supplemented."))
    report = RegulatoryReport.objects.create(
        incident=incident,
        obligation=original.obligation,
        kind=RegulatoryReport.Kind.SUPPLEMENTARY,
        supplements=original,
        authority=original.authority,
        state=State.DRAFTING,
        content_zh=original.content_zh,
        content_en=original.content_en,
    )
    timeline_append(
        incident=incident,
        kind="report",
        actor=actor,
        data={"action": "supplement", "report": report.id, "supplements": original.id},
    )
    return report
