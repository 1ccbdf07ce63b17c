"""Reads shared by pages, the API, feeds and escalations: schedules as specs
for the pure rotation arithmetic, who is on call now, shifts in a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Prefetch, Q, QuerySet

from oncall.domain.rotation import (
    LayerSpec,
    OverrideSpec,
    Restriction,
    ScheduleSpec,
    Shift,
    Unit,
    final_shifts,
    layer_shifts,
    merge_people,
)
from oncall.models import Layer, LayerMember, Override, Schedule
from tscc.roles import OPERATIONS_ROLES


def schedule_visible_to(user) -> QuerySet[Schedule]:
    if (
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in OPERATIONS_ROLES)
    ):
        return Schedule.objects.all()
    return Schedule.objects.none()


def _restrictions(raw: list[dict]) -> tuple[Restriction, ...]:
    return tuple(
        Restriction(
            frozenset(r["days"]), time.fromisoformat(r["start"]), time.fromisoformat(r["end"])
        )
        for r in raw
    )


def layer_spec(layer: Layer) -> LayerSpec:
    members = getattr(layer, "ordered_members", None)
    if members is None:
        members = list(layer.members.order_by("position"))
    return LayerSpec(
        id=layer.id,
        priority=layer.priority,
        participants=tuple(m.user_id for m in members),
        anchor=layer.anchor,
        unit=Unit(layer.unit),
        count=layer.count,
        # Nobody is on call from a layer before its first handoff (the pure
        # rotation would run backwards from the anchor).
        active_from=max(layer.active_from, layer.anchor) if layer.active_from else layer.anchor,
        active_until=layer.active_until,
        restrictions=_restrictions(layer.restrictions),
        time_zone=layer.time_zone or None,
    )


def override_spec(override: Override) -> OverrideSpec:
    return OverrideSpec(
        override.id, override.user_id, override.starts_at, override.ends_at, override.replaces_id
    )


def with_rotation(qs: QuerySet[Schedule], *, start: datetime, end: datetime) -> QuerySet[Schedule]:
    """Schedules with their layers, members and the overrides that touch
    [start, end): three queries for any number of schedules."""
    return qs.prefetch_related(
        Prefetch(
            "layers",
            queryset=Layer.objects.filter(
                Q(active_until__isnull=True) | Q(active_until__gt=start),
                Q(active_from__isnull=True) | Q(active_from__lt=end),
            ).prefetch_related(
                Prefetch(
                    "members",
                    queryset=LayerMember.objects.order_by("position"),
                    to_attr="ordered_members",
                )
            ),
            to_attr="live_layers",
        ),
        Prefetch(
            "overrides",
            queryset=Override.objects.filter(ends_at__gt=start, starts_at__lt=end),
            to_attr="live_overrides",
        ),
    )


def schedule_spec(schedule: Schedule) -> ScheduleSpec:
    layers = getattr(schedule, "live_layers", None)
    if layers is None:
        layers = list(schedule.layers.prefetch_related("members"))
    overrides = getattr(schedule, "live_overrides", None)
    if overrides is None:
        overrides = list(schedule.overrides.all())
    return ScheduleSpec(
        schedule.time_zone,
        tuple(layer_spec(layer) for layer in layers),
        tuple(override_spec(o) for o in overrides),
    )


@dataclass(frozen=True)
class NowAndNext:
    schedule: Schedule
    now: Shift
    next: Shift | None


def oncall_now(
    *, schedules: QuerySet[Schedule], at: datetime, horizon_days: int = 35
) -> list[NowAndNext]:
    """Who is on call at `at` for each schedule (the whole shift of that
    person, merged across layers), and who is next. Resolved over a short
    window first (the longest shift plus two days each side) and again over
    `horizon_days` only where the answer touches the short window's edges.
    Loads are three queries however many schedules there are."""
    start, end = at - timedelta(days=horizon_days), at + timedelta(days=horizon_days)
    result = []
    for schedule in with_rotation(schedules, start=start, end=end):
        spec = schedule_spec(schedule)
        longest = max((_length(layer) for layer in spec.layers), default=timedelta(0))
        near = min(longest + timedelta(days=2), timedelta(days=horizon_days))
        row = _now_and_next(schedule, spec, at, at - near, at + near)
        if row is None:
            row = _now_and_next(schedule, spec, at, start, end, final=True)
        result.append(row)
    return result


def _length(layer: LayerSpec) -> timedelta:
    return {
        Unit.HOURS: timedelta(hours=1),
        Unit.DAYS: timedelta(days=1),
        Unit.WEEKS: timedelta(weeks=1),
    }[layer.unit] * layer.count


def _now_and_next(schedule, spec, at, start, end, *, final: bool = False) -> NowAndNext | None:
    shifts = merge_people(final_shifts(spec, start, end))
    current = next(s for s in shifts if s.start <= at < s.end)
    upcoming = next((s for s in shifts if s.start >= current.end and s.user_id is not None), None)
    clipped = current.start == start or current.end == end or upcoming is None
    if clipped and not final:
        return None
    return NowAndNext(schedule, current, upcoming)


def oncall_user_ids(*, schedule_id: int, at: datetime) -> list[int]:
    """Escalations ask this: who is on call for schedule S at time T."""
    rows = oncall_now(schedules=Schedule.objects.filter(id=schedule_id), at=at, horizon_days=8)
    return [r.now.user_id for r in rows if r.now.user_id is not None]


def schedule_shifts(*, schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    schedule = with_rotation(Schedule.objects.filter(id=schedule.id), start=start, end=end).get()
    return final_shifts(schedule_spec(schedule), start, end)


def schedule_layer_shifts(
    *, schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[Layer, list]]:
    """Each live layer with its own shifts in the window (before layering)."""
    from zoneinfo import ZoneInfo

    schedule = with_rotation(Schedule.objects.filter(id=schedule.id), start=start, end=end).get()
    out = []
    for layer in sorted(schedule.live_layers, key=lambda x: (-x.priority, x.id)):
        zone = ZoneInfo(layer.time_zone or schedule.time_zone)
        out.append((layer, layer_shifts(layer_spec(layer), zone, start, end)))
    return out


def user_shifts(*, user, start: datetime, end: datetime) -> list[tuple[Schedule, Shift]]:
    """A person's final shifts across every schedule they appear in."""
    schedules = Schedule.objects.filter(
        Q(layers__members__user=user) | Q(overrides__user=user) | Q(overrides__replaces=user)
    ).distinct()
    out = []
    for schedule in with_rotation(schedules, start=start, end=end):
        for shift in final_shifts(schedule_spec(schedule), start, end):
            if shift.user_id == user.id:
                out.append((schedule, shift))
    return sorted(out, key=lambda pair: pair[1].start)


