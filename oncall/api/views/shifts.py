"""Who is on call (now or at T, and next), a schedule's final shifts, and
the requesting user's own shifts."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall.api.serializers.inputs import AtInputSerializer, WindowInputSerializer
from oncall.api.serializers.outputs import (
    MyShiftOutputSerializer,
    OnCallOutputSerializer,
    ShiftOutputSerializer,
)
from oncall.api.views.common import (
    BAD_INPUT,
    NOT_FOUND,
    REFUSED,
    parse,
    require_oncall,
    schedule_or_404,
    users_by_id,
)
from oncall.selectors import (
    NowAndNext,
    oncall_now,
    schedule_shifts,
    schedule_visible_to,
    user_shifts,
)

AT_PARAMETERS = [
    OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601 with offset; default now.")
]
WINDOW_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default: now."),
    OpenApiParameter(
        "end", OpenApiTypes.DATETIME, description="Default: start + 14 days; at most 62 days."
    ),
]


def _oncall_data(rows: list[NowAndNext], at) -> list[dict]:
    users = users_by_id(
        uid for row in rows for uid in (row.now.user_id, row.next.user_id if row.next else None)
    )
    items = [{"schedule": row.schedule, "at": at, "now": row.now, "next": row.next} for row in rows]
    return OnCallOutputSerializer(items, many=True, context={"users": users}).data


class ScheduleOnCallApi(APIView):
    """GET: who is on call for the schedule at `at` (default now), with the
    whole shift around it, and who is next. `now.user` null: nobody (a gap)."""

    @extend_schema(
        operation_id="v1_oncall_schedules_oncall",
        parameters=AT_PARAMETERS,
        responses={200: OnCallOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        at = parse(AtInputSerializer, request.query_params)["at"]
        rows = oncall_now(schedules=schedule_visible_to(request.user).filter(id=schedule.id), at=at)
        return Response(_oncall_data(rows, at)[0])


class OnCallNowApi(APIView):
    """GET: who is on call now (or at `at`) and next, for every schedule the
    user may see, by schedule name: a fixed number of queries however many
    schedules there are."""

    @extend_schema(
        operation_id="v1_oncall_now",
        parameters=AT_PARAMETERS,
        responses={200: OnCallOutputSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    )
    def get(self, request):
        require_oncall(request.user)
        at = parse(AtInputSerializer, request.query_params)["at"]
        rows = oncall_now(schedules=schedule_visible_to(request.user), at=at)
        return Response(_oncall_data(rows, at))


class ScheduleShiftsApi(APIView):
    """GET: the schedule's final shifts (layers, then overrides) that tile
    [start, end), clipped to it; gaps have `user` null."""

    @extend_schema(
        operation_id="v1_oncall_schedules_shifts",
        parameters=WINDOW_PARAMETERS,
        responses={200: ShiftOutputSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request, schedule_id: int):
        schedule = schedule_or_404(request.user, schedule_id)
        window = parse(WindowInputSerializer, request.query_params)
        shifts = schedule_shifts(schedule=schedule, **window)
        users = users_by_id(s.user_id for s in shifts)
        return Response(ShiftOutputSerializer(shifts, many=True, context={"users": users}).data)


class MyShiftsApi(APIView):
    """GET: the requesting user's final shifts across every schedule in
    [start, end), clipped to it, by start."""

    @extend_schema(
        operation_id="v1_oncall_my_shifts",
        parameters=WINDOW_PARAMETERS,
        responses={200: MyShiftOutputSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    )
    def get(self, request):
        require_oncall(request.user)
        window = parse(WindowInputSerializer, request.query_params)
        items = [
            {
                "schedule": schedule,
                "start": shift.start,
                "end": shift.end,
                "layer": shift.layer_id,
                "override": shift.override_id,
            }
            for schedule, shift in user_shifts(user=request.user, **window)
        ]
        return Response(MyShiftOutputSerializer(items, many=True).data)
