"""The weekly report: who gets it and when (a list), and one row per list and
reported week (a run) so the sweep sends each week once (ARCHITECTURE.md,
"durable first")."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, validate_email
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]

INVALID_ADDRESS = _("“%(address)s” (line %(line)d) is not a valid e-mail address.")
NO_ADDRESS = _("Enter at least one e-mail address, one a line.")
INVALID_ZONE = _("“%(zone)s” is not a time zone name such as Asia/Shanghai or UTC.")


def normalize_recipients(text: str) -> list[str]:
    """The addresses in `text` (one a line; blank lines ignored), with the
    domain lower-cased and duplicates dropped, in their order. Raises
    ValidationError naming the first bad address and its line."""
    addresses: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate((text or "").splitlines(), start=1):
        address = raw.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                INVALID_ADDRESS,
                code="invalid_recipient",
                params={"address": address, "line": number},
            ) from None
        local, _at, domain = address.rpartition("@")
        address = f"{local}@{domain.lower()}"
        if address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    if not addresses:
        raise ValidationError(NO_ADDRESS, code="no_recipients")
    return addresses


def validate_recipients(text: str) -> None:
    normalize_recipients(text)


def validate_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            INVALID_ZONE, code="invalid_time_zone", params={"zone": name}
        ) from None


class WeeklyReportList(models.Model):
    """A distribution list for the weekly report and its local send time. The
    report covers the previous full week, Monday 00:00 to Monday 00:00 in
    `time_zone`."""

    name = models.CharField(_("name"), max_length=120)
    recipients = models.TextField(
        _("recipients"),
        validators=[validate_recipients],
        help_text=_("One e-mail address a line."),
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=WEEKDAY_CHOICES, default=0, validators=[MaxValueValidator(6)]
    )
    hour = models.PositiveSmallIntegerField(
        _("hour"),
        default=9,
        validators=[MaxValueValidator(23)],
        help_text=_("Local hour (0–23) in the list's time zone."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("weekly report list")
        verbose_name_plural = _("weekly report lists")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6) & models.Q(hour__lte=23),
                name="weekly_list_weekday_hour_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            self.recipients = "\n".join(normalize_recipients(self.recipients))
        except ValidationError as exc:
            raise ValidationError({"recipients": exc}) from None

    @property
    def recipient_list(self) -> list[str]:
        return normalize_recipients(self.recipients)


class WeeklyReportRun(models.Model):
    """The scheduled send of one list's report for one week: claimed under
    lock by the sweep, attempted at most MAX_ATTEMPTS times with backoff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    report_list = models.ForeignKey(
        WeeklyReportList, on_delete=models.CASCADE, related_name="runs", verbose_name=_("list")
    )
    week_start = models.DateField(_("week starting"), help_text=_("Monday, in the list's zone."))
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # While sending: when the claim lapses (a worker that died mid-send);
    # after a failure: when the next attempt may start.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start", "report_list_id"]
        verbose_name = _("weekly report run")
        verbose_name_plural = _("weekly report runs")
        constraints = [
            models.UniqueConstraint(
                fields=["report_list", "week_start"], name="weekly_run_unique_list_week"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="weekly_run_state_next")]

    def __str__(self) -> str:
        return f"{self.report_list_id} {self.week_start}: {self.state}"
