"""Queue and vendor health as plain functions over figures.

A queue's health comes from its latest snapshot, its targets and the clock.
Levels, from best to worst: ok, unknown, warn, stale, breach. Each level
comes with the reason codes that set it, so a page can say why, and with the
projected minutes to an SLA breach when one is projected.

Thresholds (product defaults [P], ../shared/domain §3.2):

- attainment_below_sla (breach): SLA attainment under the queue's target
  (e.g. 94.9% against "95% within N minutes").
- attainment_near_sla (warn): at or above the target but under the warn
  threshold (default: target + 2 points, at most 100).
- oldest_over_sla (breach): the oldest item waits longer than the SLA
  minutes, so items are being actioned late right now.
- understaffed (warn under 90% of planned headcount, breach under 75%);
  a plan of 0 is never understaffed. Fill rate >= 95% is the usual target;
  90% leaves room for breaks.
- projected_breach_within_60m (warn): `projected_breach` says the backlog
  breaks the SLA within the hour at the current inflow and outflow.
- stale_report (stale): in a staffed shift, no snapshot for the queue's
  `stale_after_minutes` (counted from the later of the last snapshot and the
  start of the shift, so a shift that just opened is not stale at once).
- no_report (unknown): no snapshot yet, outside a staffed shift.
- off_shift (unknown): the last snapshot is old and the queue is off shift;
  yesterday's figures are not shown as today's.

Every datetime is timezone-aware; shift windows are wall times in the site's
time zone (zoneinfo), so they follow daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

ALL_DAYS = frozenset(range(1, 8))  # ISO weekdays, 1 = Monday
WARN_MARGIN = 2.0  # points above the SLA target where "near" begins
# Figures may be posted for a moment at most this old (so older days are final).
MAX_SNAPSHOT_AGE = timedelta(days=7)
UNDERSTAFFED_WARN = 0.90
UNDERSTAFFED_BREACH = 0.75
PROJECTION_HORIZON_MINUTES = 60


class Level(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    WARN = "warn"
    STALE = "stale"
    BREACH = "breach"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)


LEVEL_ORDER = (Level.OK, Level.UNKNOWN, Level.WARN, Level.STALE, Level.BREACH)


class Reason(StrEnum):
    ATTAINMENT_BELOW_SLA = "attainment_below_sla"
    ATTAINMENT_NEAR_SLA = "attainment_near_sla"
    OLDEST_OVER_SLA = "oldest_over_sla"
    UNDERSTAFFED = "understaffed"
    SEVERELY_UNDERSTAFFED = "severely_understaffed"
    PROJECTED_BREACH = "projected_breach_within_60m"
    STALE_REPORT = "stale_report"
    NO_REPORT = "no_report"
    OFF_SHIFT = "off_shift"
    SITE_DOWN = "site_down"
    SITE_DEGRADED = "site_degraded"
    SITE_BCP_ACTIVE = "site_bcp_active"


REASON_LEVEL = {
    Reason.ATTAINMENT_BELOW_SLA: Level.BREACH,
    Reason.ATTAINMENT_NEAR_SLA: Level.WARN,
    Reason.OLDEST_OVER_SLA: Level.BREACH,
    Reason.UNDERSTAFFED: Level.WARN,
    Reason.SEVERELY_UNDERSTAFFED: Level.BREACH,
    Reason.PROJECTED_BREACH: Level.WARN,
    Reason.STALE_REPORT: Level.STALE,
    Reason.NO_REPORT: Level.UNKNOWN,
    Reason.OFF_SHIFT: Level.UNKNOWN,
    Reason.SITE_DOWN: Level.BREACH,
    Reason.SITE_DEGRADED: Level.WARN,
    Reason.SITE_BCP_ACTIVE: Level.WARN,
}


class SiteStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    DOWN = "down"
    BCP_ACTIVE = "bcp_active"


SITE_REASON = {
    SiteStatus.DOWN: Reason.SITE_DOWN,
    SiteStatus.DEGRADED: Reason.SITE_DEGRADED,
    SiteStatus.BCP_ACTIVE: Reason.SITE_BCP_ACTIVE,
}


@dataclass(frozen=True)
class Figures:
    """One snapshot's figures. `taken_at` is aware (what period they are for)."""

    taken_at: datetime
    backlog: int
    inflow_per_hour: float
    outflow_per_hour: float
    oldest_item_minutes: float
    sla_attainment: float
    staffed_headcount: int
    planned_headcount: int


@dataclass(frozen=True)
class ShiftWindow:
    """Staffed hours in the site's zone: `start`-`end` wall times on `days`
    (ISO weekdays, of the day the shift starts); end <= start runs past
    midnight, and end == start is a 24-hour shift (on every day: 24/7)."""

    time_zone: str = "UTC"
    start: time = time(0, 0)
    end: time = time(0, 0)
    days: frozenset[int] = ALL_DAYS


