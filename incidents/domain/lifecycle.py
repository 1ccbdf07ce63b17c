"""The incident lifecycle as a table plus a guard.

triage -> investigating -> mitigating -> monitoring -> resolved -> closed,
with steps back while the response is live, reopen from resolved or closed,
cancel (a false alarm, only before work starts) and merge (into another
incident). The table is the spec; tests walk every pair.
"""

from __future__ import annotations

from enum import StrEnum

from incidents.domain.errors import TransitionNotAllowed


class State(StrEnum):
    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    MERGED = "merged"


ALLOWED: dict[State, frozenset[State]] = {
    State.TRIAGE: frozenset(
        {State.INVESTIGATING, State.MITIGATING, State.RESOLVED, State.CANCELLED, State.MERGED}
    ),
    State.INVESTIGATING: frozenset(
        {State.MITIGATING, State.MONITORING, State.RESOLVED, State.CANCELLED, State.MERGED}
    ),
    State.MITIGATING: frozenset(
        {State.INVESTIGATING, State.MONITORING, State.RESOLVED, State.MERGED}
    ),
    State.MONITORING: frozenset(
        {State.INVESTIGATING, State.MITIGATING, State.RESOLVED, State.MERGED}
    ),
    State.RESOLVED: frozenset({State.INVESTIGATING, State.CLOSED}),
    State.CLOSED: frozenset({State.INVESTIGATING}),
    State.CANCELLED: frozenset({State.TRIAGE}),
    State.MERGED: frozenset(),
}

OPEN_STATES = frozenset({State.TRIAGE, State.INVESTIGATING, State.MITIGATING, State.MONITORING})
ACTIVE_STATES = OPEN_STATES  # the response is running; clocks and nudges apply
DONE_STATES = frozenset({State.RESOLVED, State.CLOSED, State.CANCELLED, State.MERGED})

# Moves that need a written reason.
NEEDS_REASON = frozenset(
    {
        (State.TRIAGE, State.CANCELLED),
        (State.INVESTIGATING, State.CANCELLED),
        (State.RESOLVED, State.INVESTIGATING),
        (State.CLOSED, State.INVESTIGATING),
        (State.CANCELLED, State.TRIAGE),
    }
)

# Merge happens only through the merge service, which knows the target.
VIA_MERGE_ONLY = frozenset({State.MERGED})


def next_states(state: State) -> frozenset[State]:
    """Where an incident in `state` may go next (merge excluded: it has its own action)."""
    return ALLOWED[state] - VIA_MERGE_ONLY


def is_reopen(current: State, target: State) -> bool:
    return current in (State.RESOLVED, State.CLOSED) and target in OPEN_STATES


def check_transition(
    current: State,
    target: State,
    *,
    reason: str = "",
    high_severity: bool = False,
    review_published: bool = False,
    close_waiver: bool = False,
    via_merge: bool = False,
) -> None:
    """Raise TransitionNotAllowed unless current -> target may happen now.

    Codes: `not_allowed` (not in the table), `same_state`, `merge_only`,
    `reason_required`, `review_required` (SEV0/SEV1 close without a published
    review or a waiver, ../shared/domain §6.2 item 21).
    """
    if current == target:
        raise TransitionNotAllowed("same_state", current=current, target=target)
    if target not in ALLOWED[current]:
        raise TransitionNotAllowed("not_allowed", current=current, target=target)
    if target in VIA_MERGE_ONLY and not via_merge:
        raise TransitionNotAllowed("merge_only", current=current, target=target)
    if (current, target) in NEEDS_REASON and not reason.strip():
        raise TransitionNotAllowed("reason_required", current=current, target=target)
    if target is State.CLOSED and high_severity and not (review_published or close_waiver):
        raise TransitionNotAllowed("review_required", current=current, target=target)


def stamp_changes(
    current: State, target: State, *, already_set: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(fields to set to now, fields to clear) for the move current -> target.

    Leaving triage acknowledges; reaching monitoring mitigates; resolving
    also acknowledges and mitigates when those steps were skipped. Each is
    set once. A reopen clears resolved_at and closed_at: the timeline keeps
    the history, and the derived durations are read from there.
    """
    wanted = set()
    if target in (State.INVESTIGATING, State.MITIGATING, State.MONITORING, State.RESOLVED):
        wanted.add("acknowledged_at")
    if target in (State.MONITORING, State.RESOLVED):
        wanted.add("mitigated_at")
    if target is State.RESOLVED:
        wanted.add("resolved_at")
    if target is State.CLOSED:
        wanted.add("closed_at")
    clear = {"resolved_at", "closed_at"} if is_reopen(current, target) else set()
    fresh = {f for f in wanted if f not in already_set or f in clear}
    return frozenset(fresh), frozenset(clear - fresh)
