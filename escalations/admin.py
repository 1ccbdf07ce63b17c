"""Admin: policies, routing and contact methods are edited here until the
escalations pages arrive; the outbox rows are read-only records."""

from django.contrib import admin

from escalations import models as m


class LevelTargetInline(admin.TabularInline):
    model = m.LevelTarget
    extra = 1


@admin.register(m.EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "repeat", "final_user", "updated_at"]


@admin.register(m.PolicyLevel)
class PolicyLevelAdmin(admin.ModelAdmin):
    list_display = ["policy", "position", "wait_minutes"]
    inlines = [LevelTargetInline]


@admin.register(m.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "policy", "severities", "categories", "team"]


@admin.register(m.ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    list_display = ["user", "channel", "address", "enabled"]
    exclude = ["secret"]  # set through the app; never shown


@admin.register(m.NotificationRule, m.LevelTarget, m.QuietHours)
class PlainAdmin(admin.ModelAdmin):
    pass


@admin.register(m.Escalation, m.Page, m.Delivery, m.DeliveryAttempt, m.Timer, m.SlaBreach)
class RecordAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Tokens are issued by escalations.alerts.integration_create; the hash
    and prefix are shown read-only, the secret never."""

    list_display = ["name", "kind", "prefix", "default_category", "default_severity", "active"]
    readonly_fields = ["token_hash", "prefix", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(m.Alert)
class AlertAdmin(RecordAdmin):
    list_display = ["integration", "dedup_key", "status", "incident", "count", "last_seen_at"]
    list_filter = ["status", "integration"]
