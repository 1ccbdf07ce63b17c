"""Escalation policies as values: ordered levels, each paging some targets
and then waiting for an acknowledgement; the whole policy repeats K times;
an optional final level notifies a manager.

An incident pages by a frozen snapshot of its policy (taken when paging
starts), so edits made mid-incident apply only when someone switches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class TargetKind(StrEnum):
    USER = "user"
    SCHEDULE = "schedule"  # whoever is on call when the level fires
    TEAM = "team"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int


@dataclass(frozen=True)
class Level:
    targets: tuple[Target, ...]
    wait_minutes: int


@dataclass(frozen=True)
class PolicySnapshot:
    levels: tuple[Level, ...]
    repeat: int = 0  # extra rounds after the first
    final: tuple[Target, ...] = ()  # notified once after the last round (e.g. a manager)

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("a policy needs at least one level")
        if self.repeat < 0:
            raise ValueError("repeat cannot be negative")
        for level in self.levels:
            if level.wait_minutes < 0:
                raise ValueError("a level cannot wait a negative time")


@dataclass(frozen=True)
class Step:
    """One firing of the policy: `number` counts from 0 across rounds; the
    final manager step, if any, comes last with `final=True`."""

    number: int
    round: int
    level_index: int
    targets: tuple[Target, ...]
    wait: timedelta
    final: bool = False


def steps(policy: PolicySnapshot) -> list[Step]:
    """Every step the policy can take, in order."""
    out = []
    number = 0
    for round_ in range(policy.repeat + 1):
        for i, level in enumerate(policy.levels):
            out.append(
                Step(number, round_, i, level.targets, timedelta(minutes=level.wait_minutes))
            )
            number += 1
    if policy.final:
        out.append(Step(number, policy.repeat, -1, policy.final, timedelta(0), final=True))
    return out


def step_at(policy: PolicySnapshot, number: int) -> Step | None:
    """Step `number`, or None when the policy is exhausted."""
    all_steps = steps(policy)
    return all_steps[number] if 0 <= number < len(all_steps) else None


def next_due(step: Step, fired_at: datetime, *, resolved_count: int) -> datetime:
    """When the step after `step` is due: after the step's wait, or at once
    when the step had nobody to page (a level with an empty rotation or no
    contact method moves on without waiting out its delay)."""
    assert fired_at.tzinfo is not None, "fired_at must be timezone-aware"
    return fired_at if resolved_count == 0 else fired_at + step.wait


def pages_nobody(policy: PolicySnapshot, resolve) -> list[int]:
    """Level indexes whose targets resolve to nobody (`resolve(target) ->
    iterable of user ids`); the health check warns about these ahead of time."""
    empty = []
    for i, level in enumerate(policy.levels):
        if not any(True for t in level.targets for _ in resolve(t)):
            empty.append(i)
    return empty
