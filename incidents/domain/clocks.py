"""Clocks: internal response targets and statutory deadlines, as arithmetic
on aware UTC datetimes. The minutes and hours come in as arguments, read from
rows an admin can correct (SeverityPolicy, ReportingObligation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from incidents.domain.grading import Grade, meets


class ClockState(StrEnum):
    RUNNING = "running"
    MET = "met"
    BREACHED = "breached"  # past due and not met
    MET_LATE = "met_late"
    NOT_APPLICABLE = "not_applicable"


def _aware(moment: datetime, name: str) -> None:
    assert moment.tzinfo is not None, f"{name} must be timezone-aware"


def due_after(anchor: datetime, minutes: int) -> datetime:
    _aware(anchor, "anchor")
    return anchor + timedelta(minutes=minutes)


def clock_state(*, due_at: datetime | None, met_at: datetime | None, now: datetime) -> ClockState:
    """Statutory clocks are never paused: only the due time and when it was met count."""
    if due_at is None:
        return ClockState.NOT_APPLICABLE
    _aware(now, "now")
    if met_at is not None:
        return ClockState.MET if met_at <= due_at else ClockState.MET_LATE
    return ClockState.RUNNING if now <= due_at else ClockState.BREACHED


@dataclass(frozen=True)
class ObligationRule:
    """One reporting duty, as data: when it is owed and how long there is."""

    code: str
    min_grade: Grade | None  # owed at this grade or above (None: grade not a trigger)
    cii: bool | None  # True: only CII; False: only non-CII; None: either
    personal_info: bool  # owed only when personal information is involved
    minors: bool  # owed only when minors are involved
    anchor: str  # "discovered" or "handling_ended"
    due_minutes: int


@dataclass(frozen=True)
class IncidentFacts:
    grade: Grade
    is_cii: bool
    involves_personal_info: bool
    involves_minors: bool


def is_owed(rule: ObligationRule, facts: IncidentFacts) -> bool:
    """Whether the incident's facts trigger this duty."""
    if rule.min_grade is not None and not meets(facts.grade, rule.min_grade):
        return False
    if rule.cii is not None and rule.cii != facts.is_cii:
        return False
    if rule.personal_info and not facts.involves_personal_info:
        return False
    if rule.minors and not facts.involves_minors:
        return False
    return rule.min_grade is not None or rule.personal_info or rule.minors


def obligation_due(
    rule: ObligationRule, *, discovered_at: datetime, handling_ended_at: datetime | None
) -> datetime | None:
    """When the report is due: from discovery (the statutory clock starts at
    发现或获知 and is never paused) or from the end of handling (the 30-day
    summary); None while the anchor has not happened yet."""
    anchor = discovered_at if rule.anchor == "discovered" else handling_ended_at
    return None if anchor is None else due_after(anchor, rule.due_minutes)


def grading_due(
    *, discovered_at: datetime, is_cii: bool, cii_minutes: int, other_minutes: int
) -> datetime:
    """The internal deadline for grading an unassessed incident [P]."""
    return due_after(discovered_at, cii_minutes if is_cii else other_minutes)
