"""Small presentation helpers for incident pages: badges, countdowns, and one
sentence per timeline event in the viewer's language (always escaped)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from incidents.domain.grading import Grade
from incidents.domain.lifecycle import State
from incidents.domain.severity import Severity
from incidents.labels import GRADE_LABELS, SEVERITY_LABELS, STATE_LABELS
from incidents.models import Incident, IncidentRole, IncidentTimer, Review, StatusUpdate
from incidents.models.reference import localized

register = template.Library()

ROLE_NAMES = dict(IncidentRole.choices)
NUDGE_NAMES = dict(IncidentTimer.Kind.choices)
AUDIENCES = dict(StatusUpdate.Audience.choices)
REVIEW_STATES = dict(Review.State.choices)
SLA_NAMES = {
    "ack": _("acknowledge"),
    "update": _("status update"),
    "report": _("regulatory report"),
}


def field_label(name: str) -> str:
    try:
        return str(Incident._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - an old event may name a field since removed
        return name


# Badges are rendered once per value and language, then reused: a triage
# page shows a hundred of them.
_BADGES: dict[tuple, str] = {}


def _badge(key: tuple, make) -> str:
    key = (*key, get_language())
    html = _BADGES.get(key)
    if html is None:
        html = _BADGES[key] = make()
    return html


@register.simple_tag
def sev_badge(severity: str, *, full: bool = False):
    sev = Severity(severity)
    label = SEVERITY_LABELS[sev] if full else sev.value.upper()
    return _badge(
        ("sev", sev.value, full),
        lambda: format_html(
            '<span class="sev sev-{}" title="{}">{}</span>', sev.value, SEVERITY_LABELS[sev], label
        ),
    )


@register.simple_tag
def state_badge(state: str):
    st = State(state)
    return _badge(
        ("state", st.value),
        lambda: format_html('<span class="state state-{}">{}</span>', st.value, STATE_LABELS[st]),
    )


@register.simple_tag
def grade_badge(grade: str):
    g = Grade(grade)
    return _badge(
        ("grade", g.value),
        lambda: format_html('<span class="grade grade-{}">{}</span>', g.value, GRADE_LABELS[g]),
    )


def _minutes_text(minutes: int) -> str:
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": rest}
    return ngettext("%(d)d day", "%(d)d days", hours // 24) % {"d": hours // 24}


@register.simple_tag
def countdown(due_at: datetime | None, met_at: datetime | None = None):
    """ "in 12 min" / "12 min overdue", refreshed in the browser (data-due)."""
    if due_at is None:
        return "—"
    if met_at is not None:
        return format_html('<span class="countdown is-met">{}</span>', _("met"))
    delta = int((due_at - timezone.now()).total_seconds() // 60)
    if delta >= 0:
        text, cls = _("in %(t)s") % {"t": _minutes_text(delta)}, "is-running"
    else:
        text, cls = _("%(t)s overdue") % {"t": _minutes_text(-delta)}, "is-overdue"
    units = "|".join(
        (
            ngettext("%(n)d min", "%(n)d min", 2),
            _("%(h)dh %(m)02dm"),
            ngettext("%(d)d day", "%(d)d days", 1),
            ngettext("%(d)d day", "%(d)d days", 2),
        )
    )
    return format_html(
        '<span class="countdown {}" data-due="{}" data-label-in="{}" '
        'data-label-over="{}" data-units="{}">{}</span>',
        cls,
        due_at.isoformat(),
        _("in %(t)s"),
        _("%(t)s overdue"),
        units,
        text,
    )


@register.filter
def duration_text(value) -> str:
    """A timedelta as "4 min", "2h 05m" or "3 days"; under a minute as "<1 min"."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return _("<1 min") if minutes < 1 else _minutes_text(minutes)


def _name(data: dict, key: str) -> str:
    return data.get(key) or "—"


def _sev(value) -> str:
    try:
        return Severity(value).value.upper()
    except ValueError:
        return str(value)


def _state(value) -> str:
    try:
        return str(STATE_LABELS[State(value)])
    except ValueError:
        return str(value)


def _grade(value) -> str:
    try:
        return str(GRADE_LABELS[Grade(value)])
    except ValueError:
        return str(value)


def _task_changed(d: dict) -> str:
    """A claim reads as one; taking over someone's task says so."""
    if not d.get("claimed"):
        return _("Task changed: %(title)s")
    previous = (d.get("changes", {}).get("owner") or [None])[0]
    return _("Task taken over: %(title)s") if previous else _("Task claimed: %(title)s")


