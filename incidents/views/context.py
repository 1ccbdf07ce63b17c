"""What the incident page shows, gathered once for the full page and for
every htmx partial re-render after an action."""

from __future__ import annotations

from django.utils import timezone

from incidents import selectors
from incidents.clocks import incident_clocks
from incidents.domain.lifecycle import State, next_states
from incidents.domain.severity import ImpactAnswers, Severity, classify_severity
from incidents.forms import (
    DetailsForm,
    GradeForm,
    HandoverForm,
    NoteForm,
    OtherIncidentForm,
    ReportDraftForm,
    ReportSubmitForm,
    ReviewForm,
    RoleForm,
    SeverityForm,
    StatusUpdateForm,
    TaskForm,
)
from incidents.labels import STATE_LABELS
from incidents.models import (
    Incident,
    IncidentRole,
    SeverityAssessment,
)
from incidents.views.explain import explain

# The newest events the incident and war-room pages render (each costs ~1 ms
# of template time); the review page and the API have them all.
TIMELINE_PAGE = 100


def _initial_answers(assessment: SeverityAssessment | None) -> dict:
    return dict(assessment.answers) if assessment else {}


def incident_page_context(request, incident: Incident, forms: dict | None = None) -> dict:
    user = request.user
    now = timezone.now()
    forms = forms or {}
    roles = selectors.incident_roles(incident)
    # The latest events only (newest first), and the decisions on their own:
    # a war room's timeline grows by thousands of events, and the page must
    # not load them all on every view.
    latest = list(selectors.timeline_latest(incident=incident, limit=TIMELINE_PAGE + 1))
    truncated = len(latest) > TIMELINE_PAGE
    shown_events = latest[:TIMELINE_PAGE]
    assessment = selectors.incident_latest_assessment(incident=incident)
    policy = selectors.severity_policy(severity=incident.severity)
    commander = roles.get(IncidentRole.COMMANDER)
    first_commander = selectors.incident_first_commander(incident=incident)
    reports = list(selectors.incident_reports(incident=incident))
    review = selectors.incident_review(incident=incident)
    criteria = list(selectors.grading_criteria())
    can = {
        "act": user.has_perm("incidents.act", incident),
        "command": user.has_perm("incidents.command", incident),
        "reports": user.has_perm("incidents.manage_reports", incident)
        or user.has_perm("incidents.command", incident),
        "join": user.has_perm("incidents.join", incident),
    }
    proposal = (
        classify_severity(
            ImpactAnswers(**assessment.answers), statutory_grade=incident.statutory_grade
        )
        if assessment
        else None
    )
    details_initial = {
        "title": incident.title,
        "title_zh": incident.title_zh,
        "summary": incident.summary,
        "discovered_at": timezone.localtime(incident.discovered_at),
        "harm_started_at": incident.harm_started_at
        and timezone.localtime(incident.harm_started_at),
        "markets": list(incident.markets.all()),
        "surfaces": list(incident.surfaces.all()),
        "is_cii": incident.is_cii,
        "involves_personal_info": incident.involves_personal_info,
        "involves_minors": incident.involves_minors,
        "war_room_url": incident.war_room_url,
    }
    review_initial = {f: getattr(review, f) for f in ReviewForm.base_fields} if review else {}
    return {
        "incident": incident,
        "roles": roles,
        "role_rows": [(value, label, roles.get(value)) for value, label in IncidentRole.choices],
        "participants": list(incident.participants.all()),
        "is_participant": any(p.user_id == user.id for p in incident.participants.all()),
        "events": shown_events,
        "timeline_truncated": truncated,
        "timeline_page": TIMELINE_PAGE,
        "key_facts": selectors.incident_key_facts(incident=incident),
        "decisions": list(selectors.timeline_decisions(incident=incident)),
        "tasks": list(selectors.incident_tasks(incident=incident)),
        "updates": list(selectors.incident_status_updates(incident=incident)[:20]),
        "reports": reports,
        "overdue_reports": [r for r in reports if r.is_overdue],
        "review": review,
        "grading": selectors.incident_latest_grading(incident=incident),
        "assessment": assessment,
        "proposal": proposal,
        "proposal_lines": explain(proposal) if proposal else [],
        "durations": selectors.incident_durations(incident=incident),
        "clocks": incident_clocks(
            incident, policy, first_commander.assigned_at if first_commander else None, now
        ),
        "pending_nudges": selectors.incident_recent_nudges(incident=incident)
        if incident.is_open
        else [],
        "next_states": [
            (s.value, STATE_LABELS[s])
            for s in sorted(next_states(State(incident.state)), key=list(State).index)
        ],
        "severities": list(Severity),
        "can": can,
        "commander": commander,
        "now": now,
        "forms": {
            "note": forms.get("note") or NoteForm(),
            "task": forms.get("task") or TaskForm(),
            "update": forms.get("update") or StatusUpdateForm(),
            "severity": forms.get("severity") or SeverityForm(initial=_initial_answers(assessment)),
            "role": forms.get("role") or RoleForm(),
            "handover": forms.get("handover") or HandoverForm(),
            "grade": forms.get("grade") or GradeForm(criteria=criteria),
            "review": forms.get("review") or ReviewForm(initial=review_initial),
            "link": forms.get("link") or OtherIncidentForm(),
            "merge": forms.get("merge") or OtherIncidentForm(),
            "details": forms.get("details") or DetailsForm(initial=details_initial),
            "transition": forms.get("transition"),
            "report_draft": forms.get("report_draft"),
            "report_submit": forms.get("report_submit")
            or ReportSubmitForm(initial={"submitted_at": timezone.localtime(now)}),
            "report_other": forms.get("report_other"),
            "error": forms.get("error"),
            "task_claim": forms.get("task_claim"),
        },
        "report_draft_forms": {
            r.id: (forms.get("report_draft") if forms.get("report_id") == r.id else None)
            or ReportDraftForm(initial={"content_zh": r.content_zh, "content_en": r.content_en})
            for r in reports
        },
        "active_form": forms.get("active"),
    }
