"""incidents.metrics on a hand-built set of incidents with known answers,
made through the real services with a controlled clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.domain.metrics import Attainment, DurationStats, MetricKey, Outcome
from incidents.domain.severity import Severity
from incidents.metrics import METRICS, SCOPE, incident_facts, incident_metrics
from incidents.models import Incident, RegulatoryReport, TimelineEvent
from incidents.models.incident import AppendOnlyError
from incidents.services import (
    incident_acknowledge,
    incident_assess_severity,
    incident_merge,
    incident_transition,
    report_save_draft,
    report_submit,
    status_update_publish,
)
from tests.factories import TeamFactory
from tests.incidents.factories import category, declare
from tests.incidents.services.support import ANSWERS
from tscc.roles import Role

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
START, END = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
NOW = datetime(2026, 3, 20, tzinfo=UTC)
DAY = timedelta(days=1)


def mins(n: float) -> timedelta:
    return timedelta(minutes=n)


@dataclass
class Clock:
    now: datetime

    def at(self, moment: datetime) -> Clock:
        self.now = moment
        return self


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() as the services read it, set by the test."""
    c = Clock(T0)
    monkeypatch.setattr("django.utils.timezone.now", lambda: c.now)
    return c


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="metrics-manager")


def declare_at(clock, manager, at, severity, code, **kwargs):
    clock.at(at)
    kwargs.setdefault("discovered_at", at)
    return declare(
        manager,
        category=category(code),
        answers=ANSWERS[severity],
        severity=severity,
        **kwargs,
    )


def move(clock, manager, incident, at, target, reason=""):
    clock.at(at)
    incident_transition(actor=manager, incident_id=incident.id, target=target, reason=reason)


def update(clock, manager, incident, at):
    clock.at(at)
    status_update_publish(
        actor=manager, incident_id=incident.id, audience="company", text_en="Update", text_zh="更新"
    )


def submit(clock, manager, report, at):
    clock.at(at)
    report_save_draft(actor=manager, report_id=report.id, content_zh="报告内容")
    report_submit(actor=manager, report_id=report.id, channel="email", submitted_at=at)


@pytest.fixture
def hand_built(clock, manager):
    """Four counted incidents (A-D), a merged duplicate (E), a false alarm
    (F) and one declared after the period (G). Answers in the tests."""
    team = TeamFactory(slug="ts-ops")
    # A: SEV2, harm began 90 min before the declaration, discovered 30 min before.
    a = declare_at(
        clock,
        manager,
        T0,
        Severity.SEV2,
        "spam_flood",
        discovered_at=T0 - mins(30),
        harm_started_at=T0 - mins(90),
        team=team,
    )
    clock.at(T0 + mins(10))
    incident_acknowledge(actor=manager, incident_id=a.id)
    move(clock, manager, a, T0 + mins(20), "investigating")
    update(clock, manager, a, T0 + mins(100))
    move(clock, manager, a, T0 + mins(150), "monitoring")
    move(clock, manager, a, T0 + mins(200), "resolved")

    # B: SEV3 raised to SEV1 after it was worked; its update cadence then missed.
    tb = T0 + DAY
    b = declare_at(clock, manager, tb, Severity.SEV3, "viral_harm")
    move(clock, manager, b, tb + mins(30), "investigating")  # leaving triage acknowledges
    clock.at(tb + mins(40))
    incident_assess_severity(actor=manager, incident_id=b.id, answers=ANSWERS[Severity.SEV1])
    update(clock, manager, b, tb + mins(90))  # due at 100: kept
    move(clock, manager, b, tb + mins(300), "resolved")  # due at 150: missed

    # C: SEV1 acknowledged late, resolved, reopened and resolved again; its
    # report submitted on time. Declared 01:00 on 4 March in Shanghai.
    tc = T0 + DAY + timedelta(hours=16)
    c = declare_at(clock, manager, tc, Severity.SEV1, "csam_cse", involves_personal_info=True)
    clock.at(tc + mins(20))
    incident_acknowledge(actor=manager, incident_id=c.id)
    move(clock, manager, c, tc + mins(60), "resolved")
    move(clock, manager, c, tc + mins(120), "investigating", reason="It came back.")
    move(clock, manager, c, tc + mins(180), "resolved")
    c_report = RegulatoryReport.objects.get(incident=c)
    submit(clock, manager, c_report, tc + mins(120))

    # D: SEV2, never acknowledged, no update, its report never submitted.
    td = T0 + 2 * DAY
    d = declare_at(clock, manager, td, Severity.SEV2, "spam_flood", involves_personal_info=True)

    # E: a duplicate merged into D; F: a false alarm; G: after the period.
    e = declare_at(clock, manager, td + mins(60), Severity.SEV1, "spam_flood")
    clock.at(td + mins(70))
    incident_merge(actor=manager, incident_id=e.id, into_id=d.id, reason="Same wave.")
    f = declare_at(clock, manager, T0 + 3 * DAY, Severity.SEV0, "rumor")
    move(clock, manager, f, T0 + 3 * DAY + mins(5), "cancelled", reason="False alarm.")
    g = declare_at(clock, manager, END + mins(1), Severity.SEV0, "rumor")
    clock.at(NOW)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "team": team}


