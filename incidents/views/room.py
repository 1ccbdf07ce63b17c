"""The war room: one live page per incident (timeline and chat over the
incident's websocket, with the incident's own action forms in place)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from incidents import warroom
from incidents.views.context import incident_page_context
from incidents.views.pages import incident_for


@require_GET
@login_required
def incident_room(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request, incident_id)  # 404 when the viewer may not see it
    context = incident_page_context(request, incident)
    context["room"] = warroom.room_context(incident, request.user)
    context["lang"] = get_language()
    return render(request, "incidents/room.html", context)
