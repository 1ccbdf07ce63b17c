"""Summaries: trends over a period (/summary/trends/): the filter, the
tiles, the charts and the other apps' sections. Its CSV exports are
incidents.views.summary_exports, on the same filter (parse_filters).

Every number comes from incidents.metrics (one definition per metric) and
from the sections other apps add (incidents.sections); the definitions are
printed beside the numbers. Read only: GET, and `tscc.view_summaries`.
Queries: the period's metrics (four), the previous period's (four), the
other apps' sections, and the filter's choices: bounded whatever the number
of incidents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from incidents import charts
from incidents.domain.metrics import (
    SEVERITY_ORDER,
    Attainment,
    Bucket,
    DurationStats,
    MetricKey,
    Summary,
)
from incidents.labels import SEVERITY_LABELS
from incidents.metrics import (
    METRICS,
    SCOPE,
    MetricsResult,
    Unit,
    incident_metrics,
    metric_filter_choices,
)
from incidents.sections import SummarySection, summary_sections

PERMISSION = "tscc.view_summaries"
MAX_DAYS = 731  # two years, a leap day included

PERIODS = {
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "90d": gettext_lazy("Last 90 days"),
    "quarter": gettext_lazy("This quarter"),
    "12m": gettext_lazy("Last 12 months"),
    "custom": gettext_lazy("Custom dates"),
}
DEFAULT_PERIOD = "30d"
BUCKETS = {
    "": gettext_lazy("Automatic"),
    Bucket.DAY.value: gettext_lazy("By day"),
    Bucket.WEEK.value: gettext_lazy("By week"),
    Bucket.MONTH.value: gettext_lazy("By month"),
}

# The headline tiles, in order, and which way is better.
TILES = (
    MetricKey.INCIDENTS,
    MetricKey.MTTA,
    MetricKey.MTTD,
    MetricKey.MTTR,
    MetricKey.ACK_SLA,
    MetricKey.UPDATE_CADENCE,
    MetricKey.REPORTS_ON_TIME,
)
LOWER_IS_BETTER = {
    MetricKey.INCIDENTS,
    MetricKey.MTTD,
    MetricKey.MTTA,
    MetricKey.MTTM,
    MetricKey.MTTR,
}
ATTAINMENTS = (MetricKey.ACK_SLA, MetricKey.UPDATE_CADENCE, MetricKey.REPORTS_ON_TIME)

# Why a metric has no number.
NOTHING_MEASURED = {
    MetricKey.MTTD: gettext_lazy("no harm start recorded"),
    MetricKey.MTTA: gettext_lazy("no incident acknowledged"),
    MetricKey.MTTM: gettext_lazy("no incident mitigated"),
    MetricKey.MTTR: gettext_lazy("no incident resolved"),
    MetricKey.ACK_SLA: gettext_lazy("no acknowledgement target judged yet"),
    MetricKey.UPDATE_CADENCE: gettext_lazy("no update cadence judged"),
    MetricKey.REPORTS_ON_TIME: gettext_lazy("no regulatory report due"),
}
NO_INCIDENTS = gettext_lazy("no incident in the period")

SHORT_NAMES = {
    MetricKey.MTTA: "MTTA",
    MetricKey.MTTD: "MTTD",
    MetricKey.MTTM: "MTTM",
    MetricKey.MTTR: "MTTR",
}

INCIDENTS_PER = {
    Bucket.DAY: gettext_lazy("Incidents per day, by highest severity"),
    Bucket.WEEK: gettext_lazy("Incidents per week, by highest severity"),
    Bucket.MONTH: gettext_lazy("Incidents per month, by highest severity"),
}
TIMES_PER = {
    Bucket.DAY: gettext_lazy("Mean time to acknowledge and to resolve, per day"),
    Bucket.WEEK: gettext_lazy("Mean time to acknowledge and to resolve, per week"),
    Bucket.MONTH: gettext_lazy("Mean time to acknowledge and to resolve, per month"),
}
ATTAINMENT_PER = {
    Bucket.DAY: gettext_lazy("Targets met, per day"),
    Bucket.WEEK: gettext_lazy("Targets met, per week"),
    Bucket.MONTH: gettext_lazy("Targets met, per month"),
}
ATTAINMENT_CSS = {
    MetricKey.ACK_SLA: "s-1",
    MetricKey.UPDATE_CADENCE: "s-2",
    MetricKey.REPORTS_ON_TIME: "s-3",
}


# --- the filter ----------------------------------------------------------------


class TrendsForm(forms.Form):
    """The filter bar: a GET form; its values live in the address."""

    period = forms.ChoiceField(
        label=gettext_lazy("Period"), choices=list(PERIODS.items()), required=False
    )
    severity = forms.MultipleChoiceField(
        label=gettext_lazy("Severity"),
        choices=[(s.value, s.value.upper()) for s in SEVERITY_ORDER],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    category = forms.MultipleChoiceField(
        label=gettext_lazy("Category"), required=False, widget=forms.SelectMultiple
    )
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None
    )
    bucket = forms.ChoiceField(
        label=gettext_lazy("Group"), choices=list(BUCKETS.items()), required=False
    )

    def __init__(self, data, *, categories: list[tuple[str, str]], teams: list[tuple[int, str]]):
        super().__init__(data)
        # "from" and "to" are Python words: named here, not as attributes.
        self.fields["from"] = forms.DateField(label=gettext_lazy("From"), required=False)
        self.fields["to"] = forms.DateField(label=gettext_lazy("To"), required=False)
        self.fields["category"].choices = categories
        self.fields["team"].choices = [("", _("Any team")), *teams]

    def clean(self):
        data = super().clean()
        period = data.get("period") or ""
        start, end = data.get("from"), data.get("to")
        if not period:
            period = "custom" if (start or end) else DEFAULT_PERIOD
        data["period"] = period
        if period == "custom" and not self.has_error("from") and not self.has_error("to"):
            if start is None or end is None:
                raise forms.ValidationError(
                    _("Choose both a first and a last day for custom dates."), code="range"
                )
            if end < start:
                raise forms.ValidationError(
                    _("The last day must not be before the first day."), code="range"
                )
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("A period can be at most two years long."), code="range"
                )
        return data


@dataclass(frozen=True)
class Period:
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    tz: tzinfo
    bucket: Bucket
    automatic_bucket: bool

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz)

    @property
    def start(self) -> datetime:
        return self._at(self.first_day)

    @property
    def end(self) -> datetime:
        return self._at(self.last_day + timedelta(days=1))

    @property
    def previous(self) -> tuple[datetime, datetime]:
        """The period of equal length just before this one."""
        return self._at(self.first_day - timedelta(days=self.days)), self.start


def automatic_bucket(days: int) -> Bucket:
    if days <= 31:
        return Bucket.DAY
    if days <= 180:
        return Bucket.WEEK
    return Bucket.MONTH


def period_days(period: str, *, today: date, first: date | None, last: date | None):
    """(first day, last day), both inclusive, local, for a period choice."""
    if period == "custom":
        return first, last
    if period in ("7d", "30d", "90d"):
        return today - timedelta(days=int(period[:-1]) - 1), today
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    # 12m: this month and the eleven before it.
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1), today


@dataclass(frozen=True)
class Filters:
    period: Period
    choice: str
    severities: list[str] | None
    categories: list[str] | None
    teams: list[int] | None


def parse_filters(request: HttpRequest):
    """(form, filters or None, category names, status for an invalid form)."""
    names, active, teams = metric_filter_choices()
    form = TrendsForm(request.GET or None, categories=active, teams=teams)
    if request.GET and not form.is_valid():
        status = 400 if any(f != "__all__" for f in form.errors) else 422
        return form, None, names, status
    data = form.cleaned_data if request.GET else {"period": DEFAULT_PERIOD}
    tz = timezone.get_current_timezone()
    today = timezone.now().astimezone(tz).date()
    first, last = period_days(
        data["period"], today=today, first=data.get("from"), last=data.get("to")
    )
    days = (last - first).days + 1
    chosen = data.get("bucket") or ""
    bucket = Bucket(chosen) if chosen else automatic_bucket(days)
    filters = Filters(
        period=Period(first, last, tz, bucket, automatic_bucket=not chosen),
        choice=data["period"],
        severities=data.get("severity") or None,
        categories=data.get("category") or None,
        teams=[data["team"]] if data.get("team") else None,
    )
    return form, filters, names, 200


def require_reader(request: HttpRequest) -> None:
    """Executives, ops managers and admins read the summaries; nobody else."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def filtered_metrics(filters: Filters, *, start: datetime, end: datetime) -> MetricsResult:
    """The incident metrics of [start, end) under the page's filters."""
    return incident_metrics(
        start=start,
        end=end,
        severities=filters.severities,
        categories=filters.categories,
        teams=filters.teams,
        bucket=filters.period.bucket,
        time_zone=filters.period.tz,
    )


