"""What the on-call API accepts. These check shape and types only (400 with
field errors); every rule is the services' (InvalidInput, NotAllowed)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from oncall.domain.rotation import Unit
from tscc.api.fields import DateTimeField as ApiDateTimeField
from tscc.models import Team

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
# An unencoded "+08:00" in a query string arrives as " 08:00".
_SPACED_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


class AwareDateTimeField(ApiDateTimeField):
    """ISO 8601 with a UTC offset (or Z); a time without one is refused
    rather than read in some zone the client did not mean."""

    default_error_messages = {
        **ApiDateTimeField.default_error_messages,
        "naive": _("Give a UTC offset, e.g. 2026-03-02T09:00:00+08:00 or …Z."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = _SPACED_OFFSET.sub(r"+\1", value.strip())
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # well formed but impossible: the parent says so
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


def user_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    """A user by id; inactive users are unknown here."""
    return serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), **kwargs
    )


def team_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), help_text="The team's slug.", **kwargs
    )


class RestrictionSerializer(serializers.Serializer):
    """A recurring window in the layer's zone: ISO weekdays (1 = Monday) and
    wall times; an end at or before the start runs past midnight."""

    days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7), min_length=1, max_length=7
    )
    start = serializers.RegexField(HHMM, help_text="HH:MM")
    end = serializers.RegexField(HHMM, help_text="HH:MM")


# --- Schedules and layers ----------------------------------------------------


class ScheduleCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    time_zone = serializers.CharField(max_length=64, help_text="An IANA zone, e.g. Asia/Shanghai.")
    team = team_field(required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ScheduleUpdateInputSerializer(serializers.Serializer):
    """Every field optional (PATCH)."""

    name = serializers.CharField(max_length=120, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    team = team_field(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)


class LayerCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    users = user_field(many=True, allow_empty=False, help_text="Participants, in rotation order.")
    unit = serializers.ChoiceField(choices=[u.value for u in Unit])
    count = serializers.IntegerField(
        min_value=1, max_value=1000, help_text="Shift length in `unit`s."
    )
    anchor = AwareDateTimeField(help_text="The first handoff; its local time is the handoff time.")
    priority = serializers.IntegerField(
        min_value=-1000, max_value=1000, default=0, help_text="Higher layers win where they cover."
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty: the schedule's.",
    )
    restrictions = RestrictionSerializer(many=True, required=False, default=list)


class LayerUpdateInputSerializer(serializers.Serializer):
    """Every field optional (PATCH). Once the layer has started, a change to
    `users` or the rotation makes a new version from the next handoff."""

    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    users = user_field(many=True, allow_empty=False, required=False)
    unit = serializers.ChoiceField(choices=[u.value for u in Unit], required=False)
    count = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    anchor = AwareDateTimeField(required=False)
    priority = serializers.IntegerField(min_value=-1000, max_value=1000, required=False)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    restrictions = RestrictionSerializer(many=True, required=False)


# --- Overrides ---------------------------------------------------------------


class OverrideCreateInputSerializer(serializers.Serializer):
    user = user_field(help_text="Who is on call instead.")
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    replaces = user_field(
        required=False,
        allow_null=True,
        default=None,
        help_text="Cover only this person's time (empty: whoever is on call).",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SwapInputSerializer(serializers.Serializer):
    """`second` covers `first` from first_start to first_end, and `first`
    covers `second` from second_start to second_end."""

    first = user_field()
    first_start = AwareDateTimeField()
    first_end = AwareDateTimeField()
    second = user_field()
    second_start = AwareDateTimeField()
    second_end = AwareDateTimeField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["first"] == attrs["second"]:
            raise serializers.ValidationError({"second": [_("Choose someone else.")]})
        for half in ("first", "second"):
            if attrs[f"{half}_end"] <= attrs[f"{half}_start"]:
                raise serializers.ValidationError({f"{half}_end": [_("Before the start.")]})
        return attrs


# --- Query strings -----------------------------------------------------------


class AtInputSerializer(serializers.Serializer):
    at = AwareDateTimeField(required=False, help_text="Default: now.")

    def validate(self, attrs: dict) -> dict:
        return {"at": attrs.get("at") or timezone.now()}


class WindowInputSerializer(serializers.Serializer):
    """[start, end): start defaults to now, end to start + DEFAULT; at most MAX."""

    DEFAULT = timedelta(days=14)
    MAX = timedelta(days=62)

    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        start = attrs.get("start") or timezone.now()
        end = attrs.get("end") or start + self.DEFAULT
        if end <= start:
            raise serializers.ValidationError({"end": [_("Must be after the start.")]})
        if end - start > self.MAX:
            raise serializers.ValidationError(
                {"end": [_("At most %(days)d days after the start.") % {"days": self.MAX.days}]}
            )
        return {"start": start, "end": end}


class OverrideWindowInputSerializer(WindowInputSerializer):
    DEFAULT = MAX = timedelta(days=366)


class LayerListInputSerializer(serializers.Serializer):
    include_ended = serializers.BooleanField(required=False, default=False)


class CalendarFeedCreateInputSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A schedule's id for its feed; empty for your own shifts.",
    )