@dataclass(frozen=True)
class Targets:
    """A queue's targets: "sla_percent % actioned within sla_minutes"."""

    sla_percent: float
    sla_minutes: int
    shift: ShiftWindow = field(default_factory=ShiftWindow)
    stale_after_minutes: int = 60
    warn_attainment: float | None = None
    active_since: datetime | None = None  # a new queue is not stale at once

    @property
    def warn_below(self) -> float:
        if self.warn_attainment is not None:
            return self.warn_attainment
        return min(100.0, self.sla_percent + WARN_MARGIN)


@dataclass(frozen=True)
class Health:
    level: Level
    reasons: tuple[Reason, ...] = ()
    projected_breach_minutes: float | None = None
    in_shift: bool = False

    @property
    def is_trouble(self) -> bool:
        """Breached, or projected to breach within the hour: automatic trouble."""
        return self.level is Level.BREACH or Reason.PROJECTED_BREACH in self.reasons


def worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=lambda level: level.rank, default=Level.OK)


def _level_of(reasons: Iterable[Reason]) -> Level:
    return worst(REASON_LEVEL[r] for r in reasons)


def projected_breach(
    *,
    backlog: int,
    inflow_per_hour: float,
    outflow_per_hour: float,
    oldest_item_minutes: float,
    sla_minutes: float,
) -> float | None:
    """Minutes until the queue breaks its SLA, 0 when it already has, None
    when no breach is projected at the current rates.

    The model is a FIFO queue worked at a steady outflow. An item arriving
    now waits about backlog / outflow hours, so the queue breaks the SLA once
    the backlog exceeds what the outflow clears in the SLA time,
    outflow * SLA / 60 items (the "capacity"). Then:

    - the oldest item already at or over the SLA: 0;
    - outflow > 0 and backlog over capacity: 0;
    - outflow > 0, inflow > outflow: the backlog grows at (inflow - outflow)
      per hour and reaches capacity after
      (capacity - backlog) / (inflow - outflow) hours;
    - outflow > 0, inflow <= outflow: the backlog holds or shrinks: None;
    - outflow 0 and a backlog: nothing moves, so the oldest item breaks the
      SLA when it reaches it, after SLA - oldest minutes;
    - outflow 0, no backlog, some inflow: the first arrival breaks it after
      the SLA minutes; no inflow either: None.
    """
    if oldest_item_minutes >= sla_minutes:
        return 0.0
    if outflow_per_hour <= 0:
        if backlog > 0:
            return float(sla_minutes - oldest_item_minutes)
        return float(sla_minutes) if inflow_per_hour > 0 else None
    capacity = outflow_per_hour * sla_minutes / 60
    if backlog > capacity:
        return 0.0
    growth = inflow_per_hour - outflow_per_hour
    if growth <= 0:
        return None
    return (capacity - backlog) / growth * 60


@lru_cache(maxsize=1024)  # pure; a board asks it for hundreds of queues sharing a few shifts
def shift_start(now: datetime, shift: ShiftWindow) -> datetime | None:
    """The start (aware, in the site's zone) of the staffed shift that
    contains `now`, or None when `now` is off shift.

    Wall-clock arithmetic: the local time of `now` is compared with the
    window, so a 09:00-18:00 shift is 09:00-18:00 local on both sides of a
    daylight-saving change. A shift that starts at a wall time skipped by a
    change starts at the first instant after the gap."""
    assert now.tzinfo is not None, "now must be timezone-aware"
    tz = ZoneInfo(shift.time_zone)
    local = now.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    today = local.date()
    overnight = shift.end <= shift.start
    if not overnight:
        if shift.start <= wall < shift.end and local.isoweekday() in shift.days:
            return _at(today, shift.start, tz)
        return None
    if wall >= shift.start and local.isoweekday() in shift.days:
        day = today
    elif wall < shift.end and (today - timedelta(days=1)).isoweekday() in shift.days:
        day = today - timedelta(days=1)
    else:
        return None
    if shift.end == shift.start:
        # Back-to-back 24-hour shifts are one stretch of cover: it started
        # on the first day of the run (a week back at most, for 24/7).
        for _ in range(7):
            if (day - timedelta(days=1)).isoweekday() not in shift.days:
                break
            day -= timedelta(days=1)
    return _at(day, shift.start, tz)