# --- texts -----------------------------------------------------------------------


def duration_text(value: timedelta | float | None) -> str:
    """ "42 min", "1h 12m", "3d 04h"; "<1 min"; "—" for nothing."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("<1 min")
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": rest}
    return _("%(d)dd %(h)02dh") % {"d": hours // 24, "h": hours % 24}


def percent_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{formats.number_format(round(value, 1), 1)}%"


def count_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return formats.number_format(round(value, 1), 1)
    return formats.number_format(int(value), 0, force_grouping=True)


def _value(summary: Summary, key: MetricKey):
    """A metric's number: count, mean duration, or percent (None: nothing measured)."""
    raw = summary.value(key)
    if isinstance(raw, DurationStats):
        return raw.mean
    if isinstance(raw, Attainment):
        return raw.percent
    return raw


def _text(key: MetricKey, value) -> str:
    unit = METRICS[key].unit
    if unit == Unit.DURATION:
        return duration_text(value)
    if unit == Unit.PERCENT:
        return percent_text(value)
    return count_text(value)


def _delta(key: MetricKey, current, previous) -> dict | None:
    """The change from the previous period: arrow, amount, tone."""
    if current is None or previous is None:
        return None
    unit = METRICS[key].unit
    if isinstance(current, timedelta):
        current, previous = current.total_seconds(), previous.total_seconds()
    diff = current - previous
    if unit == Unit.PERCENT:
        amount = _("%(n)s pts") % {"n": formats.number_format(round(abs(diff), 1), 1)}
    elif previous == 0:
        amount = ""  # up from nothing: no percentage to give
    else:
        amount = f"{formats.number_format(round(abs(100.0 * diff / previous), 1), 1)}%"
    if abs(diff) < 1e-9:
        return {"arrow": "＝", "amount": _("no change"), "tone": "same"}
    up = diff > 0
    better = (not up) if key in LOWER_IS_BETTER else up
    return {"arrow": "▲" if up else "▼", "amount": amount, "tone": "good" if better else "bad"}


