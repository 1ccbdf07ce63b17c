"""The incident page's "Impacted vendors" panel, loaded with htmx (the
incidents app does not know vendors): what the incident touches, with link
and unlink for those who may (ops managers, or people working it)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from incidents.selectors import incident_visible_to
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error
from vendors import selectors, services
from vendors.forms import ImpactForm, impact_targets


def _incident(request, incident_id: int):
    incident = incident_visible_to(request.user).filter(id=incident_id).first()
    if incident is None:
        raise Http404
    return incident


def _can_link(user, incident) -> bool:
    return user.has_perm("vendors.manage") or user.has_perm("incidents.act", incident)


def _form(request, data=None) -> ImpactForm:
    vendors = list(selectors.vendors_visible_to(request.user).filter(is_active=True))
    ids = [v.id for v in vendors]
    queues, sites = selectors.vendor_link_targets(ids)
    return ImpactForm(data, prefix="impact", targets=impact_targets(vendors, queues, sites))


def _panel(request, incident, *, form=None, error: str = "", status: int = 200):
    can_link = _can_link(request.user, incident)
    return render(
        request,
        "vendors/_incident_impacts.html",
        {
            "incident": incident,
            "impacts": list(selectors.incident_impacts(incident_id=incident.id)),
            "form": (form or _form(request)) if can_link else None,
            "can_link": can_link,
            "error": error,
        },
        status=status,
    )


@require_GET
@login_required
def incident_impacts(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _panel(request, _incident(request, incident_id))


@require_POST
@login_required
def incident_impact_link(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = _form(request, data=request.POST)
    status = 422
    if form.is_valid():
        try:
            services.impact_link(actor=request.user, incident_id=incident.id, **form.link())
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _panel(request, incident)
    return _panel(
        request, incident, form=form, error=" ".join(form.non_field_errors()), status=status
    )


@require_POST
@login_required
def incident_impact_unlink(request: HttpRequest, incident_id: int, impact_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    if not selectors.incident_impacts(incident_id=incident.id).filter(id=impact_id).exists():
        raise Http404
    try:
        services.impact_unlink(actor=request.user, impact_id=impact_id)
    except ApplicationError as exc:
        form = _form(request) if _can_link(request.user, incident) else None
        return _panel(request, incident, form=form, error=str(exc.message), status=exc.http_status)
    return _panel(request, incident)
