"""Error pages: the API's 404 is JSON like the rest of the API, and a
database or Redis that cannot be reached answers 503 with Retry-After (the
request may be retried), not 500 (a bug).

Django calls handler500 inside the `except` of the uncaught exception, so
`sys.exc_info()` tells what failed, wherever it was raised (a view, or a
middleware reading the session). Neither handler touches the database.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 10


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def database_unreachable(exc: BaseException | None) -> bool:
    """A lost or refused connection to PostgreSQL (OperationalError,
    InterfaceError for a closed one) or Redis (throttles, cache, the channel
    layer), not an integrity or data error, which are bugs."""
    while exc is not None:
        if isinstance(
            exc, OperationalError | InterfaceError | RedisConnectionError | RedisTimeoutError
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unreachable(sys.exc_info()[1]):
        if _is_api(request):
            response = JsonResponse(
                {
                    "code": "unavailable",
                    "detail": _("A service TSCC needs cannot be reached; retry shortly."),
                },
                status=503,
            )
        else:
            body = loader.get_template("503.html").render({"retry": RETRY_AFTER_SECONDS})
            response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse({"code": "server_error", "detail": _("Server error.")}, status=500)
    return defaults.server_error(request)
