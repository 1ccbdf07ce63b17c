"""The incident, its people and its append-only timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.domain.grading import Grade
from incidents.domain.lifecycle import OPEN_STATES, State
from incidents.domain.severity import HIGH_SEVERITIES, Severity
from incidents.labels import STATE_LABELS
from incidents.models.reference import (
    GRADE_CHOICES,
    SEVERITY_CHOICES,
    Category,
    Market,
    Surface,
    localized,
)

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]


class IncidentCounter(models.Model):
    """The last number handed out per year, so references are gap-free and
    readable (INC-2026-00042). Locked row per year while numbering."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=[s.value for s in OPEN_STATES])


class Incident(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name=_("category"))
    tags = models.ManyToManyField(
        Category,
        blank=True,
        related_name="tagged_incidents",
        verbose_name=_("secondary categories"),
    )
    severity = models.CharField(_("severity"), max_length=8, choices=SEVERITY_CHOICES)
    severity_confirmed_at = models.DateTimeField(_("severity confirmed at"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=STATE_CHOICES, default=State.TRIAGE)
    statutory_grade = models.CharField(
        _("official grade"), max_length=20, choices=GRADE_CHOICES, default=Grade.UNASSESSED
    )
    is_cii = models.BooleanField(_("critical information infrastructure involved"), default=False)
    involves_personal_info = models.BooleanField(_("personal information involved"), default=False)
    involves_minors = models.BooleanField(_("minors involved"), default=False)
    markets = models.ManyToManyField(Market, blank=True, verbose_name=_("markets"))
    surfaces = models.ManyToManyField(Surface, blank=True, verbose_name=_("affected surfaces"))
    team = models.ForeignKey(
        "tscc.Team", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("owning team")
    )
    war_room_url = models.URLField(_("external war room link"), blank=True)

    # When the harm began is not when the platform learned of it: statutory
    # clocks start at discovery (发现或获知) and are never paused.
    harm_started_at = models.DateTimeField(_("harm began"), null=True, blank=True)
    discovered_at = models.DateTimeField(_("discovered"))
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    mitigated_at = models.DateTimeField(_("mitigated"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    handling_ended_at = models.DateTimeField(
        _("handling ended"),
        null=True,
        blank=True,
        help_text=_("Starts the 30-day summary clock; defaults to when it was resolved."),
    )
    next_update_due_at = models.DateTimeField(_("next update due"), null=True, blank=True)

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent incident"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name=_("merged into"),
    )
    related = models.ManyToManyField("self", blank=True, verbose_name=_("related incidents"))

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("declared by"),
    )
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="incident_unique_reference"),
        ]
        indexes = [
            models.Index(fields=["state", "-declared_at"], name="incident_state_declared"),
            models.Index(fields=["severity", "-declared_at"], name="incident_sev_declared"),
            models.Index(fields=["-declared_at", "-id"], name="incident_declared_id"),
            # The triage list's default view: open incidents, newest first.
            models.Index(
                fields=["-declared_at", "-id"],
                condition=models.Q(
                    state__in=["triage", "investigating", "mitigating", "monitoring"]
                ),
                name="incident_open_declared",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.year}-{self.number:05d}"

    @property
    def display_title(self) -> str:
        return localized(self.title, self.title_zh)

    @property
    def severity_enum(self) -> Severity:
        return Severity(self.severity)

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def grade_enum(self) -> Grade:
        return Grade(self.statutory_grade)

    @property
    def is_open(self) -> bool:
        return self.state_enum in OPEN_STATES

    @property
    def is_high_severity(self) -> bool:
        return self.severity_enum in HIGH_SEVERITIES


class IncidentRole(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    DEPUTY = "deputy", _("Deputy commander")
    COMMUNICATIONS = "communications", _("Communications")
    SCRIBE = "scribe", _("Scribe")
    REGULATORY_LIAISON = "regulatory_liaison", _("Regulatory liaison")
    VENDOR_LIAISON = "vendor_liaison", _("Vendor liaison")


class RoleAssignment(models.Model):
    """Who holds a role, from when to when. One active holder per role."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=24, choices=IncidentRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=models.Q(released_at__isnull=True),
                name="one_active_holder_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class Participant(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in incident {self.incident_id}"


class AppendOnlyError(Exception):
    pass


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("timeline events are append-only")

    def delete(self):
        raise AppendOnlyError("timeline events are append-only")


class TimelineEvent(models.Model):
    """One thing that happened, numbered per incident. Never changed, never
    deleted: a correction is a new event that refers to the original."""

    class Kind(models.TextChoices):
        DECLARED = "declared", _("Declared")
        NOTE = "note", _("Note")
        DECISION = "decision", _("Decision")
        STATE_CHANGED = "state_changed", _("State changed")
        SEVERITY_CHANGED = "severity_changed", _("Severity changed")
        GRADE_CHANGED = "grade_changed", _("Official grade assessed")
        ROLE_ASSIGNED = "role_assigned", _("Role assigned")
        ROLE_RELEASED = "role_released", _("Role released")
        COMMAND_HANDED_OVER = "command_handed_over", _("Command handed over")
        PARTICIPANT_ADDED = "participant_added", _("Participant added")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        STATUS_UPDATE = "status_update", _("Status update")
        TASK_CREATED = "task_created", _("Task created")
        TASK_CHANGED = "task_changed", _("Task changed")
        FACT_PINNED = "fact_pinned", _("Key fact pinned")
        FACT_UNPINNED = "fact_unpinned", _("Key fact unpinned")
        REPORT = "report", _("Regulatory report")
        REVIEW = "review", _("Review")
        LINKED = "linked", _("Linked")
        MERGED = "merged", _("Merged")
        RUNBOOK_ATTACHED = "runbook_attached", _("Runbook attached")
        NUDGE = "nudge", _("Reminder")
        DETAILS_CHANGED = "details_changed", _("Details changed")
        PAGE = "page", _("Page")
        CORRECTION = "correction", _("Correction")
        MESSAGE = "message", _("Message")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    refers_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "seq"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        constraints = [
            models.UniqueConstraint(fields=["incident", "seq"], name="timeline_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("timeline events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("timeline events are append-only")


class SeverityAssessment(models.Model):
    """The rubric answers, what they proposed, and what was chosen."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assessments")
    answers = models.JSONField(_("answers"))
    proposed = models.CharField(_("proposed"), max_length=8, choices=SEVERITY_CHOICES)
    chosen = models.CharField(_("chosen"), max_length=8, choices=SEVERITY_CHOICES)
    reason = models.TextField(_("reason"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assessed_at", "id"]
        get_latest_by = "assessed_at"

    def __str__(self) -> str:
        return f"{self.proposed} -> {self.chosen}"

    @property
    def overridden(self) -> bool:
        return self.proposed != self.chosen