def test_the_reports_owed_are_the_ones_the_set_expects(hand_built):
    owed = dict(RegulatoryReport.objects.values_list("incident_id", "state"))
    assert set(owed) == {hand_built["c"].id, hand_built["d"].id}


def test_totals(hand_built):
    result = incident_metrics(start=START, end=END, now=NOW, bucket="day", time_zone="UTC")
    t = result.totals
    assert t.incidents == 4
    assert t.by_severity == {"sev0": 0, "sev1": 2, "sev2": 2, "sev3": 0, "sev4": 0}
    assert t.by_category == {"csam_cse": 1, "spam_flood": 2, "viral_harm": 1}
    assert t.mtta == DurationStats(3, mins(20), mins(20), mins(30))
    assert t.mttm == DurationStats(3, mins(170), mins(150), mins(300))
    assert t.mttr == DurationStats(3, mins(680 / 3), mins(200), mins(300))
    assert t.mttd == DurationStats(1, mins(60), mins(60), mins(60))
    # A (10 <= 60) and B (30 <= 240) met; C (20 > 15) and D (never) missed.
    assert t.ack_sla == Attainment(2, 4)
    # A and C kept; B (no update between 90 and 300 at SEV1) and D (none at all) missed.
    assert t.update_cadence == Attainment(2, 4)
    assert t.reports_on_time == Attainment(1, 2)
    assert result.excluded == {"merged": 1, "cancelled": 1}


def test_breakdowns(hand_built):
    result = incident_metrics(start=START, end=END, now=NOW)
    sev1, sev2 = result.by_severity["sev1"], result.by_severity["sev2"]
    assert (sev1.incidents, sev2.incidents, result.by_severity["sev0"].incidents) == (2, 2, 0)
    assert sev1.mtta.mean == mins(25) and sev2.mtta.mean == mins(10)
    assert sev1.mttr.mean == mins(240) and sev2.mttr.mean == mins(200)
    assert sev1.ack_sla == Attainment(1, 2) and sev2.ack_sla == Attainment(1, 2)
    assert list(result.by_category) == ["csam_cse", "spam_flood", "viral_harm"]
    assert result.by_category["spam_flood"].reports_on_time == Attainment(0, 1)
    assert result.by_category["csam_cse"].reports_on_time == Attainment(1, 1)


