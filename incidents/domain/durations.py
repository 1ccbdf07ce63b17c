"""Times to acknowledge, mitigate and resolve, derived from the timeline.

The timeline is the record; the incident's timestamp columns are a cache of
it for lists. These functions read state changes only, so a reopened and
re-resolved incident reports the latest resolution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.domain.lifecycle import OPEN_STATES, State


@dataclass(frozen=True)
class StateChange:
    at: datetime
    target: State
    acknowledged: bool = False  # an explicit "I have it" without a state change


@dataclass(frozen=True)
class Durations:
    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None


def derive_durations(*, declared_at: datetime, changes: Iterable[StateChange]) -> Durations:
    """Durations from `declared_at` to the first acknowledgement, the first
    mitigation (monitoring or resolved) and the latest resolution still in
    force (None if the incident has been reopened since, or never resolved)."""
    acked = mitigated = resolved = None
    for change in sorted(changes, key=lambda c: c.at):
        if acked is None and (change.acknowledged or change.target != State.TRIAGE):
            acked = change.at
        if mitigated is None and change.target in (State.MONITORING, State.RESOLVED):
            mitigated = change.at
        if change.target is State.RESOLVED:
            resolved = change.at
        elif change.target in OPEN_STATES:
            resolved = None

    def since(moment: datetime | None) -> timedelta | None:
        return None if moment is None else max(moment - declared_at, timedelta(0))

    return Durations(since(acked), since(mitigated), since(resolved))
