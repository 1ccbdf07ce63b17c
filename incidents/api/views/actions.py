"""Actions on one incident: lifecycle, severity, grade, people and links.
Each parses its input, calls one service and answers with the incident's
detail (the grade answers with its worksheet)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from incidents.api.serializers.inputs import (
    GradeInputSerializer,
    HandoverInputSerializer,
    LinkInputSerializer,
    MergeInputSerializer,
    RoleAssignInputSerializer,
    SeverityAssessInputSerializer,
    TransitionInputSerializer,
)
from incidents.api.serializers.outputs import (
    ErrorOutputSerializer,
    GradingWorksheetOutputSerializer,
    IncidentDetailOutputSerializer,
)
from incidents.api.views.common import (
    IncidentBaseApi,
    ensure_visible,
    incident_response,
    parse,
)
from incidents.services import (
    incident_acknowledge,
    incident_assess_severity,
    incident_assign_role,
    incident_confirm_severity,
    incident_grade,
    incident_hand_over_command,
    incident_join,
    incident_link,
    incident_merge,
    incident_transition,
)

CONFLICT = {
    409: OpenApiResponse(
        ErrorOutputSerializer, description="Not allowed in the incident's current state."
    )
}


class IncidentTransitionApi(IncidentBaseApi):
    """Move the incident to another state; 409 (code transition_<why>) when
    the lifecycle does not allow it now."""

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: IncidentDetailOutputSerializer, **CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(TransitionInputSerializer, request.data)
        incident_transition(actor=request.user, incident_id=incident_id, **data)
        return incident_response(request, incident_id)


class IncidentSeverityApi(IncidentBaseApi):
    """Re-answer the rubric; the proposal becomes the severity unless
    `severity` overrides it with a `reason`."""

    @extend_schema(request=SeverityAssessInputSerializer, responses=IncidentDetailOutputSerializer)
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(SeverityAssessInputSerializer, request.data)
        incident_assess_severity(actor=request.user, incident_id=incident_id, **data)
        return incident_response(request, incident_id)


class IncidentSeverityConfirmApi(IncidentBaseApi):
    """The commander or an ops manager confirms the current severity."""

    @extend_schema(request=None, responses=IncidentDetailOutputSerializer)
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        incident_confirm_severity(actor=request.user, incident_id=incident_id)
        return incident_response(request, incident_id)


class IncidentGradeApi(IncidentBaseApi):
    """Grade the incident against the active criteria (GET grading-criteria/);
    `met` lists the criteria met, each with its evidence."""

    @extend_schema(request=GradeInputSerializer, responses={201: GradingWorksheetOutputSerializer})
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(GradeInputSerializer, request.data)
        worksheet = incident_grade(actor=request.user, incident_id=incident_id, **data)
        return Response(
            GradingWorksheetOutputSerializer(worksheet).data, status=status.HTTP_201_CREATED
        )


class IncidentRoleAssignApi(IncidentBaseApi):
    """Give a role to someone; the commander changes hands only by handover."""

    @extend_schema(
        request=RoleAssignInputSerializer,
        responses={200: IncidentDetailOutputSerializer, **CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(RoleAssignInputSerializer, request.data)
        incident_assign_role(actor=request.user, incident_id=incident_id, **data)
        return incident_response(request, incident_id)


class IncidentHandoverApi(IncidentBaseApi):
    """Hand over command (recorded on the timeline with the note)."""

    @extend_schema(
        request=HandoverInputSerializer,
        responses={200: IncidentDetailOutputSerializer, **CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(HandoverInputSerializer, request.data)
        incident_hand_over_command(actor=request.user, incident_id=incident_id, **data)
        return incident_response(request, incident_id)


class IncidentJoinApi(IncidentBaseApi):
    """Take part in the incident (idempotent)."""

    @extend_schema(request=None, responses=IncidentDetailOutputSerializer)
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        incident_join(actor=request.user, incident_id=incident_id)
        return incident_response(request, incident_id)


class IncidentAcknowledgeApi(IncidentBaseApi):
    """Someone has it: stamps acknowledged_at once."""

    @extend_schema(request=None, responses=IncidentDetailOutputSerializer)
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        incident_acknowledge(actor=request.user, incident_id=incident_id)
        return incident_response(request, incident_id)


class IncidentMergeApi(IncidentBaseApi):
    """Merge this incident (a duplicate) into another open one."""

    @extend_schema(
        request=MergeInputSerializer,
        responses={200: IncidentDetailOutputSerializer, **CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(MergeInputSerializer, request.data)
        ensure_visible(request.user, data["into"], field="into")
        incident_merge(
            actor=request.user,
            incident_id=incident_id,
            into_id=data["into"],
            reason=data["reason"],
        )
        return incident_response(request, incident_id)


class IncidentLinkApi(IncidentBaseApi):
    """Link to another incident: related (both ways) or parent."""

    @extend_schema(
        request=LinkInputSerializer,
        responses={200: IncidentDetailOutputSerializer, **CONFLICT},
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(LinkInputSerializer, request.data)
        ensure_visible(request.user, data["other"], field="other")
        incident_link(
            actor=request.user,
            incident_id=incident_id,
            other_id=data["other"],
            relation=data["relation"],
        )
        return incident_response(request, incident_id)
