"""The public iCal URL: /oncall/ical/<token>.ics. No login: the token is the
secret (unknown, revoked or an owner who lost access: 404). Rate-limited per
client IP, counting every request, so tokens cannot be guessed at speed."""

from __future__ import annotations

import logging
import time

from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from oncall.ical import feed_calendar
from oncall.services import feed_lookup

logger = logging.getLogger(__name__)

RATE_LIMIT = 60  # requests per client IP ...
RATE_WINDOW = 60  # ... per this many seconds
CACHE_SECONDS = 300


def over_rate_limit(request: HttpRequest) -> bool:
    """Count this request against its IP's fixed window; fail open if the
    cache is down (the feed is read-only and the token is the secret)."""
    ip = get_client_ip_address(request) or "unknown"
    window = int(time.time() // RATE_WINDOW)
    key = f"oncall:ical:{ip}:{window}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW * 2)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - any cache failure
        logger.warning("iCal rate limit unavailable (cache error)", exc_info=True)
        return False
    return count > RATE_LIMIT


@require_safe
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    if over_rate_limit(request):
        response = HttpResponse("Too many requests.\n", status=429, content_type="text/plain")
        response["Retry-After"] = str(RATE_WINDOW)
        return response
    feed = feed_lookup(token)
    if feed is None:
        raise Http404
    response = HttpResponse(
        feed_calendar(feed, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    return response
