"""Who is on call, as arithmetic over a schedule's layers and overrides.

Handoffs are wall-clock times in the schedule's zone: a daily 09:00 handoff
stays at 09:00 across daylight-saving changes (the shift that spans the
change is an hour shorter or longer). Every function takes aware datetimes
and returns aware UTC datetimes.

Resolution, for a window [start, end):
1. each layer's shifts: shift k starts at anchor + k * length (wall time) and
   belongs to participants[k % n], clipped to the layer's active period and
   to its restriction windows (e.g. weekdays 09:00-18:00);
2. layers by priority, highest first: a higher layer wins wherever it covers;
3. overrides win over layers: in their range the override's user is on call
   (only where `replaces` is on call, when set: covering someone's shifts);
4. what remains uncovered is a gap (user None). The result tiles the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


@dataclass(frozen=True)
class Restriction:
    """A recurring window in the schedule's zone: `days` are ISO weekdays
    (1 = Monday), `start`-`end` wall times; end <= start wraps past midnight."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class LayerSpec:
    id: int
    priority: int
    participants: tuple[int, ...]
    anchor: datetime  # the first handoff (aware); its wall time is the handoff time
    unit: Unit
    count: int
    active_from: datetime | None = None
    active_until: datetime | None = None
    restrictions: tuple[Restriction, ...] = ()
    time_zone: str | None = None  # handoffs and restrictions here (default: the schedule's)


@dataclass(frozen=True)
class OverrideSpec:
    id: int
    user_id: int
    start: datetime
    end: datetime
    replaces: int | None = None  # cover only this person's time


