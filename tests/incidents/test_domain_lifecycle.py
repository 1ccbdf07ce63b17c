import pytest

from incidents.domain.errors import TransitionNotAllowed
from incidents.domain.lifecycle import (
    ALLOWED,
    NEEDS_REASON,
    State,
    check_transition,
    next_states,
    stamp_changes,
)

ALLOWED_PAIRS = [(s, t) for s in State for t in State if t in ALLOWED[s] and t is not State.MERGED]
FORBIDDEN_PAIRS = [(s, t) for s in State for t in State if t not in ALLOWED[s] and s != t]


@pytest.mark.parametrize(("current", "target"), ALLOWED_PAIRS)
def test_every_allowed_transition_passes_with_a_reason(current, target):
    check_transition(current, target, reason="because")


@pytest.mark.parametrize(("current", "target"), FORBIDDEN_PAIRS)
def test_every_forbidden_transition_is_refused(current, target):
    with pytest.raises(TransitionNotAllowed) as err:
        check_transition(current, target, reason="because", via_merge=True)
    assert err.value.code == "not_allowed"
    assert err.value.facts == {"current": current, "target": target}


@pytest.mark.parametrize("state", list(State))
def test_staying_put_is_refused(state):
    with pytest.raises(TransitionNotAllowed) as err:
        check_transition(state, state)
    assert err.value.code == "same_state"


@pytest.mark.parametrize(("current", "target"), sorted(NEEDS_REASON))
def test_cancel_and_reopen_need_a_reason(current, target):
    with pytest.raises(TransitionNotAllowed) as err:
        check_transition(current, target, reason="  ")
    assert err.value.code == "reason_required"


@pytest.mark.parametrize("state", [s for s in State if State.MERGED in ALLOWED[s]])
def test_merge_only_through_the_merge_action(state):
    with pytest.raises(TransitionNotAllowed) as err:
        check_transition(state, State.MERGED)
    assert err.value.code == "merge_only"
    check_transition(state, State.MERGED, via_merge=True)
    assert State.MERGED not in next_states(state)


@pytest.mark.parametrize(
    ("high", "published", "waiver", "ok"),
    [
        (False, False, False, True),
        (True, False, False, False),
        (True, True, False, True),
        (True, False, True, True),
    ],
)
def test_closing_a_high_severity_incident_needs_a_review_or_waiver(high, published, waiver, ok):
    def close():
        check_transition(
            State.RESOLVED,
            State.CLOSED,
            high_severity=high,
            review_published=published,
            close_waiver=waiver,
        )

    if ok:
        close()
    else:
        with pytest.raises(TransitionNotAllowed) as err:
            close()
        assert err.value.code == "review_required"


def test_merged_is_final_and_cancelled_can_only_come_back_to_triage():
    assert ALLOWED[State.MERGED] == frozenset()
    assert next_states(State.CANCELLED) == {State.TRIAGE}


@pytest.mark.parametrize(
    ("current", "target", "already", "sets", "clears"),
    [
        (State.TRIAGE, State.INVESTIGATING, set(), {"acknowledged_at"}, set()),
        (State.INVESTIGATING, State.MITIGATING, {"acknowledged_at"}, set(), set()),
        (State.MITIGATING, State.MONITORING, {"acknowledged_at"}, {"mitigated_at"}, set()),
        (State.MONITORING, State.MITIGATING, {"acknowledged_at", "mitigated_at"}, set(), set()),
        (
            State.TRIAGE,
            State.RESOLVED,
            set(),
            {"acknowledged_at", "mitigated_at", "resolved_at"},
            set(),
        ),
        (
            State.RESOLVED,
            State.CLOSED,
            {"acknowledged_at", "mitigated_at", "resolved_at"},
            {"closed_at"},
            set(),
        ),
        (
            State.CLOSED,
            State.INVESTIGATING,
            {"acknowledged_at", "mitigated_at", "resolved_at", "closed_at"},
            set(),
            {"resolved_at", "closed_at"},
        ),
        (State.TRIAGE, State.CANCELLED, set(), set(), set()),
    ],
)
def test_transitions_stamp_each_time_once(current, target, already, sets, clears):
    assert stamp_changes(current, target, already_set=frozenset(already)) == (sets, clears)
