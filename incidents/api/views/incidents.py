"""Incidents: the triage list, declaring, the detail and editing it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from incidents.api.serializers.inputs import (
    IncidentDeclareInputSerializer,
    IncidentUpdateInputSerializer,
)
from incidents.api.serializers.outputs import (
    GradingCriterionOutputSerializer,
    IncidentDetailOutputSerializer,
    IncidentOutputSerializer,
)
from incidents.api.views.common import (
    PAGE_PARAMETERS,
    IncidentBaseApi,
    IncidentPagination,
    ensure_visible,
    incident_for_detail_or_404,
    incident_response,
    paginate,
    parse,
)
from incidents.exceptions import NotAllowed
from incidents.selectors import grading_criteria, incident_list_for_triage
from incidents.services import Declaration, incident_declare, incident_update_details
from tscc.api.pagination import paginated


def _many(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, many=True, explode=True, description=description
    )


LIST_PARAMETERS = [
    OpenApiParameter(
        "scope",
        OpenApiTypes.STR,
        enum=["open", "done", "all"],
        description="open (default unless `state` is given), done (resolved and closed) or all.",
    ),
    _many("state", "One or more states."),
    _many("severity", "One or more severities (sev0..sev4)."),
    _many("category", "One or more category codes."),
    _many("market", "One or more market codes."),
    OpenApiParameter("commander", OpenApiTypes.INT, description="The commander's user id."),
    OpenApiParameter("declared_after", OpenApiTypes.DATETIME, description="Declared at or after."),
    OpenApiParameter("declared_before", OpenApiTypes.DATETIME, description="Declared before."),
    OpenApiParameter(
        "q", OpenApiTypes.STR, description="Title or summary text, or INC-YYYY-NNNNN."
    ),
    OpenApiParameter(
        "sort",
        OpenApiTypes.STR,
        enum=list(IncidentPagination.SORTS),
        description="Order of the pages (default -declared: newest first).",
    ),
    *PAGE_PARAMETERS,
]


class IncidentListApi(IncidentBaseApi):
    """GET: the triage list, with the triage page's filters (IncidentFilter:
    scope, state, severity, category, market, commander, declared_after,
    declared_before, q, sort).

    Pagination: cursor pagination (`next`/`previous` links, no total count),
    ordered by ("-declared_at", "-id") unless `sort` is declared, updated or
    -updated; `page_size` defaults to 50 and is capped at 200. The number of
    queries does not depend on the number of rows.

    POST: declare an incident (incident_declare); 201 with its detail."""

    @extend_schema(
        operation_id="v1_incidents_list",
        parameters=LIST_PARAMETERS,
        responses=paginated(IncidentOutputSerializer),
    )
    def get(self, request):
        filterset, queryset = incident_list_for_triage(
            viewer=request.user, params=request.query_params
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return paginate(IncidentPagination(), queryset, request, self, IncidentOutputSerializer)

    @extend_schema(
        operation_id="v1_incidents_create",
        request=IncidentDeclareInputSerializer,
        responses={201: IncidentDetailOutputSerializer},
    )
    def post(self, request):
        data = parse(IncidentDeclareInputSerializer, request.data)
        incident = incident_declare(actor=request.user, declaration=Declaration(**data))
        return incident_response(request, incident.id, status_code=status.HTTP_201_CREATED)


class IncidentDetailApi(IncidentBaseApi):
    """GET: one incident with its roles, participants, links and latest
    severity assessment. PATCH: edit its details (incident_update_details);
    moving discovered_at needs a `reason`."""

    @extend_schema(operation_id="v1_incidents_retrieve", responses=IncidentDetailOutputSerializer)
    def get(self, request, incident_id: int):
        incident = incident_for_detail_or_404(request.user, incident_id)
        return Response(IncidentDetailOutputSerializer(incident).data)

    @extend_schema(
        operation_id="v1_incidents_partial_update",
        request=IncidentUpdateInputSerializer,
        responses=IncidentDetailOutputSerializer,
    )
    def patch(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(IncidentUpdateInputSerializer, request.data)
        incident_update_details(actor=request.user, incident_id=incident_id, **data)
        return incident_response(request, incident_id)


class GradingCriterionListApi(IncidentBaseApi):
    """The active criteria of the official grading annex, for the grade worksheet."""

    @extend_schema(
        operation_id="v1_grading_criteria_list",
        responses=GradingCriterionOutputSerializer(many=True),
    )
    def get(self, request):
        if not request.user.has_perm("incidents.view_incident"):
            raise NotAllowed(str(_("Your role cannot see incidents.")))
        criteria = grading_criteria()
        return Response(GradingCriterionOutputSerializer(criteria, many=True).data)
