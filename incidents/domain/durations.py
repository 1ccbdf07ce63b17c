"""Times to acknowledge, mitigate and resolve, derived from the timeline.

The timeline is the record; the incident's timestamp columns are a cache of
it for lists. What counts as acknowledged, mitigated and resolved is
incidents.domain.metrics.milestones, the metrics' own definition, so the
incident page, the API and the summaries agree with the trends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.domain.lifecycle import State
from incidents.domain.metrics import ACKNOWLEDGED, STATE_CHANGED, Event, milestones


@dataclass(frozen=True)
class StateChange:
    at: datetime
    target: State
    acknowledged: bool = False  # an explicit "I have it" without a state change
    seq: int = 0  # the timeline's order (0: by time alone)


@dataclass(frozen=True)
class Durations:
    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None


def derive_durations(*, declared_at: datetime, changes: Iterable[StateChange]) -> Durations:
    """Durations from `declared_at` to the first acknowledgement, the first
    mitigation (monitoring or resolved) and the latest resolution still in
    force (None if the incident has been reopened since, or never resolved)."""
    found = milestones(
        Event(ACKNOWLEDGED, c.at, seq=c.seq)
        if c.acknowledged
        else Event(STATE_CHANGED, c.at, {"to": c.target.value}, c.seq)
        for c in changes
    )

    def since(moment: datetime | None) -> timedelta | None:
        return None if moment is None else max(moment - declared_at, timedelta(0))

    return Durations(
        since(found.acknowledged_at), since(found.mitigated_at), since(found.resolved_at)
    )
