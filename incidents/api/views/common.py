"""What every incidents API view shares: the write gate, loading an incident
the viewer may see (404 otherwise), parsing input and the paginators."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.serializers.outputs import IncidentDetailOutputSerializer
from incidents.exceptions import NotAllowed
from incidents.models import Incident, IncidentTask, RegulatoryReport
from incidents.selectors import (
    incident_get_for_detail,
    incident_latest_assessment,
    incident_reports,
    incident_tasks,
    incident_visible_to,
)
from tscc.api.pagination import PAGE_PARAMETERS, CursorPage  # noqa: F401 - re-exported

# Whoever may not take part in an incident ("incidents.join": responders,
# ops managers, admins) can change nothing on one. Checking it first gives
# executives and BPO leads a 403 on every write, before their input is read;
# the services still decide everything else.
WRITE_PERM = "incidents.join"
READ_ONLY = _("Your role can read incidents but not change them.")


class WritesNeedOperations(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or request.user.has_perm(WRITE_PERM):
            return True
        raise NotAllowed(str(READ_ONLY))


class IncidentBaseApi(APIView):
    permission_classes = [IsAuthenticated, WritesNeedOperations]


def parse(serializer_class, data, **context) -> dict:
    """Validated input, or 400 with the serializer's field errors."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def incident_or_404(viewer, incident_id: int) -> Incident:
    """The bare incident row, if `viewer` may see it (no existence leak)."""
    try:
        return incident_visible_to(viewer).get(id=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None


def ensure_visible(viewer, incident_id: int, *, field: str | None = None) -> None:
    """404 unless `viewer` may see the incident; with `field`, a 400 on that
    input field instead (the incident was named in the body, not the URL)."""
    if incident_visible_to(viewer).filter(id=incident_id).exists():
        return
    if field is None:
        raise Http404
    raise serializers.ValidationError({field: [_("Unknown incident.")]})


def incident_for_detail_or_404(viewer, incident_id: int) -> Incident:
    """The incident with everything its detail shows, counts included."""
    try:
        incident = incident_get_for_detail(viewer=viewer, incident_id=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None
    incident.open_tasks = (
        incident_tasks(incident=incident).filter(state=IncidentTask.State.OPEN).count()
    )
    incident.pending_reports = (
        incident_reports(incident=incident)
        .filter(state__in=RegulatoryReport.PENDING_STATES)
        .count()
    )
    incident.latest_assessment = incident_latest_assessment(incident=incident)
    return incident


def incident_response(request, incident_id: int, *, status_code=status.HTTP_200_OK) -> Response:
    """The incident's detail as the answer to a write, read back after commit."""
    incident = incident_for_detail_or_404(request.user, incident_id)
    return Response(IncidentDetailOutputSerializer(incident).data, status=status_code)


class Pagination(CursorPage):
    pass


class IncidentPagination(Pagination):
    """Newest first. `sort` may pick another time order (a cursor needs an
    order on a near-unique value, so severity and state sorts are refused)."""

    ordering = ("-declared_at", "-id")
    SORTS = {
        "-declared": ("-declared_at", "-id"),
        "declared": ("declared_at", "id"),
        "-updated": ("-updated_at", "-id"),
        "updated": ("updated_at", "id"),
    }

    def get_ordering(self, request, queryset, view):
        sort = request.query_params.get("sort") or "-declared"
        if sort not in self.SORTS:
            raise serializers.ValidationError(
                {"sort": [_("Sort by one of: %(sorts)s.") % {"sorts": ", ".join(self.SORTS)}]}
            )
        return self.SORTS[sort]


class TimelinePagination(Pagination):
    """In sequence order, 100 events a page unless asked otherwise."""

    ordering = ("seq",)
    page_size = 100


class StatusUpdatePagination(Pagination):
    ordering = ("-published_at", "-id")


def paginate(paginator: Pagination, queryset, request, view, serializer_class) -> Response:
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