def _detail(key: MetricKey, summary: Summary, excluded: int) -> str:
    raw = summary.value(key)
    if isinstance(raw, DurationStats):
        if not raw.count:
            return ""
        return ngettext(
            "median %(median)s · p90 %(p90)s · %(n)d incident",
            "median %(median)s · p90 %(p90)s · %(n)d incidents",
            raw.count,
        ) % {"median": duration_text(raw.median), "p90": duration_text(raw.p90), "n": raw.count}
    if isinstance(raw, Attainment):
        return (
            _("%(met)d of %(judged)d") % {"met": raw.met, "judged": raw.judged}
            if raw.judged
            else ""
        )
    if excluded:
        return ngettext(
            "%(n)d merged or cancelled left out",
            "%(n)d merged or cancelled left out",
            excluded,
        ) % {"n": excluded}
    return ""


def _why(key: MetricKey, summary: Summary) -> str:
    if summary.incidents == 0:
        return str(NO_INCIDENTS)
    return str(NOTHING_MEASURED.get(key, ""))


def tiles(current: MetricsResult, previous: MetricsResult) -> list[dict]:
    excluded = sum(current.excluded.values())
    out = []
    for key in TILES:
        definition = METRICS[key]
        value = _value(current.totals, key)
        before = _value(previous.totals, key)
        out.append(
            {
                "key": key.value,
                "label": definition.label,
                "short": SHORT_NAMES.get(key, ""),
                "definition": definition.definition,
                "value": value,
                "text": _text(key, value),
                "why": "" if value is not None else _why(key, current.totals),
                "detail": _detail(key, current.totals, excluded),
                "delta": _delta(key, value, before),
                "previous": _text(key, before),
                "meter": (
                    charts.meter(percent=value, title=f"{definition.label}: {_text(key, value)}")
                    if definition.unit == Unit.PERCENT
                    else ""
                ),
            }
        )
    return out


