"""An incident summary as an A4 PDF (reportlab, server-side).

Chinese needs a CJK font: reportlab's built-in CID font STSong-Light (the
viewer's PDF reader supplies the glyphs, so nothing is embedded). Latin-only
text uses Helvetica. Every user-written string is XML-escaped before it
goes into a Paragraph, whose markup is XML-like.
"""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape  # escapes output, parses nothing  # nosec B406

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from incidents.labels import GRADE_LABELS, SEVERITY_LABELS, STATE_LABELS
from incidents.summaries import IncidentSummary
from incidents.templatetags.incidents import duration_text

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
MUTED = HexColor("#5d6676")

_registered = False


def _register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True


def _has_cjk(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


STYLES = {
    "title": {"fontSize": 15, "leading": 19, "spaceAfter": 4},
    "h2": {"fontSize": 11.5, "leading": 15, "spaceBefore": 9, "spaceAfter": 3},
    "body": {"fontSize": 9.5, "leading": 13.5},
    "item": {"fontSize": 9.5, "leading": 13.5, "leftIndent": 10, "bulletIndent": 0},
    "meta": {"fontSize": 8.5, "leading": 11.5, "textColor": MUTED},
}


def _style(name: str, text: str, cjk: bool) -> ParagraphStyle:
    bold = name in ("title", "h2")
    font = CJK_FONT if cjk or _has_cjk(text) else (LATIN_BOLD if bold else LATIN_FONT)
    return ParagraphStyle(f"{name}-{font}", fontName=font, **STYLES[name])


class _Doc:
    """Collects flowables; every text is escaped here, once."""

    def __init__(self, cjk: bool):
        self.cjk = cjk
        self.flow: list = []

    def add(self, style: str, text: str, *, bullet: bool = False) -> None:
        text = str(text)
        paragraph_style = _style(style, text, self.cjk)
        if paragraph_style.fontName == CJK_FONT:
            # STSong-Light's UCS-2 map has no middle dot (U+00B7).
            text = text.replace("\u00b7", "|")
        markup = escape(text).replace("\n", "<br/>")
        self.flow.append(Paragraph(markup, paragraph_style, bulletText="•" if bullet else None))

    def section(self, title: str, items: list[str], empty: str) -> None:
        self.add("h2", title)
        for item in items or [empty]:
            self.add("item", item, bullet=bool(items))


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return dateformat.format(timezone.localtime(moment), "Y-m-d H:i")


def _what_happened(s: IncidentSummary) -> list[str]:
    i = s.incident
    lines = [f"{_('Category')}: {i.category.name}"]
    if i.summary:
        lines.insert(0, i.summary)
    if i.harm_started_at:
        lines.append(f"{_('Harm began')}: {_time(i.harm_started_at)}")
    lines.append(f"{_('Discovered')}: {_time(i.discovered_at)}")
    lines.append(f"{_('Declared')}: {_time(i.declared_at)}")
    return lines


def _impact(s: IncidentSummary) -> list[str]:
    lines = []
    if s.markets:
        lines.append(f"{_('Markets')}: {', '.join(s.markets)}")
    if s.surfaces:
        lines.append(f"{_('Surfaces')}: {', '.join(s.surfaces)}")
    lines += [f"{a.label}: {a.answer}" for a in s.impact]
    flags = [
        (s.incident.involves_personal_info, _("Personal information involved")),
        (s.incident.involves_minors, _("Minors involved")),
        (s.incident.is_cii, _("Critical information infrastructure involved")),
    ]
    return lines + [str(label) for on, label in flags if on]


def _being_done(s: IncidentSummary) -> list[str]:
    lines = [f"{_('Commander')}: {s.commander or _('No commander assigned.')}"]
    lines += [f"{role}: {holder}" for role, holder in s.roles]
    for task in s.open_tasks:
        owner = str(task.owner) if task.owner else _("Unassigned")
        due = f" · {_('due')} {_time(task.due_at)}" if task.due_at else ""
        lines.append(f"{_('Task')}: {task.display_title} — {owner}{due}")
    if s.done_tasks:
        lines.append(
            ngettext("%(counter)s task done", "%(counter)s tasks done", s.done_tasks)
            % {"counter": s.done_tasks}
        )
    return lines


def _state(s: IncidentSummary, text: dict) -> list[str]:
    """The page's "Current state" card, line by line."""
    d = s.durations
    severity = str(SEVERITY_LABELS[s.incident.severity])
    if s.severity_highest and s.severity_highest != s.incident.severity:
        severity += f" ({_('highest reached')}: {SEVERITY_LABELS[s.severity_highest]})"
    lines = [
        text["paragraph"],
        f"{_('State')}: {STATE_LABELS[s.incident.state]}",
        f"{_('Severity')}: {severity}",
        f"{_('Time to acknowledge')}: {duration_text(d.time_to_acknowledge)}",
        f"{_('Time to mitigate')}: {duration_text(d.time_to_mitigate)}",
    ]
    if not s.is_open:
        lines.append(f"{_('Time to resolve')}: {duration_text(d.time_to_resolve)}")
    lines += [
        f"{_('Time open')}: {duration_text(d.open_for)}",
        f"{_('Official grade')}: {GRADE_LABELS[s.incident.statutory_grade]}",
    ]
    return lines


def _reports(s: IncidentSummary) -> list[str]:
    lines = []
    for r in s.reports:
        when = (
            f"{_('submitted')} {_time(r.submitted_at)}"
            if r.submitted_at
            else f"{_('due')} {_time(r.due_at)}"
        )
        late = f" ({_('overdue')})" if r.is_pending and r.due_at and r.due_at < s.now else ""
        lines.append(
            f"{r.get_kind_display()} → {r.authority}: {r.get_state_display()}, {when}{late}"
        )
    return lines


def summary_pdf(s: IncidentSummary, text: dict, *, lang: str, compress: bool = True) -> bytes:
    """The summary as PDF bytes, in the active language (the caller holds
    translation.override(lang))."""
    _register_fonts()
    i = s.incident
    doc = _Doc(cjk=lang.startswith("zh"))
    doc.add("title", f"{i.reference} {i.display_title}")
    doc.add(
        "meta",
        f"{SEVERITY_LABELS[i.severity]} · {STATE_LABELS[i.state]} · "
        f"{_('Generated')} {_time(s.now)} ({timezone.get_current_timezone_name()})",
    )
    doc.flow.append(Spacer(1, 2 * mm))
    doc.add("body", text["paragraph"])
    doc.section(_("What happened"), _what_happened(s), "—")
    doc.section(_("Impact"), _impact(s), _("No impact recorded."))
    doc.section(_("What is being done"), _being_done(s), "—")
    updates = [
        f"{_time(u.published_at)}" + (f" · {u.author}" if u.author else "") + f" — {u.text}"
        for u in s.updates
    ]
    doc.section(_("Latest status updates"), updates, _("No status update published yet."))
    decisions = [
        f"{_time(e.occurred_at)} · {e.actor or _('System')} — {e.text}"
        + (f" ({e.data['reason']})" if e.data.get("reason") else "")
        for e in s.decisions
    ]
    doc.section(_("Decisions"), decisions, _("No decision recorded yet."))
    doc.section(_("Key facts"), [f.text for f in s.key_facts], _("Nothing pinned yet."))
    doc.section(_("Current state"), _state(s, text), "—")
    doc.section(_("Next update"), [text["next_update"]], "—")
    doc.section(_("Regulatory reports"), _reports(s), _("No regulatory report."))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        # The reference alone: it stays plain ASCII in the document info.
        title=i.reference,
        author="TSCC",
        subject=f"{_('Incident summary')}: {i.display_title}",
        pageCompression=1 if compress else 0,
    ).build(doc.flow)
    return buffer.getvalue()