def test_daily_series_in_the_viewers_time_zone(hand_built):
    utc = incident_metrics(start=START, end=END, now=NOW, bucket="day", time_zone="UTC")
    assert [(day, s.incidents) for day, s in utc.series] == [
        (date(2026, 3, d), n) for d, n in [(2, 1), (3, 2), (4, 1), (5, 0), (6, 0), (7, 0), (8, 0)]
    ]
    # C was declared at 17:00 UTC on 3 March: 01:00 on 4 March in Shanghai.
    cst = incident_metrics(start=START, end=END, now=NOW, bucket="day", time_zone="Asia/Shanghai")
    assert [(day.day, s.incidents) for day, s in cst.series] == [
        (2, 1),
        (3, 1),
        (4, 2),
        (5, 0),
        (6, 0),
        (7, 0),
        (8, 0),
        (9, 0),
    ]
    by_day = dict(cst.series)
    assert by_day[date(2026, 3, 4)].ack_sla == Attainment(0, 2)
    assert by_day[date(2026, 3, 3)].mtta.mean == mins(30)


def test_weekly_and_monthly_series(hand_built):
    weekly = incident_metrics(start=START, end=END, now=NOW, bucket="week", time_zone="UTC")
    assert [(day, s.incidents) for day, s in weekly.series] == [(date(2026, 3, 2), 4)]
    monthly = incident_metrics(start=START, end=END + DAY, now=NOW, bucket="month", time_zone="UTC")
    assert [(day, s.incidents) for day, s in monthly.series] == [(date(2026, 3, 1), 5)]


def test_filters(hand_built):
    sev1 = incident_metrics(start=START, end=END, now=NOW, severities=["sev1"])
    assert sev1.totals.incidents == 2 and sev1.totals.by_category == {
        "csam_cse": 1,
        "viral_harm": 1,
    }
    assert sev1.excluded == {"merged": 1}  # E was declared SEV1; F was SEV0
    spam = incident_metrics(start=START, end=END, now=NOW, categories=["spam_flood"])
    assert spam.totals.incidents == 2 and spam.excluded == {"merged": 1}
    team = incident_metrics(start=START, end=END, now=NOW, teams=[hand_built["team"].id])
    assert team.totals.incidents == 1 and team.totals.mttd.mean == mins(60)
    nothing = incident_metrics(start=END, end=END + mins(1), now=NOW)
    assert nothing.totals.incidents == 0 and nothing.totals.mtta == DurationStats()
    assert nothing.totals.ack_sla.ratio is None


def test_pending_clocks_are_not_judged_before_they_run_out(hand_built):
    td = T0 + 2 * DAY
    early = incident_metrics(start=td, end=td + DAY, now=td + mins(30))
    # D: not acknowledged, 30 of its 60 minutes gone; report due in 24 h.
    assert early.totals.ack_sla == Attainment(0, 0)
    assert early.totals.reports_on_time == Attainment(0, 0)
    assert early.totals.update_cadence == Attainment(0, 0)


def test_one_incidents_facts(hand_built):
    c = incident_facts(hand_built["c"].id, now=NOW)
    tc = T0 + DAY + timedelta(hours=16)
    assert (c.acknowledged_at, c.mitigated_at, c.resolved_at) == (
        tc + mins(20),
        tc + mins(60),
        tc + mins(180),
    )
    assert c.ack_outcome is Outcome.MISSED and c.ack_breached_at == tc + mins(15)
    assert c.reports == (Outcome.MET,)
    b = incident_facts(hand_built["b"].id, now=NOW)
    assert (b.severity_declared, b.severity_highest) == (Severity.SEV3, Severity.SEV1)
    assert [s.outcome for s in b.cadence] == [Outcome.MET, Outcome.MISSED]
    assert incident_facts(0) is None


def test_metrics_come_from_the_timeline_not_from_editable_fields(hand_built):
    before = incident_metrics(start=START, end=END, now=NOW)
    a, d = hand_built["a"], hand_built["d"]
    Incident.objects.filter(id=d.id).update(acknowledged_at=d.declared_at + mins(1))
    Incident.objects.filter(id=a.id).update(
        acknowledged_at=a.declared_at + mins(500),
        resolved_at=None,
        severity="sev4",
        state="triage",
    )
    after = incident_metrics(start=START, end=END, now=NOW)
    assert after.totals == before.totals
    assert after.totals.mtta.mean == mins(20)
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(incident_id=d.id).update(occurred_at=NOW)


