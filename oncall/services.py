"""Every write to schedules, layers, overrides and feeds; the handoff and
coverage-gap sweeps. One transaction each; side effects after commit."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from oncall.domain.rotation import Unit, next_handoff, participant_at_index
from oncall.models import (
    CalendarFeed,
    CoverageGap,
    HandoffNotice,
    Layer,
    LayerMember,
    Override,
    Schedule,
)
from oncall.selectors import layer_spec, schedule_spec, with_rotation
from tscc.exceptions import ApplicationError, InvalidInput, NotAllowed
from tscc.realtime import notify_user
from tscc.roles import OPERATIONS_ROLES, Role

HANDOFF_LEAD = timedelta(minutes=15)  # [P] "you are on call in 15 minutes"
HANDOFF_HORIZON = timedelta(hours=24)
GAP_HORIZON = timedelta(days=14)
ROTATION_FIELDS = ("unit", "count", "anchor", "time_zone", "restrictions")


class OncallError(ApplicationError):
    code = "oncall_error"


def ensure(actor, perm: str, obj=None) -> None:
    if not actor.has_perm(perm, obj):
        raise NotAllowed(_("You may not change this schedule."))


def _check_people(users, field: str) -> None:
    for user in users:
        if not (user.is_active and (user.role in OPERATIONS_ROLES or user.is_superuser)):
            raise InvalidInput(
                _("%(name)s cannot be on call.") % {"name": user},
                fields={field: _("Choose responders.")},
            )


def check_zone(time_zone: str, field: str = "time_zone") -> None:
    try:
        ZoneInfo(time_zone)
    except Exception:  # noqa: BLE001 - any invalid zone name
        raise InvalidInput(
            _("Unknown time zone."), fields={field: _("Unknown time zone.")}
        ) from None


def _check_length(unit, count) -> None:
    if unit not in Unit.__members__.values() or not isinstance(count, int) or count < 1:
        raise InvalidInput(_("Choose a shift length."), fields={"count": _("At least 1.")})


def check_restrictions(raw: list[dict]) -> list[dict]:
    """Normalise [{"days": [1..7], "start": "HH:MM", "end": "HH:MM"}]."""
    clean = []
    for item in raw or []:
        try:
            days = sorted({int(d) for d in item["days"]})
            start, end = time.fromisoformat(item["start"]), time.fromisoformat(item["end"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                _("Each restriction needs days and start and end times."),
                fields={"restrictions": _("Invalid restriction.")},
            ) from None
        if not days or not all(1 <= d <= 7 for d in days) or start == end:
            raise InvalidInput(
                _("Each restriction needs days 1-7 and different start and end times."),
                fields={"restrictions": _("Invalid restriction.")},
            )
        clean.append({"days": days, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")})
    return clean


@transaction.atomic
def schedule_save(
    *,
    actor,
    schedule: Schedule | None = None,
    name: str,
    time_zone: str,
    team=None,
    description: str = "",
) -> Schedule:
    if schedule is None:
        ensure(actor, "oncall.create_schedule")
        schedule = Schedule()
    else:
        ensure(actor, "oncall.manage_schedule", schedule)
    if not name.strip():
        raise InvalidInput(_("Name the schedule."), fields={"name": _("Required.")})
    check_zone(time_zone)
    schedule.name, schedule.time_zone, schedule.team, schedule.description = (
        name.strip(),
        time_zone,
        team,
        description,
    )
    schedule.save()
    return schedule


def _set_members(layer: Layer, users) -> None:
    LayerMember.objects.filter(layer=layer).delete()
    LayerMember.objects.bulk_create(
        LayerMember(layer=layer, user=u, position=i) for i, u in enumerate(users)
    )


@transaction.atomic
def layer_create(
    *,
    actor,
    schedule: Schedule,
    name: str,
    users,
    unit: str,
    count: int,
    anchor: datetime,
    priority: int = 0,
    time_zone: str = "",
    restrictions=None,
) -> Layer:
    ensure(actor, "oncall.manage_schedule", schedule)
    _check_people(users, "users")
    _check_length(unit, count)
    if time_zone:
        check_zone(time_zone)
    layer = Layer.objects.create(
        schedule=schedule,
        name=name.strip() or _("Layer"),
        priority=priority,
        unit=unit,
        count=count,
        anchor=anchor,
        time_zone=time_zone,
        restrictions=check_restrictions(restrictions or []),
    )
    _set_members(layer, users)
    return layer


@transaction.atomic
def layer_update(*, actor, layer_id: int, users=None, **changes) -> Layer:
    """Change a layer. Once it has started, a change to who takes part or to
    the rotation makes a new version from the next handoff: the person on call
    now stays on until then, and the past keeps its history. Otherwise the
    layer changes in place."""
    layer = Layer.objects.select_for_update().select_related("schedule").get(id=layer_id)
    ensure(actor, "oncall.manage_schedule", layer.schedule)
    now = timezone.now()
    # Editing a past or replaced version would overlap its successor.
    replaced = Layer.objects.filter(previous=layer).exists()
    if replaced or (layer.active_until is not None and layer.active_until <= now):
        raise OncallError(
            _("This version of the layer has ended or been replaced; edit its newest version."),
            code="layer_replaced",
        )
    if users is not None:
        _check_people(users, "users")
    if changes.get("time_zone"):
        check_zone(changes["time_zone"])
    if "unit" in changes or "count" in changes:
        _check_length(changes.get("unit", layer.unit), changes.get("count", layer.count))
    if "restrictions" in changes:
        changes["restrictions"] = check_restrictions(changes["restrictions"])
    started = (layer.active_from or layer.anchor) <= now
    rotation_changed = users is not None or any(
        f in changes and changes[f] != getattr(layer, f) for f in ROTATION_FIELDS
    )
    if not (started and rotation_changed):
        for name, value in changes.items():
            setattr(layer, name, value)
        layer.save()
        if users is not None:
            _set_members(layer, users)
        return layer
    zone = ZoneInfo(layer.zone_name)
    spec = layer_spec(layer)
    boundary = next_handoff(spec, zone, now)
    next_person = participant_at_index(spec, zone, boundary)
    users = (
        list(users) if users is not None else [m.user for m in layer.members.order_by("position")]
    )
    ids = [u.id for u in users]
    # Keep the rotation's order: who was next goes first; if they left, the
    # first after them in the old order who stays.
    old = list(spec.participants)
    if next_person in old:
        k = old.index(next_person)
        first = next((p for p in old[k:] + old[:k] if p in ids), None)
        if first is not None:
            i = ids.index(first)
            users = users[i:] + users[:i]
    layer.active_until = boundary
    layer.save(update_fields=["active_until"])
    fields = {
        f: getattr(layer, f)
        for f in ("name", "priority", "unit", "count", "time_zone", "restrictions")
    }
    fields.update({k: v for k, v in changes.items() if k != "anchor"})
    new = Layer.objects.create(
        schedule=layer.schedule,
        anchor=changes.get("anchor", boundary),
        active_from=boundary,
        previous=layer,
        **fields,
    )
    if "anchor" not in changes:
        new.anchor = boundary
        new.save(update_fields=["anchor"])
    _set_members(new, users)
    return new


@transaction.atomic
def layer_end(*, actor, layer_id: int) -> Layer:
    """Retire a layer from now on; its past shifts stay."""
    layer = Layer.objects.select_for_update().select_related("schedule").get(id=layer_id)
    ensure(actor, "oncall.manage_schedule", layer.schedule)
    now = timezone.now()
    # A version planned to replace this one from the next handoff goes too.
    Layer.objects.filter(previous=layer, active_from__gt=now).delete()
    if (layer.active_from or layer.anchor) > now:
        layer.delete()
        return layer
    if layer.active_until is None or layer.active_until > now:
        layer.active_until = now
        layer.save(update_fields=["active_until"])
    return layer


def _check_range(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(
            _("The end must be after the start."), fields={"ends_at": _("Before the start.")}
        )
    if ends_at - starts_at > timedelta(days=90):
        raise InvalidInput(
            _("An override lasts at most 90 days."), fields={"ends_at": _("Too long.")}
        )


@transaction.atomic
def override_create(
    *,
    actor,
    schedule: Schedule,
    user,
    starts_at: datetime,
    ends_at: datetime,
    replaces=None,
    note: str = "",
) -> Override:
    """`user` is on call from `starts_at` to `ends_at`, for whoever is on call
    or, with `replaces`, only where that person is."""
    ensure(actor, "oncall.override", schedule)
    _check_people([user], "user")
    _check_range(starts_at, ends_at)
    if replaces is not None and replaces.id == user.id:
        raise InvalidInput(
            _("Someone cannot cover for themselves."),
            fields={"replaces": _("Choose someone else.")},
        )
    return Override.objects.create(
        schedule=schedule,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        replaces=replaces,
        note=note.strip(),
        created_by=actor,
    )


@transaction.atomic
def swap_create(
    *,
    actor,
    schedule: Schedule,
    first,
    first_range: tuple[datetime, datetime],
    second,
    second_range: tuple[datetime, datetime],
    note: str = "",
) -> list[Override]:
    """Two people trade shifts: `second` covers `first` in `first_range`, and
    `first` covers `second` in `second_range`; made and undone together."""
    swap_id = uuid.uuid4()
    made = [
        override_create(
            actor=actor,
            schedule=schedule,
            user=second,
            starts_at=first_range[0],
            ends_at=first_range[1],
            replaces=first,
            note=note,
        ),
        override_create(
            actor=actor,
            schedule=schedule,
            user=first,
            starts_at=second_range[0],
            ends_at=second_range[1],
            replaces=second,
            note=note,
        ),
    ]
    Override.objects.filter(id__in=[o.id for o in made]).update(swap_id=swap_id)
    return made


@transaction.atomic
def override_delete(*, actor, override_id: int) -> int:
    """Remove an override (both halves of a swap). Returns how many went."""
    override = Override.objects.select_related("schedule").get(id=override_id)
    ensure(actor, "oncall.override", override.schedule)
    qs = (
        Override.objects.filter(swap_id=override.swap_id)
        if override.swap_id
        else Override.objects.filter(id=override.id)
    )
    count, _deleted = qs.delete()
    return count


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_create(*, actor, schedule: Schedule | None = None) -> tuple[CalendarFeed, str]:
    """A new secret calendar URL token (shown once): for a schedule, or for
    the actor's own shifts when `schedule` is None."""
    ensure(actor, "oncall.view_schedule", schedule)
    token = "cal_" + secrets.token_urlsafe(24)
    feed = CalendarFeed.objects.create(
        owner=actor, schedule=schedule, token_hash=_hash(token), prefix=token[:10]
    )
    return feed, token


