"""Pages for people who are paged: one-tap acknowledge from a signed,
expiring link, "My pages", and an incident's paging history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from escalations import selectors, services
from escalations.domain.policy import step_at
from escalations.forms import PagePeopleForm, SwitchPolicyForm
from escalations.models import Escalation, Page
from escalations.services import page_acknowledge, page_from_token, to_domain
from incidents.domain.lifecycle import DONE_STATES
from incidents.selectors import incident_visible_to
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error


@require_http_methods(["GET", "POST"])
def acknowledge_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the page and one button (link previewers must not
    acknowledge); POST acknowledges as the paged person."""
    page = page_from_token(token)
    if page is None:
        raise Http404
    done = False
    if request.method == "POST":
        page_acknowledge(actor=page.user, page_id=page.id)
        page.refresh_from_db()
        done = True
    escalation = page.escalation
    return render(
        request,
        "escalations/ack.html",
        {
            "page": page,
            "incident": escalation.incident,
            "done": done or page.state == Page.State.ACKNOWLEDGED,
            "stopped": escalation.state != Escalation.State.ACTIVE,
        },
    )


@require_http_methods(["GET"])
@login_required
def my_pages(request: HttpRequest) -> HttpResponse:
    """A responder's pages: open ones first, each acknowledged in one tap."""
    if not request.user.has_perm("incidents.join"):
        raise PermissionDenied
    return _my_pages(request)


def _my_pages(request: HttpRequest) -> HttpResponse:
    pages = selectors.user_pages(user=request.user)
    return render(
        request,
        "escalations/my_pages.html#my-pages" if request.htmx else "escalations/my_pages.html",
        {"open_pages": [p for p in pages if selectors.is_open(p)], "pages": pages},
    )


@require_POST
@login_required
def acknowledge(request: HttpRequest, page_id: int) -> HttpResponse:
    page = selectors.user_page(user=request.user, page_id=page_id)
    if page is None:
        raise Http404
    page_acknowledge(actor=request.user, page_id=page.id)
    if request.htmx:
        return _my_pages(request)
    return HttpResponseRedirect(reverse("escalations:my-pages"), status=303)


def _paging_panel(
    request,
    incident,
    *,
    form=None,
    error: str = "",
    status: int = 200,
    page_form=None,
    page_error: str = "",
    paged=None,
):
    """The incident's paging card: the policy paging now (where it is and
    when it next moves on), a switch form for those who may command the
    incident, a "page more people" form for those who may act on it (with
    what the last one did), and the history of every escalation (by a
    policy or by hand) with its pages."""
    escalations = list(selectors.incident_escalations(incident_id=incident.id))
    active = next(
        (
            e
            for e in reversed(escalations)
            if e.state == Escalation.State.ACTIVE and e.kind == Escalation.Kind.POLICY
        ),
        None,
    )
    current = None
    if active is not None:
        fired = step_at(to_domain(active.snapshot), active.step - 1) if active.step else None
        current = {
            "escalation": active,
            "levels": len(active.snapshot.get("levels", [])),
            "rounds": active.snapshot.get("repeat", 0) + 1,
            "step": fired,
            "next_due": selectors.escalation_next_due(escalation_id=active.id),
        }
    # Levels another app asked for (a vendor's policy), paging beside the policy.
    requested = []
    for e in escalations:
        if e.kind == Escalation.Kind.REQUESTED and e.state == Escalation.State.ACTIVE:
            fired = step_at(to_domain(e.snapshot), e.step - 1) if e.step else None
            requested.append(
                {
                    "escalation": e,
                    "levels": len(e.snapshot.get("levels", [])),
                    "step": fired,
                    "next_due": selectors.escalation_next_due(escalation_id=e.id),
                }
            )
    is_open = incident.state not in {s.value for s in DONE_STATES}
    can_switch = is_open and request.user.has_perm("incidents.command", incident)
    can_page = is_open and request.user.has_perm("incidents.act", incident)
    if can_page and page_form is None:
        page_form = _page_form(None)
    if can_switch and form is None:
        form = SwitchPolicyForm(
            prefix="switch",
            policies=selectors.policy_choices(pageable_only=True),
            initial={"policy": active.policy_id if active else None},
        )
    return render(
        request,
        "escalations/_incident_pages.html",
        {
            "escalations": escalations,
            "incident": incident,
            "current": current,
            "requested": requested,
            "form": form if can_switch else None,
            "error": error,
            "paging_by_hand": any(
                e.kind == Escalation.Kind.ADHOC and e.state == Escalation.State.ACTIVE
                for e in escalations
            ),
            "page_form": page_form if can_page else None,
            "page_error": page_error,
            "paged": paged,
            "can_view_policies": request.user.has_perm("escalations.view_policy"),
        },
        status=status,
    )


