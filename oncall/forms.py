"""HTML input for schedules, layers and overrides (rules live in services)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from oncall.models import UNIT_CHOICES
from tscc.forms import COMMON_ZONES, DateTimeLocal, operations_people
from tscc.models import Team, validate_time_zone

DAYS = [
    (1, _("Mon")),
    (2, _("Tue")),
    (3, _("Wed")),
    (4, _("Thu")),
    (5, _("Fri")),
    (6, _("Sat")),
    (7, _("Sun")),
]


responders = operations_people


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.username})"


class ScheduleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        validators=[validate_time_zone],
        widget=forms.TextInput(attrs={"list": "zones", "autocomplete": "off"}),
        help_text=_("For example Asia/Shanghai or Europe/Dublin."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LayerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    participants = forms.CharField(
        label=_("Participants, in rotation order"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One username per line."),
    )
    unit = forms.ChoiceField(label=_("Shift length unit"), choices=UNIT_CHOICES, initial="weeks")
    count = forms.IntegerField(label=_("Shift length"), min_value=1, max_value=365, initial=1)
    handoff = forms.DateTimeField(
        label=_("First handoff"),
        widget=DateTimeLocal,
        help_text=_("Local time in the layer's zone; later handoffs keep this wall-clock time."),
    )
    priority = forms.IntegerField(
        label=_("Priority"), initial=0, help_text=_("Higher layers win where they cover.")
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    restrict_days = forms.TypedMultipleChoiceField(
        label=_("Only on"),
        choices=DAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    restrict_start = forms.TimeField(
        label=_("from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    restrict_end = forms.TimeField(
        label=_("to"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args, schedule_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule_zone = schedule_zone
        # The zones teams work in (the API takes any zone): rendering all
        # ~600 zones in every layer form made the schedule page slow.
        zones = list(dict.fromkeys([*COMMON_ZONES, schedule_zone]))
        self.fields["time_zone"].choices = [
            ("", _("The schedule's zone (%(zone)s)") % {"zone": schedule_zone}),
            *[(z, z) for z in zones],
        ]

    def clean_participants(self):
        names = [
            line.strip() for line in self.cleaned_data["participants"].splitlines() if line.strip()
        ]
        if not names:
            raise forms.ValidationError(_("Name at least one person."))
        users = {u.username: u for u in responders().filter(username__in=names)}
        unknown = [n for n in names if n not in users]
        if unknown:
            raise forms.ValidationError(
                _("Not a responder: %(names)s") % {"names": ", ".join(unknown)}
            )
        return [users[n] for n in names]

    def clean(self):
        data = super().clean()
        days, start, end = (
            data.get("restrict_days"),
            data.get("restrict_start"),
            data.get("restrict_end"),
        )
        if (days or start or end) and not (days and start and end):
            self.add_error("restrict_days", _("A restriction needs days, a start and an end."))
        return data

    def anchor(self) -> datetime:
        """The handoff as typed, read as wall time in the layer's zone."""
        typed = self.cleaned_data["handoff"]
        zone = ZoneInfo(self.cleaned_data.get("time_zone") or self.schedule_zone)
        return (
            typed.replace(tzinfo=None).replace(tzinfo=zone)
            if typed.tzinfo
            else typed.replace(tzinfo=zone)
        )

    def restrictions(self) -> list[dict]:
        data = self.cleaned_data
        if not data.get("restrict_days"):
            return []
        return [
            {
                "days": data["restrict_days"],
                "start": data["restrict_start"].strftime("%H:%M"),
                "end": data["restrict_end"].strftime("%H:%M"),
            }
        ]


class OverrideForm(forms.Form):
    user = PersonChoice(label=_("Who is on call"), queryset=responders())
    starts_at = forms.DateTimeField(label=_("From"), widget=DateTimeLocal)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DateTimeLocal)
    replaces = PersonChoice(
        label=_("Covering for"),
        queryset=responders(),
        required=False,
        empty_label=_("Whoever is on call"),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = responders()
        self.fields["replaces"].queryset = responders()
