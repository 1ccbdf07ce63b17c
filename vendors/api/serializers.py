"""What the vendors API reads and answers.

Outputs are read-only serializers over rows the views load with their
relations (select_related, or health computed in bulk and passed in the
context), so serializing adds no queries. Inputs document the bodies; the
services decide every rule (the snapshot figures in particular are cleaned by
vendors.services.snapshots.clean_figures, one cleaner for the portal, files
and the API, so the messages are the same everywhere).

Health levels, reasons and sources are enums in the schema (`enum_field`);
site statuses are described in words (`site_status_field`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tscc.api.fields import DateTimeField as ApiDateTimeField
from tscc.models import Team
from vendors.domain.health import Level, Reason, SiteStatus
from vendors.models import QueueSnapshot, SiteStatusChange

MAX_BULK_ROWS = 20_000


def enum_field(values, *, many: bool = False, **kwargs) -> serializers.Field:
    """A text field documented as an enum of `values`."""
    schema: dict = {"type": "string", "enum": [str(v) for v in values]}
    if many:
        schema = {"type": "array", "items": schema}

    @extend_schema_field(schema)
    class Enum(serializers.ListField if many else serializers.CharField):
        pass

    if many:
        kwargs.setdefault("child", serializers.CharField())
    return Enum(**kwargs)


def site_status_field(**kwargs) -> serializers.CharField:
    """A site status, documented in words: as an enum it would collide with
    the other `status` choice sets of the API (the schema must stay free of
    warnings; an ENUM_NAME_OVERRIDES entry in settings would name it)."""
    kwargs.setdefault("help_text", "operational, degraded, down or bcp_active.")
    return serializers.CharField(**kwargs)


TIME = ApiDateTimeField()


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
        "example": "09:00:00",
        "description": "A wall-clock time of the site (HH:MM or HH:MM:SS), no offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A site's local wall-clock time. OpenAPI's `format: time` is RFC 3339's
    full-time, which carries an offset; these times have none (the offset
    comes from the site's zone on each day)."""


LEVELS = [level.value for level in Level]
REASONS = [reason.value for reason in Reason]
SITE_STATUSES = [s.value for s in SiteStatus]


# --- outputs -----------------------------------------------------------------


class HealthOutputSerializer(serializers.Serializer):
    """vendors.domain.health.Health: the level, the reasons that set it
    (worst first) and the projected minutes to an SLA breach (0: breached
    now; null: none projected at the current rates)."""

    level = enum_field(LEVELS)
    reasons = enum_field(REASONS, many=True)
    projected_breach_minutes = serializers.FloatField(allow_null=True)
    in_shift = serializers.BooleanField()


class VendorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    contract_ref = serializers.CharField()
    contract_start = serializers.DateField(allow_null=True)
    contract_end = serializers.DateField(allow_null=True)
    languages = serializers.ListField(child=serializers.CharField())
    markets = serializers.ListField(child=serializers.CharField())
    contacts = serializers.CharField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    is_active = serializers.BooleanField()
    created_at = ApiDateTimeField()
    health = serializers.SerializerMethodField()

    @extend_schema_field(HealthOutputSerializer)
    def get_health(self, vendor):
        return HealthOutputSerializer(self.context["health"][vendor.id]).data


class SiteSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    time_zone = serializers.CharField()
    status = site_status_field()
    status_reason = serializers.CharField()
    status_changed_at = ApiDateTimeField(allow_null=True)


class QueueSummaryOutputSerializer(serializers.Serializer):
    """A queue on its vendor's page: its latest figures and health."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    site = serializers.IntegerField(source="site_id", allow_null=True)
    latest_taken_at = ApiDateTimeField(allow_null=True)
    sla_attainment = serializers.FloatField(allow_null=True)
    backlog = serializers.IntegerField(allow_null=True)
    health = HealthOutputSerializer()


class EscalationLevelOutputSerializer(serializers.Serializer):
    """One level of the vendor's own escalation policy (level 1 first)."""

    wait_minutes = serializers.IntegerField(
        help_text="Minutes before the next level is paged, if nobody acknowledged."
    )
    user_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Operations people paged at this level."
    )


