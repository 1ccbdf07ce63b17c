"""The metrics' facts cache (incidents.models.IncidentMetricsFacts): facts
round-trip through JSON exactly, cached answers equal computed ones (on the
hand-built set and on random ones, as time passes), and every input that
changes invalidates: a timeline event, a severity target, a report, the
incident row's fallback values."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.domain.metrics import (
    Event,
    ReportRecord,
    SeverityTargets,
    facts_from_json,
    facts_to_json,
    incident_facts,
    incident_facts_until,
    summarize,
)
from incidents.metrics import incident_facts as load_facts
from incidents.metrics import incident_metrics, metric_row, summarize_rows
from incidents.models import (
    Category,
    Incident,
    IncidentMetricsFacts,
    RegulatoryReport,
    SeverityPolicy,
    TimelineEvent,
)
from incidents.services import incident_acknowledge
from tests.incidents import test_metrics as built
from tests.incidents.test_metrics import END, NOW, START, T0, mins

# The hand-built set of test_metrics, and its clock and manager.
clock, manager, hand_built = built.clock, built.manager, built.hand_built

TARGETS = {
    "sev0": SeverityTargets(5, 30),
    "sev1": SeverityTargets(15, 60),
    "sev2": SeverityTargets(60, None),
    "sev3": SeverityTargets(240, None),
    "sev4": SeverityTargets(7 * 24 * 60, None),
}
SEVERITIES = ["sev0", "sev1", "sev2", "sev3", "sev4"]
STATES = ["investigating", "mitigating", "monitoring", "resolved", "cancelled", "merged", "triage"]


# --- random timelines --------------------------------------------------------------


def random_timeline(rng: random.Random, start: datetime) -> tuple[list[Event], list[ReportRecord]]:
    at = start
    events = [
        Event(
            "declared",
            at,
            {
                "severity": rng.choice(SEVERITIES),
                "category": rng.choice(["spam_flood", "rumor", "viral_harm"]),
                "discovered_at": (at - timedelta(minutes=rng.randint(0, 30))).isoformat(),
            },
            1,
        )
    ]
    for seq in range(2, rng.randint(1, 14) + 2):
        at += timedelta(minutes=rng.choice([1, 5, 20, 45, 70, 200]))
        kind = rng.choice(
            ["status_update"] * 4 + ["state_changed"] * 3 + ["acknowledged", "severity_changed"]
        )
        data = {}
        if kind == "state_changed":
            data = {"to": rng.choice(STATES)}
        elif kind == "severity_changed":
            data = {"to": rng.choice(SEVERITIES)}
        events.append(Event(kind, at, data, seq))
    reports = [
        ReportRecord(
            due_at=start + timedelta(hours=rng.choice([1, 4, 24])),
            submitted_at=(
                start + timedelta(hours=rng.uniform(0.5, 30)) if rng.random() < 0.5 else None
            ),
            not_required=rng.random() < 0.1,
        )
        for _ in range(rng.choice([0, 0, 0, 1, 2]))
    ]
    return events, reports


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 10**9), later=st.integers(0, 3000))
def test_facts_hold_until_valid_until(seed, later):
    """The facts computed for `now` are the facts for every moment before
    valid_until, and the JSON round trip is exact."""
    rng = random.Random(seed)
    events, reports = random_timeline(rng, T0)
    now = T0 + timedelta(minutes=rng.randint(0, 600))
    facts, valid_until = incident_facts_until(events, targets=TARGETS, reports=reports, now=now)
    moment = now + timedelta(minutes=later)
    if valid_until is None or moment < valid_until:
        assert incident_facts(events, targets=TARGETS, reports=reports, now=moment) == facts
    else:
        just_before = valid_until - timedelta(microseconds=1)
        if just_before >= now:
            assert (
                incident_facts(events, targets=TARGETS, reports=reports, now=just_before) == facts
            )
    assert facts_from_json(json.loads(json.dumps(facts_to_json(facts)))) == facts


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**9))
def test_rows_summarize_as_the_facts_do(seed):
    rng = random.Random(seed)
    facts = []
    for n in range(rng.randint(0, 40)):
        events, reports = random_timeline(rng, T0 + timedelta(hours=n))
        facts.append(incident_facts(events, targets=TARGETS, reports=reports, now=NOW))
    rows = [metric_row(n, f, UTC) for n, f in enumerate(facts)]
    assert summarize_rows(rows) == summarize(facts)


# --- the cache in the database -------------------------------------------------------


def same_answers(**kwargs):
    """incident_metrics from the cache (filling it, then reading it) equals
    the answer computed from the timelines alone."""
    expected = incident_metrics(cache=False, **kwargs)
    assert incident_metrics(**kwargs) == expected  # fills what is missing
    with CaptureQueriesContext(connection) as warm:
        assert incident_metrics(**kwargs) == expected
    assert len(warm) == 3, [q["sql"] for q in warm]
    return expected


VARIANTS = [
    {"bucket": "day", "time_zone": "UTC"},
    {"bucket": "day", "time_zone": "Asia/Shanghai"},
    {"bucket": "week", "time_zone": "UTC"},
    {"bucket": "month", "time_zone": "America/New_York"},
    {"severities": ["sev1"]},
    {"categories": ["spam_flood"]},
]


@pytest.mark.django_db
@pytest.mark.parametrize("variant", VARIANTS)
def test_cached_equals_computed_on_the_hand_built_set(hand_built, variant):
    same_answers(start=START, end=END, now=NOW, **variant)
    assert IncidentMetricsFacts.objects.exists()


@pytest.mark.django_db
def test_cached_facts_of_one_incident(hand_built):
    c = hand_built["c"]
    computed = load_facts(c.id, now=NOW)
    assert not IncidentMetricsFacts.objects.filter(incident=c).exists()  # not written
    incident_metrics(start=START, end=END, now=NOW)
    with CaptureQueriesContext(connection) as queries:
        assert load_facts(c.id, now=NOW) == computed
    assert len(queries) == 3  # no events read


@pytest.mark.django_db
def test_the_pending_clocks_turn_as_time_passes(hand_built):
    """D is open, unacknowledged, with a report due in 24 hours: its cached
    facts are not served past the moment each clock runs out."""
    td = T0 + timedelta(days=2)
    d = hand_built["d"]
    for minutes in (1, 30, 59, 61, 239, 241, 24 * 60 - 1, 24 * 60 + 1, 3 * 24 * 60):
        same_answers(start=START, end=END, now=td + mins(minutes))
    cached = IncidentMetricsFacts.objects.get(incident=d)
    assert cached.valid_until is None  # every clock of D has run out
    early = incident_metrics(start=td, end=td + timedelta(days=1), now=td + mins(30))
    assert early.totals.ack_sla.judged == 0  # computed anew for an earlier `now`


@pytest.mark.django_db
def test_a_new_timeline_event_invalidates(hand_built, clock, manager):
    same_answers(start=START, end=END, now=NOW)
    d = hand_built["d"]
    before = IncidentMetricsFacts.objects.get(incident=d)
    clock.at(NOW - mins(1))
    incident_acknowledge(actor=manager, incident_id=d.id)
    clock.at(NOW)
    result = same_answers(start=START, end=END, now=NOW)
    after = IncidentMetricsFacts.objects.get(incident=d)
    assert before.last_seq < after.last_seq == Incident.objects.get(id=d.id).last_seq
    assert result.totals.mtta.count == 4


@pytest.mark.django_db
def test_a_changed_severity_target_invalidates(hand_built):
    first = same_answers(start=START, end=END, now=NOW)
    SeverityPolicy.objects.filter(severity="sev1").update(ack_minutes=30)
    second = same_answers(start=START, end=END, now=NOW)
    assert second.totals.ack_sla != first.totals.ack_sla  # C (20 min) now met
    assert len(set(IncidentMetricsFacts.objects.values_list("targets_key", flat=True))) == 1


@pytest.mark.django_db
def test_a_submitted_report_invalidates(hand_built):
    """Written past the services (no timeline event): the reports' part of
    the fingerprint still catches it."""
    first = same_answers(start=START, end=END, now=NOW)
    RegulatoryReport.objects.filter(incident=hand_built["d"]).update(
        state="submitted", submitted_at=T0 + timedelta(days=2, minutes=30)
    )
    second = same_answers(start=START, end=END, now=NOW)
    assert (first.totals.reports_on_time.met, second.totals.reports_on_time.met) == (1, 2)


@pytest.mark.django_db
def test_row_fallback_values_are_part_of_the_fingerprint(hand_built):
    """An old incident's DECLARED event without detection times reads them
    from the row: a change there invalidates its cached facts."""
    a = hand_built["a"]
    old = Incident.objects.create(
        year=2026,
        number=9998,
        title="Old",
        category=a.category,
        severity="sev2",
        discovered_at=T0 - mins(20),
        declared_at=T0,
        last_seq=1,
    )
    TimelineEvent.objects.create(
        incident=old,
        seq=1,
        kind="declared",
        occurred_at=T0,
        recorded_at=T0,
        data={"severity": "sev2"},
    )
    same_answers(start=START, end=END, now=NOW)
    Incident.objects.filter(id=old.id).update(harm_started_at=T0 - mins(80))
    assert same_answers(start=START, end=END, now=NOW).totals.mttd.count == 2
    Incident.objects.filter(id=old.id).update(category=Category.objects.get(code="rumor"))
    assert "rumor" in same_answers(start=START, end=END, now=NOW).by_category


@pytest.mark.django_db
def test_a_cache_that_cannot_be_written_does_not_fail_the_answer(hand_built, monkeypatch):
    bulk_create = QuerySet.bulk_create

    def refuse(self, *args, **kwargs):
        if self.model is IncidentMetricsFacts:
            raise DatabaseError("read-only replica")
        return bulk_create(self, *args, **kwargs)

    def refuse_postgresql(fresh, connection):
        raise DatabaseError("read-only replica")

    warnings = []
    monkeypatch.setattr(QuerySet, "bulk_create", refuse)
    monkeypatch.setattr("incidents.metrics._store_postgresql", refuse_postgresql)
    monkeypatch.setattr(
        "incidents.metrics.logger.warning", lambda message, *args, **kw: warnings.append(message)
    )
    expected = incident_metrics(start=START, end=END, now=NOW, cache=False)
    assert incident_metrics(start=START, end=END, now=NOW) == expected
    assert warnings and "could not store" in warnings[0]
    assert not IncidentMetricsFacts.objects.exists()


@pytest.mark.django_db
def test_cached_equals_computed_on_a_random_set(hand_built):
    """60 incidents with random timelines and reports, written as the
    services would; answers compared as `now` moves across their clocks."""
    rng = random.Random(7)
    category = hand_built["a"].category
    for n in range(60):
        declared = T0 + timedelta(hours=rng.uniform(0, 6 * 24))
        events, reports = random_timeline(rng, declared)
        incident = Incident.objects.create(
            year=2026,
            number=5000 + n,
            title=f"Random {n}",
            category=category,
            severity="sev2",
            discovered_at=declared,
            declared_at=declared,
            last_seq=len(events),
        )
        TimelineEvent.objects.bulk_create(
            [
                TimelineEvent(
                    incident=incident,
                    seq=e.seq,
                    kind=e.kind,
                    occurred_at=e.at,
                    recorded_at=e.at,
                    data=dict(e.data),
                )
                for e in events
            ]
        )
        RegulatoryReport.objects.bulk_create(
            [
                RegulatoryReport(
                    incident=incident,
                    authority="CAC",
                    due_at=r.due_at,
                    submitted_at=r.submitted_at,
                    state="not_required" if r.not_required else "required",
                )
                for r in reports
            ]
        )
    for hours in (0, 1, 3, 7, 20, 26, 50, 200, 400):
        for variant in VARIANTS[:3]:
            same_answers(start=START, end=END, now=T0 + timedelta(hours=hours), **variant)


@pytest.mark.django_db
def test_warming_fills_the_cache_once_and_then_reads_it(hand_built):
    from incidents.metrics import metrics_cache_warm
    from incidents.models import Incident

    count = Incident.objects.count()
    assert metrics_cache_warm(now=NOW) == count
    assert IncidentMetricsFacts.objects.count() == count
    with CaptureQueriesContext(connection) as queries:
        assert metrics_cache_warm(now=NOW) == count
    assert len(queries) == 3  # warm: nothing recomputed, nothing written


def test_the_warming_task_is_on_beat():
    from tscc.celery import app

    entry = app.conf.beat_schedule["incidents-warm-metrics-cache"]
    assert entry["task"] == "incidents.tasks.warm_metrics_cache"
