"""The official grade and the reports owed to authorities."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.incident import Incident
from incidents.models.reference import GRADE_CHOICES, ReportingObligation


class GradingWorksheet(models.Model):
    """One grading of an incident against the annex: which criteria were met,
    with evidence, and the grade they give. A new grading is a new row, so a
    "no report" decision stays auditable."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="gradings")
    instrument = models.CharField(max_length=60)
    version = models.CharField(max_length=20)
    in_scope = models.BooleanField(_("a cybersecurity incident under the Measures"))
    # [{"criterion": id, "grade": ..., "text_zh": ..., "met": bool, "evidence": ...}]
    rows = models.JSONField(default=list)
    grade = models.CharField(_("grade"), max_length=20, choices=GRADE_CHOICES)
    rationale = models.TextField(_("rationale"))
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-graded_at", "-id"]
        get_latest_by = "graded_at"

    def __str__(self) -> str:
        return f"{self.instrument} {self.version}: {self.grade}"


class RegulatoryReport(models.Model):
    """One report owed to an authority. Once submitted its content is frozen
    (hash stored); later facts go into a supplementary report."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial report")
        SUPPLEMENTARY = "supplementary", _("Supplementary report")
        SUMMARY = "summary", _("30-day summary report")
        NOTICE = "notice", _("Notice")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        REQUIRED = "required", _("Required")
        DRAFTING = "drafting", _("Drafting")
        SUBMITTED = "submitted", _("Submitted")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the authority")
        NOT_REQUIRED = "not_required", _("Not required")

    class Channel(models.TextChoices):
        HOTLINE_12387 = "12387_hotline", _("12387 hotline")
        WEB_12387 = "12387_web", _("12387 website")
        EMAIL = "email", _("E-mail")
        FAX = "fax", _("Fax")
        WECHAT = "wechat", _("WeChat")
        IN_PERSON = "in_person", _("In person")
        PORTAL = "portal", _("Portal")
        OTHER = "other", _("Other")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    obligation = models.ForeignKey(
        ReportingObligation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INITIAL)
    supplements = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supplementary_reports",
    )
    authority = models.CharField(_("authority"), max_length=200)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.REQUIRED
    )
    content_zh = models.TextField(_("content (Chinese)"), blank=True)
    content_en = models.TextField(_("content (English mirror)"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reference_number = models.CharField(_("reference number"), max_length=120, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    not_required_reason = models.TextField(_("why not required"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("regulatory report")
        verbose_name_plural = _("regulatory reports")
        indexes = [models.Index(fields=["state", "due_at"], name="report_state_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.authority}"

    PENDING_STATES = (State.REQUIRED, State.DRAFTING)

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_pending and self.due_at is not None and self.due_at < timezone.now()
