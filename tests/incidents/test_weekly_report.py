"""The weekly report: its weeks across zones, the durable once-a-week send
(two sweeps, a claim in flight, failures and backoff), its bilingual content
on a hand-built week, list validation and "send now"."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection

from incidents.domain.severity import Severity
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.metrics import METRICS
from incidents.models import Incident, RegulatoryReport, WeeklyReportList, WeeklyReportRun
from incidents.sections import SectionMetric, SectionTable, SummarySection
from incidents.services import (
    incident_transition,
    weekly_report_context,
    weekly_report_render,
    weekly_report_send_now,
    weekly_reports_send_due,
)
from incidents.services.weekly import (
    MAX_ATTEMPTS,
    _claim,
    due_week,
    parse_iso_week,
    week_bounds,
    weekly_report_for,
)
from incidents.signals import summary_sections_requested
from tests.incidents.factories import category, declare
from tests.incidents.services.support import ANSWERS
from tscc.models import User
from tscc.roles import Role

SHANGHAI = "Asia/Shanghai"
# Monday 30 November 2026, 09:00 in Shanghai; the reported week is 2026-W48
# (Monday 23 November), i.e. [22 Nov 16:00, 29 Nov 16:00) UTC.
MON_0900_SH = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
W48 = date(2026, 11, 23)
MINUTE = timedelta(minutes=1)


# --- weeks (pure) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "now,weekday,hour,zone,expected",
    [
        (MON_0900_SH - MINUTE, 0, 9, SHANGHAI, None),  # 08:59 local: not yet
        (MON_0900_SH, 0, 9, SHANGHAI, W48),  # 09:00 local
        (MON_0900_SH + timedelta(hours=1), 0, 9, SHANGHAI, W48),
        (MON_0900_SH + timedelta(days=6), 0, 9, SHANGHAI, W48),  # all week long
        # Sunday 23:00 UTC is already Monday 07:00 in Shanghai ...
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), 0, 7, SHANGHAI, W48),
        (datetime(2026, 11, 29, 22, 59, tzinfo=UTC), 0, 7, SHANGHAI, None),
        # ... but still the week before in UTC: a UTC Monday-00:00 list is on
        # last week's slot (W47) until midnight.
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), 0, 0, "UTC", date(2026, 11, 16)),
        (datetime(2026, 11, 30, 0, 0, tzinfo=UTC), 0, 0, "UTC", W48),
        # Friday 17:00 in New York (EST, UTC-5).
        (datetime(2026, 12, 4, 21, 59, tzinfo=UTC), 4, 17, "America/New_York", None),
        (datetime(2026, 12, 4, 22, 0, tzinfo=UTC), 4, 17, "America/New_York", date(2026, 11, 23)),
    ],
)
def test_due_week(now, weekday, hour, zone, expected):
    assert due_week(now, weekday=weekday, hour=hour, time_zone=zone) == expected


def test_a_list_created_after_this_weeks_slot_waits_for_the_next():
    since = MON_0900_SH + timedelta(hours=2)
    later = MON_0900_SH + timedelta(days=1)
    assert due_week(later, weekday=0, hour=9, time_zone=SHANGHAI, since=since) is None
    next_week = MON_0900_SH + timedelta(days=7)
    assert due_week(next_week, weekday=0, hour=9, time_zone=SHANGHAI, since=since) == date(
        2026, 11, 30
    )


def test_week_bounds_are_local_mondays_across_dst():
    assert week_bounds(W48, ZoneInfo(SHANGHAI)) == (
        datetime(2026, 11, 22, 16, tzinfo=UTC),
        datetime(2026, 11, 29, 16, tzinfo=UTC),
    )
    # New York leaves daylight time on Sunday 1 November 2026: a 169-hour week.
    start, end = week_bounds(date(2026, 10, 26), ZoneInfo("America/New_York"))
    assert (start, end) == (
        datetime(2026, 10, 26, 4, tzinfo=UTC),
        datetime(2026, 11, 2, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize("text,monday", [("2026-W48", W48), ("2026-W01", date(2025, 12, 29))])
def test_parse_iso_week(text, monday):
    assert parse_iso_week(text) == monday


@pytest.mark.parametrize("text", ["2026-W54", "2026-W00", "2026-48", "next week", ""])
def test_parse_iso_week_refuses_with_a_clear_message(text):
    with pytest.raises(InvalidInput) as caught:
        parse_iso_week(text)
    assert "2026-W47" in caught.value.message  # says what a week looks like


# --- lists -----------------------------------------------------------------------


@pytest.mark.django_db
def test_recipients_are_validated_naming_the_bad_address():
    bad = WeeklyReportList(name="Execs", recipients="ceo@example.com\n\nnot-an-address\n")
    with pytest.raises(ValidationError) as caught:
        bad.full_clean()
    message = " ".join(caught.value.message_dict["recipients"])
    assert "not-an-address" in message and "line 3" in message


@pytest.mark.django_db
def test_recipients_are_normalised_and_zone_and_hour_validated():
    good = WeeklyReportList(
        name="Execs", recipients=" CEO@Example.COM \n\ncoo@example.com\nceo@example.com\n"
    )
    good.full_clean()
    assert good.recipients == "CEO@example.com\ncoo@example.com"
    with pytest.raises(ValidationError) as caught:
        WeeklyReportList(
            name="x", recipients="", time_zone="Mars/Olympus", hour=24, weekday=7
        ).full_clean()
    assert set(caught.value.message_dict) >= {"recipients", "time_zone", "hour", "weekday"}
    assert "Mars/Olympus" in caught.value.message_dict["time_zone"][0]


# --- sending ---------------------------------------------------------------------


class FlakyBackend(LocmemBackend):
    """Refuses any message to an address containing "bounce"; delivers the
    rest to mail.outbox like the locmem backend."""

    def send_messages(self, messages):
        for message in messages:
            if any("bounce" in address for address in message.to):
                raise ConnectionRefusedError("SMTP server refused the connection")
        return super().send_messages(messages)


FLAKY = "tests.incidents.test_weekly_report.FlakyBackend"


class SlowBackend(LocmemBackend):
    """Takes its time, so concurrent sweeps overlap while one is sending."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def make_list(name="Executives", recipients="ceo@example.com\ncoo@example.com", **kwargs):
    kwargs.setdefault("created_at", datetime(2026, 1, 1, tzinfo=UTC))
    return WeeklyReportList.objects.create(name=name, recipients=recipients, **kwargs)


