"""Forms of the vendor pages. They carry what people type; the rules (and
their messages) live in vendors.services, whose refusals land back on these
forms through tscc.forms.apply_error."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vendors.models import SITE_STATUS_CHOICES, Queue, Site

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


class EscalationLevelsForm(forms.Form):
    """The vendor's own escalation policy: one row per level (level 1
    first), each with its people and its wait. Field names are the
    service's error names (`levels.<n>.user_ids`, `levels.<n>.wait_minutes`),
    so its errors land on their row; `count` says how many rows were posted."""

    count = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, count: int = 0, **kwargs):
        from tscc.forms import operations_people
        from vendors.models import MAX_ESCALATION_LEVELS
        from vendors.services.setup import MAX_LEVEL_WAIT

        kwargs.setdefault("auto_id", "esc-%s")
        super().__init__(*args, **kwargs)
        self.level_count = max(0, min(count, MAX_ESCALATION_LEVELS))
        self.can_add = self.level_count < MAX_ESCALATION_LEVELS
        self.fields["count"].initial = self.level_count
        people = operations_people().order_by("display_name", "id")
        for n in range(1, self.level_count + 1):
            self.fields[f"levels.{n}.user_ids"] = forms.ModelMultipleChoiceField(
                label=_("People of level %(n)d") % {"n": n},
                queryset=people,
                required=False,
                widget=forms.SelectMultiple(attrs={"size": 5}),
            )
            self.fields[f"levels.{n}.wait_minutes"] = forms.IntegerField(
                label=_("Wait (minutes)"),
                min_value=1,
                max_value=MAX_LEVEL_WAIT,
                initial=10,
                help_text=_("Before the next level is paged, if nobody acknowledged."),
            )

    @staticmethod
    def posted_rows(data) -> list[dict]:
        """The rows as posted, for adding or removing one without saving."""
        from vendors.models import MAX_ESCALATION_LEVELS

        try:
            count = max(0, min(int(data.get("count", 0)), MAX_ESCALATION_LEVELS))
        except (TypeError, ValueError):
            count = 0
        return [
            {
                "user_ids": data.getlist(f"levels.{n}.user_ids"),
                "wait_minutes": data.get(f"levels.{n}.wait_minutes", ""),
            }
            for n in range(1, count + 1)
        ]

    @staticmethod
    def initial_for(rows: list[dict]) -> dict:
        initial = {"count": len(rows)}
        for n, row in enumerate(rows, start=1):
            initial[f"levels.{n}.user_ids"] = row["user_ids"]
            initial[f"levels.{n}.wait_minutes"] = row["wait_minutes"]
        return initial

    def rows(self) -> list[dict]:
        """Each level's bound fields, for the template."""
        return [
            {
                "n": n,
                "people": self[f"levels.{n}.user_ids"],
                "wait": self[f"levels.{n}.wait_minutes"],
            }
            for n in range(1, self.level_count + 1)
        ]

    def levels(self) -> list[dict]:
        """The cleaned levels, as vendor_set_escalation_levels takes them."""
        return [
            {
                "wait_minutes": self.cleaned_data[f"levels.{n}.wait_minutes"],
                "user_ids": [p.id for p in self.cleaned_data[f"levels.{n}.user_ids"]],
            }
            for n in range(1, self.level_count + 1)
        ]


# --- setting up a vendor's sites and queues ------------------------------------

# The <datalist> of IANA zones the setup page carries once; the time zone
# inputs of its forms point at it.
ZONE_LIST = "setup-zones"
WEEKDAY_CHOICES = [(i, WEEKDAYS_ABBR[i - 1]) for i in range(1, 8)]


def _setup_number(*, minimum: int = 0, maximum: int | None = None, whole: bool = True):
    attrs = {"min": str(minimum), "step": "1" if whole else "any"}
    attrs["inputmode"] = "numeric" if whole else "decimal"
    if maximum is not None:
        attrs["max"] = str(maximum)
    return forms.NumberInput(attrs=attrs)


