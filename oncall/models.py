"""Schedules, their layers (rotations) and overrides; calendar feeds;
handoff notices and coverage gaps found ahead of time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oncall.domain.rotation import Unit
from tscc.models import validate_time_zone

UNIT_CHOICES = [
    (Unit.HOURS.value, _("hours")),
    (Unit.DAYS.value, _("days")),
    (Unit.WEEKS.value, _("weeks")),
]


class Schedule(models.Model):
    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey(
        "tscc.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schedules",
        verbose_name=_("team"),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return self.name


class Layer(models.Model):
    """One rotation. Editing who takes part makes a new version from the next
    handoff (the old one ends there), so the past stays as it was."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(_("name"), max_length=120)
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher layers win where they cover.")
    )
    unit = models.CharField(
        _("shift length unit"), max_length=8, choices=UNIT_CHOICES, default=Unit.WEEKS
    )
    count = models.PositiveSmallIntegerField(_("shift length"), default=1)
    anchor = models.DateTimeField(
        _("first handoff"), help_text=_("Its local time is the handoff time.")
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Empty: the schedule's zone."),
    )
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_until = models.DateTimeField(_("active until"), null=True, blank=True)
    # [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]
    restrictions = models.JSONField(_("restrictions"), default=list, blank=True)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The version this one replaced."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["schedule", "-priority", "id"]
        verbose_name = _("layer")
        verbose_name_plural = _("layers")

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"

    @property
    def zone_name(self) -> str:
        return self.time_zone or self.schedule.time_zone


class LayerMember(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="layer_member_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.user}"


class Override(models.Model):
    """Someone covers a time range: for whoever is on call, or only for one
    person (`replaces`). A swap is two covers made together (`swap_id`)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("on call"),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("covering for"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    swap_id = models.UUIDField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="override_positive"
            ),
        ]
        indexes = [models.Index(fields=["schedule", "ends_at"], name="override_schedule_end")]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A secret, revocable iCal URL: a schedule's final shifts, or one person's
    shifts across schedules (schedule empty). Only the hash is stored."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.schedule or self.owner})"


class HandoffNotice(models.Model):
    """ "You are on call from …": planned ahead, sent once when due."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="handoffs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handoff_notices"
    )
    shift_start = models.DateTimeField()
    shift_end = models.DateTimeField()
    notify_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["notify_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "user", "shift_start"], name="handoff_once"
            ),
        ]
        indexes = [models.Index(fields=["state", "notify_at"], name="handoff_state_due")]

    def __str__(self) -> str:
        return f"{self.user} on {self.schedule} from {self.shift_start:%Y-%m-%d %H:%M}"


class CoverageGap(models.Model):
    """A time in the next 14 days with nobody on call, found ahead of time."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="gaps")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("No longer a gap (covered since).")
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "starts_at", "ends_at"], name="gap_once"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
