"""GET /api/v1/metrics/: every incident metric over a period, as the trends
page shows them (incidents.metrics), with the sections other apps add
(incidents.sections: vendors answer with vendor health and queue SLA).

Durations are in seconds; attainment is {met, judged, percent}. Texts
(labels, definitions, section titles) are in the request's language.
Read by executives, ops managers and admins (tscc.view_summaries), with a
session or an API token of such a user; BPO leads and vendor tokens are
refused. The queries do not grow with the number of incidents.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.domain.metrics import Attainment, Bucket, DurationStats, Summary
from incidents.domain.severity import Severity
from incidents.exceptions import NotAllowed
from incidents.metrics import METRICS, SCOPE, incident_metrics
from incidents.sections import SectionMetric, SectionTable, SummarySection, summary_sections
from tscc.api.fields import DateTimeField as ApiDateTimeField

PERMISSION = "tscc.view_summaries"
DEFAULT_DAYS = 30
LONGEST = timedelta(days=731)  # two years (one of them a leap year)


class CanReadSummaries(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.user.has_perm(PERMISSION):
            return True
        raise NotAllowed(str(_("Your role cannot read the summaries.")))


# --- input --------------------------------------------------------------------------


class MomentField(serializers.CharField):
    """An ISO 8601 date or datetime. A datetime without an offset, and a date
    (its midnight; as `end`, the midnight after it: the whole day counts),
    are read in the request's time zone."""

    default_error_messages = {
        "invalid": _("Give an ISO 8601 date (2026-03-01) or date and time (2026-03-01T09:00)."),
    }

    def __init__(self, *, whole_day_after: bool = False, **kwargs):
        self.whole_day_after = whole_day_after
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime | Any:
        text = super().to_internal_value(data)
        try:
            day = parse_date(text)
            moment = None if day is not None else parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if moment is None and day is None:
            self.fail("invalid")
        return moment if moment is not None else (day, self.whole_day_after)


class MetricsQuerySerializer(serializers.Serializer):
    start = MomentField(required=False)
    end = MomentField(required=False, whole_day_after=True)
    severity = serializers.ListField(
        child=serializers.ChoiceField(choices=[s.value for s in Severity]), required=False
    )
    category = serializers.ListField(child=serializers.SlugField(max_length=40), required=False)
    team = serializers.IntegerField(min_value=1, required=False)
    bucket = serializers.ChoiceField(choices=[b.value for b in Bucket], default=Bucket.WEEK.value)
    time_zone = serializers.CharField(max_length=64, required=False)

    def validate_time_zone(self, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(
                _("Unknown time zone %(zone)s: give an IANA name such as Asia/Shanghai.")
                % {"zone": value}
            ) from None
        return value

    def validate(self, attrs: dict) -> dict:
        name = attrs.get("time_zone") or timezone.get_current_timezone_name()
        tz = zoneinfo.ZoneInfo(name)
        now = timezone.now()
        end = _moment(attrs.get("end"), tz) or now
        start = _moment(attrs.get("start"), tz) or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise serializers.ValidationError({"end": [_("The end must come after the start.")]})
        if end - start > LONGEST:
            raise serializers.ValidationError(
                {"start": [_("The period can be at most two years long.")]}
            )
        return {**attrs, "start": start, "end": end, "time_zone": name, "tz": tz}


def _moment(value, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, tz)
    day, whole_day_after = value
    if whole_day_after:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time()), tz)


# --- output (the schema; the answer is built as plain values) --------------------------


class DurationOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True, help_text="Seconds.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds.")
    p90 = serializers.FloatField(
        allow_null=True, help_text="Seconds; 90th percentile, nearest rank."
    )


class AttainmentOutputSerializer(serializers.Serializer):
    met = serializers.IntegerField()
    judged = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="null when nothing was judged.")


class MetricSummaryOutputSerializer(serializers.Serializer):
    incidents = serializers.IntegerField()
    by_severity = serializers.DictField(
        child=serializers.IntegerField(), help_text="Incidents by highest severity reached."
    )
    by_category = serializers.DictField(
        child=serializers.IntegerField(), help_text="Incidents by category code."
    )
    mttd = DurationOutputSerializer()
    mtta = DurationOutputSerializer()
    mttm = DurationOutputSerializer()
    mttr = DurationOutputSerializer()
    ack_sla = AttainmentOutputSerializer()
    update_cadence = AttainmentOutputSerializer()
    reports_on_time = AttainmentOutputSerializer()


class MetricDefinitionOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    definition = serializers.CharField()
    unit = serializers.CharField(help_text="count, duration (seconds) or percent.")


class MetricPeriodOutputSerializer(serializers.Serializer):
    start = ApiDateTimeField()
    end = ApiDateTimeField(help_text="Exclusive.")
    time_zone = serializers.CharField()


class MetricGroupOutputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="A severity or a category code.")
    metrics = MetricSummaryOutputSerializer()


class MetricBucketOutputSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The bucket's first day, in the time zone.")
    metrics = MetricSummaryOutputSerializer()


class SectionMetricOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    definition = serializers.CharField()
    unit = serializers.CharField(help_text="percent, count, duration (seconds) or number.")
    value = serializers.FloatField(allow_null=True)
    detail = serializers.CharField()


class SectionTableOutputSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="Cells: text, a number or null.",
    )
    units = serializers.ListField(child=serializers.CharField())


class SectionOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    metrics = SectionMetricOutputSerializer(many=True)
    table = SectionTableOutputSerializer(allow_null=True)
    link = serializers.CharField()


