"""Forms of the vendor pages. They carry what people type; the rules (and
their messages) live in vendors.services, whose refusals land back on these
forms through tscc.forms.apply_error."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from vendors.models import SITE_STATUS_CHOICES

# The snapshot form's figures, in the order people read them off their
# workforce tool; labels short enough for a dense grid.
FIGURE_LABELS = {
    "backlog": _("Backlog"),
    "inflow_per_hour": _("In / hour"),
    "outflow_per_hour": _("Out / hour"),
    "oldest_item_minutes": _("Oldest (min)"),
    "sla_attainment": _("SLA attained (%)"),
    "staffed_headcount": _("Staffed"),
    "planned_headcount": _("Planned"),
    "aht_seconds": _("AHT (s)"),
    "qa_accuracy": _("QA accuracy (%)"),
    "escalations": _("Escalations"),
}
REQUIRED_FIGURES = (
    "backlog",
    "inflow_per_hour",
    "outflow_per_hour",
    "oldest_item_minutes",
    "sla_attainment",
    "staffed_headcount",
)
WHOLE = ("backlog", "staffed_headcount", "planned_headcount", "escalations")


def _number_input(name: str) -> forms.NumberInput:
    attrs = {"min": "0", "step": "1" if name in WHOLE else "any", "class": "input-num"}
    attrs["inputmode"] = "numeric" if name in WHOLE else "decimal"
    if name in ("sla_attainment", "qa_accuracy"):
        attrs["max"] = "100"
    return forms.NumberInput(attrs=attrs)


class SnapshotForm(forms.Form):
    """One queue's figures. `taken_at` is a wall time in the site's zone
    (`zone`); `figures()` gives the service an aware ISO time."""

    taken_at = forms.CharField(
        label=_("Figures for"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "60"}),
    )

    def __init__(self, *args, zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        for name, label in FIGURE_LABELS.items():
            self.fields[name] = forms.CharField(
                label=label, required=False, widget=_number_input(name)
            )
            if name in REQUIRED_FIGURES:
                self.fields[name].widget.attrs["required"] = True

    def figures(self) -> dict[str, str]:
        """The typed values for vendors.services.snapshot_post; a wall time
        without an offset is read in the site's zone."""
        data = {name: (self.cleaned_data.get(name) or "").strip() for name in self.fields}
        text = data["taken_at"]
        if text:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return data  # the service says what a time looks like
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(self.zone))
            data["taken_at"] = moment.isoformat()
        return {k: v for k, v in data.items() if v != ""}


class SiteStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=SITE_STATUS_CHOICES)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required unless the site is operational. Shown to the ops team."),
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        required=False,
        max_length=120,
        help_text=_("What uses it, e.g. “Luzon WFM exporter”."),
    )


class ImpactForm(forms.Form):
    """What an incident touches: a vendor as a whole, one of its queues or
    one of its sites, chosen from one grouped list: "v:<vendor>",
    "q:<vendor>:<queue>", "s:<vendor>:<site>"."""

    incident = forms.CharField(
        label=_("Incident"),
        required=False,
        help_text=_("Its reference, e.g. INC-2026-00042."),
    )
    target = forms.ChoiceField(label=_("Impacted"))

    def __init__(self, *args, targets, ask_incident: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets
        if not ask_incident:
            del self.fields["incident"]

    def link(self) -> dict[str, int | None]:
        """vendor_id, queue_id and site_id for vendors.services.impact_link."""
        kind, *ids = self.cleaned_data["target"].split(":")
        return {
            "vendor_id": int(ids[0]),
            "queue_id": int(ids[1]) if kind == "q" else None,
            "site_id": int(ids[1]) if kind == "s" else None,
        }


def impact_targets(vendors, queues, sites) -> list:
    """Grouped choices for ImpactForm: per vendor, the whole vendor, then
    its sites and queues."""
    by_vendor: dict[int, list] = {v.id: [(f"v:{v.id}", _("Whole vendor"))] for v in vendors}
    for site in sites:
        if site.vendor_id in by_vendor:
            by_vendor[site.vendor_id].append(
                (
                    f"s:{site.vendor_id}:{site.id}",
                    _("Site: %(name)s") % {"name": site.display_name},
                )
            )
    for queue in queues:
        if queue.vendor_id in by_vendor:
            by_vendor[queue.vendor_id].append(
                (
                    f"q:{queue.vendor_id}:{queue.id}",
                    _("Queue: %(name)s") % {"name": queue.display_name},
                )
            )
    return [(v.display_name, by_vendor[v.id]) for v in vendors]


class ContactsForm(forms.Form):
    """Who is paged at once when trouble at the vendor opens an incident."""

    people = forms.ModelMultipleChoiceField(
        label=_("Escalation contacts"),
        queryset=None,
        required=False,
        help_text=_("Paged at once, by their own notification rules, beside the team's policy."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, **kwargs):
        from tscc.forms import operations_people

        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = operations_people().order_by("display_name", "id")
