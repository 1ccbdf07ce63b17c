"""The clock rows an incident shows (acknowledge, commander named, next
status update): one definition for the incident page and the war-room header."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from incidents.domain.clocks import ClockState, clock_state
from incidents.labels import CLOCK_LABELS
from incidents.models import Incident, SeverityPolicy


def clock_row(label, due_at, met_at, now, *, statutory=False):
    state = clock_state(due_at=due_at, met_at=met_at, now=now)
    return {
        "label": label,
        "due_at": due_at,
        "met_at": met_at,
        "state": state.value,
        "state_label": CLOCK_LABELS[state],
        "statutory": statutory,
        "bad": state in (ClockState.BREACHED, ClockState.MET_LATE),
    }


def incident_clocks(incident: Incident, policy: SeverityPolicy | None, commander_at, now):
    clocks = []
    if policy is not None:
        clocks.append(
            clock_row(
                _("Acknowledge"),
                incident.declared_at + timedelta(minutes=policy.ack_minutes),
                incident.acknowledged_at,
                now,
            )
        )
        if policy.commander_minutes:
            clocks.append(
                clock_row(
                    _("Commander named"),
                    incident.declared_at + timedelta(minutes=policy.commander_minutes),
                    commander_at,
                    now,
                )
            )
    if incident.is_open and incident.next_update_due_at:
        clocks.append(clock_row(_("Next status update"), incident.next_update_due_at, None, now))
    return clocks
