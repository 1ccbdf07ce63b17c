"""SLA deadlines as durable rows, reconciled from the incidents' own data.

Each sweep looks for work (GoAlert's reconciliation pattern): incidents not
acknowledged within their severity's target, status updates overdue,
regulatory reports past due. A breach is a row, unique per (incident, kind,
reference, due time), so it fires exactly once however many sweeps or
workers see it: it lands on the timeline, notifies the commander (or the ops
managers), and an unacknowledged incident escalates to its next level now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalations.models import Escalation, SlaBreach, Timer
from incidents import services as incident_services
from incidents.domain.lifecycle import OPEN_STATES
from incidents.models import Incident, RegulatoryReport, SeverityPolicy
from tscc.realtime import notify_user
from tscc.roles import Role

OPEN = [s.value for s in OPEN_STATES]
TEXT = {
    SlaBreach.Kind.ACK: _("%(ref)s was not acknowledged within its target."),
    SlaBreach.Kind.UPDATE: _("%(ref)s: the status update is overdue."),
    SlaBreach.Kind.REPORT: _("%(ref)s: a regulatory report is overdue."),
}


def _due(now: datetime) -> list[tuple[int, str, int, datetime]]:
    """(incident id, kind, reference id, due time) for every deadline passed."""
    found = []
    ack_minutes = dict(SeverityPolicy.objects.values_list("severity", "ack_minutes"))
    for incident_id, severity, declared_at in Incident.objects.filter(
        state__in=OPEN, acknowledged_at__isnull=True
    ).values_list("id", "severity", "declared_at"):
        minutes = ack_minutes.get(severity)
        if minutes is not None and declared_at + timedelta(minutes=minutes) <= now:
            found.append(
                (incident_id, SlaBreach.Kind.ACK, 0, declared_at + timedelta(minutes=minutes))
            )
    for incident_id, due in Incident.objects.filter(
        state__in=OPEN, next_update_due_at__lte=now
    ).values_list("id", "next_update_due_at"):
        found.append((incident_id, SlaBreach.Kind.UPDATE, 0, due))
    for report_id, incident_id, due in RegulatoryReport.objects.filter(
        state__in=RegulatoryReport.PENDING_STATES, due_at__lte=now
    ).values_list("id", "incident_id", "due_at"):
        found.append((incident_id, SlaBreach.Kind.REPORT, report_id, due))
    return found


def sla_sweep(*, now: datetime | None = None) -> int:
    """Record and act on every new breach; returns how many were new."""
    now = now or timezone.now()
    known = set(
        SlaBreach.objects.filter(due_at__gte=now - timedelta(days=60)).values_list(
            "incident_id", "kind", "ref", "due_at"
        )
    )
    new = 0
    for key in _due(now):
        if key in known:
            continue
        try:
            with transaction.atomic():
                breach = SlaBreach.objects.create(
                    incident_id=key[0], kind=key[1], ref=key[2], due_at=key[3], fired_at=now
                )
                _act(breach, now)
            new += 1
        except IntegrityError:
            continue  # another worker recorded it first: fired once
    return new


def _act(breach: SlaBreach, now: datetime) -> None:
    incident = Incident.objects.get(id=breach.incident_id)
    late = int((now - breach.due_at).total_seconds() // 60)
    incident_services.incident_log_page(
        incident_id=incident.id,
        data={
            "action": "sla_breach",
            "sla": breach.kind,
            "due_at": breach.due_at.isoformat(),
            "late_minutes": late,
        },
    )
    commander = incident.role_assignments.filter(role="commander", released_at__isnull=True).first()
    recipients = (
        [commander.user_id]
        if commander
        else list(
            get_user_model()
            .objects.filter(role=Role.OPS_MANAGER, is_active=True)
            .values_list("id", flat=True)
        )
    )
    text = TEXT[breach.kind] % {"ref": incident.reference}
    for uid in recipients:
        transaction.on_commit(
            lambda uid=uid: notify_user(uid, text=text, level="danger"), robust=True
        )
    if breach.kind == SlaBreach.Kind.ACK:
        # Not acknowledged in time: the next level is paged now, not after its wait.
        active = Escalation.objects.filter(
            incident=incident, kind=Escalation.Kind.POLICY, state=Escalation.State.ACTIVE
        ).first()
        if active is not None:
            Timer.objects.filter(
                escalation=active, state=Timer.State.PENDING, due_at__gt=now
            ).update(due_at=now)
    SlaBreach.objects.filter(id=breach.id).update(acted=F("acted") + 1)