# --- charts ----------------------------------------------------------------------


def _bucket_label(day: date, bucket: Bucket) -> str:
    if bucket is Bucket.MONTH:
        return f"{day:%Y-%m}"
    return f"{day.month}/{day.day}"


def _bucket_name(day: date, bucket: Bucket) -> str:
    if bucket is Bucket.MONTH:
        return formats.date_format(day, "YEAR_MONTH_FORMAT")
    if bucket is Bucket.WEEK:
        return _("Week of %(day)s") % {"day": formats.date_format(day, "DATE_FORMAT")}
    return formats.date_format(day, "DATE_FORMAT")


def _minutes_axis(top_minutes: float):
    """(rounded top in minutes, tick text) for a duration axis."""
    if top_minutes <= 90:
        top = max(charts.nice_max(top_minutes), 4)
        return top, lambda v: ngettext("%(n)d min", "%(n)d min", int(v)) % {"n": int(v)}
    if top_minutes <= 72 * 60:
        top = charts.nice_max(top_minutes / 60) * 60
        return top, lambda v: _("%(n)s h") % {"n": f"{v / 60:g}"}
    top = charts.nice_max(top_minutes / 1440) * 1440
    return top, lambda v: _("%(n)s d") % {"n": f"{v / 1440:g}"}


def chart_context(result: MetricsResult, names: dict[str, str], severities) -> dict:
    bucket = Bucket(result.bucket)
    days = [day for day, _s in result.series]
    labels = [_bucket_label(d, bucket) for d in days]
    tooltips = [_bucket_name(d, bucket) for d in days]
    shown = [s for s in SEVERITY_ORDER if severities is None or s.value in severities]

    incidents_chart = charts.stacked_bars(
        title=str(INCIDENTS_PER[bucket]),
        desc=_("%(n)d incidents in the period.") % {"n": result.totals.incidents},
        labels=labels,
        tooltips=tooltips,
        stacks=[
            [
                (
                    f"s-{sev.value}",
                    s.by_severity[sev.value],
                    f"{sev.value.upper()} {s.by_severity[sev.value]}",
                )
                for sev in reversed(shown)  # the least severe at the bottom
            ]
            for _d, s in result.series
        ],
    )
    severity_legend = [
        {
            "css": f"s-{sev.value}",
            "swatch": charts.swatch(f"s-{sev.value}"),
            "label": SEVERITY_LABELS[sev],
            "count": result.totals.by_severity[sev.value],
        }
        for sev in shown
    ]

    def minutes(stats: DurationStats):
        return None if stats.mean is None else stats.mean.total_seconds() / 60

    mtta = [minutes(s.mtta) for _d, s in result.series]
    mttr = [minutes(s.mttr) for _d, s in result.series]
    top, tick = _minutes_axis(max([v for v in mtta + mttr if v is not None], default=0))
    times_chart = charts.line_chart(
        title=str(TIMES_PER[bucket]),
        desc=_("Mean of the incidents declared in each period; gaps where none was measured."),
        labels=labels,
        tooltips=tooltips,
        lines=[
            charts.Line(
                "s-1", "MTTA", mtta, [duration_text(s.mtta.mean) for _d, s in result.series]
            ),
            charts.Line(
                "s-2", "MTTR", mttr, [duration_text(s.mttr.mean) for _d, s in result.series]
            ),
        ],
        y_text=tick,
        top=top,
    )
    times_legend = [
        {
            "swatch": charts.swatch(css),
            "label": METRICS[key].label,
            "short": SHORT_NAMES[key],
            "text": duration_text(result.totals.value(key).mean),
        }
        for key, css in ((MetricKey.MTTA, "s-1"), (MetricKey.MTTR, "s-2"))
    ]

    category_rows = sorted(
        result.totals.by_category.items(), key=lambda item: (-item[1], names.get(item[0], item[0]))
    )
    categories_chart = (
        charts.hbars(
            title=_("Incidents by category"),
            desc=", ".join(f"{names.get(c, c)} {n}" for c, n in category_rows),
            rows=[(names.get(c, c), n, count_text(n)) for c, n in category_rows],
        )
        if category_rows
        else ""
    )

    attainment_chart = charts.line_chart(
        title=str(ATTAINMENT_PER[bucket]),
        desc=_("Share of each target met, per period; gaps where nothing was judged."),
        labels=labels,
        tooltips=tooltips,
        lines=[
            charts.Line(
                ATTAINMENT_CSS[key],
                str(METRICS[key].label),
                [s.value(key).percent for _d, s in result.series],
                [percent_text(s.value(key).percent) for _d, s in result.series],
            )
            for key in ATTAINMENTS
        ],
        y_text=lambda v: f"{v:g}%",
        top=100.0,
    )
    attainment_legend = [
        {
            "swatch": charts.swatch(ATTAINMENT_CSS[key]),
            "label": METRICS[key].label,
            "text": percent_text(result.totals.value(key).percent),
        }
        for key in ATTAINMENTS
    ]
    per_bucket = [
        {
            "name": tooltips[i],
            "incidents": s.incidents,
            "mtta": duration_text(s.mtta.mean),
            "mttr": duration_text(s.mttr.mean),
            "attainments": [percent_text(s.value(k).percent) for k in ATTAINMENTS],
        }
        for i, (_d, s) in enumerate(result.series)
    ]
    return {
        "incidents_title": INCIDENTS_PER[bucket],
        "times_title": TIMES_PER[bucket],
        "attainment_title": ATTAINMENT_PER[bucket],
        "incidents_chart": incidents_chart,
        "severity_legend": severity_legend,
        "times_chart": times_chart,
        "times_legend": times_legend,
        "categories_chart": categories_chart,
        "category_count": len(category_rows),
        "attainment_chart": attainment_chart,
        "attainment_legend": attainment_legend,
        "per_bucket": per_bucket,
    }


