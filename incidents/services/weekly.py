"""The weekly report: what it shows, how it reads (Chinese first, then
English, in one message) and how it is sent.

Sending is durable (ARCHITECTURE.md): each list's report for a week is a
WeeklyReportRun row, created by the beat sweep once the list's local send
time has passed, claimed under lock and marked sent, so two sweeps (or two
workers) send it once. A failed attempt is recorded and retried with backoff,
at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from incidents.domain.metrics import SEVERITY_ORDER, Outcome, Summary
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.labels import SEVERITY_LABELS, STATE_LABELS
from incidents.metrics import (
    METRICS,
    SCOPE,
    DueReport,
    Unit,
    incident_metrics,
    incidents_open_at,
    incidents_resolved_between,
    reports_due_between,
    reports_owed_from_before,
)
from incidents.models import Incident, RegulatoryReport, WeeklyReportList, WeeklyReportRun
from incidents.rules import manages
from incidents.sections import summary_sections

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
MAX_ATTEMPTS = 5
# A claim lapses after this, so a run whose worker died mid-send is retried.
SENDING_LEASE = timedelta(minutes=15)
ROW_LIMIT = 50  # incidents per list in the e-mail; the rest are counted
# Always bilingual, whatever the language: not a translatable string.
SUBJECT = "TSCC 每周报告 / Weekly report · {week}"
LANGUAGES = ("zh-hans", "en")

BAD_WEEK = _("“%(week)s” is not an ISO week such as 2026-W47.")
NOT_MANAGER = _("Only ops managers and admins may send the weekly report now.")
NO_LIST = _("There is no such weekly report list.")


# --- weeks (pure) ----------------------------------------------------------------


def week_monday(moment: datetime, tz: tzinfo) -> date:
    """The local Monday of the week `moment` falls in, in zone `tz`."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def week_bounds(monday: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local to `tz`, as aware UTC times."""
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + WEEK, time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def due_week(
    now: datetime, *, weekday: int, hour: int, time_zone: str, since: datetime | None = None
) -> date | None:
    """The Monday of the week to report when this week's send time (local
    `weekday` and `hour`) has passed by `now`, else None. A send time before
    `since` (the list's creation) is not due: lists do not send backwards."""
    tz = ZoneInfo(time_zone)
    this_monday = week_monday(now, tz)
    slot = datetime.combine(this_monday + timedelta(days=weekday), time(hour), tzinfo=tz)
    if now < slot or (since is not None and since > slot):
        return None
    return this_monday - WEEK