@transaction.atomic
def feed_revoke(*, actor, feed_id: int) -> None:
    feed = CalendarFeed.objects.select_for_update().get(id=feed_id)
    if feed.owner_id != actor.id and actor.role not in (Role.OPS_MANAGER, Role.ADMIN):
        raise NotAllowed(_("Only its owner or an ops manager can revoke a feed."))
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])


def feed_lookup(token: str) -> CalendarFeed | None:
    """The live feed for a token (revoked, unknown, or an owner who is
    inactive or may no longer see schedules: None)."""
    feed = (
        CalendarFeed.objects.select_related("owner", "schedule")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    if feed is not None and not feed.owner.has_perm("oncall.view_schedule", feed.schedule):
        return None
    if feed is not None and (
        feed.last_used_at is None or timezone.now() - feed.last_used_at > timedelta(minutes=5)
    ):
        CalendarFeed.objects.filter(id=feed.id).update(last_used_at=timezone.now())
    return feed


# --- Sweeps (beat) -----------------------------------------------------------


def handoffs_plan(*, now: datetime | None = None) -> int:
    """Plan a notice for every shift starting in the next 24 hours; cancel
    planned notices whose shift no longer exists. Idempotent."""
    from oncall.domain.rotation import final_shifts

    now = now or timezone.now()
    made = 0
    for schedule in with_rotation(
        Schedule.objects.all(), start=now - timedelta(days=1), end=now + HANDOFF_HORIZON
    ):
        shifts = [
            s
            for s in final_shifts(
                schedule_spec(schedule), now - timedelta(days=1), now + HANDOFF_HORIZON
            )
            if s.user_id is not None and now < s.start <= now + HANDOFF_HORIZON
        ]
        wanted = {(s.user_id, s.start): s for s in shifts}
        with transaction.atomic():
            for notice in HandoffNotice.objects.select_for_update().filter(
                schedule=schedule, state=HandoffNotice.State.PENDING, shift_start__gt=now
            ):
                if (notice.user_id, notice.shift_start) not in wanted:
                    notice.state = HandoffNotice.State.CANCELLED
                    notice.save(update_fields=["state"])
            for (user_id, start), shift in wanted.items():
                notice, created = HandoffNotice.objects.get_or_create(
                    schedule=schedule,
                    user_id=user_id,
                    shift_start=start,
                    defaults={"shift_end": shift.end, "notify_at": max(now, start - HANDOFF_LEAD)},
                )
                if notice.state == HandoffNotice.State.CANCELLED:  # the shift is back
                    notice.state = HandoffNotice.State.PENDING
                    notice.shift_end, notice.notify_at = shift.end, max(now, start - HANDOFF_LEAD)
                    notice.save(update_fields=["state", "shift_end", "notify_at"])
                    created = True
                made += created
    return made


def handoffs_send_due(*, now: datetime | None = None) -> int:
    """Send every due notice once (recorded and shown in-app; the escalations
    issue adds phone and chat channels)."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            HandoffNotice.objects.select_for_update(skip_locked=True)
            .select_related("schedule")
            .filter(state=HandoffNotice.State.PENDING, notify_at__lte=now)[:200]
        )
        for notice in due:
            notice.state, notice.sent_at = HandoffNotice.State.SENT, now
            notice.save(update_fields=["state", "sent_at"])
            text = _("You are on call for %(schedule)s from %(start)s.") % {
                "schedule": notice.schedule.name,
                "start": timezone.localtime(
                    notice.shift_start, ZoneInfo(notice.schedule.time_zone)
                ).strftime("%Y-%m-%d %H:%M %Z"),
            }
            transaction.on_commit(
                lambda uid=notice.user_id, t=text: notify_user(uid, text=t, level="info"),
                robust=True,
            )
            sent += 1
    return sent


def gaps_detect(*, now: datetime | None = None) -> int:
    """Find the next 14 days' coverage gaps for every schedule; record new
    ones and report each once to the schedule's team (and ops managers);
    close the ones covered since. Returns how many new gaps were found."""
    from django.contrib.auth import get_user_model

    from oncall.domain.rotation import final_shifts

    now = now or timezone.now()
    end = now + GAP_HORIZON
    found = 0
    managers = list(
        get_user_model()
        .objects.filter(role=Role.OPS_MANAGER, is_active=True)
        .values_list("id", flat=True)
    )
    for schedule in with_rotation(Schedule.objects.select_related("team"), start=now, end=end):
        gaps = sorted(
            (s.start, s.end) for s in final_shifts(schedule_spec(schedule), now, end) if s.is_gap
        )
        with transaction.atomic():
            known = list(
                CoverageGap.objects.select_for_update().filter(
                    schedule=schedule, closed_at__isnull=True, ends_at__gt=now
                )
            )
            seen, new = set(), []
            for start, gap_end in gaps:
                # The window clips a gap already under way (match it by its
                # end) and one running past the horizon (it grows as the
                # window moves: match it by its start and extend it).
                match = next(
                    (
                        g
                        for g in known
                        if (g.starts_at == start or (start == now and g.starts_at <= now))
                        and (g.ends_at == gap_end or (gap_end == end and g.ends_at < gap_end))
                    ),
                    None,
                )
                if match is not None:
                    seen.add(match.id)
                    if match.ends_at != gap_end:
                        match.ends_at = gap_end
                        match.save(update_fields=["ends_at"])
                    continue
                gap, created = CoverageGap.objects.get_or_create(
                    schedule=schedule,
                    starts_at=start,
                    ends_at=gap_end,
                    defaults={"detected_at": now},
                )
                seen.add(gap.id)
                if not created and gap.closed_at is not None:  # covered once, a gap again
                    gap.closed_at = None
                    gap.save(update_fields=["closed_at"])
                    created = True
                if created:
                    new.append(gap)
            CoverageGap.objects.filter(id__in=[g.id for g in known if g.id not in seen]).update(
                closed_at=now
            )
            if new:
                _report_gaps(schedule, new, managers, now)
                found += len(new)
    return found


def _report_gaps(
    schedule: Schedule, new: list[CoverageGap], managers: list[int], now: datetime
) -> None:
    team = (
        list(schedule.team.members.filter(is_active=True).values_list("id", flat=True))
        if schedule.team
        else []
    )
    start = timezone.localtime(new[0].starts_at, ZoneInfo(schedule.time_zone)).strftime(
        "%m-%d %H:%M %Z"
    )
    text = ngettext(
        "%(schedule)s has nobody on call from %(start)s (%(n)d gap in the next 14 days).",
        "%(schedule)s has nobody on call from %(start)s (%(n)d gaps in the next 14 days).",
        len(new),
    ) % {"schedule": schedule.name, "start": start, "n": len(new)}
    for uid in sorted(set(team) | set(managers)):
        transaction.on_commit(
            lambda uid=uid, t=text: notify_user(uid, text=t, level="warning"), robust=True
        )
    CoverageGap.objects.filter(id__in=[g.id for g in new]).update(reported_at=now)
