from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tscc.models import User

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
