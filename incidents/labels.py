"""Bilingual labels for the domain's enums: the one glossary the pages, the
API and exports share (../shared/domain §6.5 item 43)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from incidents.domain.clocks import ClockState
from incidents.domain.grading import Grade
from incidents.domain.lifecycle import State
from incidents.domain.severity import Dimension, Severity

SEVERITY_LABELS = {
    Severity.SEV0: _("SEV0 · Critical"),
    Severity.SEV1: _("SEV1 · Urgent"),
    Severity.SEV2: _("SEV2 · High"),
    Severity.SEV3: _("SEV3 · Medium"),
    Severity.SEV4: _("SEV4 · Low"),
}
SEVERITY_SHORT = {s: s.value.upper() for s in Severity}

STATE_LABELS = {
    State.TRIAGE: _("Triage"),
    State.INVESTIGATING: _("Investigating"),
    State.MITIGATING: _("Mitigating"),
    State.MONITORING: _("Monitoring"),
    State.RESOLVED: _("Resolved"),
    State.CLOSED: _("Closed"),
    State.CANCELLED: _("Cancelled"),
    State.MERGED: _("Merged"),
}

# The official grade names stay in Chinese in both languages: they are what
# the regulator's forms say.
GRADE_LABELS = {
    Grade.UNASSESSED: _("Not yet graded"),
    Grade.NOT_APPLICABLE: _("Not a cybersecurity incident"),
    Grade.GENERAL: _("一般 (general)"),
    Grade.RELATIVELY_MAJOR: _("较大 (relatively major)"),
    Grade.MAJOR: _("重大 (major)"),
    Grade.ESPECIALLY_MAJOR: _("特别重大 (especially major)"),
}

DIMENSION_LABELS = {
    Dimension.USER_HARM: _("User harm"),
    Dimension.REACH: _("Reach and virality"),
    Dimension.LEGAL: _("Legal and regulatory exposure"),
    Dimension.PRESS: _("Public and press attention"),
    Dimension.OPERATIONS: _("Operational and vendor impact"),
}

# What each answer means, per dimension: the rubric the declarer reads.
RUBRIC = {
    Dimension.USER_HARM: (
        _("None"),
        _("Minor inconvenience to a few users"),
        _("Harm to users, limited and reversible"),
        _("Serious harm: financial loss, harassment, exposure of personal data"),
        _("Imminent risk to life, child sexual abuse or exploitation, live violence"),
    ),
    Dimension.REACH: (
        _("None"),
        _("Seen by few (under 5,000 views)"),
        _("Spreading: 5,000+ views or 500+ reposts"),
        _("Viral: 100,000+ views or 10,000+ reposts"),
        _("Mass: 1,000,000+ views, 100,000+ reposts, or home page / hot search"),
    ),
    Dimension.LEGAL: (
        _("None"),
        _("Policy question, no legal exposure"),
        _("Possible legal exposure; counsel should know"),
        _("Report likely owed (CAC 较大 candidate, personal data leak, provincial inquiry)"),
        _("CAC 重大 or above, critical information infrastructure, or national regulator engaged"),
    ),
    Dimension.PRESS: (
        _("None"),
        _("A few user complaints"),
        _("Press inquiry or trending complaint"),
        _("Published coverage or hot-search entry"),
        _("National coverage, government or celebrity involvement"),
    ),
    Dimension.OPERATIONS: (
        _("None"),
        _("One queue degraded"),
        _("Priority queue SLA breached or partial vendor outage with failover"),
        _("Vendor site down without failover, or moderation tooling down platform-wide"),
        _("Moderation stopped across markets"),
    ),
}

CLOCK_LABELS = {
    ClockState.RUNNING: _("Running"),
    ClockState.MET: _("Met"),
    ClockState.BREACHED: _("Overdue"),
    ClockState.MET_LATE: _("Met late"),
    ClockState.NOT_APPLICABLE: _("Not applicable"),
}

REASON_TEXT = {
    "statutory_floor": _("the official grade is %(grade)s"),
    "no_impact": _("no impact was reported"),
    "dimension": _("%(dimension)s: %(answer)s"),
}

TRANSITION_ERRORS = {
    "same_state": _("The incident is already %(current)s."),
    "not_allowed": _("An incident cannot go from %(current)s to %(target)s."),
    "merge_only": _("Use “Merge this incident into it” (under Links) to merge an incident."),
    "reason_required": _("Going from %(current)s to %(target)s needs a reason."),
    "review_required": _(
        "A SEV0 or SEV1 incident closes only after its review is published, or with a waiver."
    ),
}
