"""What the API answers. Read-only serializers over rows the selectors load
(with their select_related/prefetch), so serializing adds no queries."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.domain.lifecycle import State, next_states
from incidents.models import IncidentRole
from incidents.selectors import incident_durations, incident_roles


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return str(user)


class IncidentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class IncidentOutputSerializer(serializers.Serializer):
    """One incident as a list row. `open_tasks` and `pending_reports` come
    from the selector's annotations (or the detail loader)."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    title_zh = serializers.CharField()
    severity = serializers.CharField()
    state = serializers.CharField()
    statutory_grade = serializers.CharField()
    category = serializers.CharField(source="category.code")
    markets = serializers.SerializerMethodField()
    commander = serializers.SerializerMethodField()
    discovered_at = serializers.DateTimeField()
    harm_started_at = serializers.DateTimeField(allow_null=True)
    declared_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    mitigated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    handling_ended_at = serializers.DateTimeField(allow_null=True)
    severity_confirmed_at = serializers.DateTimeField(allow_null=True)
    next_update_due_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    open_tasks = serializers.IntegerField()
    pending_reports = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_markets(self, incident) -> list[str]:
        return [m.code for m in incident.markets.all()]

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_commander(self, incident):
        assignment = incident_roles(incident).get(IncidentRole.COMMANDER)
        return UserRefSerializer(assignment.user).data if assignment else None

    def get_url(self, incident) -> str:
        return reverse("incidents:detail", kwargs={"incident_id": incident.id})


class RoleOutputSerializer(serializers.Serializer):
    role = serializers.CharField()
    user = UserRefSerializer()
    assigned_at = serializers.DateTimeField()


class ParticipantOutputSerializer(serializers.Serializer):
    user = UserRefSerializer()
    added_at = serializers.DateTimeField()


class AssessmentOutputSerializer(serializers.Serializer):
    """The latest rubric assessment: what the answers proposed and what was chosen."""

    answers = serializers.DictField(child=serializers.IntegerField())
    proposed = serializers.CharField()
    chosen = serializers.CharField()
    overridden = serializers.BooleanField()
    reason = serializers.CharField()
    assessed_at = serializers.DateTimeField()


class IncidentDetailOutputSerializer(IncidentOutputSerializer):
    """One incident with its people, links and latest severity assessment.
    Expects the instance from the detail loader (latest_assessment set)."""

    summary = serializers.CharField()
    team = serializers.CharField(source="team.slug", allow_null=True)
    surfaces = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    is_cii = serializers.BooleanField()
    involves_personal_info = serializers.BooleanField()
    involves_minors = serializers.BooleanField()
    war_room_url = serializers.CharField()
    created_by = UserRefSerializer(allow_null=True)
    parent = IncidentRefSerializer(allow_null=True)
    duplicate_of = IncidentRefSerializer(allow_null=True)
    related = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    participants = ParticipantOutputSerializer(many=True, source="participants.all")
    assessment = AssessmentOutputSerializer(source="latest_assessment", allow_null=True)
    next_states = serializers.SerializerMethodField()
    last_seq = serializers.IntegerField()
    durations = serializers.SerializerMethodField(
        help_text="Seconds from declaration to the first acknowledgement, the first "
        "mitigation and the resolution in force, derived from the timeline (null if not yet)."
    )

    def get_surfaces(self, incident) -> list[str]:
        return [s.code for s in incident.surfaces.all()]

    def get_tags(self, incident) -> list[str]:
        return [t.code for t in incident.tags.all()]

    @extend_schema_field(IncidentRefSerializer(many=True))
    def get_related(self, incident):
        return IncidentRefSerializer(incident.related.all(), many=True).data

    @extend_schema_field(RoleOutputSerializer(many=True))
    def get_roles(self, incident):
        return RoleOutputSerializer(incident_roles(incident).values(), many=True).data

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                k: {"type": "number", "nullable": True}
                for k in ("to_acknowledge", "to_mitigate", "to_resolve")
            },
        }
    )
    def get_durations(self, incident) -> dict:
        d = incident_durations(incident=incident)
        return {
            name: None if value is None else value.total_seconds()
            for name, value in (
                ("to_acknowledge", d.to_acknowledge),
                ("to_mitigate", d.to_mitigate),
                ("to_resolve", d.to_resolve),
            )
        }

    def get_next_states(self, incident) -> list[str]:
        return sorted(s.value for s in next_states(State(incident.state)))


class TimelineEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    actor = UserRefSerializer(allow_null=True)
    text = serializers.CharField()
    data = serializers.JSONField()
    refers_to = serializers.IntegerField(source="refers_to_id", allow_null=True)


class TaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident_id")
    title = serializers.CharField()
    title_zh = serializers.CharField()
    state = serializers.CharField()
    owner = UserRefSerializer(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.BooleanField()
    follow_up = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class StatusUpdateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    audience = serializers.CharField()
    text_en = serializers.CharField()
    text_zh = serializers.CharField()
    severity = serializers.CharField()
    state = serializers.CharField()
    author = UserRefSerializer(allow_null=True)
    published_at = serializers.DateTimeField()
    next_update_due_at = serializers.DateTimeField(allow_null=True)


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident_id")
    kind = serializers.CharField()
    obligation = serializers.CharField(source="obligation.code", allow_null=True)
    supplements = serializers.IntegerField(source="supplements_id", allow_null=True)
    authority = serializers.CharField()
    state = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.BooleanField()
    content_zh = serializers.CharField()
    content_en = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = UserRefSerializer(allow_null=True)
    reference_number = serializers.CharField()
    content_sha256 = serializers.CharField()
    not_required_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewOutputSerializer(serializers.Serializer):
    incident = serializers.IntegerField(source="incident_id")
    state = serializers.CharField()
    owner = UserRefSerializer(allow_null=True)
    summary = serializers.CharField()
    impact = serializers.CharField()
    root_cause = serializers.CharField()
    contributing_factors = serializers.CharField()
    went_well = serializers.CharField()
    went_badly = serializers.CharField()
    lessons = serializers.CharField()
    close_waiver = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class GradingCriterionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instrument = serializers.CharField()
    version = serializers.CharField()
    grade = serializers.CharField()
    text_zh = serializers.CharField()
    text_en = serializers.CharField()
    source = serializers.CharField()
    confidence = serializers.CharField()


class GradingRowOutputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    grade = serializers.CharField()
    text_zh = serializers.CharField()
    text_en = serializers.CharField()
    confidence = serializers.CharField()
    met = serializers.BooleanField()
    evidence = serializers.CharField(allow_blank=True)


class GradingWorksheetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident_id")
    instrument = serializers.CharField()
    version = serializers.CharField()
    in_scope = serializers.BooleanField()
    grade = serializers.CharField()
    rationale = serializers.CharField()
    rows = GradingRowOutputSerializer(many=True)
    graded_by = UserRefSerializer(allow_null=True)
    graded_at = serializers.DateTimeField()


class ErrorOutputSerializer(serializers.Serializer):
    """How a rule's refusal reads (tscc.exceptions.api_exception_handler)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)