def _at(day, wall: time, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(day, wall)
    moment = naive.replace(tzinfo=tz)
    # A wall time in a spring-forward gap does not exist; round-tripping
    # through UTC lands it after the gap.
    return moment.astimezone(ZoneInfo("UTC")).astimezone(tz)


def in_staffed_window(
    now: datetime, time_zone: str, start: time, end: time, days: Iterable[int] = ALL_DAYS
) -> bool:
    """Whether `now` falls in the staffed shift `start`-`end` (wall times in
    `time_zone`, on ISO weekdays `days`; see ShiftWindow and shift_start)."""
    window = ShiftWindow(time_zone=time_zone, start=start, end=end, days=frozenset(days))
    return shift_start(now, window) is not None


def queue_health(figures: Figures | None, targets: Targets, now: datetime) -> Health:
    """The queue's health now from its latest figures (None: never reported).
    Reasons are listed worst first, each once."""
    started = shift_start(now, targets.shift)
    in_shift = started is not None
    if in_shift and targets.active_since is not None:
        started = max(started, targets.active_since)
    stale_after = timedelta(minutes=targets.stale_after_minutes)
    if figures is None:
        if in_shift and now - started >= stale_after:
            return Health(Level.STALE, (Reason.STALE_REPORT,), in_shift=True)
        return Health(Level.UNKNOWN, (Reason.NO_REPORT,), in_shift=in_shift)
    age = now - figures.taken_at
    if age >= stale_after:
        if not in_shift:
            return Health(Level.UNKNOWN, (Reason.OFF_SHIFT,), in_shift=False)
        if now - max(figures.taken_at, started) >= stale_after:
            return Health(Level.STALE, (Reason.STALE_REPORT,), in_shift=True)
        # The shift has just opened: wait for its first report.
        return Health(Level.UNKNOWN, (Reason.NO_REPORT,), in_shift=True)

    reasons: list[Reason] = []
    if figures.sla_attainment < targets.sla_percent:
        reasons.append(Reason.ATTAINMENT_BELOW_SLA)
    elif figures.sla_attainment < targets.warn_below:
        reasons.append(Reason.ATTAINMENT_NEAR_SLA)
    if figures.oldest_item_minutes > targets.sla_minutes:
        reasons.append(Reason.OLDEST_OVER_SLA)
    if figures.planned_headcount > 0:
        fill = figures.staffed_headcount / figures.planned_headcount
        if fill < UNDERSTAFFED_BREACH:
            reasons.append(Reason.SEVERELY_UNDERSTAFFED)
        elif fill < UNDERSTAFFED_WARN:
            reasons.append(Reason.UNDERSTAFFED)
    minutes = projected_breach(
        backlog=figures.backlog,
        inflow_per_hour=figures.inflow_per_hour,
        outflow_per_hour=figures.outflow_per_hour,
        oldest_item_minutes=figures.oldest_item_minutes,
        sla_minutes=targets.sla_minutes,
    )
    # An oldest item over the SLA is a breach already; the projection (0)
    # would only repeat it.
    if (
        minutes is not None
        and minutes <= PROJECTION_HORIZON_MINUTES
        and Reason.OLDEST_OVER_SLA not in reasons
    ):
        reasons.append(Reason.PROJECTED_BREACH)
    reasons.sort(key=lambda r: -REASON_LEVEL[r].rank)
    return Health(
        _level_of(reasons) if reasons else Level.OK,
        tuple(reasons),
        projected_breach_minutes=minutes,
        in_shift=in_shift,
    )


def site_health(status: str) -> Health:
    """A site's status as a health: down is a breach, degraded or on its
    business-continuity plan a warning."""
    reason = SITE_REASON.get(SiteStatus(status))
    if reason is None:
        return Health(Level.OK)
    return Health(REASON_LEVEL[reason], (reason,))


def vendor_health(queue_healths: Iterable[Health], site_statuses: Iterable[str]) -> Health:
    """The worst of the vendor's queues and sites, with every reason that
    reaches that level. Unknown queues (off shift, never reported) count only
    when nothing else is known, so a vendor is not grey all night."""
    parts = [*queue_healths, *(site_health(s) for s in site_statuses)]
    known = [h for h in parts if h.level is not Level.UNKNOWN]
    if not known:
        return Health(Level.UNKNOWN, (Reason.NO_REPORT,) if parts else ())
    level = worst(h.level for h in known)
    reasons: list[Reason] = []
    for h in known:
        for r in h.reasons:
            if REASON_LEVEL[r] is level and r not in reasons:
                reasons.append(r)
    projections = [
        h.projected_breach_minutes for h in known if h.projected_breach_minutes is not None
    ]
    return Health(
        level,
        tuple(reasons),
        projected_breach_minutes=min(projections) if projections else None,
        in_shift=any(h.in_shift for h in parts),
    )