class VendorDetailOutputSerializer(VendorOutputSerializer):
    sites = SiteSummaryOutputSerializer(many=True, source="active_sites")
    queues = serializers.SerializerMethodField()
    escalation_levels = serializers.SerializerMethodField(
        help_text="Ops managers and admins only (null for others): the vendor's own escalation "
        "policy, level 1 first. When its trouble opens an incident, level 1 is paged at once "
        "beside the owning team's policy, each next level after the previous one's wait "
        "unless someone acknowledged."
    )

    @extend_schema_field(EscalationLevelOutputSerializer(many=True, allow_null=True))
    def get_escalation_levels(self, vendor):
        actor = self.context.get("actor")
        if (
            actor is None
            or not getattr(actor, "has_perm", None)
            or not actor.has_perm("vendors.manage")
        ):
            return None
        return [
            {
                "wait_minutes": level.wait_minutes,
                "user_ids": sorted(u.id for u in level.users.all()),
            }
            for level in vendor.escalation_levels.order_by("position").prefetch_related("users")
        ]

    @extend_schema_field(QueueSummaryOutputSerializer(many=True))
    def get_queues(self, vendor):
        rows = [
            {
                "id": row.queue.id,
                "code": row.queue.code,
                "name": row.queue.name,
                "site_id": row.queue.site_id,
                "latest_taken_at": row.snapshot.taken_at if row.snapshot else None,
                "sla_attainment": row.snapshot.sla_attainment if row.snapshot else None,
                "backlog": row.snapshot.backlog if row.snapshot else None,
                "health": row.health,
            }
            for row in vendor.queue_rows
        ]
        return QueueSummaryOutputSerializer(rows, many=True).data


class SiteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vendor = serializers.IntegerField(source="vendor_id")
    name = serializers.CharField()
    name_zh = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    time_zone = serializers.CharField()
    seats = serializers.IntegerField()
    status = site_status_field()
    status_reason = serializers.CharField()
    status_changed_at = ApiDateTimeField(allow_null=True)
    is_active = serializers.BooleanField()


class SiteStatusChangeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    previous = site_status_field()
    current = site_status_field()
    reason = serializers.CharField()
    source = enum_field(SiteStatusChange.Source.values)
    changed_by = serializers.IntegerField(source="changed_by_id", allow_null=True)
    at = ApiDateTimeField()


class SiteDetailOutputSerializer(SiteOutputSerializer):
    """A site with its latest status changes (newest first, at most 20)."""

    status_changes = SiteStatusChangeOutputSerializer(many=True, source="recent_changes")


class SnapshotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    queue = serializers.IntegerField(source="queue_id")
    vendor = serializers.IntegerField(source="queue.vendor_id")
    taken_at = ApiDateTimeField()
    backlog = serializers.IntegerField()
    inflow_per_hour = serializers.FloatField()
    outflow_per_hour = serializers.FloatField()
    oldest_item_minutes = serializers.FloatField()
    sla_attainment = serializers.FloatField()
    staffed_headcount = serializers.IntegerField()
    planned_headcount = serializers.IntegerField()
    aht_seconds = serializers.FloatField(allow_null=True)
    qa_accuracy = serializers.FloatField(allow_null=True)
    escalations = serializers.IntegerField(allow_null=True)
    source = enum_field(QueueSnapshot.Source.values)
    reported_by = serializers.IntegerField(source="reported_by_id", allow_null=True)
    created_at = ApiDateTimeField()


_DATETIME = ApiDateTimeField()


def _float(value):
    return None if value is None else float(value)


def _int(value):
    return None if value is None else int(value)


def snapshot_output(snapshot) -> dict:
    """SnapshotOutputSerializer(snapshot).data as a plain dict, built
    directly (a snapshot post answers with it hundreds of times a second;
    the serializer documents it, and a test holds the two equal)."""
    return {
        "id": snapshot.id,
        "queue": snapshot.queue_id,
        "vendor": snapshot.queue.vendor_id,
        "taken_at": _DATETIME.to_representation(snapshot.taken_at),
        "backlog": int(snapshot.backlog),
        "inflow_per_hour": float(snapshot.inflow_per_hour),
        "outflow_per_hour": float(snapshot.outflow_per_hour),
        "oldest_item_minutes": float(snapshot.oldest_item_minutes),
        "sla_attainment": float(snapshot.sla_attainment),
        "staffed_headcount": int(snapshot.staffed_headcount),
        "planned_headcount": int(snapshot.planned_headcount),
        "aht_seconds": _float(snapshot.aht_seconds),
        "qa_accuracy": _float(snapshot.qa_accuracy),
        "escalations": _int(snapshot.escalations),
        "source": snapshot.source,
        "reported_by": snapshot.reported_by_id,
        "created_at": _DATETIME.to_representation(snapshot.created_at),
    }


