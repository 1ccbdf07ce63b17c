"""Summaries: the weekly report previewed exactly as e-mailed (the HTML
part), its lists with their schedule and last send, and "send now" for ops
managers and admins."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from incidents.exceptions import InvalidInput, NotAllowed
from incidents.rules import manages
from incidents.services.weekly import (
    WEEK,
    iso_week,
    parse_iso_week,
    week_monday,
    weekly_report_for,
    weekly_report_lists,
    weekly_report_render,
    weekly_report_send_now,
)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _pick_week(raw: str | None, last_monday) -> tuple[object, str]:
    """The Monday to show and an error message ("" when none)."""
    if not raw:
        return last_monday, ""
    try:
        monday = parse_iso_week(raw)
    except InvalidInput as exc:
        return last_monday, exc.message
    if monday > last_monday:
        return last_monday, _("Week %(week)s has not ended yet; showing the last full week.") % {
            "week": iso_week(monday)
        }
    return monday, ""


@require_GET
@login_required
def weekly(request: HttpRequest) -> HttpResponse:
    _require(request, "tscc.view_summaries")
    zone = timezone.get_current_timezone_name()
    last_monday = week_monday(timezone.now(), ZoneInfo(zone)) - WEEK
    monday, error = _pick_week(request.GET.get("week"), last_monday)
    subject, _text, html = weekly_report_render(weekly_report_for(monday, zone))
    context = {
        "nav_current": "summaries",
        "week": iso_week(monday),
        "previous_week": iso_week(monday - WEEK),
        "next_week": iso_week(monday + WEEK) if monday < last_monday else "",
        "last_week": iso_week(last_monday),
        "error": error,
        "subject": subject,
        "html": html,
        "lists": weekly_report_lists(),
        "can_send": manages.test(request.user),
    }
    return render(request, "incidents/summaries/weekly.html", context, status=400 if error else 200)


@require_POST
@login_required
def weekly_send(request: HttpRequest, list_id: int) -> HttpResponse:
    try:
        count = weekly_report_send_now(actor=request.user, list_id=list_id)
    except NotAllowed:
        raise PermissionDenied from None
    except InvalidInput as exc:
        messages.error(request, exc.message)
    except Exception as exc:  # noqa: BLE001 - the mail server's refusal, shown to the sender
        messages.error(request, _("The report was not sent: %(error)s") % {"error": exc})
    else:
        sent = ngettext(
            "Last week's report was sent to %(count)d recipient.",
            "Last week's report was sent to %(count)d recipients.",
            count,
        )
        messages.success(request, sent % {"count": count})
    return HttpResponseRedirect(reverse("summaries:weekly"))
