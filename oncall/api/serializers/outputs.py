"""What the on-call API answers. Read-only serializers over rows loaded with
their relations, and over the rotation's Shift values with their people
passed in context["users"] ({id: user}), so serializing adds no queries."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oncall.api.serializers.inputs import RestrictionSerializer


class OncallUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return str(user)


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class ScheduleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField()


class ScheduleOutputSerializer(ScheduleRefSerializer):
    team = TeamRefSerializer(allow_null=True)
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LayerOutputSerializer(serializers.Serializer):
    """One version of a layer. Expects `ordered_members` (with users) loaded."""

    id = serializers.IntegerField()
    schedule = serializers.IntegerField(source="schedule_id")
    name = serializers.CharField()
    priority = serializers.IntegerField()
    unit = serializers.CharField()
    count = serializers.IntegerField()
    anchor = serializers.DateTimeField()
    time_zone = serializers.CharField(help_text="Empty: the schedule's zone.")
    restrictions = RestrictionSerializer(many=True)
    active_from = serializers.DateTimeField(allow_null=True)
    active_until = serializers.DateTimeField(allow_null=True)
    previous = serializers.IntegerField(
        source="previous_id", allow_null=True, help_text="The version this one replaced."
    )
    users = serializers.SerializerMethodField(help_text="Participants, in rotation order.")
    created_at = serializers.DateTimeField()

    @extend_schema_field(OncallUserSerializer(many=True))
    def get_users(self, layer):
        return OncallUserSerializer([m.user for m in layer.ordered_members], many=True).data


class ScheduleDetailOutputSerializer(ScheduleOutputSerializer):
    layers = LayerOutputSerializer(
        many=True, source="current_layers", help_text="Layers in force now or later."
    )


class OverrideOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    schedule = serializers.IntegerField(source="schedule_id")
    user = OncallUserSerializer()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    replaces = OncallUserSerializer(allow_null=True)
    note = serializers.CharField()
    swap_id = serializers.UUIDField(
        allow_null=True, help_text="Shared by the two halves of a swap."
    )
    created_by = OncallUserSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


def _person(context: dict, user_id: int | None):
    if user_id is None:
        return None
    user = context["users"].get(user_id)
    return {"id": user_id, "name": str(user) if user else ""}


class ShiftOutputSerializer(serializers.Serializer):
    """A final shift; `user` null is a gap (nobody on call)."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    user = serializers.SerializerMethodField()
    layer = serializers.IntegerField(source="layer_id", allow_null=True)
    override = serializers.IntegerField(source="override_id", allow_null=True)

    @extend_schema_field(OncallUserSerializer(allow_null=True))
    def get_user(self, shift):
        return _person(self.context, shift.user_id)


class OnCallOutputSerializer(serializers.Serializer):
    """Who is on call at `at`, and who comes next (null: nobody in 35 days)."""

    schedule = ScheduleRefSerializer()
    at = serializers.DateTimeField()
    now = ShiftOutputSerializer()
    next = ShiftOutputSerializer(allow_null=True)


class MyShiftOutputSerializer(serializers.Serializer):
    schedule = ScheduleRefSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    layer = serializers.IntegerField(allow_null=True)
    override = serializers.IntegerField(allow_null=True)


class CalendarFeedOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    schedule = ScheduleRefSerializer(allow_null=True, help_text="Empty: your own shifts.")
    prefix = serializers.CharField(help_text="The start of the secret, to tell feeds apart.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class CalendarFeedCreatedOutputSerializer(CalendarFeedOutputSerializer):
    url = serializers.URLField(help_text="The secret iCal URL. Shown this once only.")
