from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from tscc.navigation import nav_for


def shell(request) -> dict:
    """What the base layout needs on every page: menu, languages, zone."""
    user = getattr(request, "user", None)
    nav = nav_for(user) if user is not None and user.is_authenticated else []
    path = request.path
    current = next(
        (
            item["key"]
            for item in sorted(nav, key=lambda i: -len(i["url"]))
            if path.startswith(item["url"]) and (item["url"] != "/" or path == "/")
        ),
        None,
    )
    return {
        "nav_items": nav,
        "nav_current": current,
        "languages": settings.LANGUAGES,
        "viewer_time_zone": timezone.get_current_timezone_name(),
    }