class QueueOutputSerializer(serializers.Serializer):
    """A queue with its targets and its health now (from its latest
    snapshot; `health` and `latest_taken_at` come from the view's context)."""

    id = serializers.IntegerField()
    vendor = serializers.IntegerField(source="vendor_id")
    site = serializers.IntegerField(source="site_id", allow_null=True)
    code = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    content_type = serializers.CharField()
    market = serializers.CharField()
    language = serializers.CharField()
    policy_area = serializers.CharField()
    sla_percent = serializers.FloatField()
    sla_minutes = serializers.IntegerField()
    planned_headcount = serializers.IntegerField()
    staffed_from = LocalTimeField()
    staffed_to = LocalTimeField()
    staffed_days = serializers.ListField(child=serializers.IntegerField())
    stale_after_minutes = serializers.IntegerField()
    warn_attainment = serializers.FloatField(allow_null=True)
    is_active = serializers.BooleanField()
    latest_taken_at = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()

    @extend_schema_field(ApiDateTimeField(allow_null=True))
    def get_latest_taken_at(self, queue):
        snapshot = self.context["latest"].get(queue.id)
        return TIME.to_representation(snapshot.taken_at) if snapshot else None

    @extend_schema_field(HealthOutputSerializer)
    def get_health(self, queue):
        return HealthOutputSerializer(self.context["health"][queue.id]).data


class QueueDetailOutputSerializer(QueueOutputSerializer):
    latest_snapshot = serializers.SerializerMethodField()

    @extend_schema_field(SnapshotOutputSerializer(allow_null=True))
    def get_latest_snapshot(self, queue):
        snapshot = self.context["latest"].get(queue.id)
        if snapshot is None:
            return None
        snapshot.queue = queue
        return SnapshotOutputSerializer(snapshot).data


class VendorIncidentOutputSerializer(serializers.Serializer):
    """The limited view of an incident a vendor may see: what, how bad,
    where it stands and when; no people, timeline or reports."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    title_zh = serializers.CharField()
    category = serializers.CharField(source="category.code")
    severity = serializers.CharField()
    state = serializers.CharField()
    declared_at = ApiDateTimeField()
    mitigated_at = ApiDateTimeField(allow_null=True)
    resolved_at = ApiDateTimeField(allow_null=True)
    closed_at = ApiDateTimeField(allow_null=True)


class BulkCreatedOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    queues = serializers.ListField(child=serializers.IntegerField())


class RowErrorOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based row of the body; 0 for the body as a whole.")
    field = serializers.CharField()
    message = serializers.CharField()


class BulkErrorOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = RowErrorOutputSerializer(many=True)


class VendorErrorOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


# --- inputs ------------------------------------------------------------------


class EscalationLevelInputSerializer(serializers.Serializer):
    wait_minutes = serializers.IntegerField(
        min_value=1,
        max_value=24 * 60,
        default=10,
        help_text="Minutes before the next level is paged, if nobody acknowledged.",
    )
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=50,
        help_text="Ids of active operations people paged at this level.",
    )


class VendorInputSerializer(serializers.Serializer):
    """A vendor's fields (POST: code and name required; PATCH: any)."""

    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=120)
    name_zh = serializers.CharField(max_length=120, allow_blank=True, required=False)
    contract_ref = serializers.CharField(max_length=80, allow_blank=True, required=False)
    contract_start = serializers.DateField(allow_null=True, required=False)
    contract_end = serializers.DateField(allow_null=True, required=False)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=50, required=False
    )
    markets = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=50, required=False
    )
    contacts = serializers.CharField(allow_blank=True, required=False)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), allow_null=True, required=False
    )
    is_active = serializers.BooleanField(required=False)
    escalation_levels = EscalationLevelInputSerializer(
        many=True,
        required=False,
        help_text="The vendor's own escalation policy, level 1 first, at most 5 levels, each "
        "paging at least one active operations person (replaces the policy; [] for none). "
        'Refused levels answer 400 with fields such as "escalation_levels.1.user_ids" '
        "(levels counted from 1).",
    )


# The largest value of a PositiveIntegerField on every database Django supports.
MAX_COUNT = 2_147_483_647


class SiteInputSerializer(serializers.Serializer):
    """A site's details (POST: name, city, country and time zone required;
    PATCH: any). Not its status: that changes through POST
    sites/{id}/status/, with a reason, and keeps a history."""

    name = serializers.CharField(max_length=120, help_text="Unique per vendor.")
    name_zh = serializers.CharField(max_length=120, allow_blank=True, required=False)
    city = serializers.CharField(max_length=80)
    country = serializers.CharField(max_length=2, help_text="ISO 3166 code, e.g. PH.")
    time_zone = serializers.CharField(max_length=64, help_text="IANA time zone, e.g. Asia/Manila.")
    seats = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    is_active = serializers.BooleanField(required=False)


