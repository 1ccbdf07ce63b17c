"""Reference data an admin corrects: the taxonomy, markets, surfaces, the
severity response targets, grading criteria, reporting duties and runbooks.
Seeded by a data migration from ../shared/domain; never constants in code."""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from incidents.domain.clocks import ObligationRule
from incidents.domain.grading import CRITERION_GRADES, Grade
from incidents.domain.severity import Severity
from incidents.labels import GRADE_LABELS, SEVERITY_LABELS

SEVERITY_CHOICES = [(s.value, SEVERITY_LABELS[s]) for s in Severity]
GRADE_CHOICES = [(g.value, GRADE_LABELS[g]) for g in Grade]
CRITERION_GRADE_CHOICES = [(g.value, GRADE_LABELS[g]) for g in CRITERION_GRADES]


def localized(en: str, zh: str) -> str:
    """The Chinese text when the active language is Chinese and it exists."""
    zh_active = (translation.get_language() or "").startswith("zh")
    return (zh if zh_active else en) or en


class Confidence(models.TextChoices):
    VERIFIED = "V", _("[V] verified from primary text")
    SECONDARY = "S", _("[S] secondary source")
    UNCERTAIN = "U", _("[U] uncertain; legal review needed")
    PRODUCT = "P", _("[P] product default, not law")


class Bilingual(models.Model):
    """A row with English and Chinese names; `name` follows the active language."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)


class Category(Bilingual):
    """The T&S incident taxonomy (../shared/domain §1.2)."""

    description = models.TextField(_("description"), blank=True)
    no_media = models.BooleanField(
        _("no media may be stored"),
        default=False,
        help_text=_("CSAM: only references and hashes, never the media itself."),
    )

    class Meta(Bilingual.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class Market(Bilingual):
    class Meta(Bilingual.Meta):
        verbose_name = _("market")
        verbose_name_plural = _("markets")


class Surface(Bilingual):
    class Meta(Bilingual.Meta):
        verbose_name = _("surface")
        verbose_name_plural = _("surfaces")


class SeverityPolicy(models.Model):
    """Response targets per severity [P] (../shared/domain §6.3 item 31)."""

    severity = models.CharField(_("severity"), max_length=8, choices=SEVERITY_CHOICES, unique=True)
    ack_minutes = models.PositiveIntegerField(_("acknowledge within (minutes)"))
    commander_minutes = models.PositiveIntegerField(
        _("commander within (minutes)"), null=True, blank=True
    )
    update_minutes = models.PositiveIntegerField(
        _("status update every (minutes)"), null=True, blank=True
    )

    class Meta:
        ordering = ["severity"]
        verbose_name = _("severity policy")
        verbose_name_plural = _("severity policies")

    def __str__(self) -> str:
        return str(SEVERITY_LABELS[Severity(self.severity)])


class NudgeRule(models.Model):
    """How long before a response that is off track gets a nudge [P]."""

    class Kind(models.TextChoices):
        NO_COMMANDER = "no_commander", _("No commander")
        SEVERITY_UNCONFIRMED = "severity_unconfirmed", _("Severity not confirmed")
        GRADING_DUE = "grading_due", _("Official grade not assessed")
        GRADING_DUE_CII = "grading_due_cii", _("Official grade not assessed (CII)")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, unique=True)
    minutes = models.PositiveIntegerField(_("after (minutes)"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("nudge rule")
        verbose_name_plural = _("nudge rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.minutes} min)"


class GradingCriterion(models.Model):
    """One criterion of the annex 《网络安全事件分级指南》, versioned."""

    instrument = models.CharField(_("instrument"), max_length=60, default="CAC-2025-Measures")
    version = models.CharField(_("version"), max_length=20, default="2025-09-11")
    grade = models.CharField(_("grade"), max_length=20, choices=CRITERION_GRADE_CHOICES)
    text_zh = models.TextField(_("criterion (Chinese)"))
    text_en = models.TextField(_("criterion (English)"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    confidence = models.CharField(_("confidence"), max_length=1, choices=Confidence.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["instrument", "version", "order", "id"]
        verbose_name = _("grading criterion")
        verbose_name_plural = _("grading criteria")

    def __str__(self) -> str:
        return f"{self.get_grade_display()}: {self.text_zh[:40]}"

    @property
    def text(self) -> str:
        return localized(self.text_en, self.text_zh)


class ReportingObligation(models.Model):
    """A report owed to an authority, as data (../shared/domain §6.1 item 7).

    Every seeded deadline shows its source, version and confidence; nothing
    here is called a legal requirement unless it is [V] and confirmed by counsel.
    """

    class Anchor(models.TextChoices):
        DISCOVERED = "discovered", _("discovery (发现或获知)")
        HANDLING_ENDED = "handling_ended", _("end of handling")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    authority_en = models.CharField(_("authority (English)"), max_length=200)
    authority_zh = models.CharField(_("authority (Chinese)"), max_length=200)
    min_grade = models.CharField(
        _("owed from grade"), max_length=20, choices=CRITERION_GRADE_CHOICES, blank=True
    )
    cii = models.BooleanField(_("critical information infrastructure"), null=True, blank=True)
    personal_info = models.BooleanField(
        _("only when personal information is involved"), default=False
    )
    minors = models.BooleanField(_("only when minors are involved"), default=False)
    anchor = models.CharField(_("clock starts at"), max_length=20, choices=Anchor.choices)
    due_minutes = models.PositiveIntegerField(_("due after (minutes)"))
    statutory = models.BooleanField(
        _("statutory deadline"), default=True, help_text=_("Off: an internal target, not law.")
    )
    source = models.CharField(_("source (instrument, article, version)"), max_length=300)
    confidence = models.CharField(_("confidence"), max_length=1, choices=Confidence.choices)
    counsel_confirmed_by = models.CharField(
        _("confirmed by counsel (name)"), max_length=120, blank=True
    )
    counsel_confirmed_on = models.DateField(_("confirmed by counsel (date)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["due_minutes", "code"]
        verbose_name = _("reporting obligation")
        verbose_name_plural = _("reporting obligations")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)

    @property
    def authority(self) -> str:
        return localized(self.authority_en, self.authority_zh)

    def as_rule(self) -> ObligationRule:
        return ObligationRule(
            code=self.code,
            min_grade=Grade(self.min_grade) if self.min_grade else None,
            cii=self.cii,
            personal_info=self.personal_info,
            minors=self.minors,
            anchor=self.anchor,
            due_minutes=self.due_minutes,
        )


class Runbook(models.Model):
    """A checklist attached by category and severity; its items become tasks."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("category"),
        help_text=_("Empty: every category."),
    )
    min_severity = models.CharField(
        _("from severity"),
        max_length=8,
        choices=SEVERITY_CHOICES,
        default=Severity.SEV4,
        help_text=_("Attached when the incident is this severe or more."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)


class RunbookItem(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="items")
    title_en = models.CharField(_("item (English)"), max_length=300)
    title_zh = models.CharField(_("item (Chinese)"), max_length=300)
    due_minutes = models.PositiveIntegerField(_("due after (minutes)"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["runbook", "order", "id"]
        verbose_name = _("runbook item")
        verbose_name_plural = _("runbook items")

    def __str__(self) -> str:
        return self.title_en
