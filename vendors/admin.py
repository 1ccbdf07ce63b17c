"""Admin: vendors, sites, queues and memberships are set up here; figures
and status history are read here (they are written through the portal and
the API, so trouble checks run). Tokens show their prefix only: a new
token's secret is shown once, in the message after saving."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vendors import models as m
from vendors.services import token_create, token_revoke


class MembershipInline(admin.TabularInline):
    model = m.VendorMembership
    extra = 0
    autocomplete_fields = ["user"]


class EscalationLevelInline(admin.TabularInline):
    """The vendor's own escalation policy (level 1 first)."""

    model = m.VendorEscalationLevel
    extra = 0
    max_num = m.MAX_ESCALATION_LEVELS
    fields = ["position", "wait_minutes", "users"]
    filter_horizontal = ["users"]


class SiteInline(admin.TabularInline):
    model = m.Site
    extra = 0
    fields = ["name", "city", "country", "time_zone", "seats", "status", "is_active"]
    readonly_fields = ["status"]
    show_change_link = True


@admin.register(m.Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "team", "owner", "contract_end", "is_active"]
    list_filter = ["is_active", "team"]
    search_fields = ["code", "name", "name_zh", "contract_ref"]
    list_select_related = ["team", "owner"]
    inlines = [SiteInline, MembershipInline, EscalationLevelInline]


@admin.register(m.VendorEscalationLevel)
class VendorEscalationLevelAdmin(admin.ModelAdmin):
    """Every vendor's levels in one list (edited on the vendor, in its inline)."""

    list_display = ["vendor", "position", "wait_minutes"]
    list_select_related = ["vendor"]
    list_filter = ["vendor"]
    filter_horizontal = ["users"]
    ordering = ["vendor__name", "position"]


@admin.register(m.Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "city", "country", "time_zone", "seats", "status"]
    list_filter = ["status", "country", "vendor"]
    search_fields = ["name", "name_zh", "city", "vendor__name"]
    list_select_related = ["vendor"]
    # Status changes go through the portal or API: they are recorded and
    # checked for trouble.
    readonly_fields = ["status", "status_reason", "status_changed_at", "status_changed_by"]


@admin.register(m.Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "vendor",
        "site",
        "language",
        "market",
        "sla_percent",
        "sla_minutes",
        "planned_headcount",
        "is_active",
    ]
    list_filter = ["is_active", "vendor", "language", "market"]
    search_fields = ["code", "name", "name_zh", "vendor__name"]
    list_select_related = ["vendor", "site"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.QueueSnapshot)
class QueueSnapshotAdmin(ReadOnlyAdmin):
    """Snapshots are a record: nobody edits or deletes one (the period
    metrics' daily sums of final days rely on it)."""

    def has_delete_permission(self, request, obj=None):
        return False

    list_display = [
        "queue",
        "taken_at",
        "backlog",
        "sla_attainment",
        "staffed_headcount",
        "planned_headcount",
        "source",
        "reported_by",
    ]
    list_filter = ["source", "queue__vendor"]
    date_hierarchy = "taken_at"
    list_select_related = ["queue", "reported_by"]


@admin.register(m.SiteStatusChange)
class SiteStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["site", "previous", "current", "reason", "changed_by", "source", "at"]
    list_filter = ["current", "source"]
    list_select_related = ["site", "changed_by"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.VendorMembership)
class VendorMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "vendor", "role", "created_at"]
    list_filter = ["role", "vendor"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "vendor"]


@admin.register(m.IncidentImpact)
class IncidentImpactAdmin(admin.ModelAdmin):
    list_display = ["incident", "vendor", "queue", "site", "trouble_key", "created_at"]
    list_filter = ["vendor"]
    raw_id_fields = ["incident"]
    readonly_fields = ["trouble_key", "trouble_noted_at", "created_by"]
    list_select_related = ["incident", "vendor", "queue", "site"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(m.VendorToken)
class VendorTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "vendor",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["vendor", "revoked_at"]
    search_fields = ["name", "prefix", "vendor__name"]
    list_select_related = ["vendor", "created_by"]
    fields = ["vendor", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
        return self.fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, secret = token_create(actor=request.user, vendor_id=obj.vendor_id, name=obj.name)
        obj.pk = token.pk
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if not k.startswith("_")})
        messages.warning(
            request,
            _("Token secret (shown once, copy it now): %(secret)s") % {"secret": secret},
        )

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            token_revoke(actor=request.user, token_id=token.id)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
        )


@admin.register(m.QueueDayFigures)
class QueueDayFiguresAdmin(ReadOnlyAdmin):
    """Derived sums (vendors.metrics), shown for checking; rebuilt at will."""

    list_display = ["queue", "day", "snapshots", "below_target", "near_target", "sla_percent"]
    list_filter = ["queue__vendor"]
    date_hierarchy = "day"


@admin.register(m.SnapshotDay)
class SnapshotDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "rolled_at"]
    date_hierarchy = "day"
