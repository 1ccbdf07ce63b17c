"""Summaries: the open incidents now, one paragraph each, for executives.

Read-only: GET only, and nothing on the page changes anything. The
paragraph is built here with gettext and interpolation, in the language
active while rendering, and times in the viewer's time zone.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.labels import STATE_LABELS
from incidents.summaries import (
    IncidentSummary,
    OpenIncident,
    OwedReport,
    open_incident_summaries,
)
from incidents.templatetags.incidents import duration_text

REFRESH_SECONDS = 60


def clock_text(moment: datetime, now: datetime) -> str:
    """A time in the viewer's zone: "14:30" today, "03-02 14:30" otherwise."""
    local, today = timezone.localtime(moment), timezone.localtime(now)
    fmt = "H:i" if local.date() == today.date() else "m-d H:i"
    return dateformat.format(local, fmt)


def relative_text(moment: datetime, now: datetime) -> str:
    """ "in 12 min" or "12 min overdue"."""
    if moment >= now:
        return _("in %(t)s") % {"t": duration_text(moment - now)}
    return _("%(t)s overdue") % {"t": duration_text(now - moment)}


def owed_report_text(owed: OwedReport, now: datetime) -> str:
    values = {"kind": owed.kind, "authority": owed.authority}
    if owed.due_at is None:
        return _("%(kind)s to %(authority)s") % values
    values["time"] = clock_text(owed.due_at, now)
    if owed.overdue:
        return _("%(kind)s to %(authority)s, overdue since %(time)s") % values
    return _("%(kind)s to %(authority)s due %(time)s") % values


def reports_sentence(reports: tuple[OwedReport, ...], now: datetime) -> str:
    if not reports:
        return _("No regulatory report owed.")
    return ngettext(
        "%(count)d regulatory report owed: %(reports)s.",
        "%(count)d regulatory reports owed: %(reports)s.",
        len(reports),
    ) % {"count": len(reports), "reports": "; ".join(owed_report_text(r, now) for r in reports)}


def next_update_sentence(due: datetime | None, now: datetime) -> str:
    if due is None:
        return _("No status update scheduled.")
    values = {"time": clock_text(due, now), "relative": relative_text(due, now)}
    return _("Next update due %(time)s (%(relative)s).") % values


def state_text(state: str) -> str:
    label = str(STATE_LABELS[state])
    # English reads "SEV1, mitigating for 2h"; Chinese has no case.
    return label.lower() if (get_language() or "en").startswith("en") else label


def join_names(names: list[str]) -> str:
    """Names as a list: "A, B" in English, "A、B" in Chinese."""
    chinese = (get_language() or "").startswith("zh")
    return ("、" if chinese else ", ").join(names)


def impact_sentence(markets: list[str], surfaces: list[str]) -> list[str]:
    values = {"markets": join_names(markets), "surfaces": join_names(surfaces)}
    if markets and surfaces:
        return [_("Affects %(markets)s, on %(surfaces)s.") % values]
    if markets or surfaces:
        return [_("Affects %(where)s.") % {"where": values["markets"] or values["surfaces"]}]
    return []


def summary_paragraph(card: OpenIncident | IncidentSummary, now: datetime) -> str:
    """The one paragraph an executive reads about an incident."""
    incident = card.incident
    values = {
        "severity": incident.severity.upper(),
        "state": state_text(incident.state),
        "duration": duration_text(card.open_for),
    }
    sentences = [
        _("%(severity)s, %(state)s for %(duration)s.") % values
        if incident.is_open
        else _("%(severity)s, %(state)s after %(duration)s.") % values,
        _("Commander: %(name)s.") % {"name": card.commander}
        if card.commander
        else _("No commander assigned."),
    ]
    sentences.extend(impact_sentence(card.markets, card.surfaces))
    sentences.append(next_update_sentence(card.next_update_due_at, now))
    sentences.append(reports_sentence(card.reports_owed, now))
    return " ".join(str(s) for s in sentences)


def _cards(groups, now: datetime) -> list[dict]:
    return [
        {
            "severity": group.severity,
            "label": group.label,
            "count": group.count,
            "cards": [
                {"item": card, "paragraph": summary_paragraph(card, now)}
                for card in group.incidents
            ],
        }
        for group in groups
    ]


@require_GET
@login_required
def now(request: HttpRequest) -> HttpResponse:
    """Open incidents by severity; the board part alone for htmx polling."""
    if not request.user.has_perm("tscc.view_summaries"):
        raise PermissionDenied
    moment = timezone.now()
    groups = _cards(open_incident_summaries(request.user, moment), moment)
    context = {
        "groups": groups,
        "total": sum(g["count"] for g in groups),
        "now": moment,
        "refresh_seconds": REFRESH_SECONDS,
    }
    template = "incidents/summaries/now.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)