def severity_rows(result: MetricsResult, severities) -> list[dict]:
    rows = []
    for sev in SEVERITY_ORDER:
        if severities is not None and sev.value not in severities:
            continue
        s = result.by_severity[sev.value]
        rows.append(
            {
                "severity": sev.value,
                "count": s.incidents,
                "mtta": duration_text(s.mtta.mean),
                "mttr": duration_text(s.mttr.mean),
                "attainments": [_attainment_cell(s.value(k)) for k in ATTAINMENTS],
            }
        )
    return rows


def _attainment_cell(a: Attainment) -> dict:
    return {
        "text": percent_text(a.percent),
        "title": _("%(met)d of %(judged)d") % {"met": a.met, "judged": a.judged},
    }


def section_value_text(unit: str, value) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return percent_text(value)
    if unit == "duration":
        return duration_text(value)
    if unit == "count":
        return count_text(value)
    if unit == "number":
        return formats.number_format(round(value, 1), 1)
    return str(value)


def sections_context(sections: Iterable[SummarySection]) -> list[dict]:
    """The other apps' sections, ready to print generically."""
    out = []
    for section in sections:
        metrics = [
            {
                "key": m.key,
                "label": m.label,
                "definition": m.definition,
                "text": section_value_text(m.unit, m.value),
                "why": _("nothing to measure in the period") if m.value is None else "",
                "detail": m.detail,
                "meter": (
                    # Neutral: a section does not say whether more is better.
                    charts.meter(
                        percent=m.value,
                        title=f"{m.label}: {percent_text(m.value)}",
                        css="neutral",
                    )
                    if m.unit == "percent"
                    else ""
                ),
            }
            for m in section.metrics
        ]
        table = None
        if section.table is not None:
            units = list(section.table.units) + [""] * len(section.table.columns)
            table = {
                "columns": [
                    {"label": c, "numeric": bool(units[i])}
                    for i, c in enumerate(section.table.columns)
                ],
                "rows": [
                    [
                        {
                            "text": section_value_text(units[i], cell) if units[i] else cell,
                            "numeric": bool(units[i]),
                        }
                        for i, cell in enumerate(row)
                    ]
                    for row in section.table.rows
                ],
            }
        out.append(
            {
                "key": section.key,
                "title": section.title,
                "metrics": metrics,
                "table": table,
                "link": section.link,
            }
        )
    return out


