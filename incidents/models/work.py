"""Work on an incident: tasks, status updates, the review, runbooks, nudges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.incident import Incident
from incidents.models.reference import Runbook, RunbookItem, localized


class IncidentTask(models.Model):
    """An action item. Follow-ups outlive the incident (closing leaves them open)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=300)
    title_zh = models.CharField(_("task (Chinese)"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_tasks",
        verbose_name=_("owner"),
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    follow_up = models.BooleanField(_("follow-up after the incident"), default=False)
    runbook_item = models.ForeignKey(
        RunbookItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["state", "due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["owner", "state"], name="task_owner_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        return localized(self.title, self.title_zh)

    @property
    def is_overdue(self) -> bool:
        return (
            self.state == self.State.OPEN
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class StatusUpdate(models.Model):
    class Audience(models.TextChoices):
        RESPONDERS = "responders", _("Responders")
        COMPANY = "company", _("Company-wide")
        EXECUTIVES = "executives", _("Executives")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    text_en = models.TextField(_("update (English)"), blank=True)
    text_zh = models.TextField(_("update (Chinese)"), blank=True)
    severity = models.CharField(_("severity at the time"), max_length=8)
    state = models.CharField(_("state at the time"), max_length=16)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)
    next_update_due_at = models.DateTimeField(_("next update due"), null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")

    def __str__(self) -> str:
        return f"{self.get_audience_display()} {self.published_at:%Y-%m-%d %H:%M}"


class Review(models.Model):
    """The post-incident review, with its own state."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        PUBLISHED = "published", _("Published")

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    summary = models.TextField(_("summary"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    contributing_factors = models.TextField(_("contributing factors"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    went_badly = models.TextField(_("what went badly"), blank=True)
    lessons = models.TextField(_("lessons"), blank=True)
    close_waiver = models.TextField(
        _("close waiver"),
        blank=True,
        help_text=_("Why a SEV0/SEV1 incident may close before the review is published."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"Review of incident {self.incident_id}"


class IncidentRunbook(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="runbooks")
    runbook = models.ForeignKey(Runbook, on_delete=models.PROTECT, related_name="+")
    attached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "runbook"], name="runbook_attached_once"),
        ]

    def __str__(self) -> str:
        return f"{self.runbook_id} on incident {self.incident_id}"


class IncidentTimer(models.Model):
    """A durable nudge: fires once when due unless cancelled first."""

    class Kind(models.TextChoices):
        NO_COMMANDER = "no_commander", _("No commander yet")
        SEVERITY_UNCONFIRMED = "severity_unconfirmed", _("Severity not confirmed")
        UPDATE_DUE = "update_due", _("Status update overdue")
        GRADING_DUE = "grading_due", _("Official grade not assessed")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        FIRED = "fired", _("Fired")
        CANCELLED = "cancelled", _("Cancelled")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=models.Q(state="pending"),
                name="one_pending_timer_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="timer_state_due")]

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"
