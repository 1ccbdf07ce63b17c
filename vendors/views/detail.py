"""A vendor's page for the ops team: sites with their status history, queues
now, history charts (7 or 30 days), SLA attainment and QA accuracy by ISO
week, linked incidents; for ops managers, linking an incident and the
vendor's API tokens."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.selectors import incident_by_reference, incident_visible_to
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error
from vendors import selectors, services
from vendors.domain.health import vendor_health
from vendors.forms import EscalationLevelsForm, ImpactForm, TokenForm, impact_targets
from vendors.selectors import QueueRow, health_of, latest_snapshots, sees_every_vendor
from vendors.views import present
from vendors.views.board import incident_chip, queue_row

RANGES = (7, 30)
WEEKS = 12


def _vendor(request, vendor_id: int):
    vendor = selectors.vendor_for(request.user, vendor_id)
    if vendor is None:
        raise Http404
    return vendor


def _queues(request, vendor, now):
    queues = list(
        selectors.queues_visible_to(request.user)
        .filter(vendor_id=vendor.id, is_active=True)
        .order_by("name", "id")
    )
    snapshots = latest_snapshots(q.id for q in queues)
    return queues, [
        QueueRow(q, snapshots.get(q.id), health_of(q, snapshots.get(q.id), now)) for q in queues
    ]


def history_context(request, vendor, queues, now) -> dict:
    try:
        days = int(request.GET.get("range", RANGES[0]))
    except ValueError:
        days = RANGES[0]
    days = days if days in RANGES else RANGES[0]
    since = now - timedelta(days=days)
    series = selectors.vendor_series(vendor.id, since=since, until=now)
    charts = []
    for i, queue in enumerate(queues):
        points = series.get(queue.id, [])
        colour = present.PALETTE[i % len(present.PALETTE)]
        charts.append(
            {
                "queue": queue,
                "name": queue.display_name,
                "count": len(points),
                "attainment": present.line_chart(
                    [
                        {
                            "name": queue.display_name,
                            "colour": colour,
                            "points": [(t, a) for t, a, _b, _q in points],
                        }
                    ],
                    since=since,
                    until=now,
                    label=_("SLA attainment of %(queue)s") % {"queue": queue.display_name},
                    unit="%",
                    target=queue.sla_percent,
                    ceiling=100,
                    width=400,
                    height=140,
                ),
                "backlog": present.line_chart(
                    [
                        {
                            "name": queue.display_name,
                            "colour": colour,
                            "points": [(t, b) for t, _a, b, _q in points],
                        }
                    ],
                    since=since,
                    until=now,
                    label=_("Backlog of %(queue)s") % {"queue": queue.display_name},
                    floor=0,
                    width=400,
                    height=140,
                ),
            }
        )
    return {"days": days, "ranges": RANGES, "charts": charts}


def _bar(value: float, target: float) -> float:
    low = max(0.0, target - 10)
    return round(max(0.0, min(100.0, (value - low) / ((100 - low) or 1) * 100)), 1)


def weekly_context(request, vendor, queues, now) -> dict:
    since = (now - timedelta(weeks=WEEKS)).replace(hour=0, minute=0, second=0, microsecond=0)
    since -= timedelta(days=since.weekday())
    rows = selectors.vendor_weekly_figures(viewer=request.user, vendor_id=vendor.id, since=since)
    by_week: dict = defaultdict(dict)
    for row in rows or []:
        by_week[row["week"]][row["queue_id"]] = row
    weeks = []
    qa_lines = {q.id: [] for q in queues}
    for week in sorted(by_week, reverse=True):
        cells = []
        for queue in queues:
            row = by_week[week].get(queue.id)
            attainment = row["attainment"] if row else None
            if row and row["qa_accuracy"] is not None:
                qa_lines[queue.id].append((week + timedelta(days=3, hours=12), row["qa_accuracy"]))
            cells.append(
                {
                    "attainment": f"{attainment:.1f}%" if attainment is not None else "—",
                    # Bars run from 10 points under the target to 100%, so
                    # a point or two shows; the tick marks the target.
                    "width": _bar(attainment or 0, queue.sla_percent),
                    "mark": _bar(queue.sla_percent, queue.sla_percent),
                    "class": (
                        ""
                        if attainment is None
                        else "bad"
                        if attainment < queue.sla_percent
                        else "ok"
                    ),
                    "qa": f"{row['qa_accuracy']:.1f}%" if row and row["qa_accuracy"] else "",
                    "escalations": row["escalations"] if row else None,
                }
            )
        iso = week.isocalendar()
        weeks.append({"label": f"{iso.year}-W{iso.week:02d}", "start": week, "cells": cells})
    lines = [
        {
            "name": q.display_name,
            "colour": present.PALETTE[i % len(present.PALETTE)],
            "points": sorted(qa_lines[q.id]),
        }
        for i, q in enumerate(queues)
        if qa_lines[q.id]
    ]
    first = min((p[0] for line in lines for p in line["points"]), default=since)
    qa_chart = present.line_chart(
        lines,
        since=min(first - timedelta(days=4), now - timedelta(weeks=4)),
        until=now,
        label=_("QA accuracy by week"),
        unit="%",
        ceiling=100,
        width=640,
        height=170,
    )
    return {"weeks": weeks, "qa_chart": qa_chart if lines else None}


def _tokens_context(vendor, *, form=None, secret: str = "", error: str = "") -> dict:
    return {
        "vendor": vendor,
        "tokens": list(selectors.vendor_tokens(vendor=vendor)),
        "token_form": form or TokenForm(),
        "secret": secret,
        "token_error": error,
    }


def _impact_form(vendor, queues, sites, data=None) -> ImpactForm:
    return ImpactForm(
        data,
        prefix="link",
        targets=impact_targets([vendor], queues, [s for s in sites if s.is_active]),
        ask_incident=True,
    )


@require_GET
@login_required
def vendor_detail(request: HttpRequest, vendor_id: int) -> HttpResponse:
    vendor = _vendor(request, vendor_id)
    if not sees_every_vendor(request.user):
        return HttpResponseRedirect(reverse("vendors:portal-vendor", args=[vendor.id]))
    return _detail(request, vendor)


def _detail(request, vendor, *, link_form=None, link_error="", status=200) -> HttpResponse:
    now = timezone.now()
    queues, rows = _queues(request, vendor, now)
    if request.htmx and request.htmx.target == "vendor-history":
        return render(
            request,
            "vendors/detail.html#history",
            {"vendor": vendor, **history_context(request, vendor, queues, now)},
        )
    sites = selectors.vendor_sites(vendor.id)
    changes = selectors.site_changes([s.id for s in sites], per_site=10)
    can_manage = request.user.has_perm("vendors.manage")
    health = vendor_health((r.health for r in rows), (s.status for s in sites if s.is_active))
    context = {
        "vendor": vendor,
        "health": {
            "class": present.LEVEL_CLASS[health.level],
            "label": present.level_label(health.level),
            "reasons": present.reasons_text(health),
        },
        "queues": [queue_row(r, now, spark=False) for r in rows],
        "sites": [
            {
                "site": s,
                "status_class": present.SITE_STATUS_CLASS.get(s.status, "none"),
                "changes": changes.get(s.id, []),
            }
            for s in sites
        ],
        "incidents": [incident_chip(i) for i in selectors.incidents_for_vendor(vendor)[:25]],
        "can_manage": can_manage,
        "now": now,
        "nav_current": "vendors",
        **history_context(request, vendor, queues, now),
        **weekly_context(request, vendor, queues, now),
    }
    if can_manage:
        context["link_form"] = link_form or _impact_form(vendor, queues, sites)
        context["link_error"] = link_error
        context.update(_tokens_context(vendor))
        context.update(_contacts_context(vendor))
    return render(request, "vendors/detail.html", context, status=status)


@require_POST
@login_required
def vendor_link_incident(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """Link an incident (by reference) to this vendor, or one of its queues
    or sites."""
    vendor = _vendor(request, vendor_id)
    if not request.user.has_perm("vendors.manage"):
        raise PermissionDenied
    queues, _rows = _queues(request, vendor, timezone.now())
    sites = selectors.vendor_sites(vendor.id)
    form = _impact_form(vendor, queues, sites, data=request.POST)
    status = 422
    if form.is_valid():
        reference = (form.cleaned_data.get("incident") or "").strip().upper()
        incident = incident_by_reference(viewer=request.user, reference=reference)
        if incident is None and reference.isdigit():
            incident = incident_visible_to(request.user).filter(id=int(reference)).first()
        if incident is None:
            form.add_error("incident", _("No such incident."))
        else:
            try:
                services.impact_link(actor=request.user, incident_id=incident.id, **form.link())
            except ApplicationError as exc:
                status = apply_error(form, exc)
            else:
                url = reverse("vendors:detail", args=[vendor.id]) + "#incidents"
                return HttpResponseRedirect(url, status=303)
    return _detail(
        request,
        vendor,
        link_form=form,
        link_error=" ".join(form.non_field_errors()),
        status=status,
    )


def _tokens_partial(request, vendor, **kwargs) -> HttpResponse:
    status = kwargs.pop("status", 200)
    return render(request, "vendors/_tokens.html", _tokens_context(vendor, **kwargs), status=status)


@require_POST
@login_required
def token_create(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """A new API token: its secret is shown this once."""
    vendor = _vendor(request, vendor_id)
    if not request.user.has_perm("vendors.manage"):
        raise PermissionDenied
    form = TokenForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            _token, secret = services.token_create(
                actor=request.user, vendor_id=vendor.id, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _tokens_partial(request, vendor, secret=secret)
    return _tokens_partial(
        request, vendor, form=form, error=" ".join(form.non_field_errors()), status=status
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, vendor_id: int, token_id: int) -> HttpResponse:
    vendor = _vendor(request, vendor_id)
    if not request.user.has_perm("vendors.manage"):
        raise PermissionDenied
    if not selectors.vendor_tokens(vendor=vendor).filter(id=token_id).exists():
        raise Http404
    services.token_revoke(actor=request.user, token_id=token_id)
    if not request.htmx:
        return HttpResponseRedirect(reverse("vendors:detail", args=[vendor.id]) + "#tokens", 303)
    return _tokens_partial(request, vendor)


def _contacts_context(vendor, *, form=None, saved: bool = False, error: str = "") -> dict:
    """The vendor's escalation policy panel (its id stays "contacts")."""
    levels = selectors.vendor_escalation_levels(vendor=vendor)
    if form is None:
        rows = [
            {"user_ids": [u.id for u in level.users.all()], "wait_minutes": level.wait_minutes}
            for level in levels
        ]
        form = EscalationLevelsForm(count=len(rows), initial=EscalationLevelsForm.initial_for(rows))
    return {
        "vendor": vendor,
        "escalation_levels": levels,
        "levels_form": form,
        "contacts_saved": saved,
        "contacts_error": error,
    }


