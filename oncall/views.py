"""On-call pages: schedules with who is on call now and next, a schedule's
two-week timeline (per layer and final) in the viewer's zone, layers and
overrides edited in place with htmx, and "My on-call"."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncall import selectors, services
from oncall.domain.rotation import merge_people
from oncall.forms import LayerForm, OverrideForm, ScheduleForm
from oncall.models import CalendarFeed, Layer, Schedule
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error

WINDOWS = (7, 14)
ZONES = sorted(zoneinfo.available_timezones())


def _require(request, perm: str, obj=None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def _schedule(request, schedule_id: int) -> Schedule:
    try:
        return (
            selectors.schedule_visible_to(request.user).select_related("team").get(id=schedule_id)
        )
    except Schedule.DoesNotExist:
        raise Http404 from None


@require_GET
@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    _require(request, "oncall.view_schedule")
    now = timezone.now()
    rows = selectors.oncall_now(
        schedules=selectors.schedule_visible_to(request.user).select_related("team"), at=now
    )
    names = selectors.people_names(
        {r.now.user_id for r in rows} | {r.next.user_id for r in rows if r.next}
    )
    gaps = selectors.open_gap_counts(at=now)
    return render(
        request,
        "oncall/schedule_list.html",
        {
            "rows": [
                {
                    "row": r,
                    "now_name": names.get(r.now.user_id),
                    "next_name": names.get(r.next.user_id) if r.next else None,
                    "gaps": gaps.get(r.schedule.id, 0),
                }
                for r in rows
            ],
            "can_create": request.user.has_perm("oncall.create_schedule"),
            "form": ScheduleForm(initial={"time_zone": request.user.time_zone}),
            "zones": ZONES,
        },
    )


def _color(user_id: int | None) -> int:
    return int(hashlib.md5(str(user_id).encode(), usedforsecurity=False).hexdigest()[:4], 16) % 360


def _segments(shifts, start: datetime, end: datetime, names: dict) -> list[dict]:
    total = (end - start).total_seconds()
    out = []
    for s in shifts:
        left = (max(s.start, start) - start).total_seconds() / total * 100
        width = (min(s.end, end) - max(s.start, start)).total_seconds() / total * 100
        if width <= 0:
            continue
        out.append(
            {
                "left": round(left, 3),
                "width": round(width, 3),
                "user_id": s.user_id,
                "name": names.get(s.user_id, ""),
                "hue": _color(s.user_id),
                "start": s.start,
                "end": s.end,
                "gap": s.user_id is None,
                "override": getattr(s, "override_id", None) is not None,
            }
        )
    return out


def schedule_context(request, schedule: Schedule, forms: dict | None = None) -> dict:
    forms = forms or {}
    days = int(request.GET.get("days", 14)) if request.GET.get("days", "14").isdigit() else 14
    days = days if days in WINDOWS else 14
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today, today + timedelta(days=days)
    now = timezone.now()
    final, per_layer = selectors.schedule_timeline(schedule=schedule, start=start, end=end)
    user_ids = {s.user_id for s in final} | {
        p.user_id for _layer, pieces in per_layer for p in pieces
    }
    names = selectors.people_names(user_ids)
    people = merge_people(final)
    current = next((s for s in people if s.start <= now < s.end), None)
    upcoming = next((s for s in people if current and s.start >= current.end and s.user_id), None)
    layers = selectors.schedule_layers(schedule=schedule)
    can_manage = request.user.has_perm("oncall.manage_schedule", schedule)
    return {
        "schedule": schedule,
        "days": days,
        "windows": WINDOWS,
        "day_marks": [
            {"left": round(i / days * 100, 3), "date": start + timedelta(days=i)}
            for i in range(days)
        ],
        "now_left": round((now - start).total_seconds() / (end - start).total_seconds() * 100, 3)
        if start <= now < end
        else None,
        "final": _segments(people, start, end, names),
        "layer_rows": [
            {"layer": layer, "segments": _segments(pieces, start, end, names)}
            for layer, pieces in per_layer
        ],
        "current": current,
        "current_name": names.get(current.user_id) if current else None,
        "upcoming": upcoming,
        "upcoming_name": names.get(upcoming.user_id) if upcoming else None,
        "gaps": [s for s in final if s.user_id is None],
        "layers": layers,
        "now": now,
        "overrides": selectors.schedule_upcoming_overrides(schedule=schedule, at=now),
        "can_manage": can_manage,
        "can_override": request.user.has_perm("oncall.override", schedule),
        "layer_form": forms.get("layer")
        or LayerForm(
            schedule_zone=schedule.time_zone,
            initial={
                "handoff": timezone.localtime(now, ZoneInfo(schedule.time_zone))
                .replace(hour=9, minute=0, second=0, microsecond=0)
                .strftime("%Y-%m-%dT%H:%M"),
                "unit": "weeks",
                "count": 1,
                "priority": 0,
            },
        ),
        "override_form": forms.get("override") or OverrideForm(),
        "edit_forms": {
            layer.id: (
                forms["edit"][1]
                if forms.get("edit") and forms["edit"][0] == layer.id
                else layer_form_for(layer)
            )
            for layer in layers
            if can_manage and (layer.active_until is None or layer.active_until > now)
        },
        "new_feed": forms.get("new_feed"),
        "error": forms.get("error"),
        "feeds": selectors.live_feeds(owner=request.user, schedule=schedule),
    }


def _render_schedule(request, schedule, *, forms=None, status=200):
    template = (
        "oncall/schedule_detail.html#schedule-body"
        if request.htmx
        else "oncall/schedule_detail.html"
    )
    return render(request, template, schedule_context(request, schedule, forms), status=status)


@require_GET
@login_required
def schedule_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    return _render_schedule(request, _schedule(request, schedule_id))


@require_POST
@login_required
def schedule_create(request: HttpRequest) -> HttpResponse:
    _require(request, "oncall.create_schedule")
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule = services.schedule_save(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            url = reverse("oncall:detail", args=[schedule.id])
            return (
                HttpResponse(status=204, headers={"HX-Redirect": url})
                if request.htmx
                else HttpResponseRedirect(url, status=303)
            )
    else:
        status = 422
    return render(
        request,
        "oncall/schedule_list.html#create-form",
        {"form": form, "can_create": True, "zones": ZONES},
        status=status,
    )


def _done(request, schedule: Schedule, anchor: str) -> HttpResponse:
    if request.htmx:
        return _render_schedule(request, schedule)
    return HttpResponseRedirect(
        reverse("oncall:detail", args=[schedule.id]) + f"#{anchor}", status=303
    )


@require_POST
@login_required
def layer_create(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule(request, schedule_id)
    form = LayerForm(request.POST, schedule_zone=schedule.time_zone)
    status = 422
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.layer_create(
                actor=request.user,
                schedule=schedule,
                name=d["name"],
                users=d["participants"],
                unit=d["unit"],
                count=d["count"],
                anchor=form.anchor(),
                priority=d["priority"],
                time_zone=d["time_zone"],
                restrictions=form.restrictions(),
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, schedule, "layers")
    return _render_schedule(request, schedule, forms={"layer": form}, status=status)


def layer_form_for(layer: Layer) -> LayerForm:
    """The edit form of a layer, filled in (the handoff in the layer's zone)."""
    zone = ZoneInfo(layer.zone_name)
    restriction = layer.restrictions[0] if layer.restrictions else {}
    return LayerForm(
        schedule_zone=layer.schedule.time_zone,
        prefix=f"layer{layer.id}",
        initial={
            "name": layer.name,
            "participants": "\n".join(m.user.username for m in layer.members.all()),
            "unit": layer.unit,
            "count": layer.count,
            "handoff": layer.anchor.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "priority": layer.priority,
            "time_zone": layer.time_zone,
            "restrict_days": restriction.get("days", []),
            "restrict_start": restriction.get("start"),
            "restrict_end": restriction.get("end"),
        },
    )


@require_POST
@login_required
def layer_edit(request: HttpRequest, layer_id: int) -> HttpResponse:
    """Change a layer; once started, the change applies from its next handoff."""
    layer = get_object_or_404(selectors.layer_visible_to(request.user), id=layer_id)
    form = LayerForm(
        request.POST, schedule_zone=layer.schedule.time_zone, prefix=f"layer{layer.id}"
    )
    status = 422
    if form.is_valid():
        d = form.cleaned_data
        changes = {
            "name": d["name"],
            "priority": d["priority"],
            "unit": d["unit"],
            "count": d["count"],
            "time_zone": d["time_zone"],
            "restrictions": form.restrictions(),
        }
        if form.anchor() != layer.anchor:
            changes["anchor"] = form.anchor()
        try:
            services.layer_update(
                actor=request.user, layer_id=layer.id, users=d["participants"], **changes
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, layer.schedule, "layers")
    return _render_schedule(
        request, layer.schedule, forms={"edit": (layer.id, form)}, status=status
    )


@require_POST
@login_required
def layer_end(request: HttpRequest, layer_id: int) -> HttpResponse:
    layer = get_object_or_404(selectors.layer_visible_to(request.user), id=layer_id)
    try:
        services.layer_end(actor=request.user, layer_id=layer.id)
    except ApplicationError as exc:
        return _render_schedule(
            request, layer.schedule, forms={"error": str(exc.message)}, status=exc.http_status
        )
    return _done(request, layer.schedule, "layers")


@require_POST
@login_required
def override_create(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule(request, schedule_id)
    form = OverrideForm(request.POST)
    status = 422
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.override_create(
                actor=request.user,
                schedule=schedule,
                user=d["user"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                replaces=d["replaces"],
                note=d["note"],
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, schedule, "overrides")
    return _render_schedule(request, schedule, forms={"override": form}, status=status)


@require_POST
@login_required
def override_delete(request: HttpRequest, override_id: int) -> HttpResponse:
    override = get_object_or_404(selectors.override_visible_to(request.user), id=override_id)
    try:
        services.override_delete(actor=request.user, override_id=override.id)
    except ApplicationError as exc:
        return _render_schedule(
            request, override.schedule, forms={"error": str(exc.message)}, status=exc.http_status
        )
    return _done(request, override.schedule, "overrides")


@require_POST
@login_required
def feed_create(request: HttpRequest, schedule_id: int | None = None) -> HttpResponse:
    schedule = _schedule(request, schedule_id) if schedule_id else None
    if schedule is None:
        _require(request, "oncall.view_schedule")
    _feed, token = services.feed_create(actor=request.user, schedule=schedule)
    url = request.build_absolute_uri(f"/oncall/ical/{token}.ics")
    if schedule is not None:
        return _render_schedule(request, schedule, forms={"new_feed": url})
    return my_oncall(request, new_feed=url)


@require_POST
@login_required
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(CalendarFeed, id=feed_id, owner=request.user)
    services.feed_revoke(actor=request.user, feed_id=feed.id)
    if feed.schedule_id:
        return _done(request, feed.schedule, "feeds")
    return HttpResponseRedirect(reverse("oncall:me"), status=303)


@require_http_methods(["GET", "POST"])
@login_required
def my_oncall(request: HttpRequest, new_feed: str | None = None) -> HttpResponse:
    _require(request, "oncall.view_schedule")
    now = timezone.now()
    shifts = selectors.user_shifts(
        user=request.user, start=now - timedelta(hours=12), end=now + timedelta(days=30)
    )
    return render(
        request,
        "oncall/my_oncall.html",
        {
            "shifts": [(schedule, shift) for schedule, shift in shifts if shift.end > now],
            "now": now,
            "new_feed": new_feed,
            "feeds": selectors.live_feeds(owner=request.user, schedule=None),
            "notices": selectors.user_handoff_notices(user=request.user),
        },
    )
