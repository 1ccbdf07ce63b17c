"""Pages for people who are paged: one-tap acknowledge from a signed,
expiring link, "My pages", and an incident's paging history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from escalations import selectors
from escalations.models import Escalation, Page
from escalations.services import page_acknowledge, page_from_token
from incidents.selectors import incident_visible_to


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
        "escalations/my_pages.html",
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


@require_http_methods(["GET"])
@login_required
def incident_pages(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The paging history of one incident, for its page (loaded with htmx):
    each page, who, which step, and every delivery attempt."""
    incident = incident_visible_to(request.user).filter(id=incident_id).first()
    if incident is None:
        raise Http404
    return render(
        request,
        "escalations/_incident_pages.html",
        {"escalations": selectors.incident_paging(incident=incident), "incident": incident},
    )
