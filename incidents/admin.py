"""Admin: reference data is edited here (taxonomy, targets, grading
criteria, reporting duties, runbooks); incident records are read here and
changed only through the app, so every change reaches the timeline."""

from django.contrib import admin

from incidents import models as m


@admin.register(m.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh", "no_media", "active", "order"]
    list_editable = ["active", "order"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(m.Market, m.Surface)
class BilingualAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh", "active", "order"]
    list_editable = ["active", "order"]


@admin.register(m.SeverityPolicy)
class SeverityPolicyAdmin(admin.ModelAdmin):
    list_display = ["severity", "ack_minutes", "commander_minutes", "update_minutes"]


@admin.register(m.NudgeRule)
class NudgeRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "minutes", "enabled"]
    list_editable = ["minutes", "enabled"]


@admin.register(m.GradingCriterion)
class GradingCriterionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "version", "grade", "text_zh", "confidence", "active"]
    list_filter = ["instrument", "version", "grade", "confidence", "active"]


@admin.register(m.ReportingObligation)
class ReportingObligationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_en",
        "min_grade",
        "cii",
        "anchor",
        "due_minutes",
        "statutory",
        "confidence",
        "counsel_confirmed_on",
        "active",
    ]
    list_filter = ["statutory", "confidence", "active"]


class RunbookItemInline(admin.TabularInline):
    model = m.RunbookItem
    extra = 1


@admin.register(m.Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_zh", "category", "min_severity", "active"]
    inlines = [RunbookItemInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "severity", "state", "statutory_grade", "declared_at"]
    list_filter = ["state", "severity", "statutory_grade", "category"]
    search_fields = ["title", "title_zh"]


@admin.register(m.TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["incident", "seq", "kind", "actor", "occurred_at"]
    list_filter = ["kind"]


@admin.register(m.RegulatoryReport)
class RegulatoryReportAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "authority", "due_at", "state", "submitted_at"]
    list_filter = ["state", "kind"]


@admin.register(
    m.IncidentCounter,
    m.RoleAssignment,
    m.Participant,
    m.SeverityAssessment,
    m.IncidentTask,
    m.StatusUpdate,
    m.Review,
    m.IncidentRunbook,
    m.IncidentTimer,
    m.GradingWorksheet,
    m.RunbookItem,
)
class IncidentRecordAdmin(ReadOnlyAdmin):
    """Records written by the incident services: readable here, changed there."""


class WeeklyReportRunInline(admin.TabularInline):
    """The sends so far, read-only: the sweep writes them."""

    model = m.WeeklyReportRun
    extra = 0
    can_delete = False
    ordering = ["-week_start"]
    fields = ["week_start", "state", "attempts", "sent_at", "recipients_count", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.WeeklyReportList)
class WeeklyReportListAdmin(admin.ModelAdmin):
    list_display = ["name", "weekday", "hour", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active", "time_zone"]
    search_fields = ["name", "recipients"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [WeeklyReportRunInline]

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(m.WeeklyReportRun)
class WeeklyReportRunAdmin(ReadOnlyAdmin):
    """Every scheduled send, across lists: written by the sweep only."""

    list_display = ["report_list", "week_start", "state", "attempts", "sent_at", "recipients_count"]
    list_filter = ["state"]
    list_select_related = ["report_list"]


@admin.register(m.IncidentMetricsFacts)
class IncidentMetricsFactsAdmin(ReadOnlyAdmin):
    """The metrics' per-incident cache (incidents.metrics): computed from the
    timeline, never edited; deleting rows loses nothing."""

    list_display = ["incident", "last_seq", "severity_highest", "state", "computed_for"]
    list_select_related = ["incident"]
    list_filter = ["severity_highest", "state"]