class SiteCreateInputSerializer(SiteInputSerializer):
    """A new site (operational) of the vendor `vendor_id`."""

    vendor_id = serializers.IntegerField(min_value=1)


class QueueInputSerializer(serializers.Serializer):
    """A queue's fields (POST: code and name required; PATCH: any). `site_id`
    (optional, null for none) must be a site of the queue's vendor."""

    site_id = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    code = serializers.SlugField(max_length=40, help_text="Unique per vendor.")
    name = serializers.CharField(max_length=120)
    name_zh = serializers.CharField(max_length=120, allow_blank=True, required=False)
    content_type = serializers.CharField(max_length=40, allow_blank=True, required=False)
    market = serializers.CharField(max_length=20, allow_blank=True, required=False)
    language = serializers.CharField(max_length=20, allow_blank=True, required=False)
    policy_area = serializers.CharField(max_length=60, allow_blank=True, required=False)
    sla_percent = serializers.FloatField(min_value=1, max_value=100, required=False)
    sla_minutes = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
    planned_headcount = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    staffed_from = LocalTimeField(required=False, help_text="Local time of the site.")
    staffed_to = LocalTimeField(
        required=False,
        help_text="Local time of the site; earlier than the start runs past midnight; "
        "equal is 24 hours.",
    )
    staffed_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        min_length=1,
        max_length=7,
        required=False,
        help_text="ISO weekdays the shift starts on, 1 (Monday) to 7 (Sunday).",
    )
    stale_after_minutes = serializers.IntegerField(min_value=5, max_value=MAX_COUNT, required=False)
    warn_attainment = serializers.FloatField(
        min_value=0,
        max_value=100,
        allow_null=True,
        required=False,
        help_text="Null: 2 points above the SLA target.",
    )
    is_active = serializers.BooleanField(required=False)


class QueueCreateInputSerializer(QueueInputSerializer):
    """A new queue of the vendor `vendor_id`."""

    vendor_id = serializers.IntegerField(min_value=1)


class SiteStatusInputSerializer(serializers.Serializer):
    status = site_status_field()
    reason = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="Required unless the status is operational.",
    )


class SnapshotRowInputSerializer(serializers.Serializer):
    """One queue's figures. The queue is `queue_id`, or `queue` (its code)
    with `vendor` (the vendor's code) when the caller reports for several
    vendors. `taken_at` is ISO 8601 with a UTC offset, cut to the minute, at
    most 5 minutes ahead and 7 days old. Counts are whole numbers >= 0,
    percents 0-100; `planned_headcount` defaults to the queue's."""

    queue_id = serializers.IntegerField(required=False)
    queue = serializers.CharField(required=False)
    vendor = serializers.CharField(required=False)
    taken_at = ApiDateTimeField()
    backlog = serializers.IntegerField(min_value=0)
    inflow_per_hour = serializers.FloatField(min_value=0)
    outflow_per_hour = serializers.FloatField(min_value=0)
    oldest_item_minutes = serializers.FloatField(min_value=0)
    sla_attainment = serializers.FloatField(min_value=0, max_value=100)
    staffed_headcount = serializers.IntegerField(min_value=0)
    planned_headcount = serializers.IntegerField(min_value=0, required=False)
    aht_seconds = serializers.FloatField(min_value=0, required=False, allow_null=True)
    qa_accuracy = serializers.FloatField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    escalations = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class SnapshotInputSerializer(SnapshotRowInputSerializer):
    """One snapshot: the queue by `queue_id` (required here)."""

    queue_id = serializers.IntegerField()
    queue = None
    vendor = None


class SnapshotFilterSerializer(serializers.Serializer):
    queue = serializers.IntegerField(required=False, min_value=1)
    vendor = serializers.IntegerField(required=False, min_value=1)
    since = ApiDateTimeField(required=False)
    until = ApiDateTimeField(required=False)


class QueueFilterSerializer(serializers.Serializer):
    vendor = serializers.IntegerField(required=False, min_value=1)
    site = serializers.IntegerField(required=False, min_value=1)
    health = serializers.ListField(
        child=serializers.ChoiceField(choices=LEVELS), required=False, allow_empty=True
    )


class SiteFilterSerializer(serializers.Serializer):
    vendor = serializers.IntegerField(required=False, min_value=1)
