"""Escalation policies and routing, personal notification rules and contact
methods; and the durable outbox: escalations, pages, deliveries and timers,
all rows written in the transaction that causes them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from escalations.domain.notify import Urgency
from escalations.domain.policy import TargetKind

USER = settings.AUTH_USER_MODEL


class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey(
        "tscc.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    repeat = models.PositiveSmallIntegerField(
        _("repeat"), default=0, help_text=_("Extra rounds after the first.")
    )
    final_user = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("finally notify"),
    )
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return self.name


class PolicyLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField()
    wait_minutes = models.PositiveIntegerField(_("wait (minutes)"), default=5)

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="policy_level_position")
        ]

    def __str__(self) -> str:
        return f"{self.policy} #{self.position}"


class LevelTarget(models.Model):
    level = models.ForeignKey(PolicyLevel, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=10, choices=[(k.value, k.value) for k in TargetKind])
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule = models.ForeignKey(
        "oncall.Schedule", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "tscc.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="user", user__isnull=False)
                    | models.Q(kind="schedule", schedule__isnull=False)
                    | models.Q(kind="team", team__isnull=False)
                ),
                name="level_target_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.user_id or self.schedule_id or self.team_id}"

    @property
    def target_id(self) -> int:
        return self.user_id or self.schedule_id or self.team_id


class RoutingRule(models.Model):
    """Which policy pages for an incident: first matching rule by position."""

    position = models.PositiveSmallIntegerField(default=0)
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="routes")
    severities = models.JSONField(
        _("severities"), default=list, blank=True, help_text=_("Empty: any.")
    )
    categories = models.JSONField(
        _("categories"), default=list, blank=True, help_text=_("Category codes; empty: any.")
    )
    team = models.ForeignKey(
        "tscc.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The incident's owning team; empty: any."),
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"#{self.position} → {self.policy}"


class ContactMethod(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        VOICE = "voice", _("Phone call")
        WEBHOOK = "webhook", _("Webhook")
        FEISHU = "feishu", _("Feishu / Lark")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")
        SLACK = "slack", _("Slack")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="contact_methods")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    address = models.CharField(
        _("address"), max_length=500, help_text=_("E-mail, phone number or robot URL.")
    )
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "channel", "id"]

    def __str__(self) -> str:
        return f"{self.user} {self.channel}"


class NotificationRule(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notification_rules")
    channel = models.CharField(max_length=12)  # "app" or a ContactMethod channel
    delay_minutes = models.PositiveSmallIntegerField(default=0)
    urgency = models.CharField(max_length=4, choices=[(u.value, u.value) for u in Urgency])

    class Meta:
        ordering = ["user", "urgency", "delay_minutes", "id"]

    def __str__(self) -> str:
        return f"{self.user}: {self.channel} +{self.delay_minutes}m ({self.urgency})"


class QuietHours(models.Model):
    """A person's quiet hours, in their own time zone: low-urgency
    notifications wait until they end; SEV0 and SEV1 never wait."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="quiet_hours")
    start = models.TimeField(_("quiet from"))
    end = models.TimeField(_("quiet until"), help_text=_("Earlier than the start: past midnight."))
    enabled = models.BooleanField(_("enabled"), default=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.start:%H:%M}-{self.end:%H:%M}"


class Escalation(models.Model):
    """An incident paging by a frozen copy of a policy; or ("ad hoc") people
    someone chose to page now, beside the policy (`snapshot` then records
    who chose whom, and the message); or ("requested") levels another app
    asked to page beside the policy (a vendor's own escalation policy):
    `snapshot` has the policy format, plus the asker's `name`, `key` and
    `message`, and runs on the same timers as a policy."""

    class Kind(models.TextChoices):
        POLICY = "policy", _("Policy")
        ADHOC = "adhoc", _("Paged by hand")
        REQUESTED = "requested", _("Requested by another app")

    class State(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("escalation state", "Active")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        EXHAUSTED = "exhausted", _("Exhausted")
        REPLACED = "replaced", _("Replaced by another policy")

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="escalations"
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.POLICY)
    snapshot = models.JSONField()
    state = models.CharField(max_length=14, choices=State.choices, default=State.ACTIVE)
    step = models.PositiveSmallIntegerField(default=0, help_text=_("The next step to fire."))
    started_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who switched the incident to this policy; empty: its routing rules."),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Escalation {self.id} of incident {self.incident_id}"


class Page(models.Model):
    class State(models.TextChoices):
        TRIGGERED = "triggered", _("Triggered")
        NOTIFIED = "notified", _("Notified")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="pages")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="pages")
    step = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.TRIGGERED)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "step", "user"], name="page_once_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"Page {self.id} to {self.user}"


class Delivery(models.Model):
    """One notification attempt series for a page over one channel."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=12)
    destination = models.CharField(max_length=500, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=80, unique=True)
    provider_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    hinted_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("A fast-path task sends it; the sweep leaves it alone until then."),
    )
    bundled_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bundled",
        help_text=_("Sent as part of this delivery's message (repeated sends bundled)."),
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="delivery_state_due"),
            models.Index(fields=["channel", "destination", "sent_at"], name="delivery_dest_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} for page {self.page_id} ({self.state})"

    @property
    def channel_label(self) -> str:
        """The channel's name for people, in the active language."""
        if self.channel == "app":
            return str(_("In-app"))
        if self.channel in ContactMethod.Channel.values:
            return str(ContactMethod.Channel(self.channel).label)
        return self.channel


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    detail = models.CharField(max_length=500, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} {self.at:%H:%M:%S}"


class Timer(models.Model):
    """A durable deadline: fired once by the sweep, unless cancelled first."""

    class Kind(models.TextChoices):
        ESCALATE = "escalate", _("Escalate to the next level")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        FIRED = "fired", _("Fired")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.CASCADE, related_name="timers"
    )
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)
    hinted_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("A fast-path task fires it; the sweep leaves it alone until then."),
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="esc_timer_state_due")]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "kind", "step"], name="esc_timer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} step {self.step} due {self.due_at:%H:%M:%S} ({self.state})"


class Integration(models.Model):
    """A monitoring tool that sends alerts: its token is stored as a SHA-256."""

    class Kind(models.TextChoices):
        GENERIC = "generic", _("Generic JSON")
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GENERIC)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("token prefix"), max_length=16, editable=False)
    default_category = models.CharField(
        _("default category"), max_length=40, default="tooling_outage", help_text=_("A code.")
    )
    default_severity = models.CharField(_("default severity"), max_length=4, default="sev2")
    team = models.ForeignKey(
        "tscc.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Declares the incidents its alerts open."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One alert of an integration, deduplicated by its key."""

    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        RESOLVED = "resolved", _("Resolved")

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FIRING)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    payload = models.JSONField(default=dict)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "dedup_key"], name="alert_dedup_key")
        ]

    def __str__(self) -> str:
        return f"{self.integration}: {self.dedup_key} ({self.status})"


class SlaBreach(models.Model):
    """A missed deadline, recorded once (the unique key is the guarantee)."""

    class Kind(models.TextChoices):
        ACK = "ack", _("Acknowledge")
        UPDATE = "update", _("Status update")
        REPORT = "report", _("Regulatory report")

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="sla_breaches"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    ref = models.PositiveIntegerField(default=0, help_text=_("The report, for report deadlines."))
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(default=timezone.now)
    acted = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "ref", "due_at"], name="sla_breach_once"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} breach of incident {self.incident_id} (due {self.due_at:%Y-%m-%d %H:%M})"
        )
