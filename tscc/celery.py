"""The Celery app. Settings come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")

app = Celery("tscc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives here, in code, and nowhere else. Apps that need a
# periodic sweep add an entry in this one place.
app.conf.beat_schedule = {
    "beat-heartbeat": {
        "task": "tscc.tasks.beat_heartbeat",
        "schedule": 10.0,
        "options": {"expires": 10},
    },
    # Incident nudges (no commander, unconfirmed severity, update overdue,
    # grading due) are timer rows; this sweep fires the due ones once.
    "incidents-sweep-timers": {
        "task": "incidents.tasks.sweep_incident_timers",
        "schedule": 2.0,
        "options": {"expires": 2, "queue": "critical"},
    },
    # The weekly report: one row per list and week, sent once its list's
    # local send time has passed (bulk: never ahead of pages).
    "incidents-sweep-weekly-reports": {
        "task": "incidents.tasks.sweep_weekly_reports",
        "schedule": 300.0,
        "options": {"expires": 300, "queue": "bulk"},
    },
    # The metrics' facts cache, kept warm for the summaries (bulk).
    "incidents-warm-metrics-cache": {
        "task": "incidents.tasks.warm_metrics_cache",
        "schedule": 600.0,
        "options": {"expires": 600, "queue": "bulk"},
    },
    # Vendors: each final day's snapshot sums, for the period metrics (bulk).
    "vendors-roll-up-snapshot-days": {
        "task": "vendors.tasks.roll_up_snapshot_days",
        "schedule": 3600.0,
        "options": {"expires": 3600, "queue": "bulk"},
    },
    # Escalations: fire due steps and send due deliveries (the safety net
    # under the on-commit fast path).
    "escalations-sweep": {
        "task": "escalations.tasks.sweep_escalations",
        "schedule": 1.0,
        "options": {"expires": 1, "queue": "critical"},
    },
    # Escalations: the auditor flags steps and deliveries late by more than a
    # minute; the health check warns about policies that would page nobody.
    "escalations-audit": {
        "task": "escalations.tasks.audit_escalations",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    "escalations-check-policies": {
        "task": "escalations.tasks.check_policies",
        "schedule": 600.0,
        "options": {"expires": 600},
    },
    # SLA deadlines (acknowledge, update cadence, report due): breaches once;
    # and paging started for fresh incidents whose on-commit start was lost.
    # Default queue: a storm of breaches must never queue ahead of pages.
    "escalations-sla": {
        "task": "escalations.tasks.sweep_sla",
        "schedule": 5.0,
        "options": {"expires": 5, "queue": "default"},
    },
    # On-call: "you are on call soon" notices, and gaps found two weeks ahead.
    "oncall-sweep-handoffs": {
        "task": "oncall.tasks.sweep_handoffs",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    "oncall-sweep-coverage-gaps": {
        "task": "oncall.tasks.sweep_coverage_gaps",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Vendors: queues in their staffed shift with no status report open (or
    # update) a trouble incident.
    "vendors-sweep-stale-reports": {
        "task": "vendors.tasks.sweep_stale_reports",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
}
