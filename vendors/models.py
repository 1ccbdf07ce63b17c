"""BPO vendors, their sites and queues, the queue snapshots their leads
report, who works for which vendor, vendor API tokens, and which incidents
touch which vendor.

Row invariants live here (clean()); every write that matters goes through
vendors.services."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.reference import localized
from tscc.models import validate_time_zone
from tscc.roles import OPERATIONS_ROLES
from vendors.domain.health import ALL_DAYS, ShiftWindow, SiteStatus, Targets

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]

SITE_STATUS_LABELS = {
    SiteStatus.OPERATIONAL: _("Operational"),
    SiteStatus.DEGRADED: _("Degraded"),
    SiteStatus.DOWN: _("Down"),
    SiteStatus.BCP_ACTIVE: _("Business-continuity plan active"),
}
SITE_STATUS_CHOICES = [(s.value, SITE_STATUS_LABELS[s]) for s in SiteStatus]


def validate_code_list(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v) <= 20 for v in value
    ):
        raise ValidationError(_('Give a list of short codes, such as ["zh", "en"].'))


def validate_weekdays(value) -> None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and 1 <= v <= 7 for v in value)
    ):
        raise ValidationError(_("Give ISO weekdays, 1 (Monday) to 7 (Sunday)."))


def _all_days() -> list[int]:
    return sorted(ALL_DAYS)


class Vendor(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    contract_ref = models.CharField(_("contract reference"), max_length=80, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[validate_code_list]
    )
    markets = models.JSONField(
        _("markets"), default=list, blank=True, validators=[validate_code_list]
    )
    contacts = models.TextField(
        _("contacts"), blank=True, help_text=_("Escalation contacts: names, roles, phones.")
    )
    team = models.ForeignKey(
        "tscc.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vendors",
        verbose_name=_("owning team"),
        help_text=_("Trouble incidents go to this team, so its routing rules page its policy."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_vendors",
        verbose_name=_("accountable ops manager"),
        help_text=_("Automatic trouble incidents are declared in this person's name."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)

    def clean(self) -> None:
        errors = {}
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            errors["contract_end"] = _("The contract cannot end before it starts.")
        owner = self.owner if self.owner_id is not None else None
        if owner is not None and (not owner.is_active or owner.role not in OPERATIONS_ROLES):
            errors["owner"] = _("The owner declares trouble incidents: pick an ops person.")
        if errors:
            raise ValidationError(errors)


MAX_ESCALATION_LEVELS = 5


class VendorEscalationLevel(models.Model):
    """One level of a vendor's own escalation policy: when trouble at the
    vendor opens an incident, level 1's people are paged at once (by their
    own notification rules, beside the owning team's policy), and each next
    level after the previous level's wait if nobody of the vendor's policy
    acknowledged. Set through vendors.services.vendor_set_escalation_levels."""

    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.CASCADE,
        related_name="escalation_levels",
        verbose_name=_("vendor"),
    )
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("1 is paged first."))
    wait_minutes = models.PositiveIntegerField(
        _("wait (minutes)"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_("How long this level has to acknowledge before the next one is paged."),
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="vendor_escalation_levels",
        limit_choices_to={"role__in": sorted(OPERATIONS_ROLES), "is_active": True},
        verbose_name=_("people"),
    )

    class Meta:
        ordering = ["vendor", "position"]
        verbose_name = _("vendor escalation level")
        verbose_name_plural = _("vendor escalation levels")
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "position"], name="vendor_escalation_level_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id} level {self.position}"


class Site(models.Model):
    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="sites", verbose_name=_("vendor")
    )
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=80)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. PH."))
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    seats = models.PositiveIntegerField(_("seats"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=SITE_STATUS_CHOICES, default=SiteStatus.OPERATIONAL
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["vendor", "name", "id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="site_name_per_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.city})"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)

    @property
    def status_enum(self) -> SiteStatus:
        return SiteStatus(self.status)


class SiteStatusChange(models.Model):
    """Append-only history of a site's status."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Vendor portal")
        API = "api", _("API")
        ADMIN = "admin", _("Admin")

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("site")
    )
    previous = models.CharField(_("previous status"), max_length=16, choices=SITE_STATUS_CHOICES)
    current = models.CharField(_("new status"), max_length=16, choices=SITE_STATUS_CHOICES)
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("site status change")
        verbose_name_plural = _("site status changes")
        indexes = [models.Index(fields=["site", "-at"], name="site_status_change_at")]

    def __str__(self) -> str:
        return f"{self.site_id}: {self.previous} -> {self.current}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("site status changes are append-only")
        super().save(*args, **kwargs)


