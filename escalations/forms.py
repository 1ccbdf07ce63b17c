"""HTML input for paging configuration. These only parse what was typed:
the rules and their messages live in `escalations.config`, so a page, the
API and the admin refuse the same things in the same words."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from escalations.config import MAX_DELAY_MINUTES, MAX_REPEAT
from escalations.models import ContactMethod
from incidents.models.reference import SEVERITY_CHOICES

KEY = re.compile(r"^[a-z0-9]{1,16}$")


def _int_choice(label, **kwargs) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, coerce=int, empty_value=None, required=False, **kwargs
    )


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    team = _int_choice(_("Team"))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    repeat = forms.IntegerField(
        label=_("Repeat"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_REPEAT}),
        help_text=_("Extra rounds through every level when nobody acknowledges."),
    )
    final_user = _int_choice(
        _("Finally notify"), help_text=_("Told once after the last round, e.g. a manager.")
    )

    def __init__(self, *args, teams=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("No team")), *teams]
        self.fields["final_user"].choices = [("", _("Nobody")), *people]

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "team": d["team"],
            "description": d["description"],
            "repeat": 0 if d["repeat"] is None else d["repeat"],
            "final_user": d["final_user"],
        }


@dataclass
class LevelRow:
    """One level of the editor as typed: ids stay strings so a re-rendered
    form shows exactly what was chosen. `key` names its inputs; the order of
    the rows on the page is the order of the levels."""

    key: str
    wait: str = "5"
    users: list[str] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> LevelRow:
        return cls(key=secrets.token_hex(4))

    @classmethod
    def from_level(cls, level) -> LevelRow:
        row = cls(key=str(level.position), wait=str(level.wait_minutes))
        for target in level.targets.all():
            getattr(row, f"{target.kind}s").append(str(target.target_id))
        return row

    def data(self) -> dict:
        targets = [
            {"kind": kind, "id": value}
            for kind in ("user", "schedule", "team")
            for value in getattr(self, f"{kind}s")
        ]
        return {"wait_minutes": self.wait, "targets": targets}


def levels_from_post(post) -> list[LevelRow]:
    """The levels in the order their rows were on the page."""
    rows = []
    for key in dict.fromkeys(post.getlist("level")):
        if not KEY.match(key):
            continue
        prefix = f"level-{key}-"
        rows.append(
            LevelRow(
                key=key,
                wait=post.get(prefix + "wait", "").strip(),
                users=post.getlist(prefix + "users"),
                schedules=post.getlist(prefix + "schedules"),
                teams=post.getlist(prefix + "teams"),
            )
        )
    return rows


def level_errors(rows: list[LevelRow], fields: dict) -> str:
    """Put a service's `levels.N.*` field errors on their rows; return the
    error about the levels as a whole, if any."""
    for name, message in fields.items():
        parts = name.split(".")
        if parts[0] != "levels" or len(parts) < 2 or not parts[1].isdigit():
            continue
        index = int(parts[1])
        if index < len(rows):
            rows[index].errors[parts[2] if len(parts) > 2 else "row"] = str(message)
    return str(fields.get("levels", ""))


class RoutingRuleForm(forms.Form):
    policy = _int_choice(_("Policy"))
    severities = forms.MultipleChoiceField(
        label=_("Severities"),
        choices=SEVERITY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any severity."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any category."),
    )
    team = _int_choice(_("Owning team"))

    def __init__(self, *args, policies=(), categories=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", _("Choose a policy")), *policies]
        self.fields["categories"].choices = list(categories)
        self.fields["team"].choices = [("", _("Any team")), *teams]


def _address() -> forms.CharField:
    return forms.CharField(label=_("Address"), max_length=500, required=False)


def _secret(label, help_text) -> forms.CharField:
    """A signing secret: typed, never rendered back (PasswordInput drops it)."""
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class ContactMethodForm(forms.Form):
    channel = forms.ChoiceField(
        label=pgettext_lazy("notification", "Channel"), choices=ContactMethod.Channel.choices
    )
    address = _address()
    secret = _secret(
        _("Signing secret"), _("Webhook, Feishu and DingTalk robots only. Never shown again.")
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class ContactMethodEditForm(forms.Form):
    address = _address()
    secret = _secret(_("New signing secret"), _("Leave empty to keep the stored one."))
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False)


class NotificationRuleForm(forms.Form):
    """One step for one urgency (the form's prefix). The channels offered are
    in-app and the person's own methods; whether one may be used is
    `config.notification_rule_save`'s to say."""

    channel = forms.CharField(label=pgettext_lazy("notification", "Channel"), widget=forms.Select)
    delay_minutes = forms.IntegerField(
        label=_("After (minutes)"),
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_DELAY_MINUTES}),
    )

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].widget.choices = list(channels)


class QuietHoursForm(forms.Form):
    start = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )


class SwitchPolicyForm(forms.Form):
    policy = _int_choice(_("Policy"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Why, for the timeline")}),
    )

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", _("Choose a policy")), *policies]


class PagePeopleForm(forms.Form):
    """Page more people for an incident now (the rules are the service's)."""

    user_ids = forms.TypedMultipleChoiceField(
        label=_("People"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    schedule_ids = forms.TypedMultipleChoiceField(
        label=_("Whoever is on call for"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "maxlength": 500, "placeholder": _("Why you need them (optional)")}
        ),
    )

    def __init__(self, *args, people=(), schedules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user_ids"].choices = list(people)
        self.fields["schedule_ids"].choices = list(schedules)