@require_POST
@login_required
def contacts_save(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """The vendor's escalation policy: "add" or "remove" (a level number)
    redraws the rows as posted, without saving; otherwise it is saved, and
    refused input is shown per level (422) with nothing lost."""
    vendor = _vendor(request, vendor_id)
    if not request.user.has_perm("vendors.manage"):
        raise PermissionDenied
    if "add" in request.POST or "remove" in request.POST:
        rows = EscalationLevelsForm.posted_rows(request.POST)
        if "add" in request.POST:
            rows.append({"user_ids": [], "wait_minutes": 10})
        else:
            number = request.POST["remove"]
            if number.isdigit() and 1 <= int(number) <= len(rows):
                del rows[int(number) - 1]
        form = EscalationLevelsForm(count=len(rows), initial=EscalationLevelsForm.initial_for(rows))
        return render(request, "vendors/_contacts.html", _contacts_context(vendor, form=form))
    rows = EscalationLevelsForm.posted_rows(request.POST)
    form = EscalationLevelsForm(request.POST, count=len(rows))
    status = 422
    if form.is_valid():
        try:
            services.vendor_set_escalation_levels(
                actor=request.user, vendor_id=vendor.id, levels=form.levels()
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if not request.htmx:
                url = reverse("vendors:detail", args=[vendor.id]) + "#contacts"
                return HttpResponseRedirect(url, 303)
            return render(request, "vendors/_contacts.html", _contacts_context(vendor, saved=True))
    error = " ".join(form.non_field_errors()) or _("Check the escalation policy.")
    context = _contacts_context(vendor, form=form, error=error)
    return render(request, "vendors/_contacts.html", context, status=status)
