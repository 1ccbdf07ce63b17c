"""The triage list, the declare form and the incident page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors
from incidents.domain.severity import Dimension, ImpactAnswers, Severity, classify_severity
from incidents.forms import DeclareForm, responders
from incidents.models import Category, Incident, Market
from incidents.models.reference import localized
from incidents.services import Declaration, incident_declare
from incidents.templatetags.incidents import sev_badge, state_badge
from incidents.views.context import incident_page_context
from incidents.views.explain import explain
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error

PAGE_SIZE = 50


def _require(request, perm: str, obj=None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def triage_row(row: dict) -> dict:
    """One triage row, prepared in Python from plain values: the template only
    prints it (a 50-row page renders in a few milliseconds this way)."""
    return {
        "id": row["id"],
        "url": reverse("incidents:detail", args=[row["id"]]),
        "reference": f"INC-{row['year']}-{row['number']:05d}",
        "title": localized(row["title"], row["title_zh"]),
        "category": localized(row["category__name_en"], row["category__name_zh"]),
        "severity": sev_badge(row["severity"]),
        "state": state_badge(row["state"]),
        "commander": row["commander_name"] or "",
        "markets": ", ".join(localized(en, zh) for en, zh in row["markets"]),
        "declared_at": row["declared_at"],
        "open_tasks": row["open_tasks"],
        "pending_reports": row["pending_reports"],
    }


@require_GET
@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    _require(request, "incidents.view_incident")
    filterset = selectors.incident_triage_filter(viewer=request.user, params=request.GET)
    page = Paginator(filterset.qs.values_list("id", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [triage_row(i) for i in selectors.incident_triage_rows(list(page.object_list))]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "overdue": selectors.overdue_reports(viewer=request.user),
        "query": query.urlencode(),
        "can_declare": request.user.has_perm("incidents.declare"),
        "categories": Category.objects.filter(active=True),
        "markets": Market.objects.filter(active=True),
        "commanders": responders(),
        "selected_categories": request.GET.getlist("category"),
        "selected_markets": request.GET.getlist("market"),
        "selected_commander": request.GET.get("commander", ""),
    }
    if request.htmx and request.htmx.target == "incident-results":
        return render(request, "incidents/incident_list.html#results", context)
    return render(request, "incidents/incident_list.html", context)


def _proposal(form: DeclareForm) -> dict | None:
    """The rubric's proposal for the answers so far (None while they are invalid)."""
    if not form.is_bound:
        classification = classify_severity(ImpactAnswers())
    else:
        form.is_valid()
        try:
            classification = classify_severity(form.answers())
        except (ValueError, KeyError, TypeError):
            return None
    return {"severity": classification.severity, "reasons": explain(classification)}


@require_http_methods(["GET", "POST"])
@login_required
def incident_declare_view(request: HttpRequest) -> HttpResponse:
    _require(request, "incidents.declare")
    form = DeclareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = incident_declare(
                    actor=request.user,
                    declaration=Declaration(
                        title=data["title"],
                        category=data["category"],
                        answers=form.answers(),
                        severity=Severity(data["severity"]) if data["severity"] else None,
                        severity_reason=data["severity_reason"],
                        summary=data["summary"],
                        title_zh=data["title_zh"],
                        discovered_at=data["discovered_at"],
                        harm_started_at=data["harm_started_at"],
                        markets=data["markets"],
                        surfaces=data["surfaces"],
                        team=data["team"],
                        commander=data["commander"],
                        is_cii=data["is_cii"],
                        involves_personal_info=data["involves_personal_info"],
                        involves_minors=data["involves_minors"],
                        war_room_url=data["war_room_url"],
                    ),
                )
            except ApplicationError as exc:
                status = apply_error(form, exc)
            else:
                url = reverse("incidents:detail", args=[incident.id])
                if request.htmx:
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return HttpResponseRedirect(url, status=303)
        else:
            status = 422
    context = {"form": form, "proposal": _proposal(form), "dimensions": list(Dimension)}
    template = "incidents/declare.html#declare-form" if request.htmx else "incidents/declare.html"
    return render(request, template, context, status=status)


@require_POST
@login_required
def severity_preview(request: HttpRequest) -> HttpResponse:
    """The proposal for the answers so far, as the declarer changes them."""
    _require(request, "incidents.declare")
    return render(
        request,
        "incidents/declare.html#proposal",
        {"proposal": _proposal(DeclareForm(request.POST))},
    )


def incident_for(request, incident_id: int) -> Incident:
    try:
        return selectors.incident_get_for_detail(viewer=request.user, incident_id=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None


@require_GET
@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request, incident_id)
    return render(
        request, "incidents/incident_detail.html", incident_page_context(request, incident)
    )


@require_GET
@login_required
def review_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The post-incident review with the whole timeline embedded; printable."""
    incident = incident_for(request, incident_id)
    context = {
        "incident": incident,
        "review": selectors.incident_review(incident=incident),
        "events": list(selectors.timeline_list(incident=incident)),
        "key_facts": selectors.incident_key_facts(incident=incident),
        "follow_ups": list(selectors.incident_tasks(incident=incident).filter(follow_up=True)),
    }
    return render(request, "incidents/review.html", context)
