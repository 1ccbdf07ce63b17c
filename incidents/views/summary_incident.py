"""Summaries: one incident's summary, printable and as PDF.

Anyone who may view the incident may read it (responders share the link);
others get a 404, as on the incident page. `?lang=en` or `?lang=zh-hans`
renders it in that language (default: the viewer's). Read-only: GET only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from incidents.models import Incident
from incidents.summaries import IncidentSummary
from incidents.summaries import incident_summary as summary_get
from incidents.views.summary_now import (
    next_update_sentence,
    owed_report_text,
    reports_sentence,
    summary_paragraph,
)
from incidents.views.summary_pdf import summary_pdf

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _summary_for(request: HttpRequest, incident_id: int) -> IncidentSummary:
    if not request.user.has_perm("incidents.view_incident"):
        raise Http404
    try:
        return summary_get(request.user, incident_id, timezone.now())
    except Incident.DoesNotExist:
        raise Http404 from None


def _language(request: HttpRequest) -> str:
    lang = request.GET.get("lang", "")
    return lang if lang in LANGUAGE_CODES else (translation.get_language() or "en")


def summary_text(summary: IncidentSummary) -> dict:
    """The generated sentences, in the active language."""
    now = summary.now
    return {
        "paragraph": summary_paragraph(summary, now),
        "next_update": next_update_sentence(summary.next_update_due_at, now),
        "reports": reports_sentence(summary.reports_owed, now),
        "owed": [owed_report_text(r, now) for r in summary.reports_owed],
    }


@require_GET
@login_required
def incident_summary(request: HttpRequest, incident_id: int) -> HttpResponse:
    summary = _summary_for(request, incident_id)
    lang = _language(request)
    url = reverse("summaries:incident", args=[incident_id])
    context = {
        "summary": summary,
        "incident": summary.incident,
        "now": summary.now,
        "lang": lang,
        "summary_languages": [
            (code, name, f"{url}?lang={code}") for code, name in settings.LANGUAGES
        ],
        # The plain link: it opens in the reader's own language.
        "share_url": request.build_absolute_uri(url),
        "pdf_url": f"{reverse('summaries:incident-pdf', args=[incident_id])}?lang={lang}",
    }
    with translation.override(lang):
        context["text"] = summary_text(summary)
        return render(request, "incidents/summaries/incident.html", context)


@require_GET
@login_required
def incident_summary_pdf(request: HttpRequest, incident_id: int) -> HttpResponse:
    summary = _summary_for(request, incident_id)
    lang = _language(request)
    with translation.override(lang):
        content = summary_pdf(summary, summary_text(summary), lang=lang)
    suffix = "zh" if lang.startswith("zh") else "en"
    filename = f"{summary.incident.reference}-summary-{suffix}.pdf"
    return HttpResponse(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
