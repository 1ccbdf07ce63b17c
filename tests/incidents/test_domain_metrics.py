"""The metric definitions of incidents.domain.metrics, case by case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.domain.durations import Durations, StateChange, derive_durations
from incidents.domain.lifecycle import ALLOWED, State
from incidents.domain.metrics import (
    Attainment,
    Bucket,
    DurationStats,
    Event,
    EventsInvalid,
    MetricKey,
    Outcome,
    PreparedTargets,
    ReportRecord,
    SeverityTargets,
    bucket_of,
    buckets_between,
    incident_facts,
    milestones,
    summarize,
)
from incidents.domain.severity import Severity

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
NOW = T0 + timedelta(days=30)

TARGETS = {
    "sev0": SeverityTargets(ack_minutes=5, update_minutes=30),
    "sev1": SeverityTargets(ack_minutes=15, update_minutes=60),
    "sev2": SeverityTargets(ack_minutes=30, update_minutes=120),
    "sev3": SeverityTargets(ack_minutes=60, update_minutes=None),
    "sev4": SeverityTargets(ack_minutes=240, update_minutes=None),
}


def m(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def mins(n: float) -> timedelta:
    return timedelta(minutes=n)


class Timeline:
    """Events with increasing seq, as the timeline numbers them."""

    def __init__(self, severity: str = "sev2", category: str = "spam_flood", **declared):
        self.events = [
            Event("declared", T0, {"severity": severity, "category": category, **declared}, 1)
        ]

    def add(self, kind: str, minute: float, **data) -> Timeline:
        self.events.append(Event(kind, m(minute), data, len(self.events) + 1))
        return self

    def state(self, minute: float, to: str) -> Timeline:
        return self.add("state_changed", minute, to=to)

    def severity(self, minute: float, to: str) -> Timeline:
        return self.add("severity_changed", minute, to=to)

    def ack(self, minute: float) -> Timeline:
        return self.add("acknowledged", minute)

    def update(self, minute: float) -> Timeline:
        return self.add("status_update", minute)

    def facts(self, *, now: datetime = NOW, reports=(), **kwargs):
        return incident_facts(self.events, targets=TARGETS, now=now, reports=reports, **kwargs)


# --- declaration, severity, category --------------------------------------------


def test_no_declared_event_is_refused():
    with pytest.raises(EventsInvalid):
        incident_facts([Event("note", T0)], targets=TARGETS, now=NOW)


def test_declared_event_without_severity_is_refused():
    with pytest.raises(EventsInvalid):
        incident_facts([Event("declared", T0, {})], targets=TARGETS, now=NOW)


def test_declared_time_severity_and_category_come_from_the_declared_event():
    f = Timeline("sev3", "csam").facts(category="ignored")
    assert (f.declared_at, f.severity_declared, f.category) == (T0, Severity.SEV3, "csam")
    assert f.state is State.TRIAGE


def test_category_falls_back_to_the_caller_when_the_event_has_none():
    events = [Event("declared", T0, {"severity": "sev2"}, 1)]
    assert incident_facts(events, targets=TARGETS, now=NOW, category="scam").category == "scam"


@pytest.mark.parametrize(
    ("declared", "changes", "highest"),
    [
        ("sev3", [], "sev3"),
        ("sev3", ["sev1", "sev2"], "sev1"),
        ("sev2", ["sev3", "sev4"], "sev2"),
        ("sev4", ["sev3", "sev0", "sev4"], "sev0"),
        ("sev1", ["sev1"], "sev1"),  # a confirmation
    ],
)
def test_highest_severity_reached(declared, changes, highest):
    t = Timeline(declared)
    for i, to in enumerate(changes):
        t.severity(i + 1, to)
    f = t.facts()
    assert f.severity_declared == Severity(declared)
    assert f.severity_highest == Severity(highest)


def test_events_are_read_in_seq_order_whatever_order_they_come_in():
    t = Timeline().state(5, "investigating").state(50, "resolved")
    assert incident_facts(list(reversed(t.events)), targets=TARGETS, now=NOW) == t.facts()


# --- acknowledgement, mitigation, resolution -------------------------------------------


@pytest.mark.parametrize(
    ("steps", "ack", "mitigated", "resolved"),
    [
        ([], None, None, None),
        ([("ack", 3)], 3, None, None),
        ([("state", 4, "investigating")], 4, None, None),
        ([("ack", 2), ("state", 9, "investigating")], 2, None, None),
        ([("state", 2, "investigating"), ("ack", 9)], 2, None, None),
        (
            [("state", 5, "mitigating"), ("state", 30, "monitoring"), ("state", 90, "resolved")],
            5,
            30,
            90,
        ),
        ([("state", 10, "resolved")], 10, 10, 10),
        # reopened and not resolved again: no resolution
        ([("state", 10, "resolved"), ("state", 20, "investigating")], 10, 10, None),
        # reopened and re-resolved: the last resolution
        (
            [
                ("state", 10, "resolved"),
                ("state", 20, "investigating"),
                ("state", 50, "resolved"),
                ("state", 60, "closed"),
            ],
            10,
            10,
            50,
        ),
        # closed then reopened from closed and resolved again
        (
            [
                ("state", 10, "resolved"),
                ("state", 15, "closed"),
                ("state", 40, "investigating"),
                ("state", 70, "resolved"),
            ],
            10,
            10,
            70,
        ),
        # cancelling does not acknowledge; a restored false alarm acknowledges when worked
        (
            [("state", 3, "cancelled"), ("state", 8, "triage"), ("state", 12, "investigating")],
            12,
            None,
            None,
        ),
    ],
)
def test_milestones(steps, ack, mitigated, resolved):
    t = Timeline()
    for step in steps:
        if step[0] == "ack":
            t.ack(step[1])
        else:
            t.state(step[1], step[2])
    f = t.facts()
    assert f.acknowledged_at == (None if ack is None else m(ack))
    assert f.mitigated_at == (None if mitigated is None else m(mitigated))
    assert f.resolved_at == (None if resolved is None else m(resolved))
    assert f.time_to_acknowledge == (None if ack is None else mins(ack))
    assert f.time_to_resolve == (None if resolved is None else mins(resolved))


def test_durations_are_never_negative():
    events = [Event("declared", T0, {"severity": "sev2"}, 1), Event("acknowledged", m(-1), {}, 2)]
    assert incident_facts(events, targets=TARGETS, now=NOW).time_to_acknowledge == timedelta(0)


def test_final_state_is_the_last_state_change():
    assert Timeline().state(1, "investigating").state(9, "merged").facts().state is State.MERGED
    f = Timeline().state(1, "cancelled").facts()
    assert f.state is State.CANCELLED and f.excluded
    assert not Timeline().state(1, "resolved").facts().excluded


# --- detection --------------------------------------------------------------------


def test_detection_is_unknown_without_a_harm_start():
    f = Timeline().facts(discovered_at=m(-30))
    assert f.discovered_at == m(-30)
    assert f.time_to_detect is None


def test_detection_from_the_values_recorded_at_declaration():
    f = Timeline().facts(discovered_at=m(-30), harm_started_at=m(-150))
    assert f.time_to_detect == mins(120)


def test_detection_from_the_declared_event_when_it_carries_the_times():
    t = Timeline(discovered_at=m(-10).isoformat(), harm_started_at=m(-70).isoformat())
    f = t.facts(discovered_at=m(-999), harm_started_at=None)
    assert (f.discovered_at, f.harm_started_at, f.time_to_detect) == (m(-10), m(-70), mins(60))


def test_corrections_on_the_timeline_win_over_the_recorded_values():
    t = Timeline()
    t.add(
        "details_changed",
        20,
        changes={"harm_started_at": [None, m(-60).isoformat()], "title": ["a", "b"]},
    )
    t.add("details_changed", 30, changes={"discovered_at": [m(-5).isoformat(), m(-20).isoformat()]})
    f = t.facts(discovered_at=m(-5), harm_started_at=None)
    assert f.time_to_detect == mins(40)


def test_a_harm_start_corrected_away_makes_detection_unknown():
    t = Timeline().add(
        "details_changed", 5, changes={"harm_started_at": [m(-60).isoformat(), None]}
    )
    assert t.facts(discovered_at=m(0), harm_started_at=m(-60)).time_to_detect is None


def test_a_correction_read_back_as_json_text_is_understood():
    t = Timeline().add(
        "details_changed", 5, changes={"harm_started_at": f'[null, "{m(-45).isoformat()}"]'}
    )
    assert t.facts(discovered_at=m(0)).time_to_detect == mins(45)


# --- acknowledgement SLA -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "ack", "outcome"),
    [
        ("sev2", 10, Outcome.MET),
        ("sev2", 30, Outcome.MET),  # at the target is within it
        ("sev2", 31, Outcome.MISSED),
        ("sev0", 5, Outcome.MET),
        ("sev0", 6, Outcome.MISSED),
        ("sev4", 239, Outcome.MET),
    ],
)
def test_ack_sla_against_the_declared_severity(severity, ack, outcome):
    assert Timeline(severity).ack(ack).facts().ack_outcome is outcome


def test_unacknowledged_inside_the_target_is_not_judged_yet():
    f = Timeline("sev2").facts(now=m(20))
    assert f.ack_outcome is Outcome.PENDING


def test_unacknowledged_past_the_target_is_missed():
    f = Timeline("sev2").facts(now=m(45))
    assert (f.ack_outcome, f.ack_breached_at) == (Outcome.MISSED, m(30))


def test_raised_severity_shortens_the_target_from_then_on():
    # sev3 (60 min) raised to sev1 (15 min) at minute 20: breached at 20.
    f = Timeline("sev3").severity(20, "sev1").ack(22).facts()
    assert (f.ack_outcome, f.ack_breached_at) == (Outcome.MISSED, m(20))
    # raised at minute 10, acknowledged at 14: inside the sev1 target
    assert Timeline("sev3").severity(10, "sev1").ack(14).facts().ack_outcome is Outcome.MET


def test_lowered_severity_after_the_breach_does_not_undo_it():
    f = Timeline("sev1").severity(20, "sev3").ack(25).facts()
    assert (f.ack_outcome, f.ack_breached_at) == (Outcome.MISSED, m(15))
    assert Timeline("sev1").severity(10, "sev3").ack(25).facts().ack_outcome is Outcome.MET


def test_no_ack_target_means_not_applicable():
    t = Timeline("sev2").ack(500)
    f = incident_facts(t.events, targets={"sev2": SeverityTargets(None, 60)}, now=NOW)
    assert f.ack_outcome is Outcome.NOT_APPLICABLE


# --- status-update cadence ------------------------------------------------------------------


def outcomes(f):
    return [s.outcome for s in f.cadence]


def test_cadence_kept_with_updates_inside_each_stretch():
    f = Timeline("sev1").update(50).update(110).state(150, "resolved").facts()
    assert outcomes(f) == [Outcome.MET] * 3
    assert [s.due_at for s in f.cadence] == [m(60), m(110), m(170)]
    assert f.cadence_outcome is Outcome.MET


def test_an_update_exactly_at_the_due_time_is_on_time():
    assert Timeline("sev1").update(60).state(61, "resolved").facts().cadence_outcome is Outcome.MET


def test_one_late_update_misses_the_cadence():
    f = Timeline("sev1").update(50).update(111).state(150, "resolved").facts()
    assert outcomes(f) == [Outcome.MET, Outcome.MISSED, Outcome.MET]
    assert f.cadence_outcome is Outcome.MISSED


def test_resolving_in_time_ends_the_stretch():
    assert Timeline("sev1").state(45, "resolved").facts().cadence_outcome is Outcome.MET


def test_a_running_stretch_is_judged_only_once_due():
    t = Timeline("sev1").update(30)
    assert t.facts(now=m(70)).cadence_outcome is Outcome.MET  # first met, second not yet due
    assert outcomes(t.facts(now=m(70))) == [Outcome.MET, Outcome.PENDING]
    assert t.facts(now=m(91)).cadence_outcome is Outcome.MISSED
    assert Timeline("sev1").facts(now=m(10)).cadence_outcome is Outcome.PENDING


def test_no_cadence_for_the_severity_is_not_applicable():
    assert Timeline("sev3").state(500, "resolved").facts().cadence_outcome is (
        Outcome.NOT_APPLICABLE
    )


def test_updates_after_resolution_do_not_count():
    f = Timeline("sev1").state(30, "resolved").update(500).update(900).facts()
    assert outcomes(f) == [Outcome.MET]


def test_raised_severity_brings_the_due_time_forward():
    # sev2 (120) raised to sev0 (30) at minute 10: due at 40, not 120.
    f = Timeline("sev2").severity(10, "sev0").update(45).state(60, "resolved").facts()
    assert [s.due_at for s in f.cadence] == [m(40), m(75)]
    assert outcomes(f) == [Outcome.MISSED, Outcome.MET]


def test_lowered_severity_keeps_the_sooner_due_time():
    # sev0 (30) lowered to sev2 (120) at minute 20: still due at 30.
    f = Timeline("sev0").severity(20, "sev2").update(29).state(200, "resolved").facts()
    assert [s.due_at for s in f.cadence] == [m(30), m(149)]
    assert outcomes(f) == [Outcome.MET, Outcome.MISSED]


def test_lowered_to_a_severity_without_cadence_clears_the_due_time():
    f = Timeline("sev1").severity(20, "sev3").state(500, "resolved").facts()
    assert outcomes(f) == [Outcome.NOT_APPLICABLE]


def test_a_confirmation_does_not_move_the_due_time():
    f = Timeline("sev1").severity(50, "sev1").update(60).state(61, "resolved").facts()
    assert [s.due_at for s in f.cadence][0] == m(60)


def test_a_reopen_starts_a_new_stretch():
    f = (
        Timeline("sev1")
        .state(30, "resolved")
        .state(300, "investigating")
        .update(370)
        .state(380, "resolved")
        .facts()
    )
    assert [(s.start, s.due_at) for s in f.cadence] == [
        (T0, m(60)),
        (m(300), m(360)),
        (m(370), m(430)),
    ]
    assert f.cadence_outcome is Outcome.MISSED


def test_cancel_ends_and_restore_restarts_the_cadence():
    f = Timeline("sev1").state(10, "cancelled").state(200, "triage").update(250).facts(now=m(255))
    assert outcomes(f) == [Outcome.MET, Outcome.MET, Outcome.PENDING]


# --- reports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "outcome"),
    [
        (ReportRecord(due_at=m(60), submitted_at=m(59)), Outcome.MET),
        (ReportRecord(due_at=m(60), submitted_at=m(60)), Outcome.MET),
        (ReportRecord(due_at=m(60), submitted_at=m(61)), Outcome.MISSED),
        (ReportRecord(due_at=m(60)), Outcome.MISSED),  # unsubmitted past due (NOW is later)
        (ReportRecord(due_at=NOW + mins(1)), Outcome.PENDING),
        (ReportRecord(due_at=None, submitted_at=m(5)), Outcome.NOT_APPLICABLE),
        (ReportRecord(due_at=m(60), not_required=True), Outcome.NOT_APPLICABLE),
    ],
)
def test_report_on_time(report, outcome):
    assert Timeline().facts(reports=[report]).reports == (outcome,)


# --- aggregates ---------------------------------------------------------------------------


def test_duration_stats_empty():
    assert DurationStats.of([None, None]) == DurationStats(0, None, None, None)


@pytest.mark.parametrize(
    ("values", "mean", "median", "p90"),
    [
        ([10], 10, 10, 10),
        ([10, 20], 15, 15, 20),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5.5, 5.5, 9),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 6, 6, 10),
        ([30, 10, None, 20], 20, 20, 30),
    ],
)
def test_duration_stats(values, mean, median, p90):
    stats = DurationStats.of(None if v is None else mins(v) for v in values)
    assert stats.count == len([v for v in values if v is not None])
    assert (stats.mean, stats.median, stats.p90) == (mins(mean), mins(median), mins(p90))


def test_attainment():
    a = Attainment.of(
        [Outcome.MET, Outcome.MISSED, Outcome.PENDING, Outcome.NOT_APPLICABLE, Outcome.MET]
    )
    assert (a.met, a.judged, a.ratio) == (2, 3, 2 / 3)
    assert Attainment.of([]).ratio is None and Attainment.of([]).percent is None


def test_summary_over_a_hand_built_set():
    facts = [
        Timeline("sev2", "spam_flood")
        .ack(10)
        .state(20, "investigating")
        .state(100, "resolved")
        .facts(reports=[ReportRecord(m(60), m(30))]),
        Timeline("sev3", "spam_flood")
        .severity(5, "sev1")
        .ack(30)
        .state(200, "resolved")
        .facts(discovered_at=m(0), harm_started_at=m(-30)),
        Timeline("sev1", "csam").ack(5).facts(reports=[ReportRecord(m(60))]),
        Timeline("sev2", "csam").state(3, "cancelled").facts(),
        Timeline("sev2", "csam").state(3, "investigating").state(9, "merged").facts(),
    ]
    s = summarize(facts)
    assert s.incidents == 3
    assert s.by_severity == {"sev0": 0, "sev1": 2, "sev2": 1, "sev3": 0, "sev4": 0}
    assert s.by_category == {"csam": 1, "spam_flood": 2}
    assert s.mtta == DurationStats(3, mins(15), mins(10), mins(30))
    assert (s.mttr.count, s.mttr.mean) == (2, mins(150))
    assert (s.mttd.count, s.mttd.mean) == (1, mins(30))
    # sev2 acked at 10 (<= 30): met; sev3->sev1 at 5, acked at 30 (> 15): missed;
    # sev1 acked at 5: met.
    assert s.ack_sla == Attainment(2, 3)
    # sev2: resolved at 100 within 120: kept; the sev1 one (raised at 5, due 65) resolved at
    # 200 without an update: missed; the open sev1 one without updates: missed by NOW.
    assert s.update_cadence == Attainment(1, 3)
    assert s.reports_on_time == Attainment(1, 2)
    assert s.value("mtta") is s.mtta and s.value(MetricKey.ACK_SLA) is s.ack_sla


# --- buckets ----------------------------------------------------------------------------


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("moment", "size", "tz", "expected"),
    [
        (datetime(2026, 3, 4, 15, 59, tzinfo=UTC), "day", UTC, date(2026, 3, 4)),
        (datetime(2026, 3, 4, 16, 0, tzinfo=UTC), "day", SHANGHAI, date(2026, 3, 5)),
        (datetime(2026, 3, 4, 15, 59, tzinfo=UTC), "day", SHANGHAI, date(2026, 3, 4)),
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "week", UTC, date(2026, 3, 2)),  # Sunday
        (datetime(2026, 3, 8, 16, 0, tzinfo=UTC), "week", SHANGHAI, date(2026, 3, 9)),
        (datetime(2026, 3, 31, 16, 0, tzinfo=UTC), "month", SHANGHAI, date(2026, 4, 1)),
        (datetime(2026, 3, 31, 16, 0, tzinfo=UTC), "month", UTC, date(2026, 3, 1)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "month", UTC, date(2026, 12, 1)),
    ],
)
def test_bucket_of(moment, size, tz, expected):
    assert bucket_of(moment, size=size, tz=tz) == expected


def test_buckets_between_lists_empty_buckets_too():
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert buckets_between(start, end, size=Bucket.MONTH, tz=UTC) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert len(buckets_between(start, end, size="day", tz=UTC)) == 90
    weeks = buckets_between(start, end, size="week", tz=UTC)
    assert weeks[0] == date(2025, 12, 29) and weeks[-1] == date(2026, 3, 30)
    assert buckets_between(end, start, size="day", tz=UTC) == []
    # 2025-12-31 16:00 UTC is 2026-01-01 in Shanghai
    assert buckets_between(
        datetime(2025, 12, 31, 16, tzinfo=UTC),
        datetime(2026, 1, 1, 16, tzinfo=UTC),
        size="day",
        tz=SHANGHAI,
    ) == [date(2026, 1, 1)]


# --- properties ------------------------------------------------------------------------------


@st.composite
def lifecycles(draw):
    """A legal walk through the lifecycle (no merge or cancel), at increasing
    minutes, with at most one acknowledgement before the first state change
    (the service appends ACKNOWLEDGED only while nothing acknowledged it)."""
    state = State.TRIAGE
    minute = 0
    steps = []
    for _ in range(draw(st.integers(0, 8))):
        minute += draw(st.integers(0, 120))
        if not steps and draw(st.booleans()):
            steps.append(("ack", minute, None))
            continue
        choices = sorted(ALLOWED[state])
        if not choices:
            break
        state = draw(st.sampled_from(choices))
        steps.append(("state", minute, state))
    return steps


@given(lifecycles())
@settings(max_examples=300, deadline=None)
def test_milestones_agree_with_the_incident_pages_durations(steps):
    t = Timeline()
    changes = []
    for kind, minute, state in steps:
        if kind == "ack":
            t.ack(minute)
            changes.append(StateChange(m(minute), State.TRIAGE, acknowledged=True))
        else:
            t.state(minute, state.value)
            changes.append(StateChange(m(minute), state))
    f = t.facts()
    d = derive_durations(declared_at=T0, changes=changes)
    assert (f.time_to_acknowledge, f.time_to_mitigate, f.time_to_resolve) == (
        d.to_acknowledge,
        d.to_mitigate,
        d.to_resolve,
    )
    # order of milestones
    if f.mitigated_at is not None:
        assert f.acknowledged_at is not None and f.acknowledged_at <= f.mitigated_at
    if f.resolved_at is not None:
        assert f.state in (State.RESOLVED, State.CLOSED)
        assert f.mitigated_at <= f.resolved_at


durations = st.lists(st.one_of(st.none(), st.integers(0, 10_000)), max_size=40)


@given(durations)
def test_duration_stats_properties(values):
    stats = DurationStats.of(None if v is None else mins(v) for v in values)
    present = sorted(v for v in values if v is not None)
    assert stats.count == len(present)
    if present:
        assert mins(present[0]) <= stats.median <= mins(present[-1])
        assert mins(present[0]) <= stats.mean <= mins(present[-1])
        assert stats.median <= stats.p90 <= mins(present[-1])
        assert sum(1 for v in present if mins(v) <= stats.p90) >= 0.9 * len(present)


@given(
    st.sampled_from(["sev0", "sev1", "sev2", "sev3", "sev4"]),
    st.lists(st.tuples(st.integers(1, 300), st.sampled_from(list(Severity))), max_size=5),
    st.integers(0, 400),
)
@settings(max_examples=300, deadline=None)
def test_ack_outcome_matches_a_minute_by_minute_sweep(declared, changes, ack):
    """Missed exactly when some whole minute before the acknowledgement had
    passed the target of the severity in force (the live SLA sweep)."""
    t = Timeline(declared)
    for minute, severity in sorted(changes):
        t.severity(minute, severity.value)
    t.ack(ack)
    f = t.facts()

    def severity_at(minute):
        current = declared
        for at, severity in sorted(changes):
            if at <= minute:
                current = severity.value
        return current

    swept = any(minute >= TARGETS[severity_at(minute)].ack_minutes for minute in range(ack))
    assert (f.ack_outcome is Outcome.MISSED) == swept


@given(st.lists(st.integers(1, 200), max_size=8), st.integers(1, 1000))
@settings(deadline=None)
def test_cadence_kept_iff_no_gap_exceeds_the_cadence(gaps, resolve_after):
    """With one severity (cadence 60), the cadence is kept exactly when every
    gap between declaration, updates and resolution is at most 60 minutes."""
    t = Timeline("sev1")
    minute = 0
    for gap in gaps:
        minute += gap
        t.update(minute)
    t.state(minute + resolve_after, "resolved")
    f = t.facts()
    kept = all(g <= 60 for g in [*gaps, resolve_after])
    assert (f.cadence_outcome is Outcome.MET) == kept
    assert len(f.cadence) == len(gaps) + 1


def test_prepared_targets_give_the_same_facts():
    t = Timeline("sev1").severity(10, "sev0").ack(12).update(40).state(90, "resolved")
    prepared = PreparedTargets.of(TARGETS)
    assert PreparedTargets.of(prepared) is prepared
    by_enum = {Severity(k): v for k, v in TARGETS.items()}
    facts = incident_facts(t.events, targets=prepared, now=NOW)
    assert facts == t.facts() == incident_facts(t.events, targets=by_enum, now=NOW)
    assert facts.ack_outcome is Outcome.MISSED  # sev0 from minute 10: 5-minute target passed
    assert [s.due_at for s in facts.cadence] == [m(40), m(70)]


def test_the_incident_pages_durations_do_not_count_a_cancellation_as_acknowledgement():
    cancelled = derive_durations(declared_at=T0, changes=[StateChange(m(5), State.CANCELLED)])
    assert cancelled == Durations(None, None, None)
    merged = derive_durations(declared_at=T0, changes=[StateChange(m(7), State.MERGED)])
    assert merged.to_acknowledge is None


def test_the_incident_pages_durations_follow_the_timelines_order_at_one_moment():
    # Reopened and resolved again within one second: the sequence decides.
    changes = [
        StateChange(m(10), State.INVESTIGATING, seq=2),
        StateChange(m(30), State.RESOLVED, seq=5),
        StateChange(m(30), State.INVESTIGATING, seq=4),
        StateChange(m(20), State.RESOLVED, seq=3),
    ]
    d = derive_durations(declared_at=T0, changes=changes)
    assert d == Durations(timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=30))
    assert (
        milestones(
            [
                Event("state_changed", m(30), {"to": "resolved"}, 5),
                Event("state_changed", m(30), {"to": "investigating"}, 6),
            ]
        ).resolved_at
        is None
    )
