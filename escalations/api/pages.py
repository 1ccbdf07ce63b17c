"""Pages and paging: the caller's pages and their acknowledgement, an
incident's paging history, switching the policy an incident pages by, and
paging more people by hand."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from escalations import selectors, services
from escalations.api.common import (
    BAD_INPUT,
    CONFLICT,
    DETAIL_ERRORS,
    DETAIL_WRITE_ERRORS,
    PAGE_PARAMETERS,
    READ_ERRORS,
    PagePagination,
    PagingBaseApi,
    ensure_exists,
    get_or_404,
    paginated,
    parse,
)
from escalations.api.serializers import (
    EscalationOutputSerializer,
    EscalationSwitchInputSerializer,
    PageListInputSerializer,
    PageOutputSerializer,
    PagePeopleInputSerializer,
    PagePeopleOutputSerializer,
)
from incidents.selectors import incident_visible_to


class PageListApi(PagingBaseApi):
    """GET: your pages, newest first (`open=true`: only those still waiting
    for an acknowledgement), each with its incident and deliveries
    (channel, state, attempts, sent time; never where it was sent)."""

    @extend_schema(
        operation_id="v1_pages_list",
        summary="List my pages",
        parameters=[
            OpenApiParameter(
                "open", OpenApiTypes.BOOL, description="Only pages still waiting for an ack."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: paginated(PageOutputSerializer),
            400: BAD_INPUT,
            **READ_ERRORS,
        },
    )
    def get(self, request):
        query = parse(PageListInputSerializer, request.query_params)
        pages = selectors.user_page_list(user=request.user, open_only=query["open"])
        paginator = PagePagination()
        page = paginator.paginate_queryset(pages, request, view=self)
        return paginator.get_paginated_response(PageOutputSerializer(page, many=True).data)


class PageAcknowledgeApi(PagingBaseApi):
    """POST: acknowledge a page: its escalation stops, you join the incident,
    and the timeline says so (a page by hand only stops that person's
    notifications and brings them in: the policy keeps paging). Your own
    pages; the incident's commander and ops managers may acknowledge
    anyone's (others answer 404)."""

    @extend_schema(
        operation_id="v1_pages_acknowledge",
        summary="Acknowledge a page",
        request=None,
        responses={200: PageOutputSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, page_id: int):
        page = selectors.page_acknowledgeable(user=request.user, page_id=page_id)
        if page is None:
            raise Http404
        services.page_acknowledge(actor=request.user, page_id=page.id)
        page = get_or_404(selectors.pages_with_incident(), page.id)
        return Response(PageOutputSerializer(page).data)


class IncidentEscalationListApi(PagingBaseApi):
    """GET: the incident's paging history, oldest first: each escalation
    (`kind` "policy"; "adhoc" for people paged by hand; "requested" for
    levels another app asked for, such as a vendor's policy) with the policy
    it paged by, who started it and why, its pages, their deliveries and
    every delivery attempt (never a destination)."""

    @extend_schema(
        operation_id="v1_incidents_escalations_list",
        summary="An incident's paging history",
        responses={200: EscalationOutputSerializer(many=True), **DETAIL_ERRORS},
    )
    def get(self, request, incident_id: int):
        ensure_exists(incident_visible_to(request.user), incident_id)
        escalations = selectors.incident_escalations(incident_id=incident_id)
        return Response(EscalationOutputSerializer(escalations, many=True).data)


class IncidentEscalationSwitchApi(PagingBaseApi):
    """POST: page by another policy (or a fresh copy of the same one, to take
    in its edits): the running escalation stops as "replaced" and a new one
    starts at the first level; on the timeline. The commander, ops managers
    and admins; 409 once the incident is over. 201 with the new escalation."""

    @extend_schema(
        operation_id="v1_incidents_escalations_switch",
        summary="Switch the policy an incident pages by",
        request=EscalationSwitchInputSerializer,
        responses={201: EscalationOutputSerializer, **DETAIL_WRITE_ERRORS, 409: CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_exists(incident_visible_to(request.user), incident_id)
        data = parse(EscalationSwitchInputSerializer, request.data)
        escalation = services.escalation_switch(
            actor=request.user,
            incident_id=incident_id,
            policy_id=data["policy"],
            reason=data["reason"],
        )
        escalation = get_or_404(
            selectors.incident_escalations(incident_id=incident_id), escalation.id
        )
        return Response(EscalationOutputSerializer(escalation).data, status=status.HTTP_201_CREATED)


class IncidentPagePeopleApi(PagingBaseApi):
    """POST: page people now, beside the incident's policy (which keeps
    paging): each of `user_ids`, and whoever is on call now for each of
    `schedule_ids`, by their own notification rules, with the incident's
    urgency. Anyone with an open page for the incident is skipped (listed
    in `skipped`). Those who may act on the incident (responders taking
    part, ops managers, admins); 409 once the incident is over; 400 with
    `fields` for unknown, inactive or non-operations people, unknown
    schedules, nobody chosen or a message over 500 characters. 201."""

    @extend_schema(
        operation_id="v1_incidents_page_people",
        summary="Page more people for an incident",
        request=PagePeopleInputSerializer,
        responses={201: PagePeopleOutputSerializer, **DETAIL_WRITE_ERRORS, 409: CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_exists(incident_visible_to(request.user), incident_id)
        data = parse(PagePeopleInputSerializer, request.data)
        result = services.incident_page_people(
            actor=request.user,
            incident_id=incident_id,
            user_ids=data["user_ids"],
            schedule_ids=data["schedule_ids"],
            message=data["message"],
        )
        escalation, pages = None, []
        if result.escalation is not None:
            escalation = get_or_404(
                selectors.incident_escalations(incident_id=incident_id), result.escalation.id
            )
            pages = list(escalation.pages.all())
        body = {"escalation": escalation, "paged": pages, "skipped": result.skipped}
        return Response(PagePeopleOutputSerializer(body).data, status=status.HTTP_201_CREATED)
