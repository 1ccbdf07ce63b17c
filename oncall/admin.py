from django.contrib import admin

from oncall import models as m


class LayerMemberInline(admin.TabularInline):
    model = m.LayerMember
    extra = 1


@admin.register(m.Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "time_zone"]
    search_fields = ["name"]


@admin.register(m.Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = [
        "schedule",
        "name",
        "priority",
        "unit",
        "count",
        "anchor",
        "active_from",
        "active_until",
    ]
    list_filter = ["schedule"]
    inlines = [LayerMemberInline]


@admin.register(m.Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["schedule", "user", "starts_at", "ends_at", "replaces", "swap_id"]
    list_filter = ["schedule"]


@admin.register(m.CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["prefix", "owner", "schedule", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "token_hash", "owner", "schedule", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(m.LayerMember, m.HandoffNotice, m.CoverageGap)
class RecordAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