def _setup_time():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SiteForm(forms.Form):
    """A site's details as typed (vendors.services.site_create/site_update
    check them: the time zone must be an IANA zone). Its status is not here:
    it changes through the portal."""

    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=120, required=False)
    city = forms.CharField(label=_("City"), max_length=80)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        help_text=Site._meta.get_field("country").help_text,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": "3"}),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"list": ZONE_LIST, "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    seats = forms.IntegerField(label=_("Seats"), initial=0, widget=_setup_number())
    is_active = forms.BooleanField(
        label=pgettext_lazy("in use", "Active"), required=False, initial=True
    )

    wide = ("name", "name_zh", "time_zone")

    @staticmethod
    def initial_for(site: Site) -> dict:
        return {name: getattr(site, name) for name in SiteForm.base_fields}

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def values(self) -> dict:
        """The fields for vendors.services.site_create/site_update."""
        return dict(self.cleaned_data)


class QueueForm(forms.Form):
    """A queue's details and targets as typed (vendors.services.queue_create/
    queue_update check them); `sites` are the vendor's, for its site."""

    site = forms.TypedChoiceField(label=_("Site"), coerce=int, empty_value=None, required=False)
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=Queue._meta.get_field("code").help_text
    )
    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=120, required=False)
    content_type = forms.CharField(
        label=_("Content type"),
        max_length=40,
        required=False,
        help_text=Queue._meta.get_field("content_type").help_text,
    )
    market = forms.CharField(label=_("Market"), max_length=20, required=False)
    language = forms.CharField(label=_("Language"), max_length=20, required=False)
    policy_area = forms.CharField(label=_("Policy area"), max_length=60, required=False)
    sla_percent = forms.FloatField(
        label=_("SLA target (%)"),
        initial=95,
        widget=_setup_number(minimum=1, maximum=100, whole=False),
    )
    sla_minutes = forms.IntegerField(
        label=_("SLA time (min)"),
        initial=60,
        help_text=Queue._meta.get_field("sla_minutes").help_text,
        widget=_setup_number(minimum=1),
    )
    planned_headcount = forms.IntegerField(
        label=_("Planned per shift"), initial=0, widget=_setup_number()
    )
    staffed_from = forms.TimeField(label=_("Staffed from"), initial="00:00", widget=_setup_time())
    staffed_to = forms.TimeField(
        label=_("Staffed until"),
        initial="00:00",
        help_text=Queue._meta.get_field("staffed_to").help_text,
        widget=_setup_time(),
    )
    staffed_days = forms.TypedMultipleChoiceField(
        label=_("Staffed days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        initial=[1, 2, 3, 4, 5, 6, 7],
        widget=forms.CheckboxSelectMultiple,
    )
    stale_after_minutes = forms.IntegerField(
        label=_("Stale after (min)"), initial=60, widget=_setup_number(minimum=5)
    )
    warn_attainment = forms.FloatField(
        label=_("Warn below (%)"),
        required=False,
        help_text=Queue._meta.get_field("warn_attainment").help_text,
        widget=_setup_number(maximum=100, whole=False),
    )
    is_active = forms.BooleanField(
        label=pgettext_lazy("in use", "Active"), required=False, initial=True
    )

    wide = ("name", "name_zh", "staffed_days")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("No site"))] + [
            (
                s.id,
                s.display_name
                if s.is_active
                else _("%(name)s (inactive)") % {"name": s.display_name},
            )
            for s in sites
        ]

    @staticmethod
    def initial_for(queue: Queue) -> dict:
        initial = {name: getattr(queue, name) for name in QueueForm.base_fields if name != "site"}
        initial["site"] = queue.site_id
        return initial

    def values(self) -> dict:
        """The fields for vendors.services.queue_create/queue_update (the
        site by id: the service checks it is the vendor's)."""
        return dict(self.cleaned_data)
