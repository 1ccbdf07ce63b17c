"""Summaries: the CSV exports of the trends page — its metrics
(/summary/trends/metrics.csv) and its incidents with their facts
(/summary/trends/incidents.csv) — for the same period and filters.

Every number comes from incidents.metrics, as on the page; UTF-8 with a BOM
(Excel), cells that would start a formula prefixed with "'"; read only
(GET, `tscc.view_summaries`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from incidents.domain.metrics import Attainment, DurationStats, MetricKey, Outcome, Summary
from incidents.metrics import METRICS, MetricsResult, incident_facts_in_period
from incidents.sections import SummarySection, summary_sections
from incidents.views.summary_trends import (
    Filters,
    Period,
    filtered_metrics,
    parse_filters,
    require_reader,
)

# --- CSV -------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell a spreadsheet will not run: text starting like a formula gets a
    leading apostrophe (OWASP "CSV injection"). Numbers are left alone."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream() -> Iterator[bytes]:
        yield "\ufeff".encode()  # a BOM: Excel then reads UTF-8 (and Chinese) correctly
        for row in rows:
            yield writer.writerow([safe_cell(c) for c in row]).encode()

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_filters(request: HttpRequest):
    require_reader(request)
    form, filters, names, status = parse_filters(request)
    if filters is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return None, HttpResponse(errors, status=status, content_type="text/plain; charset=utf-8")
    return filters, None


def _filename(kind: str, period: Period) -> str:
    return f"tscc-{kind}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"


def metric_cells(key: MetricKey | str, summary: Summary) -> tuple:
    """(value, unit, numerator, denominator) of one metric, as the CSV writes it:
    durations in seconds (mean = sum / count), percents with met / judged."""
    raw = summary.value(key)
    if isinstance(raw, DurationStats):
        if not raw.count:
            return None, "seconds", None, 0
        mean = raw.mean.total_seconds()
        return round(mean, 1), "seconds", round(mean * raw.count, 1), raw.count
    if isinstance(raw, Attainment):
        pct = raw.percent
        return (None if pct is None else round(pct, 1)), "percent", raw.met, raw.judged
    return raw, "count", None, None


METRICS_HEADER = (
    "section",
    "metric",
    "label",
    "subject",
    "bucket",
    "bucket_start",
    "value",
    "unit",
    "numerator",
    "denominator",
    "definition",  # on each metric's total row, in the reader's language
)


def metrics_rows(result: MetricsResult, sections: Iterable[SummarySection], period: Period):
    rows: list[list] = [list(METRICS_HEADER)]
    first = period.first_day.isoformat()
    for key, definition in METRICS.items():
        label = str(definition.label)
        rows.append(
            [
                "incidents",
                key,
                label,
                "",
                "total",
                first,
                *metric_cells(key, result.totals),
                str(definition.definition),
            ]
        )
        for day, summary in result.series:
            rows.append(
                [
                    "incidents",
                    key,
                    label,
                    "",
                    result.bucket,
                    day.isoformat(),
                    *metric_cells(key, summary),
                    "",
                ]
            )
    for section in sections:
        by_label = {str(m.label): m for m in section.metrics}
        for m in section.metrics:
            value = None if m.value is None else round(m.value, 2)
            rows.append(
                [
                    section.key,
                    m.key,
                    str(m.label),
                    "",
                    "total",
                    first,
                    value,
                    m.unit,
                    None,
                    None,
                    str(m.definition),
                ]
            )
        if section.table is None:
            continue
        units = list(section.table.units) + [""] * len(section.table.columns)
        for row in section.table.rows:
            subject = str(row[0]) if row else ""
            for i, column in enumerate(section.table.columns[1:], start=1):
                metric = by_label.get(str(column))
                value = row[i] if i < len(row) else None
                if isinstance(value, float):
                    value = round(value, 2)
                rows.append(
                    [
                        section.key,
                        metric.key if metric else "",
                        str(column),
                        subject,
                        "total",
                        first,
                        value,
                        units[i] or "text",
                        None,
                        None,
                        "",
                    ]
                )
    return rows


@require_GET
@login_required
def metrics_csv(request: HttpRequest):
    filters, error = _csv_filters(request)
    if error is not None:
        return error
    period = filters.period
    result = filtered_metrics(filters, start=period.start, end=period.end)
    sections = summary_sections(start=period.start, end=period.end, time_zone=str(period.tz))
    return _csv_response(metrics_rows(result, sections, period), _filename("metrics", period))


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: timedelta | None):
    return None if value is None else int(value.total_seconds())


def _outcome(outcome: Outcome) -> str:
    return {Outcome.MET: "yes", Outcome.MISSED: "no", Outcome.PENDING: "pending"}.get(outcome, "")


def _reports_outcome(outcomes: tuple[Outcome, ...]) -> str:
    judged = [o for o in outcomes if o in (Outcome.MET, Outcome.MISSED)]
    if not judged:
        return "pending" if Outcome.PENDING in outcomes else ""
    return "yes" if all(o is Outcome.MET for o in judged) else "no"


INCIDENTS_HEADER = (
    "reference",
    "title",
    "title_zh",
    "category",
    "severity_declared",
    "severity_highest",
    "state",
    "counted",
    "declared_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "mtta_seconds",
    "mttr_seconds",
    "ack_within_target",
    "cadence_kept",
    "reports_on_time",
)


def incident_rows(filters: Filters, *, now: datetime) -> list[list]:
    """One row per incident declared in the period (excluded ones marked not
    counted), from the same facts the metrics use: five queries."""
    period = filters.period
    found = incident_facts_in_period(
        start=period.start,
        end=period.end,
        categories=filters.categories,
        teams=filters.teams,
        now=now,
    )
    if filters.severities is not None:
        wanted = set(filters.severities)
        found = [row for row in found if row[3].severity_highest.value in wanted]
    rows: list[list] = [list(INCIDENTS_HEADER)]
    for reference, title, title_zh, f in found:
        rows.append(
            [
                reference,
                title,
                title_zh,
                f.category,
                f.severity_declared.value,
                f.severity_highest.value,
                f.state.value,
                "no" if f.excluded else "yes",
                _utc(f.declared_at),
                _utc(f.acknowledged_at),
                _utc(f.mitigated_at),
                _utc(f.resolved_at),
                _seconds(f.time_to_acknowledge),
                _seconds(f.time_to_resolve),
                _outcome(f.ack_outcome),
                _outcome(f.cadence_outcome),
                _reports_outcome(f.reports),
            ]
        )
    return rows


@require_GET
@login_required
def incidents_csv(request: HttpRequest):
    filters, error = _csv_filters(request)
    if error is not None:
        return error
    rows = incident_rows(filters, now=timezone.now())
    return _csv_response(rows, _filename("incidents", filters.period))