SENTENCES = {
    "declared": lambda d: (
        _("Declared as %(sev)s (rubric proposed %(proposed)s).")
        % {"sev": _sev(d.get("severity")), "proposed": _sev(d.get("proposed"))}
    ),
    "state_changed": lambda d: (
        (_("Reopened: %(from)s → %(to)s.") if d.get("reopen") else _("%(from)s → %(to)s."))
        % {"from": _state(d.get("from")), "to": _state(d.get("to"))}
    ),
    "severity_changed": lambda d: (
        _("Severity confirmed at %(to)s.") % {"to": _sev(d.get("to"))}
        if d.get("from") == d.get("to")
        else _("Severity %(from)s → %(to)s (rubric proposed %(proposed)s).")
        % {
            "from": _sev(d.get("from")),
            "to": _sev(d.get("to")),
            "proposed": _sev(d.get("proposed") or d.get("to")),
        }
    ),
    "grade_changed": lambda d: (
        _("Official grade: %(from)s → %(to)s.")
        % {"from": _grade(d.get("from")), "to": _grade(d.get("to"))}
    ),
    "role_assigned": lambda d: (
        _("%(name)s is %(role)s.")
        % {"name": _name(d, "name"), "role": ROLE_NAMES.get(d.get("role"), d.get("role"))}
    ),
    "role_released": lambda d: (
        _("%(name)s is no longer %(role)s.")
        % {"name": _name(d, "name"), "role": ROLE_NAMES.get(d.get("role"), d.get("role"))}
    ),
    "command_handed_over": lambda d: (
        _("Command handed over from %(from)s to %(to)s.")
        % {"from": _name(d, "from_name"), "to": _name(d, "to_name")}
    ),
    "participant_added": lambda d: _("%(name)s joined.") % {"name": _name(d, "name")},
    "acknowledged": lambda d: _("Acknowledged."),
    "status_update": lambda d: (
        _("Status update to %(audience)s.")
        % {"audience": AUDIENCES.get(d.get("audience"), d.get("audience"))}
    ),
    "task_created": lambda d: _("Task: %(title)s") % {"title": d.get("title", "")},
    "task_changed": lambda d: _task_changed(d) % {"title": d.get("title", "")},
    "fact_pinned": lambda d: _("Pinned #%(seq)s as a key fact.") % {"seq": d.get("seq")},
    "fact_unpinned": lambda d: _("Unpinned #%(seq)s.") % {"seq": d.get("seq")},
    "report": lambda d: {
        "owed": _("A regulatory report is owed."),
        "submitted": _("Regulatory report submitted."),
        "acknowledged": _("The authority acknowledged a report."),
        "not_required": _("A report was marked not required."),
        "due_changed": _("A report's deadline moved with the incident's facts."),
        "supplement": _("Supplementary report started."),
    }.get(d.get("action"), _("Regulatory report.")),
    "review": lambda d: (
        _("Review edited.")
        if d.get("action") != "state"
        else _("Review is now %(state)s.")
        % {"state": REVIEW_STATES.get(d.get("state"), d.get("state"))}
    ),
    "linked": lambda d: (
        {
            "parent": _("%(ref)s is now the parent incident."),
            "child": _("%(ref)s is now a child incident."),
        }.get(d.get("relation"), _("Linked to %(ref)s as related."))
        % {"ref": d.get("ref")}
    ),
    "merged": lambda d: (
        (_("Merged into %(ref)s.") if "into" in d else _("%(ref)s was merged into this incident."))
        % {"ref": d.get("ref")}
    ),
    "runbook_attached": lambda d: (
        _("Runbook attached: %(name)s.")
        % {"name": localized(d.get("name_en", ""), d.get("name_zh", ""))}
    ),
    "nudge": lambda d: (
        _("Reminder: %(what)s.") % {"what": NUDGE_NAMES.get(d.get("nudge"), d.get("nudge"))}
    ),
    "details_changed": lambda d: (
        _("Details changed: %(fields)s.")
        % {"fields": ", ".join(sorted(field_label(name) for name in d.get("changes", {})))}
    ),
    "page": lambda d: (
        (
            (
                {
                    "requested": _("%(by)s started paging by %(name)s."),
                    "paged": _("%(name)s: paged %(names)s (level %(level)s)."),
                    "nobody_to_page": _(
                        "%(name)s: level %(level)s had nobody to page; moved on at once."
                    ),
                    "acknowledged": _("%(names)s acknowledged the page (%(name)s)."),
                    "exhausted": _("%(name)s ran out without an acknowledgement."),
                }
                if d.get("name")
                else {}
            ).get(d.get("action"))
            or {
                "paged": _("Paged %(names)s (level %(level)s)."),
                "nobody_to_page": _("Level %(level)s had nobody to page; moved on at once."),
                "acknowledged": _("%(names)s acknowledged the page."),
                "exhausted": _("The escalation policy ran out without an acknowledgement."),
                "sla_breach": _("Deadline missed: %(sla)s (%(late)s min late)."),
                "policy_switched": _("%(names)s switched paging to the policy %(policy)s."),
                "paged_by": _("%(by)s paged %(names)s."),
            }.get(d.get("action"), _("Page."))
        )
        % {
            "by": d.get("by", ""),
            "name": d.get("name", ""),
            "policy": d.get("policy", ""),
            "names": ", ".join(d.get("names", [])),
            "level": d.get("level", ""),
            "sla": SLA_NAMES.get(d.get("sla"), d.get("sla", "")),
            "late": d.get("late_minutes", ""),
        }
    ),
    "note": lambda d: "",
    "decision": lambda d: _("Decision") + (f" · {d['policy']}" if d.get("policy") else ""),
}


@register.simple_tag
def event_sentence(event) -> str:
    """One translated sentence for a timeline event (autoescaped by the caller)."""
    make = SENTENCES.get(event.kind)
    return make(event.data) if make else event.get_kind_display()