@dataclass(frozen=True)
class ScheduleSpec:
    time_zone: str
    layers: tuple[LayerSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    user_id: int | None  # None: nobody on call (a gap)
    layer_id: int | None = None
    override_id: int | None = None

    @property
    def is_gap(self) -> bool:
        return self.user_id is None


@dataclass
class _Piece:
    start: datetime
    end: datetime
    user_id: int | None
    layer_id: int | None = None
    override_id: int | None = None
    meta: dict = field(default_factory=dict)


def _utc(moment: datetime, name: str) -> datetime:
    assert moment.tzinfo is not None, f"{name} must be timezone-aware"
    return moment.astimezone(UTC)


def wall_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time to UTC. In a spring-forward gap the wall time does
    not exist; it maps to the instant the clocks jumped (fold=0 semantics)."""
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _length(unit: Unit, count: int) -> timedelta:
    assert count > 0, "shift length must be positive"
    return {
        Unit.HOURS: timedelta(hours=count),
        Unit.DAYS: timedelta(days=count),
        Unit.WEEKS: timedelta(weeks=count),
    }[unit]


def _boundary(anchor_wall: datetime, step: timedelta, k: int, zone: ZoneInfo) -> datetime:
    return wall_to_utc(anchor_wall + step * k, zone)


def _first_index(anchor_wall: datetime, step: timedelta, at: datetime, zone: ZoneInfo) -> int:
    """The index of the shift that contains `at` (may be negative before the anchor)."""
    at_wall = at.astimezone(zone).replace(tzinfo=None)
    k = (at_wall - anchor_wall) // step
    # Correct for DST offsets around boundaries.
    while _boundary(anchor_wall, step, k, zone) > at:
        k -= 1
    while _boundary(anchor_wall, step, k + 1, zone) <= at:
        k += 1
    return k


def rotation_shifts(
    layer: LayerSpec, zone: ZoneInfo, start: datetime, end: datetime
) -> list[_Piece]:
    """The layer's raw shifts overlapping [start, end), before restrictions."""
    if not layer.participants or end <= start:
        return []
    lo = max(start, _utc(layer.active_from, "active_from")) if layer.active_from else start
    hi = min(end, _utc(layer.active_until, "active_until")) if layer.active_until else end
    if hi <= lo:
        return []
    anchor_wall = layer.anchor.astimezone(zone).replace(tzinfo=None)
    step = _length(layer.unit, layer.count)
    k = _first_index(anchor_wall, step, lo, zone)
    pieces = []
    n = len(layer.participants)
    while True:
        s = _boundary(anchor_wall, step, k, zone)
        e = _boundary(anchor_wall, step, k + 1, zone)
        if s >= hi:
            break
        if e > lo and e > s:
            pieces.append(_Piece(max(s, lo), min(e, hi), layer.participants[k % n], layer.id))
        k += 1
    return pieces


def restriction_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The restriction windows overlapping [start, end), merged, in UTC."""
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    windows = []
    day = first
    while day <= last:
        for r in restrictions:
            if day.isoweekday() not in r.days:
                continue
            s = wall_to_utc(datetime.combine(day, r.start), zone)
            end_day = day + timedelta(days=1) if r.end <= r.start else day
            e = wall_to_utc(datetime.combine(end_day, r.end), zone)
            s, e = max(s, start), min(e, end)
            if e > s:
                windows.append((s, e))
        day += timedelta(days=1)
    return _merge(windows)


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _intersect(pieces: list[_Piece], windows: list[tuple[datetime, datetime]]) -> list[_Piece]:
    """Clip shifts to windows. Both are sorted and each non-overlapping, so
    one walk over the two lists does it (linear, not pieces x windows)."""
    out, i = [], 0
    for p in sorted(pieces, key=lambda piece: piece.start):
        while i < len(windows) and windows[i][1] <= p.start:
            i += 1
        j = i
        while j < len(windows) and windows[j][0] < p.end:
            lo, hi = max(p.start, windows[j][0]), min(p.end, windows[j][1])
            if hi > lo:
                out.append(_Piece(lo, hi, p.user_id, p.layer_id))
            j += 1
    return out


def layer_shifts(layer: LayerSpec, zone: ZoneInfo, start: datetime, end: datetime) -> list[_Piece]:
    """The layer's shifts in [start, end) after its restrictions."""
    pieces = rotation_shifts(layer, zone, start, end)
    if layer.restrictions:
        pieces = _intersect(pieces, restriction_windows(layer.restrictions, zone, start, end))
    return pieces


def _paint(base: list[_Piece], top: list[_Piece]) -> list[_Piece]:
    """`top` pieces win over `base` wherever they cover. Both sorted, and
    each non-overlapping; the result is sorted and non-overlapping."""
    if not top:
        return base
    out: list[_Piece] = []
    for b in base:
        cursor = b.start
        for t in top:
            if t.end <= cursor or t.start >= b.end:
                continue
            if t.start > cursor:
                out.append(_Piece(cursor, t.start, b.user_id, b.layer_id, b.override_id))
            cursor = max(cursor, t.end)
            if cursor >= b.end:
                break
        if cursor < b.end:
            out.append(_Piece(cursor, b.end, b.user_id, b.layer_id, b.override_id))
    out.extend(top)
    return sorted(out, key=lambda p: p.start)


def _fill_gaps(pieces: list[_Piece], start: datetime, end: datetime) -> list[_Piece]:
    out, cursor = [], start
    for p in sorted(pieces, key=lambda p: p.start):
        if p.start > cursor:
            out.append(_Piece(cursor, p.start, None))
        out.append(p)
        cursor = max(cursor, p.end)
    if cursor < end:
        out.append(_Piece(cursor, end, None))
    return out


def _apply_overrides(
    layered: list[_Piece], overrides: Sequence[OverrideSpec], start: datetime, end: datetime
) -> list[_Piece]:
    result = layered
    for o in sorted(overrides, key=lambda o: (o.start, o.id)):
        s, e = max(_utc(o.start, "override start"), start), min(_utc(o.end, "override end"), end)
        if e <= s:
            continue
        if o.replaces is None:
            cover = [_Piece(s, e, o.user_id, None, o.id)]
        else:
            cover = [
                _Piece(max(p.start, s), min(p.end, e), o.user_id, None, o.id)
                for p in result
                if p.user_id == o.replaces and p.end > s and p.start < e
            ]
        result = _paint(result, cover)
    return result


def _coalesce(pieces: list[_Piece]) -> list[Shift]:
    """Join neighbours with the same person from the same source."""
    shifts: list[Shift] = []
    for p in pieces:
        if p.end <= p.start:
            continue
        if (
            shifts
            and shifts[-1].end == p.start
            and (shifts[-1].user_id, shifts[-1].layer_id, shifts[-1].override_id)
            == (p.user_id, p.layer_id, p.override_id)
        ):
            last = shifts[-1]
            shifts[-1] = Shift(last.start, p.end, last.user_id, last.layer_id, last.override_id)
        else:
            shifts.append(Shift(p.start, p.end, p.user_id, p.layer_id, p.override_id))
    return shifts


def final_shifts(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    """The final, layered, overridden shifts that tile [start, end); gaps
    (nobody on call) are shifts with user_id None."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        return []
    zone = ZoneInfo(schedule.time_zone)
    result: list[_Piece] = []
    for layer in sorted(schedule.layers, key=lambda layer: (layer.priority, layer.id)):
        layer_zone = ZoneInfo(layer.time_zone) if layer.time_zone else zone
        pieces = sorted(layer_shifts(layer, layer_zone, start, end), key=lambda p: p.start)
        result = _paint(result, pieces)
    result = _fill_gaps(result, start, end)
    result = _apply_overrides(result, schedule.overrides, start, end)
    return _coalesce(_fill_gaps([p for p in result if p.user_id is not None], start, end))


def on_call_at(schedule: ScheduleSpec, at: datetime) -> Shift:
    """The shift in force at `at` (user_id None when nobody is on call).
    Its start and end are those of the whole shift around `at`, within a
    reasonable horizon (the longest shift length plus a week on each side)."""
    at = _utc(at, "at")
    horizon = max(
        (_length(layer.unit, layer.count) for layer in schedule.layers), default=timedelta(0)
    )
    horizon += timedelta(days=7)
    for shift in final_shifts(schedule, at - horizon, at + horizon):
        if shift.start <= at < shift.end:
            return shift
    raise AssertionError("final_shifts must tile the window")  # pragma: no cover


def coverage_gaps(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    return [s for s in final_shifts(schedule, start, end) if s.is_gap]


def next_handoff(layer: LayerSpec, zone: ZoneInfo, after: datetime) -> datetime:
    """The first handoff boundary of the layer strictly after `after`."""
    anchor_wall = layer.anchor.astimezone(zone).replace(tzinfo=None)
    step = _length(layer.unit, layer.count)
    k = _first_index(anchor_wall, step, _utc(after, "after"), zone)
    return _boundary(anchor_wall, step, k + 1, zone)


def participant_at_index(layer: LayerSpec, zone: ZoneInfo, at: datetime) -> int | None:
    """Who the plain rotation (no restrictions, no other layers) puts on at `at`."""
    if not layer.participants:
        return None
    anchor_wall = layer.anchor.astimezone(zone).replace(tzinfo=None)
    k = _first_index(anchor_wall, _length(layer.unit, layer.count), _utc(at, "at"), zone)
    return layer.participants[k % len(layer.participants)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return wall_to_utc(datetime.combine(day, time(0, 0)), zone)


def merge_people(shifts: Sequence[Shift]) -> list[Shift]:
    """Join neighbouring shifts of the same person whatever layer or override
    they come from: what "on call until" and "next" mean to people."""
    merged: list[Shift] = []
    for s in shifts:
        if merged and merged[-1].end == s.start and merged[-1].user_id == s.user_id:
            last = merged[-1]
            merged[-1] = Shift(last.start, s.end, last.user_id, last.layer_id, last.override_id)
        else:
            merged.append(s)
    return merged
