"""The triage list's filters, shared by the page and the API; every filter
lives in the URL."""

from __future__ import annotations

import re

import django_filters as df
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from incidents.domain.lifecycle import DONE_STATES, OPEN_STATES
from incidents.models import Category, Incident, IncidentRole, Market
from incidents.models.incident import STATE_CHOICES
from incidents.models.reference import SEVERITY_CHOICES

REFERENCE = re.compile(r"^\s*INC-(\d{4})-(\d{1,6})\s*$", re.IGNORECASE)


class IncidentFilter(df.FilterSet):
    scope = df.ChoiceFilter(
        label=_("Show"),
        choices=[
            ("open", pgettext_lazy("incidents that are open", "Open")),
            ("done", _("Resolved and closed")),
            ("all", _("All")),
        ],
        method="filter_scope",
        empty_label=None,
    )
    state = df.MultipleChoiceFilter(label=_("State"), choices=STATE_CHOICES)
    severity = df.MultipleChoiceFilter(label=_("Severity"), choices=SEVERITY_CHOICES)
    category = df.ModelMultipleChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="code",
        field_name="category__code",
    )
    market = df.ModelMultipleChoiceFilter(
        label=_("Market"),
        queryset=Market.objects.all(),
        to_field_name="code",
        field_name="markets__code",
        distinct=True,
    )
    commander = df.NumberFilter(label=_("Commander"), method="filter_commander")
    declared_after = df.IsoDateTimeFilter(
        label=_("Declared after"), field_name="declared_at", lookup_expr="gte"
    )
    declared_before = df.IsoDateTimeFilter(
        label=_("Declared before"), field_name="declared_at", lookup_expr="lt"
    )
    q = df.CharFilter(label=_("Search"), method="filter_search", max_length=200)
    sort = df.OrderingFilter(
        label=_("Sort"),
        fields=(
            ("declared_at", "declared"),
            ("severity", "severity"),
            ("state", "state"),
            ("updated_at", "updated"),
        ),
        empty_label=_("Newest first"),
        field_labels={
            "declared_at": _("Declared"),
            "severity": _("Severity"),
            "state": _("State"),
            "updated_at": _("Last change"),
        },
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("scope") and not data.get("state"):
            data["scope"] = "open"
        super().__init__(data, *args, **kwargs)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("-declared_at", "-id")
        return queryset

    def filter_scope(self, queryset, name, value):
        if value == "open":
            return queryset.filter(state__in=[s.value for s in OPEN_STATES])
        if value == "done":
            return queryset.filter(state__in=[s.value for s in DONE_STATES])
        return queryset

    def filter_commander(self, queryset, name, value):
        return queryset.filter(
            role_assignments__role=IncidentRole.COMMANDER,
            role_assignments__released_at__isnull=True,
            role_assignments__user_id=value,
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        ref = REFERENCE.match(value)
        if ref:
            return queryset.filter(year=int(ref[1]), number=int(ref[2]))
        return queryset.filter(
            Q(title__icontains=value) | Q(title_zh__icontains=value) | Q(summary__icontains=value)
        )
