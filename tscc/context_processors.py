from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from tscc.navigation import nav_for


def shell(request) -> dict:
    """What the base layout needs on every page: menu, languages, zone."""
    user = getattr(request, "user", None)

    def nav() -> list[dict]:
        return nav_for(user) if user is not None and user.is_authenticated else []

    def current() -> str | None:
        path = request.path
        return next(
            (
                item["key"]
                for item in sorted(nav_items, key=lambda i: -len(i["url"]))
                if path.startswith(item["url"]) and (item["url"] != "/" or path == "/")
            ),
            None,
        )

    # Lazy: htmx partials never show the menu, so they never pay for it.
    nav_items = SimpleLazyObject(nav)
    return {
        "nav_items": nav_items,
        "nav_current": SimpleLazyObject(current),
        "languages": settings.LANGUAGES,
        "viewer_time_zone": timezone.get_current_timezone_name(),
    }
