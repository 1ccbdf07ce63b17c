"""One-tap acknowledge from a signed, expiring link in every message."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from escalations.models import Escalation, Page
from escalations.services import page_acknowledge, page_from_token


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
