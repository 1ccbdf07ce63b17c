"""Overrides and swaps: someone covers a time range on a schedule."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall.api.serializers.inputs import (
    OverrideCreateInputSerializer,
    OverrideWindowInputSerializer,
    SwapInputSerializer,
)
from oncall.api.serializers.outputs import OverrideOutputSerializer
from oncall.api.views.common import (
    NOT_FOUND,
    WRITE_ERRORS,
    override_or_404,
    overrides_with_people,
    parse,
    schedule_or_404,
)
from oncall.models import Override
from oncall.services import override_create, override_delete, swap_create

WINDOW_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default: now."),
    OpenApiParameter(
        "end", OpenApiTypes.DATETIME, description="Default and at most: start + 366 days."
    ),
]


def _overrides_response(ids: list[int], code=status.HTTP_200_OK) -> Response:
    overrides = overrides_with_people(Override.objects.filter(id__in=ids))
    return Response(OverrideOutputSerializer(overrides, many=True).data, status=code)


class OverrideListApi(APIView):
    """GET: the schedule's overrides that overlap [start, end), by start.
    POST: someone covers a time range, for whoever is on call or, with
    `replaces`, only where that person is (responders of the schedule's
    team, ops managers, admins)."""

    @extend_schema(
        operation_id="v1_oncall_overrides_list",
        parameters=WINDOW_PARAMETERS,
        responses={
            200: OverrideOutputSerializer(many=True),
            400: WRITE_ERRORS[400],
            404: NOT_FOUND,
        },
    )
    def get(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        window = parse(OverrideWindowInputSerializer, request.query_params)
        overrides = overrides_with_people(
            schedule.overrides.filter(ends_at__gt=window["start"], starts_at__lt=window["end"])
        ).order_by("starts_at", "id")
        return Response(OverrideOutputSerializer(overrides, many=True).data)

    @extend_schema(
        operation_id="v1_oncall_overrides_create",
        request=OverrideCreateInputSerializer,
        responses={201: OverrideOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        data = parse(OverrideCreateInputSerializer, request.data)
        override = override_create(actor=request.user, schedule=schedule, **data)
        override = overrides_with_people(Override.objects.filter(id=override.id)).get()
        return Response(OverrideOutputSerializer(override).data, status=status.HTTP_201_CREATED)


class OverrideDetailApi(APIView):
    """DELETE: remove an override (both halves of a swap)."""

    @extend_schema(
        operation_id="v1_oncall_overrides_destroy",
        request=None,
        responses={204: None, 403: WRITE_ERRORS[403], 404: NOT_FOUND},
    )
    def delete(self, request, override_id: int):
        override = override_or_404(request.user, override_id)
        override_delete(actor=request.user, override_id=override.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SwapApi(APIView):
    """POST: two people trade shifts: `second` covers `first` from
    first_start to first_end, and `first` covers `second` from second_start
    to second_end; 201 with the two overrides (deleting either removes both)."""

    @extend_schema(
        operation_id="v1_oncall_swaps_create",
        request=SwapInputSerializer,
        responses={201: OverrideOutputSerializer(many=True), **WRITE_ERRORS},
    )
    def post(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        data = parse(SwapInputSerializer, request.data)
        made = swap_create(
            actor=request.user,
            schedule=schedule,
            first=data["first"],
            first_range=(data["first_start"], data["first_end"]),
            second=data["second"],
            second_range=(data["second_start"], data["second_end"]),
            note=data["note"],
        )
        return _overrides_response([o.id for o in made], status.HTTP_201_CREATED)