class Queue(models.Model):
    """A moderation queue a vendor works, with its SLA target ("95% actioned
    within 30 minutes"), planned headcount per shift and staffed window."""

    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="queues", verbose_name=_("vendor")
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        verbose_name=_("site"),
    )
    code = models.SlugField(
        _("code"), max_length=40, help_text=_("Unique per vendor; names the queue in uploads.")
    )
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    content_type = models.CharField(
        _("content type"), max_length=40, blank=True, help_text=_("e.g. video, live, comments.")
    )
    market = models.CharField(_("market"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=20, blank=True)
    policy_area = models.CharField(_("policy area"), max_length=60, blank=True)
    sla_percent = models.FloatField(
        _("SLA target (%)"),
        default=95.0,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    sla_minutes = models.PositiveIntegerField(
        _("SLA time (minutes)"),
        default=60,
        validators=[MinValueValidator(1)],
        # xgettext:no-python-format
        help_text=_("The target is: SLA % of items actioned within this many minutes."),
    )
    planned_headcount = models.PositiveIntegerField(_("planned headcount per shift"), default=0)
    staffed_from = models.TimeField(
        _("staffed from"), default=time(0, 0), help_text=_("Local time of the site.")
    )
    staffed_to = models.TimeField(
        _("staffed until"),
        default=time(0, 0),
        help_text=_(
            "Local time of the site; earlier than the start runs past midnight; equal is 24 hours."
        ),
    )
    staffed_days = models.JSONField(
        _("staffed days"),
        default=_all_days,
        validators=[validate_weekdays],
        help_text=_("ISO weekdays the shift starts on, 1 (Monday) to 7 (Sunday)."),
    )
    stale_after_minutes = models.PositiveIntegerField(
        _("stale after (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    warn_attainment = models.FloatField(
        _("warn below attainment (%)"),
        null=True,
        blank=True,
        validators=PERCENT,
        help_text=_("Empty: 2 points above the SLA target."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["vendor", "name", "id"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "code"], name="queue_code_per_vendor"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)

    def clean(self) -> None:
        if self.site_id is not None and self.vendor_id is not None:
            site_vendor = Site.objects.filter(id=self.site_id).values_list("vendor_id", flat=True)
            if site_vendor.first() != self.vendor_id:
                raise ValidationError({"site": _("The site belongs to another vendor.")})

    def time_zone_name(self) -> str:
        """The site's zone (needs `site` loaded), else UTC."""
        return self.site.time_zone if self.site_id is not None else "UTC"

    def targets(self) -> Targets:
        """The queue's targets for vendors.domain.health (needs `site` loaded)."""
        return Targets(
            sla_percent=self.sla_percent,
            sla_minutes=self.sla_minutes,
            shift=ShiftWindow(
                time_zone=self.time_zone_name(),
                start=self.staffed_from,
                end=self.staffed_to,
                days=frozenset(self.staffed_days or ALL_DAYS),
            ),
            stale_after_minutes=self.stale_after_minutes,
            warn_attainment=self.warn_attainment,
            active_since=self.created_at,
        )


class QueueSnapshot(models.Model):
    """A queue's figures for one moment (`taken_at`, UTC, to the minute).
    One snapshot per queue and moment: a second post for it is refused."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Vendor portal")
        UPLOAD = "upload", _("File upload")
        API = "api", _("API")
        TOKEN = "token", _("Vendor token")

    # No index of its own: the unique (queue, taken_at) index serves every
    # lookup by queue, and read backwards, each queue's latest figures.
    # Every index is written on each of the hundreds of inserts a second.
    queue = models.ForeignKey(
        Queue,
        on_delete=models.CASCADE,
        related_name="snapshots",
        verbose_name=_("queue"),
        db_index=False,
    )
    taken_at = models.DateTimeField(_("figures for"))
    backlog = models.PositiveIntegerField(_("backlog"))
    inflow_per_hour = models.FloatField(_("inflow per hour"))
    outflow_per_hour = models.FloatField(_("outflow per hour"))
    oldest_item_minutes = models.FloatField(_("oldest item (minutes)"))
    sla_attainment = models.FloatField(_("SLA attainment (%)"), validators=PERCENT)
    staffed_headcount = models.PositiveIntegerField(_("staffed headcount"))
    planned_headcount = models.PositiveIntegerField(_("planned headcount"))
    aht_seconds = models.FloatField(_("average handle time (seconds)"), null=True, blank=True)
    qa_accuracy = models.FloatField(_("QA accuracy (%)"), null=True, blank=True, validators=PERCENT)
    escalations = models.PositiveIntegerField(_("escalations to the client"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reported by"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["queue", "-taken_at"]
        get_latest_by = "taken_at"
        verbose_name = _("queue snapshot")
        verbose_name_plural = _("queue snapshots")
        constraints = [
            models.UniqueConstraint(fields=["queue", "taken_at"], name="snapshot_once_per_moment"),
        ]
        indexes = [
            models.Index(fields=["taken_at"], name="snapshot_taken_at"),
        ]

    def __str__(self) -> str:
        return f"{self.queue_id} @ {self.taken_at:%Y-%m-%d %H:%M}"


class QueueDayFigures(models.Model):
    """A queue's snapshot sums for one UTC day, once no snapshot can be added
    to that day any more (posts are at most a week old): the period metrics
    (vendors.metrics) read a year as 365 of these per queue instead of 8,760
    snapshots. Derived data, rebuilt at will; `sla_percent` and `warn_below`
    are the targets the day was judged against (a queue whose targets
    change is judged again)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="day_figures")
    day = models.DateField()
    snapshots = models.PositiveIntegerField()
    weighted_attainment = models.FloatField()  # sum(attainment x outflow)
    outflow = models.FloatField()
    below_target = models.PositiveIntegerField()
    near_target = models.PositiveIntegerField()
    qa_sum = models.FloatField()
    qa_snapshots = models.PositiveIntegerField()
    sla_percent = models.FloatField()
    warn_below = models.FloatField()

    class Meta:
        verbose_name = _("queue day figures")
        verbose_name_plural = _("queue day figures")
        constraints = [
            models.UniqueConstraint(fields=["queue", "day"], name="queue_day_figures_once"),
        ]
        indexes = [models.Index(fields=["day"], name="queue_day_figures_day")]

    def __str__(self) -> str:
        return f"{self.queue_id} on {self.day:%Y-%m-%d}"


class SnapshotDay(models.Model):
    """A UTC day whose QueueDayFigures are complete (a queue without figures
    that day had no snapshot)."""

    day = models.DateField(unique=True)
    rolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rolled-up snapshot day")
        verbose_name_plural = _("rolled-up snapshot days")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"


class VendorMembership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        AGENT = "agent", _("Agent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="vendor_memberships",
        verbose_name=_("user"),
    )
    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("vendor")
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.LEAD)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["vendor", "user"]
        verbose_name = _("vendor membership")
        verbose_name_plural = _("vendor memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "vendor"], name="membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.vendor} ({self.role})"


class VendorToken(models.Model):
    """A bearer token a vendor's own systems post status with. Only the
    SHA-256 of the secret is kept; the secret is shown once."""

    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("vendor")
    )
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(
        _("prefix"), max_length=8, help_text=_("The first characters of the secret, to tell it.")
    )
    key_hash = models.CharField(_("SHA-256 of the secret"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("vendor token")
        verbose_name_plural = _("vendor tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.vendor.is_active


class IncidentImpact(models.Model):
    """An incident touches a vendor (and maybe one of its queues or sites).
    Automatic trouble incidents carry a `trouble_key` (queue:<id>, site:<id>,
    stale:<id>) so a repeat updates the open incident instead of opening one."""

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="vendor_impacts",
        verbose_name=_("incident"),
    )
    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="impacts", verbose_name=_("vendor")
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="impacts",
        verbose_name=_("queue"),
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="impacts",
        verbose_name=_("site"),
    )
    trouble_key = models.CharField(_("trouble key"), max_length=40, null=True, blank=True)
    trouble_noted_at = models.DateTimeField(_("last trouble note"), null=True, blank=True)
    created_at = models.DateTimeField(_("linked"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("linked by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("incident impact")
        verbose_name_plural = _("incident impacts")
        # NULLs are distinct in a plain unique constraint; one constraint per
        # shape keeps (incident, vendor, queue, site) unique with blanks too.
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "vendor", "queue", "site"], name="impact_once"
            ),
            models.UniqueConstraint(
                fields=["incident", "vendor"],
                condition=models.Q(queue__isnull=True, site__isnull=True),
                name="impact_once_vendor",
            ),
            models.UniqueConstraint(
                fields=["incident", "vendor", "queue"],
                condition=models.Q(site__isnull=True),
                name="impact_once_queue",
            ),
            models.UniqueConstraint(
                fields=["incident", "vendor", "site"],
                condition=models.Q(queue__isnull=True),
                name="impact_once_site",
            ),
        ]
        indexes = [
            models.Index(fields=["trouble_key"], name="impact_trouble_key"),
            models.Index(fields=["vendor", "-created_at"], name="impact_vendor_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} -> {self.vendor_id}"

    def clean(self) -> None:
        errors = {}
        if self.queue_id is not None and self.queue.vendor_id != self.vendor_id:
            errors["queue"] = _("The queue belongs to another vendor.")
        if self.site_id is not None and self.site.vendor_id != self.vendor_id:
            errors["site"] = _("The site belongs to another vendor.")
        if errors:
            raise ValidationError(errors)
