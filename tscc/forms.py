from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tscc.exceptions import ApplicationError
from tscc.models import User
from tscc.roles import OPERATIONS_ROLES

COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Manila",
    "Asia/Kolkata",
    "Europe/Dublin",
    "Europe/London",
    "America/Los_Angeles",
    "America/New_York",
    "UTC",
)


class DateTimeLocal(forms.DateTimeInput):
    """<input type=datetime-local>, read and shown in the viewer's zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def operations_people():
    """Active people who can respond: the choices for commanders, roles, on-call."""
    return User.objects.filter(is_active=True, role__in=[r.value for r in OPERATIONS_ROLES])


def apply_error(form, exc: ApplicationError) -> int:
    """Put a service's refusal on the form; return the HTTP status to answer.

    The message becomes the form's error, and field errors (an exception's
    `fields`) land on their fields when the form has them. Invalid input
    answers 422 (htmx swaps it); a refusal keeps its own status (403, 409)."""
    for name, message in (getattr(exc, "fields", None) or {}).items():
        if name in form.fields:
            form.add_error(name, str(message))
    form.add_error(None, str(exc.message))
    return error_status(exc)


def error_status(exc: ApplicationError) -> int:
    """The status a page answers a service's refusal with: invalid input is
    422 (htmx swaps it in place), any other refusal keeps its own (403, 409)."""
    return 422 if exc.http_status == 400 else exc.http_status


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    common = [(z, z) for z in COMMON_ZONES]
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    return [(_("Common"), common), (_("All time zones"), [(z, z) for z in rest])]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = User
        fields = ["display_name", "language", "time_zone", "phone"]
        labels = {
            "display_name": _("Display name"),
            "language": _("Language"),
            "phone": _("Phone"),
        }
        help_texts = {
            "time_zone": _("Every time in TSCC is shown in this zone."),
            "phone": _("International format, e.g. +86 138 0000 0000."),
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = phone.replace(" ", "").replace("-", "")
        if phone and (not digits.startswith("+") or not digits[1:].isdigit() or len(digits) < 8):
            raise forms.ValidationError(
                _("Enter the number in international format, starting with +.")
            )
        return phone
