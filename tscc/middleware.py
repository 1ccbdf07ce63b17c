from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone for this request.

    Runs after LocaleMiddleware (which serves anonymous visitors from the
    language cookie or Accept-Language) and after authentication.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_preferences(request, getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def activate_preferences(request, user) -> None:
    """The user's language and time zone, or the default zone for anyone
    else (an anonymous visitor, a vendor token: tscc.asgihandler's direct
    routes call this with None)."""
    tz_name = settings.DEFAULT_USER_TIME_ZONE
    if user is not None and user.is_authenticated:
        if user.language in LANGUAGE_CODES:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        tz_name = user.time_zone or tz_name
    try:
        timezone.activate(zoneinfo.ZoneInfo(tz_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_USER_TIME_ZONE))