def _incident(request, incident_id: int):
    incident = incident_visible_to(request.user).filter(id=incident_id).first()
    if incident is None:
        raise Http404
    return incident


@require_http_methods(["GET"])
@login_required
def incident_pages(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The paging panel of one incident, for its page (loaded with htmx):
    whoever may see the incident reads who is paged and who acknowledged
    (executives included, read-only: the API's paging endpoints are for the
    paged roles); the forms are for those who may act."""
    return _paging_panel(request, _incident(request, incident_id))


@require_POST
@login_required
def incident_switch(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Page by another policy (or a fresh copy of the same one): the panel
    comes back in place, with the refusal if there is one."""
    incident = _incident(request, incident_id)
    form = SwitchPolicyForm(
        request.POST, prefix="switch", policies=selectors.policy_choices(pageable_only=True)
    )
    status = 422
    if form.is_valid():
        try:
            services.escalation_switch(
                actor=request.user,
                incident_id=incident.id,
                policy_id=form.cleaned_data["policy"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if request.htmx:
                return _paging_panel(request, incident)
            return HttpResponseRedirect(
                reverse("incidents:detail", args=[incident.id]) + "#paging", status=303
            )
    if not request.htmx:
        if status == 403:
            raise PermissionDenied
        errors = [*form.non_field_errors(), *form.errors.get("policy", [])]
        messages.error(request, " ".join(dict.fromkeys(errors)))
        return HttpResponseRedirect(
            reverse("incidents:detail", args=[incident.id]) + "#paging", status=303
        )
    return _paging_panel(
        request, incident, form=form, error=" ".join(form.non_field_errors()), status=status
    )


def _page_form(data) -> PagePeopleForm:
    choices = selectors.page_target_choices()
    return PagePeopleForm(
        data, prefix="page", people=choices["people"], schedules=choices["schedules"]
    )


@require_POST
@login_required
def incident_page_people(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Page more people now: the panel comes back in place with who was
    paged and who was skipped, or the form with its errors and input kept."""
    incident = _incident(request, incident_id)
    form = _page_form(request.POST)
    status = 422
    if form.is_valid():
        try:
            result = services.incident_page_people(
                actor=request.user,
                incident_id=incident.id,
                user_ids=form.cleaned_data["user_ids"],
                schedule_ids=form.cleaned_data["schedule_ids"],
                message=form.cleaned_data["message"],
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if request.htmx:
                return _paging_panel(request, incident, paged=_paged_summary(result))
            messages.success(request, _paged_sentence(result))
            return HttpResponseRedirect(
                reverse("incidents:detail", args=[incident.id]) + "#paging", status=303
            )
    if not request.htmx:
        if status == 403:
            raise PermissionDenied
        errors = [*form.non_field_errors()] or [_("Nobody was paged: check what you chose.")]
        messages.error(request, " ".join(dict.fromkeys(errors)))
        return HttpResponseRedirect(
            reverse("incidents:detail", args=[incident.id]) + "#paging", status=303
        )
    return _paging_panel(
        request,
        incident,
        page_form=form,
        page_error=" ".join(form.non_field_errors()),
        status=status,
    )


SKIP_REASONS = {
    "already_paged": gettext_lazy("already paged, not acknowledged yet"),
    "nobody_on_call": gettext_lazy("nobody on call now"),
}


def _paged_summary(result: services.PeoplePaged) -> dict:
    return {
        "names": [str(p.user) for p in result.pages],
        "skipped": [
            {"name": s["name"], "reason": SKIP_REASONS.get(s["reason"], s["reason"])}
            for s in result.skipped
        ],
    }


def _paged_sentence(result: services.PeoplePaged) -> str:
    summary = _paged_summary(result)
    parts = []
    if summary["names"]:
        parts.append(_("Paged %(names)s.") % {"names": ", ".join(summary["names"])})
    else:
        parts.append(_("Nobody new was paged."))
    if summary["skipped"]:
        skipped = "; ".join(f"{s['name']} ({s['reason']})" for s in summary["skipped"])
        parts.append(_("Skipped: %(who)s.") % {"who": skipped})
    return " ".join(parts)