def test_detection_times_at_declaration_are_read_from_the_declared_event(hand_built):
    """The DECLARED event carries discovered_at and harm_started_at, so a
    write to the incident row that bypasses the services does not move MTTD."""
    a = hand_built["a"]
    declared = TimelineEvent.objects.get(incident=a, kind="declared").data
    assert declared["discovered_at"] == (T0 - mins(30)).isoformat()
    assert declared["harm_started_at"] == (T0 - mins(90)).isoformat()
    assert (
        "harm_started_at"
        not in TimelineEvent.objects.get(incident=hand_built["b"], kind="declared").data
    )  # not known at declaration
    Incident.objects.filter(id=a.id).update(harm_started_at=None, discovered_at=T0)
    assert incident_metrics(start=START, end=END, now=NOW).totals.mttd == DurationStats(
        1, mins(60), mins(60), mins(60)
    )


def test_an_old_declared_event_without_detection_times_falls_back_to_the_row(hand_built):
    """Incidents declared before the DECLARED event carried the detection
    times: the values recorded at declaration are read from the row."""
    a = hand_built["a"]
    old = Incident.objects.create(
        year=2026,
        number=9999,
        title="Old",
        category=a.category,
        severity="sev2",
        discovered_at=T0 - mins(20),
        harm_started_at=T0 - mins(50),
        declared_at=T0,
        last_seq=1,
    )
    TimelineEvent.objects.create(
        incident=old,
        seq=1,
        kind="declared",
        occurred_at=T0,
        recorded_at=T0,
        data={"severity": "sev2", "category": "spam_flood"},
    )
    facts = incident_facts(old.id, now=NOW)
    assert (facts.discovered_at, facts.harm_started_at) == (T0 - mins(20), T0 - mins(50))
    assert incident_metrics(start=START, end=END, now=NOW).totals.mttd == DurationStats(
        2, mins(45), mins(45), mins(60)
    )


def test_a_correction_of_the_harm_start_on_the_timeline_moves_mttd(hand_built, clock, manager):
    from incidents.services import incident_update_details

    b = hand_built["b"]
    clock.at(T0 + 5 * DAY)
    incident_update_details(
        actor=manager, incident_id=b.id, harm_started_at=b.discovered_at - mins(40)
    )
    result = incident_metrics(start=START, end=END, now=NOW)
    assert result.totals.mttd == DurationStats(2, mins(50), mins(50), mins(60))


def test_queries_are_bounded_and_do_not_grow_with_the_incidents(clock, manager):
    def declare_many(n, at):
        for i in range(n):
            inc = declare_at(clock, manager, at + mins(i), Severity.SEV2, "spam_flood")
            move(clock, manager, inc, at + mins(i + 5), "resolved")
        clock.at(NOW)

    declare_many(3, T0)
    with CaptureQueriesContext(connection) as few:
        small = incident_metrics(start=T0, end=T0 + DAY, now=NOW)
    declare_many(30, T0 + DAY)
    with CaptureQueriesContext(connection) as many:
        large = incident_metrics(start=T0, end=T0 + 2 * DAY, now=NOW)
    with CaptureQueriesContext(connection) as warm:
        cached = incident_metrics(start=T0, end=T0 + 2 * DAY, now=NOW)
    assert (small.totals.incidents, large.totals.incidents) == (3, 33)
    assert cached == large
    # Targets, reports, incidents with their cached facts; then, for facts
    # not cached yet, their rows, their events and one upsert (in a savepoint).
    assert len(few) == len(many) <= 8
    assert len(warm) == 3


def test_query_bound_for_one_incident(hand_built, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        incident_facts(hand_built["a"].id, now=NOW)


def test_every_metric_has_a_definition():
    assert set(METRICS) == {k.value for k in MetricKey}
    for key, definition in METRICS.items():
        assert definition.key == key
        assert str(definition.label) and str(definition.definition).endswith(".")
        assert definition.unit in ("count", "duration", "percent")
    assert "merged" in str(SCOPE)