def schedule_timeline(
    *, schedule: Schedule, start: datetime, end: datetime
) -> tuple[list[Shift], list[tuple[Layer, list]]]:
    """The final shifts and each live layer's own shifts, from one load."""
    from zoneinfo import ZoneInfo

    loaded = with_rotation(Schedule.objects.filter(id=schedule.id), start=start, end=end).get()
    spec = schedule_spec(loaded)
    per_layer = []
    for layer in sorted(loaded.live_layers, key=lambda x: (-x.priority, x.id)):
        zone = ZoneInfo(layer.time_zone or loaded.time_zone)
        per_layer.append((layer, layer_shifts(layer_spec(layer), zone, start, end)))
    return final_shifts(spec, start, end), per_layer


def open_gap_counts(*, at: datetime, days: int = 14) -> dict[int, int]:
    """Open coverage gaps per schedule in the next `days` (one query)."""
    from django.db.models import Count

    from oncall.models import CoverageGap

    return dict(
        CoverageGap.objects.filter(
            closed_at__isnull=True, ends_at__gt=at, starts_at__lt=at + timedelta(days=days)
        )
        .values("schedule_id")
        .annotate(n=Count("id"))
        .values_list("schedule_id", "n")
    )


def people_names(user_ids) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    ids = {i for i in user_ids if i is not None}
    return {u.id: str(u) for u in get_user_model().objects.filter(id__in=ids)}


def schedule_layers(*, schedule: Schedule) -> list[Layer]:
    """Every version of every layer, members loaded, highest priority first."""
    return list(schedule.layers.prefetch_related("members__user").order_by("-priority", "id"))


def schedule_upcoming_overrides(*, schedule: Schedule, at: datetime) -> list[Override]:
    return list(schedule.overrides.filter(ends_at__gt=at).select_related("user", "replaces"))


def live_feeds(*, owner, schedule: Schedule | None) -> list:
    """The owner's unrevoked calendar feeds for a schedule (or personal ones)."""
    from oncall.models import CalendarFeed

    return list(
        CalendarFeed.objects.filter(owner=owner, schedule=schedule, revoked_at__isnull=True)
    )


def user_handoff_notices(*, user, limit: int = 10) -> list:
    from oncall.models import HandoffNotice

    return list(
        HandoffNotice.objects.filter(user=user)
        .exclude(state=HandoffNotice.State.CANCELLED)
        .select_related("schedule")
        .order_by("-shift_start")[:limit]
    )


def layer_visible_to(user) -> QuerySet[Layer]:
    return Layer.objects.filter(schedule__in=schedule_visible_to(user)).select_related("schedule")


def override_visible_to(user) -> QuerySet[Override]:
    return Override.objects.filter(schedule__in=schedule_visible_to(user)).select_related(
        "schedule"
    )