# --- the page --------------------------------------------------------------------


def _period_text(period: Period) -> str:
    return _("%(first)s – %(last)s") % {
        "first": formats.date_format(period.first_day, "DATE_FORMAT"),
        "last": formats.date_format(period.last_day, "DATE_FORMAT"),
    }


@require_GET
@login_required
def trends(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    form, filters, names, status = parse_filters(request)
    context = {
        "form": form,
        "scope": SCOPE,
        "exports": export_links(request.GET.urlencode()),
        "invalid": filters is None,
        "errors": [
            ("" if name == "__all__" else form.fields[name].label, message)
            for name, messages in form.errors.items()
            for message in messages
        ],
    }
    if filters is not None:
        period = filters.period
        current = filtered_metrics(filters, start=period.start, end=period.end)
        prev_start, prev_end = period.previous
        previous = filtered_metrics(filters, start=prev_start, end=prev_end)
        context.update(
            {
                "filters": filters,
                "period_text": _period_text(period),
                "previous_text": _period_text(
                    Period(
                        period.first_day - timedelta(days=period.days),
                        period.first_day - timedelta(days=1),
                        period.tz,
                        period.bucket,
                        True,
                    )
                ),
                "bucket_name": {
                    Bucket.DAY: _("day"),
                    Bucket.WEEK: _("week"),
                    Bucket.MONTH: _("month"),
                }[period.bucket],
                "result": current,
                "tiles": tiles(current, previous),
                "severity_rows": severity_rows(current, filters.severities),
                "attainment_labels": [METRICS[k].label for k in ATTAINMENTS],
                "sections": sections_context(
                    summary_sections(start=period.start, end=period.end, time_zone=str(period.tz))
                ),
                "excluded": sum(current.excluded.values()),
                **chart_context(current, names, filters.severities),
            }
        )
    template = (
        "incidents/summaries/trends_results.html"
        if request.htmx and request.htmx.target == "trends-results"
        else "incidents/summaries/trends.html"
    )
    return render(request, template, context, status=status)


def export_links(query: str) -> dict[str, str]:
    suffix = f"?{query}" if query else ""
    return {
        "metrics": reverse("summaries:metrics-csv") + suffix,
        "incidents": reverse("summaries:incidents-csv") + suffix,
    }