class MetricsOutputSerializer(serializers.Serializer):
    period = MetricPeriodOutputSerializer()
    bucket = serializers.ChoiceField(choices=[b.value for b in Bucket])
    scope = serializers.CharField()
    definitions = MetricDefinitionOutputSerializer(many=True)
    totals = MetricSummaryOutputSerializer()
    by_severity = MetricGroupOutputSerializer(many=True)
    by_category = MetricGroupOutputSerializer(many=True)
    series = MetricBucketOutputSerializer(many=True)
    excluded = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Incidents left out, by final state (merged, cancelled).",
    )
    sections = SectionOutputSerializer(many=True)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _duration(stats: DurationStats) -> dict:
    return {
        "count": stats.count,
        "mean": _seconds(stats.mean),
        "median": _seconds(stats.median),
        "p90": _seconds(stats.p90),
    }


def _attainment(a: Attainment) -> dict:
    return {"met": a.met, "judged": a.judged, "percent": a.percent}


def summary_json(s: Summary) -> dict:
    return {
        "incidents": s.incidents,
        "by_severity": s.by_severity,
        "by_category": s.by_category,
        "mttd": _duration(s.mttd),
        "mtta": _duration(s.mtta),
        "mttm": _duration(s.mttm),
        "mttr": _duration(s.mttr),
        "ack_sla": _attainment(s.ack_sla),
        "update_cadence": _attainment(s.update_cadence),
        "reports_on_time": _attainment(s.reports_on_time),
    }


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Promise) else value


def section_json(section: SummarySection) -> dict:
    """A section, whatever it holds: texts rendered in the active language."""

    def metric(m: SectionMetric) -> dict:
        return {
            "key": m.key,
            "label": str(m.label),
            "definition": str(m.definition),
            "unit": m.unit,
            "value": m.value,
            "detail": str(m.detail),
        }

    def table(t: SectionTable | None) -> dict | None:
        if t is None:
            return None
        return {
            "columns": [str(c) for c in t.columns],
            "rows": [[_text(cell) for cell in row] for row in t.rows],
            "units": list(t.units),
        }

    return {
        "key": section.key,
        "title": str(section.title),
        "metrics": [metric(m) for m in section.metrics],
        "table": table(section.table),
        "link": section.link,
    }


# --- the view ---------------------------------------------------------------------------

PARAMETERS = [
    OpenApiParameter(
        "start",
        OpenApiTypes.STR,
        description="ISO 8601 date or datetime; default: 30 days before the end.",
    ),
    OpenApiParameter(
        "end",
        OpenApiTypes.STR,
        description="ISO 8601 date (the whole day included) or datetime (exclusive); "
        "default: now. At most two years after the start.",
    ),
    OpenApiParameter(
        "severity",
        OpenApiTypes.STR,
        many=True,
        explode=True,
        enum=[s.value for s in Severity],
        description="Highest severity reached; repeat for several.",
    ),
    OpenApiParameter(
        "category", OpenApiTypes.STR, many=True, explode=True, description="Category codes."
    ),
    OpenApiParameter("team", OpenApiTypes.INT, description="The owning team's id."),
    OpenApiParameter(
        "bucket",
        OpenApiTypes.STR,
        enum=[b.value for b in Bucket],
        description="The series' step (default week; weeks start on Monday).",
    ),
    OpenApiParameter(
        "time_zone",
        OpenApiTypes.STR,
        description="IANA name for dates and buckets; default: the caller's.",
    ),
]


class MetricsApi(APIView):
    """GET: every incident metric over incidents declared in [start, end):
    totals, by highest severity, by category, a series by bucket, their
    definitions, and the sections other apps add (vendors)."""

    permission_classes = [IsAuthenticated, CanReadSummaries]

    @extend_schema(
        operation_id="v1_metrics_retrieve",
        summary="Incident metrics over a period",
        parameters=PARAMETERS,
        responses={
            200: MetricsOutputSerializer,
            400: OpenApiResponse(description="Invalid parameters, by field."),
            403: OpenApiResponse(description="The caller may not read the summaries."),
        },
    )
    def get(self, request):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        result = incident_metrics(
            start=q["start"],
            end=q["end"],
            severities=q.get("severity") or None,
            categories=q.get("category") or None,
            teams=[q["team"]] if q.get("team") else None,
            bucket=q["bucket"],
            time_zone=q["tz"],
        )
        sections = summary_sections(start=q["start"], end=q["end"], time_zone=q["time_zone"])
        return Response(
            {
                "period": {
                    "start": q["start"].astimezone(q["tz"]).isoformat(),
                    "end": q["end"].astimezone(q["tz"]).isoformat(),
                    "time_zone": q["time_zone"],
                },
                "bucket": result.bucket,
                "scope": str(SCOPE),
                "definitions": [
                    {
                        "key": d.key,
                        "label": str(d.label),
                        "definition": str(d.definition),
                        "unit": d.unit,
                    }
                    for d in METRICS.values()
                ],
                "totals": summary_json(result.totals),
                "by_severity": [
                    {"key": k, "metrics": summary_json(v)} for k, v in result.by_severity.items()
                ],
                "by_category": [
                    {"key": k, "metrics": summary_json(v)} for k, v in result.by_category.items()
                ],
                "series": [
                    {"start": day.isoformat(), "metrics": summary_json(s)}
                    for day, s in result.series
                ],
                "excluded": result.excluded,
                "sections": [section_json(s) for s in sections],
            }
        )
