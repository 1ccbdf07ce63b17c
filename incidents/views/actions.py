"""Every action on the incident page: a form posted with or without htmx.

Without JavaScript the action redirects back to the page (303); with htmx it
answers the page body, re-rendered, so every section shows the new state.
A refusal puts its message on the form and answers 422, 403 or 409.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import forms as f
from incidents import services
from incidents.exceptions import InvalidInput
from incidents.models import Incident
from incidents.selectors import (
    grading_criteria,
    incident_by_reference,
    report_visible_to,
    task_visible_to,
)
from incidents.views.context import incident_page_context
from incidents.views.pages import incident_for
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error


def render_incident(
    request, incident_id: int, *, forms: dict | None = None, status: int = 200, anchor: str = ""
):
    incident = incident_for(request, incident_id)
    context = incident_page_context(request, incident, forms)
    template = (
        "incidents/incident_detail.html#incident-body"
        if request.htmx
        else "incidents/incident_detail.html"
    )
    return render(request, template, context, status=status)


def _done(request, incident_id: int, anchor: str) -> HttpResponse:
    if request.htmx:
        return render_incident(request, incident_id)
    return HttpResponseRedirect(
        reverse("incidents:detail", args=[incident_id]) + (f"#{anchor}" if anchor else ""),
        status=303,
    )


def incident_action(
    form_class: type[django_forms.Form] | Callable,
    call: Callable,
    *,
    key: str,
    anchor: str = "",
    locate: Callable[[HttpRequest, int], int] | None = None,
):
    """Build a POST view: bind the form, call the service, answer.

    `locate(request, object_id)` maps a task or report id to its incident
    (after checking the viewer may see it); by default the URL carries the
    incident id."""

    @require_POST
    @login_required
    def view(request: HttpRequest, object_id: int) -> HttpResponse:
        incident_id = locate(request, object_id) if locate else incident_for(request, object_id).id
        form = form_class(request.POST)
        status = 422
        if form.is_valid():
            try:
                call(request, incident_id, object_id, form.cleaned_data, form)
            except ApplicationError as exc:
                status = apply_error(form, exc)
            else:
                return _done(request, incident_id, anchor)
        extra = {"report_id": object_id} if key.startswith("report") else {}
        if status == 403:
            # The form may be hidden from someone who cannot act: show the
            # refusal in the header as well.
            extra["error"] = form
        return render_incident(
            request, incident_id, forms={key: form, "active": key, **extra}, status=status
        )

    view.__name__ = f"incident_{key}_view"
    return view


def _task_incident(request, task_id: int) -> int:
    task = get_object_or_404(task_visible_to(request.user), id=task_id)
    return task.incident_id


def _report_incident(request, report_id: int) -> int:
    report = get_object_or_404(report_visible_to(request.user), id=report_id)
    return report.incident_id


def _other(request, reference: str) -> Incident:
    other = incident_by_reference(viewer=request.user, reference=reference)
    if other is None:
        raise InvalidInput(
            _("No incident with that reference."), fields={"other": _("Unknown incident.")}
        )
    return other


class EmptyForm(django_forms.Form):
    pass


def _grade_form(data):
    return f.GradeForm(data, criteria=grading_criteria())


def _note(request, incident_id, _oid, data, form):
    if data["kind"] == "decision":
        event = services.incident_record_decision(
            actor=request.user,
            incident_id=incident_id,
            text=data["text"],
            policy=data["policy"],
            reason=data["reason"],
        )
    else:
        event = services.incident_add_note(
            actor=request.user, incident_id=incident_id, text=data["text"]
        )
    if data.get("pin"):
        services.incident_pin_fact(actor=request.user, incident_id=incident_id, event_id=event.id)


transition = incident_action(
    f.TransitionForm,
    lambda r, i, _o, d, _f: services.incident_transition(
        actor=r.user, incident_id=i, target=d["target"], reason=d["reason"]
    ),
    key="transition",
)
acknowledge = incident_action(
    EmptyForm,
    lambda r, i, _o, d, _f: services.incident_acknowledge(actor=r.user, incident_id=i),
    key="error",
)
join = incident_action(
    EmptyForm,
    lambda r, i, _o, d, _f: services.incident_join(actor=r.user, incident_id=i),
    key="error",
)
confirm_severity = incident_action(
    EmptyForm,
    lambda r, i, _o, d, _f: services.incident_confirm_severity(actor=r.user, incident_id=i),
    key="severity",
)
assess_severity = incident_action(
    f.SeverityForm,
    lambda r, i, _o, d, form: services.incident_assess_severity(
        actor=r.user,
        incident_id=i,
        answers=form.answers(),
        severity=d["severity"] or None,
        reason=d["reason"],
    ),
    key="severity",
    anchor="severity",
)
assign_role = incident_action(
    f.RoleForm,
    lambda r, i, _o, d, _f: services.incident_assign_role(
        actor=r.user, incident_id=i, role=d["role"], user=d["user"]
    ),
    key="role",
    anchor="roles",
)
hand_over = incident_action(
    f.HandoverForm,
    lambda r, i, _o, d, _f: services.incident_hand_over_command(
        actor=r.user, incident_id=i, to_user=d["to_user"], note=d["note"]
    ),
    key="handover",
    anchor="roles",
)
add_note = incident_action(f.NoteForm, _note, key="note", anchor="timeline")


@require_POST
@login_required
def fact_pin_toggle(request: HttpRequest, object_id: int, event_id: int, pin: bool) -> HttpResponse:
    incident = incident_for(request, object_id)
    try:
        if pin:
            services.incident_pin_fact(
                actor=request.user, incident_id=incident.id, event_id=event_id
            )
        else:
            services.incident_unpin_fact(
                actor=request.user, incident_id=incident.id, event_id=event_id
            )
    except ApplicationError as exc:
        form = EmptyForm({})
        form.is_valid()
        status = apply_error(form, exc)
        return render_incident(request, incident.id, forms={"error": form}, status=status)
    return _done(request, incident.id, "facts")


add_task = incident_action(
    f.TaskForm,
    lambda r, i, _o, d, _f: services.incident_task_create(
        actor=r.user,
        incident_id=i,
        title=d["title"],
        owner=d["owner"],
        due_at=d["due_at"],
        follow_up=d["follow_up"],
    ),
    key="task",
    anchor="tasks",
)
task_state = incident_action(
    f.TaskStateForm,
    lambda r, _i, o, d, _f: services.incident_task_update(
        actor=r.user, task_id=o, state=d["state"]
    ),
    key="error",
    anchor="tasks",
    locate=_task_incident,
)
task_claim = incident_action(
    f.TaskClaimForm,
    lambda r, _i, o, d, _f: services.incident_task_claim(
        actor=r.user, task_id=o, take_over=d["take_over"]
    ),
    key="task_claim",
    anchor="tasks",
    locate=_task_incident,
)
publish_update = incident_action(
    f.StatusUpdateForm,
    lambda r, i, _o, d, _f: services.status_update_publish(
        actor=r.user,
        incident_id=i,
        audience=d["audience"],
        text_en=d["text_en"],
        text_zh=d["text_zh"],
    ),
    key="update",
    anchor="updates",
)
grade = incident_action(
    _grade_form,
    lambda r, i, _o, d, form: services.incident_grade(
        actor=r.user,
        incident_id=i,
        in_scope=d["in_scope"],
        met=form.met(),
        rationale=d["rationale"],
    ),
    key="grade",
    anchor="grading",
)
report_draft = incident_action(
    f.ReportDraftForm,
    lambda r, _i, o, d, _f: services.report_save_draft(
        actor=r.user, report_id=o, content_zh=d["content_zh"], content_en=d["content_en"]
    ),
    key="report_draft",
    anchor="reports",
    locate=_report_incident,
)
report_submit = incident_action(
    f.ReportSubmitForm,
    lambda r, _i, o, d, _f: services.report_submit(
        actor=r.user,
        report_id=o,
        channel=d["channel"],
        submitted_at=d["submitted_at"],
        reference_number=d["reference_number"],
    ),
    key="report_submit",
    anchor="reports",
    locate=_report_incident,
)
report_not_required = incident_action(
    f.ReasonForm,
    lambda r, _i, o, d, _f: services.report_mark_not_required(
        actor=r.user, report_id=o, reason=d["reason"]
    ),
    key="report_other",
    anchor="reports",
    locate=_report_incident,
)
report_receipt = incident_action(
    f.ReceiptForm,
    lambda r, _i, o, d, _f: services.report_record_receipt(
        actor=r.user, report_id=o, reference_number=d["reference_number"]
    ),
    key="report_other",
    anchor="reports",
    locate=_report_incident,
)
report_supplement = incident_action(
    EmptyForm,
    lambda r, _i, o, d, _f: services.report_add_supplement(actor=r.user, report_id=o),
    key="report_other",
    anchor="reports",
    locate=_report_incident,
)
save_review = incident_action(
    f.ReviewForm,
    lambda r, i, _o, d, _f: services.review_save(
        actor=r.user, incident_id=i, close_waiver=d.pop("close_waiver"), **d
    ),
    key="review",
    anchor="review",
)
review_state = incident_action(
    f.ReviewStateForm,
    lambda r, i, _o, d, _f: services.review_set_state(
        actor=r.user, incident_id=i, state=d["state"]
    ),
    key="review",
    anchor="review",
)
link = incident_action(
    f.OtherIncidentForm,
    lambda r, i, _o, d, _f: services.incident_link(
        actor=r.user,
        incident_id=i,
        other_id=_other(r, d["other"]).id,
        relation=d["relation"] or "related",
    ),
    key="link",
    anchor="links",
)
merge = incident_action(
    f.OtherIncidentForm,
    lambda r, i, _o, d, _f: services.incident_merge(
        actor=r.user, incident_id=i, into_id=_other(r, d["other"]).id, reason=d["reason"]
    ),
    key="merge",
    anchor="links",
)
edit_details = incident_action(
    f.DetailsForm,
    lambda r, i, _o, d, _f: services.incident_update_details(
        actor=r.user,
        incident_id=i,
        reason=d.pop("reason"),
        markets=d.pop("markets"),
        surfaces=d.pop("surfaces"),
        discovered_at=d.pop("discovered_at"),
        harm_started_at=d.pop("harm_started_at"),
        **d,
    ),
    key="details",
    anchor="details",
)

__all__ = [
    "acknowledge",
    "add_note",
    "add_task",
    "assess_severity",
    "assign_role",
    "confirm_severity",
    "edit_details",
    "fact_pin_toggle",
    "grade",
    "hand_over",
    "join",
    "link",
    "merge",
    "publish_update",
    "report_draft",
    "report_not_required",
    "report_receipt",
    "report_submit",
    "report_supplement",
    "review_state",
    "save_review",
    "task_claim",
    "task_state",
    "transition",
]
