"""Runbooks (checklists) attach by category and severity; items become tasks."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from incidents.domain.severity import Severity
from incidents.models import Incident, IncidentRunbook, IncidentTask, Runbook
from incidents.services.common import timeline_append


def runbooks_attach(*, incident: Incident, actor=None) -> list[Runbook]:
    """Attach every active runbook that matches and is not attached yet; the
    caller holds the incident lock. Called on declare and on escalation."""
    severity = Severity(incident.severity)
    attached = set(
        IncidentRunbook.objects.filter(incident=incident).values_list("runbook_id", flat=True)
    )
    matching = [
        rb
        for rb in Runbook.objects.filter(
            Q(category__isnull=True) | Q(category=incident.category_id), active=True
        )
        .exclude(id__in=attached)
        .prefetch_related("items")
        if not Severity(rb.min_severity).is_higher_than(severity)
    ]
    now = timezone.now()
    for runbook in matching:
        IncidentRunbook.objects.create(incident=incident, runbook=runbook, attached_at=now)
        IncidentTask.objects.bulk_create(
            IncidentTask(
                incident=incident,
                title=item.title_en,
                title_zh=item.title_zh,
                due_at=now + timedelta(minutes=item.due_minutes) if item.due_minutes else None,
                runbook_item=item,
                created_by=actor,
                created_at=now,
            )
            for item in runbook.items.all()
        )
        timeline_append(
            incident=incident,
            kind="runbook_attached",
            actor=actor,
            data={
                "runbook": runbook.id,
                "name_en": runbook.name_en,
                "name_zh": runbook.name_zh,
                "items": runbook.items.count(),
            },
        )
    return matching
