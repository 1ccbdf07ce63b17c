"""The work on an incident: timeline, decisions, key facts, tasks, status updates."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from incidents.api.serializers.inputs import (
    DecisionInputSerializer,
    FactPinInputSerializer,
    NoteInputSerializer,
    StatusUpdateInputSerializer,
    TaskClaimInputSerializer,
    TaskCreateInputSerializer,
    TaskUpdateInputSerializer,
    TimelineQueryInputSerializer,
)
from incidents.api.serializers.outputs import (
    StatusUpdateOutputSerializer,
    TaskOutputSerializer,
    TimelineEventOutputSerializer,
)
from incidents.api.views.common import (
    PAGE_PARAMETERS,
    IncidentBaseApi,
    StatusUpdatePagination,
    TimelinePagination,
    ensure_visible,
    incident_or_404,
    paginate,
    parse,
)
from incidents.models import IncidentTask
from incidents.selectors import (
    incident_key_facts,
    incident_status_updates,
    incident_tasks,
    incident_visible_to,
    timeline_list,
)
from incidents.services import (
    incident_add_note,
    incident_pin_fact,
    incident_record_decision,
    incident_task_claim,
    incident_task_create,
    incident_task_update,
    incident_unpin_fact,
    status_update_publish,
)
from tscc.api.pagination import paginated


class IncidentTimelineApi(IncidentBaseApi):
    """GET: the timeline in sequence order, cursor-paginated (100 a page);
    `after_seq` returns only what came after (a client catching up).
    POST: add a note; `occurred_at` may be earlier than now."""

    @extend_schema(
        operation_id="v1_incidents_timeline_list",
        parameters=[
            OpenApiParameter(
                "after_seq", OpenApiTypes.INT, description="Only events after this seq."
            ),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(TimelineEventOutputSerializer),
    )
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        query = parse(TimelineQueryInputSerializer, request.query_params)
        events = timeline_list(incident=incident, after_seq=query["after_seq"])
        return paginate(TimelinePagination(), events, request, self, TimelineEventOutputSerializer)

    @extend_schema(request=NoteInputSerializer, responses={201: TimelineEventOutputSerializer})
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(NoteInputSerializer, request.data)
        event = incident_add_note(actor=request.user, incident_id=incident_id, **data)
        return Response(TimelineEventOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class IncidentDecisionApi(IncidentBaseApi):
    """Record a decision: what, the policy cited, and why."""

    @extend_schema(request=DecisionInputSerializer, responses={201: TimelineEventOutputSerializer})
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(DecisionInputSerializer, request.data)
        event = incident_record_decision(actor=request.user, incident_id=incident_id, **data)
        return Response(TimelineEventOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class IncidentFactListApi(IncidentBaseApi):
    """GET: the key facts still pinned. POST: pin an event (`event`, its id)
    or a new note (`text`); answers with the pin event."""

    @extend_schema(responses=TimelineEventOutputSerializer(many=True))
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        facts = incident_key_facts(incident=incident)
        return Response(TimelineEventOutputSerializer(facts, many=True).data)

    @extend_schema(request=FactPinInputSerializer, responses={201: TimelineEventOutputSerializer})
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(FactPinInputSerializer, request.data)
        event = incident_pin_fact(
            actor=request.user,
            incident_id=incident_id,
            event_id=data.get("event"),
            text=data["text"],
        )
        return Response(TimelineEventOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class IncidentFactDetailApi(IncidentBaseApi):
    """Unpin a key fact (404 when that event is not pinned)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, incident_id: int, event_id: int):
        incident = incident_or_404(request.user, incident_id)
        if event_id not in {fact.id for fact in incident_key_facts(incident=incident)}:
            raise Http404
        incident_unpin_fact(actor=request.user, incident_id=incident_id, event_id=event_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IncidentTaskListApi(IncidentBaseApi):
    """GET: the incident's tasks (open first, by due time; not paginated:
    an incident has tens of tasks). POST: add a task."""

    @extend_schema(responses=TaskOutputSerializer(many=True))
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        tasks = incident_tasks(incident=incident)
        return Response(TaskOutputSerializer(tasks, many=True).data)

    @extend_schema(request=TaskCreateInputSerializer, responses={201: TaskOutputSerializer})
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(TaskCreateInputSerializer, request.data)
        task = incident_task_create(actor=request.user, incident_id=incident_id, **data)
        return Response(TaskOutputSerializer(task).data, status=status.HTTP_201_CREATED)


def _task_or_404(viewer, task_id: int) -> IncidentTask:
    task = (
        IncidentTask.objects.filter(id=task_id, incident__in=incident_visible_to(viewer))
        .select_related("owner")
        .first()
    )
    if task is None:
        raise Http404
    return task


class TaskDetailApi(IncidentBaseApi):
    """Change a task's state, owner, due time or title (only what is sent)."""

    @extend_schema(request=TaskUpdateInputSerializer, responses=TaskOutputSerializer)
    def patch(self, request, task_id: int):
        _task_or_404(request.user, task_id)
        data = parse(TaskUpdateInputSerializer, request.data)
        incident_task_update(actor=request.user, task_id=task_id, **data)
        return Response(TaskOutputSerializer(_task_or_404(request.user, task_id)).data)


class TaskClaimApi(IncidentBaseApi):
    """Make an open task the caller's. Claiming one's own task changes
    nothing; a task someone else owns is refused (400, field `take_over`)
    unless `take_over` is true, and its previous owner is told."""

    @extend_schema(
        request=TaskClaimInputSerializer,
        responses={
            200: TaskOutputSerializer,
            # Either shape: field errors for refused input ({"take_over": [...]}),
            # or the project's {code, detail, fields} when a rule refuses.
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Owned by someone else (without take_over), or no longer open; "
                "or refused input.",
            ),
        },
    )
    def post(self, request, task_id: int):
        _task_or_404(request.user, task_id)
        data = parse(TaskClaimInputSerializer, request.data)
        incident_task_claim(actor=request.user, task_id=task_id, **data)
        return Response(TaskOutputSerializer(_task_or_404(request.user, task_id)).data)


class IncidentStatusUpdateListApi(IncidentBaseApi):
    """GET: status updates, newest first, cursor-paginated. POST: publish
    one; SEV0 and SEV1 need both English and Chinese."""

    @extend_schema(
        operation_id="v1_incidents_status_updates_list",
        parameters=PAGE_PARAMETERS,
        responses=paginated(StatusUpdateOutputSerializer),
    )
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        updates = incident_status_updates(incident=incident)
        return paginate(
            StatusUpdatePagination(), updates, request, self, StatusUpdateOutputSerializer
        )

    @extend_schema(
        request=StatusUpdateInputSerializer, responses={201: StatusUpdateOutputSerializer}
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(StatusUpdateInputSerializer, request.data)
        update = status_update_publish(actor=request.user, incident_id=incident_id, **data)
        return Response(StatusUpdateOutputSerializer(update).data, status=status.HTTP_201_CREATED)