def iso_week(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> date:
    """The Monday of ISO week `text` ("2026-W47"); InvalidInput otherwise."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", (text or "").strip())
    try:
        if match is None:
            raise ValueError(text)
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(str(BAD_WEEK % {"week": text}), code="bad_week") from None


def backoff(attempts: int) -> timedelta:
    """5, 10, 20, 40 minutes after the 1st, 2nd, 3rd, 4th failed attempt."""
    return timedelta(minutes=5 * 2 ** max(0, attempts - 1))


# --- what the report shows -------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: Any
    definition: Any
    unit: str
    value: Any  # int, timedelta or percent (float); None when nothing measured
    previous: Any
    detail: str  # "3 of 4 judged", "over 2 incidents"
    change: str  # "up", "down", "same" or "" (not comparable)
    better: bool | None  # did it move the good way? None when unchanged/unknown


LOWER_IS_BETTER = {Unit.COUNT, Unit.DURATION}


def _metric_value(summary: Summary, key: str, unit: str) -> tuple[Any, float | None, str]:
    value = summary.value(key)
    if unit == Unit.DURATION:
        if value.mean is None:
            return None, None, ""
        return value.mean, value.mean.total_seconds(), f"n={value.count}"
    if unit == Unit.PERCENT:
        return value.percent, value.percent, f"{value.met}/{value.judged}" if value.judged else ""
    return value, float(value), ""


def _metric_rows(current: Summary, previous: Summary) -> list[MetricRow]:
    rows = []
    for key, definition in METRICS.items():
        value, number, detail = _metric_value(current, key, definition.unit)
        before, before_number, _detail = _metric_value(previous, key, definition.unit)
        change, better = "", None
        if number is not None and before_number is not None:
            change = (
                "up" if number > before_number else "down" if number < before_number else "same"
            )
            if change != "same":
                better = (change == "down") == (definition.unit in LOWER_IS_BETTER)
        rows.append(
            MetricRow(
                key,
                definition.label,
                definition.definition,
                definition.unit,
                value,
                before,
                detail,
                change,
                better,
            )  # fmt: skip
        )
    return rows


def _severity_rows(current: Summary, previous: Summary) -> list[dict]:
    rows = []
    for severity in SEVERITY_ORDER:
        now_n, before_n = current.by_severity[severity.value], previous.by_severity[severity.value]
        change = "up" if now_n > before_n else "down" if now_n < before_n else "same"
        rows.append(
            {
                "severity": severity.value,
                "label": SEVERITY_LABELS[severity],
                "count": now_n,
                "previous": before_n,
                "change": change,
            }
        )
    return rows


REPORT_STATUS_LABELS = {
    "on_time": _("Submitted on time"),
    "late": _("Submitted late"),
    "overdue": _("Not submitted, overdue"),
    "due": _("Not submitted, not yet due"),
}
INCIDENT_BLOCK_TITLES = {
    "declared": _("Declared this week"),
    "resolved": _("Resolved this week"),
    "open": _("Still open at the end of the week"),
}

INCIDENT_COLUMNS = ("id", "year", "number", "title", "title_zh", "severity", "state")


def _incident_rows(incidents, *, end: datetime) -> dict:
    rows = []
    total = 0
    for total, row in enumerate(incidents.values(*INCIDENT_COLUMNS, "declared_at"), start=1):
        if total > ROW_LIMIT:
            continue
        rows.append(
            {
                "reference": f"INC-{row['year']}-{row['number']:05d}",
                "title_en": row["title"],
                "title_zh": row["title_zh"] or row["title"],
                "severity": row["severity"],
                "severity_label": SEVERITY_LABELS.get(row["severity"], row["severity"]),
                "state_label": STATE_LABELS.get(row["state"], row["state"]),
                "declared_at": row["declared_at"],
                "age": end - row["declared_at"],
            }
        )
    return {"rows": rows, "total": total, "more": max(0, total - ROW_LIMIT)}


def _report_status(report: DueReport) -> str:
    if report.outcome is Outcome.MET:
        return "on_time"
    if report.outcome is Outcome.MISSED:
        return "late" if report.submitted_at is not None else "overdue"
    return "due"


def _report_rows(*, start: datetime, end: datetime, now: datetime) -> dict:
    """Regulatory reports due in the week (not-required ones left out), each
    on time, late or still owed, judged by the reports-on-time metric's
    rule; and how many are owed from before the week."""
    rows = []
    for report in reports_due_between(start=start, end=end, now=now):
        status = _report_status(report)
        rows.append(
            {
                "reference": report.reference,
                "authority": report.authority,
                "kind_label": RegulatoryReport.Kind(report.kind).label,
                "due_at": report.due_at,
                "submitted_at": report.submitted_at,
                "status": status,
                "status_label": REPORT_STATUS_LABELS[status],
            }
        )
    late = sum(1 for r in rows if r["status"] in ("late", "overdue"))
    return {"rows": rows, "late": late, "owed_from_before": reports_owed_from_before(start)}


def _cell(value: Any, unit: str) -> Any:
    return timedelta(seconds=value) if unit == "duration" and value is not None else value


def _section_view(section) -> dict:
    """A SummarySection as the templates print it (durations as timedelta)."""
    table = None
    if section.table is not None:
        units = list(section.table.units)
        units += [""] * (len(section.table.columns) - len(units))
        table = {
            "columns": section.table.columns,
            "rows": [
                [{"value": _cell(v, u), "unit": u} for v, u in zip(row, units, strict=False)]
                for row in section.table.rows
            ],
        }
    metrics = [
        {
            "label": m.label,
            "definition": m.definition,
            "unit": m.unit,
            "value": _cell(m.value, m.unit),
            "detail": m.detail,
        }
        for m in section.metrics
    ]
    return {"key": section.key, "title": section.title, "metrics": metrics, "table": table}


def weekly_report_context(
    *, start: datetime, end: datetime, time_zone: str, now: datetime | None = None
) -> dict:
    """Everything the weekly report shows for [start, end) (a local week in
    `time_zone`): metrics against the week before, incidents declared and
    resolved in it, those still open at its end (open now or resolved after
    it), regulatory reports due in it, metric definitions and the other apps'
    sections. Read-only; about a dozen queries whatever the week holds."""
    now = now or timezone.now()
    tz = ZoneInfo(time_zone)
    local_start = start.astimezone(tz)
    previous_start = (local_start - WEEK).astimezone(UTC)
    current = incident_metrics(start=start, end=end, time_zone=time_zone, now=now)
    before = incident_metrics(start=previous_start, end=start, time_zone=time_zone, now=now)
    incidents = Incident.objects.order_by("declared_at", "id")
    resolved = incidents_resolved_between(start=start, end=end).order_by("declared_at", "id")
    still_open = incidents_open_at(end)
    return {
        "week": iso_week(local_start.date()),
        "start": start,
        "end": end,
        "first_day": local_start.date(),
        "last_day": (end.astimezone(tz) - timedelta(days=1)).date(),
        "time_zone": time_zone,
        "metrics": _metric_rows(current.totals, before.totals),
        "severities": _severity_rows(current.totals, before.totals),
        "excluded": sum(current.excluded.values()),
        "incident_blocks": [
            {"key": key, "title": INCIDENT_BLOCK_TITLES[key], "list": _incident_rows(qs, end=end)}
            for key, qs in (
                ("declared", incidents.filter(declared_at__gte=start, declared_at__lt=end)),
                ("resolved", resolved),
                ("open", still_open.order_by("severity", "declared_at", "id")),
            )
        ],
        "reports": _report_rows(start=start, end=end, now=now),
        "definitions": [(d.label, d.definition) for d in METRICS.values()],
        "scope": SCOPE,
        "sections": [
            _section_view(section)
            for section in summary_sections(start=start, end=end, time_zone=time_zone)
        ],
        "base_url": settings.TSCC_BASE_URL.rstrip("/"),
    }


def weekly_report_render(context: dict) -> tuple[str, str, str]:
    """(subject, text, html) of the report: Chinese first, then English, each
    half rendered in its own language; the HTML uses inline styles only."""
    halves_text, halves_html = [], []
    for language in LANGUAGES:
        with translation.override(language):
            half = {**context, "language": language}
            halves_text.append(render_to_string("incidents/email/weekly_report.txt", half))
            halves_html.append(render_to_string("incidents/email/weekly_report.html#half", half))
    subject = SUBJECT.format(week=context["week"])
    text = f"\n\n{'=' * 60}\n\n".join(t.strip() for t in halves_text) + "\n"
    html = render_to_string(
        "incidents/email/weekly_report.html", {"subject": subject, "halves": halves_html}
    )
    return subject, text, html


def weekly_report_for(monday: date, time_zone: str, *, now: datetime | None = None) -> dict:
    """The context of the report for the local week starting `monday`."""
    start, end = week_bounds(monday, ZoneInfo(time_zone))
    return weekly_report_context(start=start, end=end, time_zone=time_zone, now=now)


def weekly_report_lists() -> list[WeeklyReportList]:
    """Every list, by name, each with `last_run` (its latest week's run or
    None) set. Two queries."""
    lists = list(WeeklyReportList.objects.order_by("name", "id"))
    last: dict[int, WeeklyReportRun] = {}
    for run in WeeklyReportRun.objects.filter(report_list__in=lists).order_by("-week_start"):
        last.setdefault(run.report_list_id, run)
    for report_list in lists:
        report_list.last_run = last.get(report_list.id)
    return lists


# --- sending ---------------------------------------------------------------------


def _message(report_list: WeeklyReportList, rendered: tuple[str, str, str], key: str):
    subject, text, html = rendered
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        to=report_list.recipient_list,
        headers={"X-TSCC-Report": key},
    )
    message.attach_alternative(html, "text/html")
    return message


def _claimable(now: datetime) -> Q:
    return (
        (
            Q(state__in=[WeeklyReportRun.State.PENDING, WeeklyReportRun.State.FAILED])
            | Q(state=WeeklyReportRun.State.SENDING)  # only once its claim lapsed, below
        )
        & Q(attempts__lt=MAX_ATTEMPTS)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def _claim(run_id: int, now: datetime) -> WeeklyReportRun | None:
    """Take the run for one attempt, or None when it is sent, in another
    worker's hands, or waiting for its backoff. Short transaction: the
    e-mail goes out after it, never while a lock is held."""
    with transaction.atomic():
        run = (
            WeeklyReportRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("report_list")
            .filter(_claimable(now), id=run_id)
            .first()
        )
        if run is None:
            return None
        # Conditional on what was read: on SQLite (no row locks) the row
        # count decides which of two sweeps won.
        won = WeeklyReportRun.objects.filter(
            id=run.id, state=run.state, attempts=run.attempts
        ).update(state=WeeklyReportRun.State.SENDING, attempts=run.attempts + 1,
                 next_attempt_at=now + SENDING_LEASE)  # fmt: skip
        if not won:
            return None
        run.attempts += 1
        return run


def _attempt(run: WeeklyReportRun, now: datetime, rendered_by_week: dict) -> bool:
    report_list = run.report_list
    try:
        key = (run.week_start, report_list.time_zone)
        if key not in rendered_by_week:
            context = weekly_report_for(run.week_start, report_list.time_zone, now=now)
            rendered_by_week[key] = weekly_report_render(context)
        recipients = report_list.recipient_list
        _message(
            report_list, rendered_by_week[key], f"weekly/{report_list.id}/{run.week_start}"
        ).send()
    except Exception as exc:  # noqa: BLE001 - any failure is a failed attempt, retried
        logger.warning(
            "weekly report run %s failed (attempt %s)", run.id, run.attempts, exc_info=True
        )
        WeeklyReportRun.objects.filter(id=run.id).update(
            state=WeeklyReportRun.State.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
            next_attempt_at=now + backoff(run.attempts),
        )
        return False
    WeeklyReportRun.objects.filter(id=run.id).update(
        state=WeeklyReportRun.State.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
        recipients_count=len(recipients),
    )
    return True


def weekly_reports_send_due(*, now: datetime | None = None) -> int:
    """Beat: for each active list whose send time this week has passed, send
    last week's report unless it was sent (or is being sent) already. Each
    list on its own: one failing list never stops the others. Returns how
    many reports went out."""
    now = now or timezone.now()
    rendered: dict = {}
    sent = 0
    for report_list in WeeklyReportList.objects.filter(is_active=True).order_by("id"):
        week = due_week(
            now,
            weekday=report_list.weekday,
            hour=report_list.hour,
            time_zone=report_list.time_zone,
            since=report_list.created_at,
        )
        if week is None:
            continue
        run, _created = WeeklyReportRun.objects.get_or_create(
            report_list=report_list, week_start=week
        )
        if run.state == WeeklyReportRun.State.SENT:
            continue
        claimed = _claim(run.id, now)
        if claimed is not None and _attempt(claimed, now, rendered):
            sent += 1
    return sent


def weekly_report_send_now(*, actor, list_id: int, now: datetime | None = None) -> int:
    """Send last week's report to one list at once, for checking: a one-off
    that leaves the scheduled run alone. Ops managers and admins only.
    Returns the number of recipients; a sending error propagates."""
    if not manages.test(actor):
        raise NotAllowed(str(NOT_MANAGER))
    report_list = WeeklyReportList.objects.filter(id=list_id).first()
    if report_list is None:
        raise InvalidInput(str(NO_LIST), code="no_list")
    now = now or timezone.now()
    monday = week_monday(now, ZoneInfo(report_list.time_zone)) - WEEK
    rendered = weekly_report_render(weekly_report_for(monday, report_list.time_zone, now=now))
    recipients = report_list.recipient_list
    _message(report_list, rendered, f"weekly/{report_list.id}/{monday}/now").send()
    logger.info("weekly report for list %s week %s sent now by user %s", list_id, monday, actor.id)
    return len(recipients)
