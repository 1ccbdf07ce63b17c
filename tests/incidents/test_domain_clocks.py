from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.domain.clocks import (
    ClockState,
    IncidentFacts,
    ObligationRule,
    clock_state,
    grading_due,
    is_owed,
    obligation_due,
)
from incidents.domain.durations import StateChange, derive_durations
from incidents.domain.grading import Grade, grade_from_criteria, meets
from incidents.domain.lifecycle import State

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI)

CAC_INITIAL = ObligationRule(
    "cac_initial", Grade.RELATIVELY_MAJOR, False, False, False, "discovered", 240
)
CAC_INITIAL_CII = ObligationRule(
    "cac_initial_cii", Grade.RELATIVELY_MAJOR, True, False, False, "discovered", 60
)
CAC_SUMMARY = ObligationRule(
    "cac_summary", Grade.RELATIVELY_MAJOR, None, False, False, "handling_ended", 30 * 24 * 60
)
PIPL = ObligationRule("pipl_notice", None, None, True, False, "discovered", 24 * 60)


def facts(grade=Grade.RELATIVELY_MAJOR, cii=False, pi=False, minors=False):
    return IncidentFacts(grade, cii, pi, minors)


def test_cac_initial_report_is_four_hours_after_discovery_for_a_non_cii_operator():
    due = obligation_due(CAC_INITIAL, discovered_at=T0, handling_ended_at=None)
    assert due == datetime(2026, 3, 1, 14, 0, tzinfo=SHANGHAI)
    assert due.astimezone(UTC).hour == 6  # stored in UTC, shown in Asia/Shanghai


@pytest.mark.parametrize(
    ("rule", "incident", "owed"),
    [
        (CAC_INITIAL, facts(), True),
        (CAC_INITIAL, facts(Grade.MAJOR), True),
        (CAC_INITIAL, facts(Grade.GENERAL), False),
        (CAC_INITIAL, facts(Grade.UNASSESSED), False),
        (CAC_INITIAL, facts(Grade.NOT_APPLICABLE), False),
        (CAC_INITIAL, facts(cii=True), False),
        (CAC_INITIAL_CII, facts(cii=True), True),
        (CAC_INITIAL_CII, facts(), False),
        (CAC_SUMMARY, facts(cii=True), True),
        (PIPL, facts(Grade.UNASSESSED, pi=True), True),
        (PIPL, facts(Grade.ESPECIALLY_MAJOR), False),
    ],
)
def test_which_duties_the_facts_trigger(rule, incident, owed):
    assert is_owed(rule, incident) is owed


def test_the_summary_clock_waits_for_handling_to_end():
    assert obligation_due(CAC_SUMMARY, discovered_at=T0, handling_ended_at=None) is None
    ended = T0 + timedelta(days=2)
    assert obligation_due(
        CAC_SUMMARY, discovered_at=T0, handling_ended_at=ended
    ) == ended + timedelta(days=30)


def test_grading_deadline_is_shorter_for_cii():
    assert grading_due(
        discovered_at=T0, is_cii=True, cii_minutes=30, other_minutes=60
    ) == T0 + timedelta(minutes=30)
    assert grading_due(
        discovered_at=T0, is_cii=False, cii_minutes=30, other_minutes=60
    ) == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("met_after", "now_after", "state"),
    [
        (None, 59, ClockState.RUNNING),
        (None, 60, ClockState.RUNNING),
        (None, 61, ClockState.BREACHED),
        (30, 200, ClockState.MET),
        (60, 200, ClockState.MET),
        (90, 200, ClockState.MET_LATE),
    ],
)
def test_clock_states(met_after, now_after, state):
    due = T0 + timedelta(minutes=60)
    met = None if met_after is None else T0 + timedelta(minutes=met_after)
    assert clock_state(due_at=due, met_at=met, now=T0 + timedelta(minutes=now_after)) is state


def test_no_due_time_means_not_applicable():
    assert clock_state(due_at=None, met_at=None, now=T0) is ClockState.NOT_APPLICABLE


def test_naive_times_are_a_programming_error():
    with pytest.raises(AssertionError, match="timezone-aware"):
        obligation_due(CAC_INITIAL, discovered_at=datetime(2026, 1, 1), handling_ended_at=None)


@pytest.mark.parametrize(
    ("in_scope", "met", "grade"),
    [
        (False, [Grade.MAJOR], Grade.NOT_APPLICABLE),
        (True, [], Grade.GENERAL),
        (True, [Grade.RELATIVELY_MAJOR], Grade.RELATIVELY_MAJOR),
        (
            True,
            [Grade.RELATIVELY_MAJOR, Grade.ESPECIALLY_MAJOR, Grade.MAJOR],
            Grade.ESPECIALLY_MAJOR,
        ),
        (True, [Grade.UNASSESSED], Grade.GENERAL),
    ],
)
def test_grade_is_the_highest_criterion_met(in_scope, met, grade):
    assert grade_from_criteria(in_scope=in_scope, met=met) is grade


def test_only_annex_grades_meet_a_minimum():
    assert meets(Grade.MAJOR, Grade.RELATIVELY_MAJOR)
    assert not meets(Grade.GENERAL, Grade.RELATIVELY_MAJOR)
    assert not meets(Grade.UNASSESSED, Grade.GENERAL)


def m(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([], (None, None, None)),
        ([StateChange(m(4), State.INVESTIGATING)], (4, None, None)),
        (
            [
                StateChange(m(2), State.TRIAGE, acknowledged=True),
                StateChange(m(9), State.INVESTIGATING),
            ],
            (2, None, None),
        ),
        (
            [
                StateChange(m(5), State.INVESTIGATING),
                StateChange(m(30), State.MONITORING),
                StateChange(m(90), State.RESOLVED),
            ],
            (5, 30, 90),
        ),
        ([StateChange(m(10), State.RESOLVED)], (10, 10, 10)),
        (
            [StateChange(m(10), State.RESOLVED), StateChange(m(20), State.INVESTIGATING)],
            (10, 10, None),
        ),
        (
            [
                StateChange(m(10), State.RESOLVED),
                StateChange(m(20), State.INVESTIGATING),
                StateChange(m(50), State.RESOLVED),
                StateChange(m(60), State.CLOSED),
            ],
            (10, 10, 50),
        ),
    ],
)
def test_durations_come_from_the_state_changes(changes, expected):
    result = derive_durations(declared_at=T0, changes=changes)
    minutes = tuple(
        None if d is None else d.total_seconds() / 60
        for d in (result.to_acknowledge, result.to_mitigate, result.to_resolve)
    )
    assert minutes == expected
