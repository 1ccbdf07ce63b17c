"""Schedules and their layers: list, create, read, edit, end."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall.api.serializers.inputs import (
    LayerCreateInputSerializer,
    LayerListInputSerializer,
    LayerUpdateInputSerializer,
    ScheduleCreateInputSerializer,
    ScheduleUpdateInputSerializer,
)
from oncall.api.serializers.outputs import (
    LayerOutputSerializer,
    ScheduleDetailOutputSerializer,
    ScheduleOutputSerializer,
)
from oncall.api.views.common import (
    NOT_FOUND,
    WRITE_ERRORS,
    current_layers,
    layer_or_404,
    parse,
    require_oncall,
    schedule_or_404,
)
from oncall.selectors import schedule_visible_to
from oncall.services import layer_create, layer_end, layer_update, schedule_save

SCHEDULE_FIELDS = ("name", "time_zone", "team", "description")
REPLACED = OpenApiResponse(
    description="This version has ended or been replaced (code layer_replaced): "
    "edit its newest version."
)


def _schedule_response(request, schedule_id: int, code=status.HTTP_200_OK) -> Response:
    schedule = schedule_or_404(request.user, schedule_id, detail=True)
    return Response(ScheduleDetailOutputSerializer(schedule).data, status=code)


def _layer_response(request, layer_id: int, code=status.HTTP_200_OK) -> Response:
    return Response(LayerOutputSerializer(layer_or_404(request.user, layer_id)).data, status=code)


class ScheduleListApi(APIView):
    """GET: every schedule the user may see, by name (a fixed number of
    queries however many there are). POST: create one (ops managers and
    admins); 201 with its detail."""

    @extend_schema(
        operation_id="v1_oncall_schedules_list",
        responses={200: ScheduleOutputSerializer(many=True), 403: WRITE_ERRORS[403]},
    )
    def get(self, request):
        require_oncall(request.user)
        schedules = schedule_visible_to(request.user).select_related("team")
        return Response(ScheduleOutputSerializer(schedules, many=True).data)

    @extend_schema(
        operation_id="v1_oncall_schedules_create",
        request=ScheduleCreateInputSerializer,
        responses={201: ScheduleDetailOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(ScheduleCreateInputSerializer, request.data)
        schedule = schedule_save(actor=request.user, **data)
        return _schedule_response(request, schedule.id, status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    """GET: one schedule with the layers in force now or later. PATCH: edit
    its name, zone, team or description (ops managers, admins and responders
    of its team)."""

    @extend_schema(
        operation_id="v1_oncall_schedules_retrieve",
        responses={200: ScheduleDetailOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request, schedule_id: int):
        return _schedule_response(request, schedule_id)

    @extend_schema(
        operation_id="v1_oncall_schedules_partial_update",
        request=ScheduleUpdateInputSerializer,
        responses={200: ScheduleDetailOutputSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        data = parse(ScheduleUpdateInputSerializer, request.data)
        current = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
        schedule_save(actor=request.user, schedule=schedule, **(current | data))
        return _schedule_response(request, schedule_id)


class LayerListApi(APIView):
    """GET: a schedule's layers in force now or later, highest priority first
    (`include_ended`: every version, past ones too). POST: add a layer."""

    @extend_schema(
        operation_id="v1_oncall_layers_list",
        parameters=[
            OpenApiParameter(
                "include_ended", OpenApiTypes.BOOL, description="Also ended and replaced versions."
            )
        ],
        responses={200: LayerOutputSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        query = parse(LayerListInputSerializer, request.query_params)
        layers = current_layers(**query).filter(schedule=schedule)
        return Response(LayerOutputSerializer(layers, many=True).data)

    @extend_schema(
        operation_id="v1_oncall_layers_create",
        request=LayerCreateInputSerializer,
        responses={201: LayerOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        data = parse(LayerCreateInputSerializer, request.data)
        layer = layer_create(actor=request.user, schedule=schedule, **data)
        return _layer_response(request, layer.id, status.HTTP_201_CREATED)


class LayerDetailApi(APIView):
    """GET: one layer version. PATCH: change it (layer_update): once it has
    started, a change to who takes part or to the rotation makes a new
    version from the next handoff, which is what this answers (its
    `previous` is the edited one); the person on call now stays on until
    then. Editing a version that has ended or been replaced answers 409.
    DELETE: end the layer from now on (layer_end); its past shifts stay."""

    @extend_schema(
        operation_id="v1_oncall_layers_retrieve",
        responses={200: LayerOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request, layer_id: int):
        return _layer_response(request, layer_id)

    @extend_schema(
        operation_id="v1_oncall_layers_partial_update",
        request=LayerUpdateInputSerializer,
        responses={200: LayerOutputSerializer, **WRITE_ERRORS, 409: REPLACED},
    )
    def patch(self, request, layer_id: int):
        layer = layer_or_404(request.user, layer_id)
        data = parse(LayerUpdateInputSerializer, request.data)
        result = layer_update(actor=request.user, layer_id=layer.id, **data)
        return _layer_response(request, result.id)

    @extend_schema(
        operation_id="v1_oncall_layers_destroy",
        request=None,
        responses={204: None, 403: WRITE_ERRORS[403], 404: NOT_FOUND},
    )
    def delete(self, request, layer_id: int):
        layer = layer_or_404(request.user, layer_id)
        layer_end(actor=request.user, layer_id=layer.id)
        return Response(status=status.HTTP_204_NO_CONTENT)