@pytest.mark.django_db
def test_sent_at_the_local_hour_once():
    execs = make_list(weekday=0, hour=9, time_zone=SHANGHAI)
    assert weekly_reports_send_due(now=MON_0900_SH - MINUTE) == 0
    assert mail.outbox == [] and not WeeklyReportRun.objects.exists()

    assert weekly_reports_send_due(now=MON_0900_SH) == 1
    assert weekly_reports_send_due(now=MON_0900_SH + timedelta(hours=1)) == 0
    assert weekly_reports_send_due(now=MON_0900_SH + timedelta(days=3)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ceo@example.com", "coo@example.com"]
    assert message.subject == "TSCC 每周报告 / Weekly report · 2026-W48"
    assert message.alternatives[0][1] == "text/html"
    run = WeeklyReportRun.objects.get()
    assert (run.report_list, run.week_start, run.state) == (execs, W48, "sent")
    assert (run.attempts, run.recipients_count, run.sent_at is not None) == (1, 2, True)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_once(settings):
    """Real threads with their own connections: row locks (skip_locked) on
    PostgreSQL, the conditional claim under SQLite's write lock otherwise."""
    settings.EMAIL_BACKEND = "tests.incidents.test_weekly_report.SlowBackend"
    make_list()
    start = threading.Barrier(3)
    results, errors = [], []

    def sweep():
        from django.db import connection as thread_connection

        try:
            start.wait()
            results.append(weekly_reports_send_due(now=MON_0900_SH))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sorted(results) == [0, 0, 1], connection.vendor
    assert len(mail.outbox) == 1
    run = WeeklyReportRun.objects.get()
    assert (run.state, run.attempts) == ("sent", 1)


@pytest.mark.django_db
def test_inactive_lists_and_zones_not_yet_due_are_left_alone():
    make_list(name="Paused", is_active=False, time_zone=SHANGHAI)
    make_list(name="London", time_zone="Europe/London")  # 09:00 there is 17:00 in Shanghai
    assert weekly_reports_send_due(now=MON_0900_SH) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_run_claimed_by_another_worker_is_not_sent_again_until_its_claim_lapses():
    make_list(time_zone=SHANGHAI)
    run = WeeklyReportRun.objects.create(report_list=WeeklyReportList.objects.get(), week_start=W48)
    assert _claim(run.id, MON_0900_SH) is not None  # another sweep is sending it
    assert _claim(run.id, MON_0900_SH) is None
    assert weekly_reports_send_due(now=MON_0900_SH + MINUTE) == 0
    assert mail.outbox == []
    # That worker died mid-send: after the lease the run is tried again.
    assert weekly_reports_send_due(now=MON_0900_SH + timedelta(minutes=16)) == 1
    run.refresh_from_db()
    assert (run.state, run.attempts, len(mail.outbox)) == ("sent", 2, 1)


@pytest.mark.django_db
def test_a_failure_is_recorded_other_lists_still_go_and_it_is_retried_after_backoff(settings):
    settings.EMAIL_BACKEND = FLAKY
    bouncing = make_list(name="Board", recipients="bounce@example.com")
    make_list(name="Executives")
    assert weekly_reports_send_due(now=MON_0900_SH) == 1
    assert [m.to for m in mail.outbox] == [["ceo@example.com", "coo@example.com"]]
    run = WeeklyReportRun.objects.get(report_list=bouncing)
    assert (run.state, run.attempts) == ("failed", 1)
    assert "ConnectionRefusedError" in run.last_error and "refused" in run.last_error

    assert weekly_reports_send_due(now=MON_0900_SH + 4 * MINUTE) == 0  # backoff: 5 min
    bouncing.recipients = "board@example.com"
    bouncing.save()
    assert weekly_reports_send_due(now=MON_0900_SH + 5 * MINUTE) == 1
    run.refresh_from_db()
    assert (run.state, run.attempts, run.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_gives_up_after_max_attempts(settings):
    settings.EMAIL_BACKEND = FLAKY
    make_list(recipients="bounce@example.com")
    now = MON_0900_SH
    for _attempt in range(MAX_ATTEMPTS + 2):
        weekly_reports_send_due(now=now)
        now += timedelta(hours=2)
    run = WeeklyReportRun.objects.get()
    assert (run.state, run.attempts) == ("failed", MAX_ATTEMPTS)


@pytest.mark.django_db
def test_the_beat_task_calls_the_sweep(monkeypatch):
    from incidents.tasks import sweep_weekly_reports
    from tscc.celery import app

    make_list()
    monkeypatch.setattr("django.utils.timezone.now", lambda: MON_0900_SH)
    assert sweep_weekly_reports() == 1
    entry = app.conf.beat_schedule["incidents-sweep-weekly-reports"]
    assert entry["task"] == "incidents.tasks.sweep_weekly_reports"
    assert entry["schedule"] == 300.0


@pytest.mark.django_db
def test_send_now_is_for_managers_and_leaves_the_schedule_alone(make_user):
    execs = make_list()
    manager = make_user(Role.OPS_MANAGER, username="weekly-mgr")
    assert weekly_report_send_now(actor=manager, list_id=execs.id, now=MON_0900_SH) == 2
    assert len(mail.outbox) == 1 and not WeeklyReportRun.objects.exists()
    for role in (Role.EXECUTIVE, Role.RESPONDER, Role.BPO_LEAD):
        with pytest.raises(NotAllowed):
            weekly_report_send_now(actor=make_user(role), list_id=execs.id)
    with pytest.raises(InvalidInput):
        weekly_report_send_now(actor=manager, list_id=execs.id + 100)
    assert len(mail.outbox) == 1


# --- content ---------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 11, 1, tzinfo=UTC))
    monkeypatch.setattr("django.utils.timezone.now", lambda: c.now)
    return c


def declare_at(clock, actor, at, severity, title, title_zh="", **kwargs):
    clock.now = at
    return declare(
        actor,
        title=title,
        title_zh=title_zh,
        category=category("spam_flood"),
        answers=ANSWERS[severity],
        severity=severity,
        discovered_at=at,
        **kwargs,
    )


@pytest.fixture
def week48(clock, make_user):
    """W48 in Shanghai: A (SEV1, resolved in the week), B (SEV2, still open,
    its regulatory report never submitted); W47: C (SEV2). Times in UTC."""
    manager = make_user(Role.OPS_MANAGER, username="weekly-builder")
    c = declare_at(clock, manager, datetime(2026, 11, 18, 2, tzinfo=UTC), Severity.SEV2, "Old")
    a = declare_at(
        clock, manager, datetime(2026, 11, 24, 2, tzinfo=UTC), Severity.SEV1,
        "Scam wave in search", "搜索中的诈骗潮",
    )  # fmt: skip
    clock.now = datetime(2026, 11, 24, 5, tzinfo=UTC)
    incident_transition(actor=manager, incident_id=a.id, target="resolved")
    b = declare_at(
        clock, manager, datetime(2026, 11, 26, 3, tzinfo=UTC), Severity.SEV2,
        "Fake giveaway accounts", involves_personal_info=True,
    )  # fmt: skip
    RegulatoryReport.objects.filter(incident=b).update(due_at=datetime(2026, 11, 26, 9, tzinfo=UTC))
    clock.now = MON_0900_SH
    return {"a": a, "b": b, "c": c}


@pytest.mark.django_db
def test_context_has_the_weeks_numbers_against_the_week_before(week48):
    start, end = week_bounds(W48, ZoneInfo(SHANGHAI))
    ctx = weekly_report_context(start=start, end=end, time_zone=SHANGHAI)
    assert ctx["week"] == "2026-W48"
    incidents = ctx["metrics"][0]
    assert (incidents.key, incidents.value, incidents.previous) == ("incidents", 2, 1)
    assert (incidents.change, incidents.better) == ("up", False)
    assert [row.key for row in ctx["metrics"]] == list(METRICS)
    sev = {row["severity"]: (row["count"], row["previous"]) for row in ctx["severities"]}
    assert sev["sev1"] == (1, 0) and sev["sev2"] == (1, 1)
    blocks = {b["key"]: b["list"] for b in ctx["incident_blocks"]}
    a, b = week48["a"], week48["b"]
    assert [r["reference"] for r in blocks["declared"]["rows"]] == [a.reference, b.reference]
    assert [r["reference"] for r in blocks["resolved"]["rows"]] == [a.reference]
    # Both SEV2, oldest first; A was resolved inside the week.
    open_rows = blocks["open"]["rows"]
    assert [r["reference"] for r in open_rows] == [week48["c"].reference, b.reference]
    assert open_rows[1]["age"] == end - b.declared_at
    reports = ctx["reports"]
    assert [(r["reference"], r["status"]) for r in reports["rows"]] == [(b.reference, "overdue")]
    assert reports["late"] == 1


@pytest.mark.django_db
def test_the_weeks_lists_come_from_the_timeline_as_it_stood_then(week48, clock):
    """What happened after the week does not rewrite it, and the incidents'
    columns are not read: A reopened and B cancelled in W49, C's columns
    edited to say it was resolved in W48."""
    manager = User.objects.get(username="weekly-builder")
    a, b, c = week48["a"], week48["b"], week48["c"]
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    incident_transition(actor=manager, incident_id=a.id, target="investigating", reason="again")
    incident_transition(actor=manager, incident_id=b.id, target="cancelled", reason="false alarm")
    Incident.objects.filter(id=c.id).update(
        state="resolved", resolved_at=datetime(2026, 11, 25, tzinfo=UTC)
    )
    start, end = week_bounds(W48, ZoneInfo(SHANGHAI))
    ctx = weekly_report_context(start=start, end=end, time_zone=SHANGHAI, now=clock.now)
    blocks = {x["key"]: [r["reference"] for r in x["list"]["rows"]] for x in ctx["incident_blocks"]}
    assert blocks["resolved"] == [a.reference]
    assert blocks["open"] == [c.reference, b.reference]


@pytest.mark.django_db
def test_the_weeks_reports_are_judged_by_the_metrics_rule(week48, clock):
    """Due in the week: one submitted on time, one late, one never (overdue),
    one due later in the week and not yet submitted when the report is made
    mid-week; one not required (left out)."""
    b = week48["b"]
    due = datetime(2026, 11, 25, 9, tzinfo=UTC)
    kinds = iter(RegulatoryReport.Kind)

    def report(due_at, submitted_at=None, state=RegulatoryReport.State.REQUIRED):
        return RegulatoryReport.objects.create(
            incident=b, kind=next(kinds), authority=f"CAC {due_at:%d %H}", due_at=due_at,
            submitted_at=submitted_at, state=state,
        )  # fmt: skip

    report(due, submitted_at=due)  # on time: at the deadline itself
    report(due + timedelta(hours=1), submitted_at=due + timedelta(hours=2))
    report(due + timedelta(hours=3), state=RegulatoryReport.State.NOT_REQUIRED)
    report(datetime(2026, 11, 28, 9, tzinfo=UTC))
    start, end = week_bounds(W48, ZoneInfo(SHANGHAI))
    mid_week = datetime(2026, 11, 27, 0, tzinfo=UTC)
    ctx = weekly_report_context(start=start, end=end, time_zone=SHANGHAI, now=mid_week)
    statuses = [r["status"] for r in ctx["reports"]["rows"]]
    assert statuses == ["on_time", "late", "overdue", "due"]
    assert ctx["reports"]["late"] == 2
    # At the week's end the one due on Saturday is overdue too.
    ctx = weekly_report_context(start=start, end=end, time_zone=SHANGHAI, now=end)
    assert [r["status"] for r in ctx["reports"]["rows"]][-1] == "overdue"


@pytest.mark.django_db
def test_email_is_chinese_first_then_english_with_sections(week48):
    def vendors(sender, **kwargs):
        assert kwargs["time_zone"] == SHANGHAI
        return SummarySection(
            key="vendors",
            title="Vendor health (test)",
            metrics=[
                SectionMetric(
                    "queue_sla", "Queue SLA attainment", "Share on time.", "percent", 97.5
                )
            ],
            table=SectionTable(["Vendor", "Backlog"], [["Acme BPO", 1234]], ["", "count"]),
        )

    summary_sections_requested.connect(vendors, weak=False)
    try:
        subject, text, html = weekly_report_render(weekly_report_for(W48, SHANGHAI))
    finally:
        summary_sections_requested.disconnect(vendors)
    assert subject == "TSCC 每周报告 / Weekly report · 2026-W48"
    a = week48["a"]
    for body in (text, html):
        # The Chinese half: its title and a translated label, before the English half.
        zh, en = body.index("搜索中的诈骗潮"), body.index("Scam wave in search")
        assert zh < en
        assert body.index("SEV1 · 紧急") < body.index("SEV1 · Urgent")
        assert body.count(a.reference) >= 4  # declared and resolved, in both halves
        assert body.count("Vendor health (test)") == 2
        assert "97.5%" in body and "Acme BPO" in body
        assert body.count("Share on time.") == 2  # each section metric's definition, both halves
        assert "2026-11-23" in body and "2026-11-29" in body  # local Monday to Sunday
    assert "<link" not in html and "<style" not in html and "<script" not in html
    assert 'style="' in html


@pytest.mark.django_db
def test_a_failing_section_is_left_out_not_the_report(week48):
    def broken(sender, **kwargs):
        raise RuntimeError("vendors down")

    summary_sections_requested.connect(broken, weak=False)
    try:
        _subject, text, _html = weekly_report_render(weekly_report_for(W48, SHANGHAI))
    finally:
        summary_sections_requested.disconnect(broken)
    assert week48["a"].reference in text
