"""What the API accepts. These check shape and types only (400 with field
errors); every rule is the services' (InvalidInput, NotAllowed, Conflict)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from incidents.domain.lifecycle import State
from incidents.domain.severity import ImpactAnswers, Severity
from incidents.models import (
    Category,
    IncidentRole,
    IncidentTask,
    Market,
    RegulatoryReport,
    Review,
    StatusUpdate,
    Surface,
)
from tscc.api.fields import DateTimeField as ApiDateTimeField
from tscc.models import Team

SEVERITIES = [s.value for s in Severity]


class SeverityField(serializers.ChoiceField):
    def to_internal_value(self, data) -> Severity:
        return Severity(super().to_internal_value(data))


def severity_field() -> SeverityField:
    """An optional severity; absent or null means "take the rubric's proposal"."""
    return SeverityField(choices=SEVERITIES, required=False, allow_null=True)


def user_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    """A user by id; inactive users are unknown here."""
    return serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), **kwargs
    )


def code_field(model, **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code", queryset=model.objects.filter(active=True), **kwargs
    )


class AnswersInputSerializer(serializers.Serializer):
    """The rubric: each dimension 0-4 (absent means 0)."""

    user_harm = serializers.IntegerField(min_value=0, max_value=4, default=0)
    reach = serializers.IntegerField(min_value=0, max_value=4, default=0)
    legal = serializers.IntegerField(min_value=0, max_value=4, default=0)
    press = serializers.IntegerField(min_value=0, max_value=4, default=0)
    operations = serializers.IntegerField(min_value=0, max_value=4, default=0)

    def validate(self, attrs) -> ImpactAnswers:
        return ImpactAnswers(**attrs)


class IncidentDeclareInputSerializer(serializers.Serializer):
    """The fields of incidents.services.Declaration, by code, slug and id."""

    title = serializers.CharField(max_length=200)
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    category = code_field(Category)
    answers = AnswersInputSerializer()
    severity = severity_field()
    severity_reason = serializers.CharField(required=False, allow_blank=True)
    discovered_at = ApiDateTimeField(required=False, allow_null=True)
    harm_started_at = ApiDateTimeField(required=False, allow_null=True)
    markets = code_field(Market, many=True, required=False)
    surfaces = code_field(Surface, many=True, required=False)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    commander = user_field(required=False, allow_null=True)
    is_cii = serializers.BooleanField(required=False, default=False)
    involves_personal_info = serializers.BooleanField(required=False, default=False)
    involves_minors = serializers.BooleanField(required=False, default=False)
    war_room_url = serializers.URLField(required=False, allow_blank=True)


class IncidentUpdateInputSerializer(serializers.Serializer):
    """Every field optional (PATCH); `reason` is required by the service when
    discovered_at moves."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    war_room_url = serializers.URLField(required=False, allow_blank=True)
    is_cii = serializers.BooleanField(required=False)
    involves_personal_info = serializers.BooleanField(required=False)
    involves_minors = serializers.BooleanField(required=False)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    markets = code_field(Market, many=True, required=False)
    surfaces = code_field(Surface, many=True, required=False)
    discovered_at = ApiDateTimeField(required=False)
    harm_started_at = ApiDateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)


class TransitionInputSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=[s.value for s in State])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SeverityAssessInputSerializer(serializers.Serializer):
    answers = AnswersInputSerializer()
    severity = severity_field()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class GradeMetInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    evidence = serializers.CharField(allow_blank=True)


class GradeInputSerializer(serializers.Serializer):
    in_scope = serializers.BooleanField()
    met = GradeMetInputSerializer(many=True, required=False, default=list)
    rationale = serializers.CharField(allow_blank=True)

    def validate_met(self, value) -> dict[int, str]:
        met = {row["criterion"]: row["evidence"] for row in value}
        if len(met) != len(value):
            raise serializers.ValidationError("Each criterion may appear once.")
        return met


class RoleAssignInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.choices)
    user = user_field()


class HandoverInputSerializer(serializers.Serializer):
    to_user = user_field()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The id of the incident that survives.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class LinkInputSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The id of the other incident.")
    relation = serializers.ChoiceField(
        choices=["related", "parent"],
        help_text="related (both ways), or parent (the other is this one's parent).",
    )


class TimelineQueryInputSerializer(serializers.Serializer):
    after_seq = serializers.IntegerField(min_value=0, required=False, default=0)


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    occurred_at = ApiDateTimeField(required=False, allow_null=True)


class DecisionInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    policy = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(allow_blank=True)


class FactPinInputSerializer(serializers.Serializer):
    event = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of a timeline event to pin."
    )
    text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A new note to pin instead."
    )


class TaskCreateInputSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    owner = user_field(required=False, allow_null=True)
    due_at = ApiDateTimeField(required=False, allow_null=True)
    follow_up = serializers.BooleanField(required=False, default=False)


class TaskUpdateInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=IncidentTask.State.choices, required=False)
    owner = user_field(required=False, allow_null=True)
    due_at = ApiDateTimeField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True)


class TaskClaimInputSerializer(serializers.Serializer):
    take_over = serializers.BooleanField(required=False, default=False)


class StatusUpdateInputSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=StatusUpdate.Audience.choices)
    text_en = serializers.CharField(required=False, allow_blank=True, default="")
    text_zh = serializers.CharField(required=False, allow_blank=True, default="")


class ReportDraftInputSerializer(serializers.Serializer):
    content_zh = serializers.CharField(required=False, allow_blank=True)
    content_en = serializers.CharField(required=False, allow_blank=True)


class ReportSubmitInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=RegulatoryReport.Channel.choices)
    submitted_at = ApiDateTimeField(
        required=False, help_text="When it went to the authority (default: now)."
    )
    reference_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120
    )


class ReportReceiptInputSerializer(serializers.Serializer):
    reference_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120
    )


class ReportNotRequiredInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


def _review_text() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True)


class ReviewUpdateInputSerializer(serializers.Serializer):
    """Every field optional (PATCH); the close waiver needs the commander."""

    summary = _review_text()
    impact = _review_text()
    root_cause = _review_text()
    contributing_factors = _review_text()
    went_well = _review_text()
    went_badly = _review_text()
    lessons = _review_text()
    owner = user_field(required=False, allow_null=True)
    close_waiver = _review_text()


class ReviewStateInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Review.State.choices)
