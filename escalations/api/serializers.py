"""What the escalations API accepts and answers.

Inputs check shape and types only (400 with field errors); every rule is the
services' (escalations.config, escalations.services). Outputs are read-only
over rows the selectors load with their relations, so serializing adds no
queries. Contact-method secrets are write-only: answers say `has_secret`, and
delivery destinations are never shown."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalations.config import (
    MAX_DELAY_MINUTES,
    MAX_LEVELS,
    MAX_REPEAT,
    MAX_TARGETS,
    MAX_WAIT_MINUTES,
)
from escalations.domain.notify import Urgency
from escalations.domain.policy import TargetKind
from escalations.models import ContactMethod
from escalations.selectors import is_open
from incidents.domain.severity import Severity
from tscc.api.fields import DateTimeField as ApiDateTimeField

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
# Ids are 64-bit (BigAutoField): a bigger number is a 400 here, not a
# database overflow (500) when the services look it up.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    """A row's id in input: a whole number from 1 to MAX_ID."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- Inputs ------------------------------------------------------------------------


class TargetInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in TargetKind])
    id = id_field(help_text="The user's, schedule's or team's id.")


class LevelInputSerializer(serializers.Serializer):
    wait_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WAIT_MINUTES,
        default=5,
        help_text="How long to wait for an acknowledgement before the next level.",
    )
    targets = TargetInputSerializer(many=True, allow_empty=False, max_length=MAX_TARGETS)


class PolicyInputSerializer(serializers.Serializer):
    """A whole policy: PUT replaces every field and every level."""

    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )
    team = id_field(required=False, allow_null=True, default=None)
    repeat = serializers.IntegerField(
        min_value=0, max_value=MAX_REPEAT, default=0, help_text="Extra rounds after the first."
    )
    final_user = id_field(
        required=False,
        allow_null=True,
        default=None,
        help_text="Notified once after the last round (a person in operations).",
    )
    levels = LevelInputSerializer(many=True, allow_empty=False, max_length=MAX_LEVELS)


class RoutingRuleInputSerializer(serializers.Serializer):
    policy = id_field()
    severities = serializers.ListField(
        child=serializers.ChoiceField(choices=[s.value for s in Severity]),
        required=False,
        default=list,
        help_text="Empty: any severity.",
    )
    categories = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        help_text="Category codes; empty: any category.",
    )
    team = id_field(
        required=False, allow_null=True, default=None, help_text="The owning team; empty: any."
    )
    position = serializers.IntegerField(
        min_value=0,
        max_value=10_000,
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty: last on create, unchanged on replace.",
    )


class RoutingRuleMoveInputSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=[-1, 1], help_text="-1: up (earlier), 1: down.")


class ContactMethodInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactMethod.Channel.choices)
    address = serializers.CharField(
        max_length=500, help_text="E-mail, phone number (+8613800138000) or robot URL."
    )
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        style={"input_type": "password"},
        help_text="A signing secret (webhooks, robots). Never shown back; on replace, "
        "empty keeps the stored one.",
    )
    enabled = serializers.BooleanField(default=True)


class ContactMethodUpdateInputSerializer(ContactMethodInputSerializer):
    clear_secret = serializers.BooleanField(
        default=False, help_text="Remove the stored secret (when `secret` is empty)."
    )


class NotificationRuleInputSerializer(serializers.Serializer):
    channel = serializers.CharField(
        max_length=12, help_text='"app" or the channel of one of your contact methods.'
    )
    delay_minutes = serializers.IntegerField(min_value=0, max_value=MAX_DELAY_MINUTES, default=0)
    urgency = serializers.ChoiceField(choices=[u.value for u in Urgency])


class QuietHoursInputSerializer(serializers.Serializer):
    start = serializers.RegexField(
        HHMM, required=False, allow_null=True, default=None, help_text="HH:MM, your time zone."
    )
    end = serializers.RegexField(
        HHMM,
        required=False,
        allow_null=True,
        default=None,
        help_text="HH:MM; earlier than the start runs past midnight.",
    )
    enabled = serializers.BooleanField(default=True, help_text="False (or no times) clears them.")


class PageListInputSerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False, default=False)


class EscalationSwitchInputSerializer(serializers.Serializer):
    policy = id_field()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PagePeopleInputSerializer(serializers.Serializer):
    user_ids = serializers.ListField(
        child=id_field(), max_length=100, required=False, default=list, help_text="People to page."
    )
    schedule_ids = serializers.ListField(
        child=id_field(),
        max_length=100,
        required=False,
        default=list,
        help_text="On-call schedules: whoever is on call for each now is paged.",
    )
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=True,
        help_text="Why they are needed (at most 500 characters): in the page and on the timeline.",
    )


# --- Outputs -----------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return str(user)


class RoutingTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class TargetOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField(source="target_id")
    name = serializers.SerializerMethodField()

    def get_name(self, target) -> str:
        named = {"user": target.user, "schedule": target.schedule, "team": target.team}
        thing = named.get(target.kind)
        return "" if thing is None else str(getattr(thing, "name", thing))


class LevelOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    wait_minutes = serializers.IntegerField()
    targets = TargetOutputSerializer(many=True, source="targets.all")


class PolicyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    team = RoutingTeamSerializer(allow_null=True)
    repeat = serializers.IntegerField()
    final_user = PersonRefSerializer(allow_null=True)
    levels = LevelOutputSerializer(many=True, source="levels.all")
    routing_rules = serializers.IntegerField(help_text="How many routing rules use it.")
    updated_at = ApiDateTimeField()


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class RoutingRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="The first matching rule, in order, wins.")
    policy = PolicyRefSerializer()
    severities = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    team = RoutingTeamSerializer(allow_null=True)


class RoutingRuleOrderOutputSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every rule's id, first match first."
    )


class ContactMethodOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    address = serializers.CharField()
    enabled = serializers.BooleanField()
    has_secret = serializers.SerializerMethodField()

    def get_has_secret(self, method) -> bool:
        return bool(method.secret)


class ContactMethodTestOutputSerializer(serializers.Serializer):
    provider_id = serializers.CharField(help_text="What the provider answered.")


class NotificationRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    delay_minutes = serializers.IntegerField()
    urgency = serializers.CharField()


class QuietHoursOutputSerializer(serializers.Serializer):
    start = serializers.TimeField(format="%H:%M", allow_null=True)
    end = serializers.TimeField(format="%H:%M", allow_null=True)
    enabled = serializers.BooleanField()
    time_zone = serializers.CharField(help_text="Yours: the times are read in it.")


class DeliveryOutputSerializer(serializers.Serializer):
    """A delivery without its destination (nor any secret)."""

    id = serializers.IntegerField()
    channel = serializers.CharField()
    state = serializers.CharField()
    attempts = serializers.IntegerField()
    sent_at = ApiDateTimeField(allow_null=True)


class PageIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField(source="display_title")
    severity = serializers.CharField()
    state = serializers.CharField()


class PageOutputSerializer(serializers.Serializer):
    """One of the caller's pages. Expects escalation__incident and deliveries loaded."""

    id = serializers.IntegerField()
    incident = PageIncidentSerializer(source="escalation.incident")
    state = serializers.CharField()
    open = serializers.SerializerMethodField(help_text="Still waiting for an acknowledgement.")
    step = serializers.IntegerField()
    created_at = ApiDateTimeField()
    acknowledged_at = ApiDateTimeField(allow_null=True)
    deliveries = DeliveryOutputSerializer(many=True, source="deliveries.all")

    def get_open(self, page) -> bool:
        return is_open(page)


class DeliveryAttemptOutputSerializer(serializers.Serializer):
    at = ApiDateTimeField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class DeliveryHistoryOutputSerializer(DeliveryOutputSerializer):
    attempt_log = DeliveryAttemptOutputSerializer(many=True, source="attempt_log.all")


class EscalationPageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = PersonRefSerializer()
    step = serializers.IntegerField()
    state = serializers.CharField()
    created_at = ApiDateTimeField()
    acknowledged_at = ApiDateTimeField(allow_null=True)
    deliveries = DeliveryHistoryOutputSerializer(many=True, source="deliveries.all")


class EscalationOutputSerializer(serializers.Serializer):
    """An incident paging by a frozen copy of a policy: `policy.name` is the
    copy's (the policy may since have been renamed or deleted). Or, `kind`
    "adhoc", people paged by hand beside it: `policy` null, `started_by` who
    paged them, `message` why. Or, `kind` "requested", levels another app
    asked for beside it (a vendor's escalation policy): `policy` null,
    `name` what the asker calls them, `message` why."""

    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text='"policy": by a policy; "adhoc": people paged by hand beside it; '
        '"requested": levels another app (vendors) asked for beside it.'
    )
    name = serializers.SerializerMethodField(
        help_text="The policy's name (as copied), or the requested levels' name; "
        "empty for people paged by hand."
    )
    policy = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(
        help_text="Why people were paged by hand or the levels were requested."
    )
    state = serializers.CharField()
    step = serializers.IntegerField(help_text="The next step to fire.")
    started_at = ApiDateTimeField()
    started_by = PersonRefSerializer(
        allow_null=True, help_text="Who switched to this policy; empty: the routing rules."
    )
    reason = serializers.CharField()
    acknowledged_at = ApiDateTimeField(allow_null=True)
    acknowledged_by = PersonRefSerializer(allow_null=True)
    ended_at = ApiDateTimeField(allow_null=True)
    pages = EscalationPageOutputSerializer(many=True, source="pages.all")

    @extend_schema_field(PolicyRefSerializer(allow_null=True))
    def get_policy(self, escalation):
        if escalation.kind != "policy":
            return None
        return {"id": escalation.policy_id, "name": escalation.snapshot.get("name", "")}

    def get_name(self, escalation) -> str:
        return "" if escalation.kind == "adhoc" else escalation.snapshot.get("name", "")

    def get_message(self, escalation) -> str:
        return escalation.snapshot.get("message", "") if escalation.kind != "policy" else ""


class PageSkippedOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "schedule"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["already_paged", "nobody_on_call"],
        help_text="already_paged: has an open page for the incident; "
        "nobody_on_call: the schedule has nobody on call now.",
    )


class PagePeopleOutputSerializer(serializers.Serializer):
    """What paging by hand did: the new ad-hoc escalation (null when everyone
    chosen was skipped) with its pages, and who was skipped."""

    escalation = EscalationOutputSerializer(allow_null=True)
    paged = EscalationPageOutputSerializer(many=True)
    skipped = PageSkippedOutputSerializer(many=True)


class PagingErrorOutputSerializer(serializers.Serializer):
    """How a rule's refusal reads (tscc.exceptions.api_exception_handler)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)
