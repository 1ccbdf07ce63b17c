"""Django's ASGI handler on a fixed pool of long-lived threads.

Django's own handler runs each HTTP request's synchronous part (middleware,
views, the ORM) on a thread made for that request
(`ThreadSensitiveContext()`), and Django's database connections belong to a
thread: every request opens a new PostgreSQL connection and closes it, so a
backend process is forked and authenticated for each API call (measured:
4-12 ms of PostgreSQL CPU per snapshot post, more than the post itself).

Here each request runs in a thread-sensitive context bound to one of N
single-thread executors that live as long as the process (asgiref's
`ThreadSensitiveContext(executor=...)`). A thread keeps its connection
between requests exactly as a WSGI server's threads do: `CONN_MAX_AGE`
limits its age, `CONN_HEALTH_CHECKS` replaces a broken one, and Django's
request_started / request_finished handlers (which run on the request's
thread) close one left in a bad state. A request takes the thread with the
fewest requests in flight, so one slow page holds up no other request while a
thread is free. Websockets go to Channels as before.

The middleware chain and the view run in one hop to that thread. Django's
handler loads the chain in async mode, where every synchronous middleware
(sessions, CSRF, locale, auth, messages, axes, ours) is wrapped in its own
sync_to_async: about 18 hops between the event loop and the thread per
request, measured at ~10 ms of CPU per API call on this project's 2-core
bench machine (half of a snapshot post). Every view here is synchronous,
so the chain is loaded in sync mode and called once on the request's
thread, as a WSGI server would; reading the body and sending the response
stay on the event loop.

Direct routes (settings.ASGI_DIRECT_ROUTES, path -> DirectRoute): a hot
endpoint that answers without the middleware chain, URL resolution and
DRF, for requests its `wants` accepts from the headers alone (the vendor
token's snapshot post: vendors/api/ingest.py). It still gets a real Django
request and gives a real response: the host is validated as Django does,
plain HTTP under SECURE_SSL_REDIRECT, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE and anything the route declines (None) go
through the full stack instead; the language comes from LocaleMiddleware and the
time zone is the default one, as UserPreferencesMiddleware gives anyone
who is not a signed-in person;
Security, X-Frame-Options and Locale headers are added by those
middlewares' own process_response; an uncaught exception takes Django's
handler500 (503 for an unreachable database or Redis), and 4xx/5xx are
logged as Django logs them. Connections open and close with Django's
request_started / request_finished signals on the same pooled thread.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix, set_urlconf
from django.utils import timezone
from django.utils.log import log_response
from django.utils.module_loading import import_string

from tscc.middleware import activate_preferences

DEFAULT_THREADS = 8


@dataclass(frozen=True)
class DirectRoute:
    """`respond(request)` answers `methods` on one path for requests whose
    headers (lower-case names, bytes, as ASGI gives them) `wants`; it runs
    on the request's pooled thread and may return None to hand the request
    to the full stack."""

    methods: Iterable[str]
    wants: Callable[[dict[bytes, bytes]], bool]
    respond: Callable[[HttpRequest], HttpResponse | None]


def _not_called(request):  # get_response of the middlewares used one by one
    raise AssertionError("direct routes call the middlewares' hooks, not the chain")


class PooledASGIHandler(ASGIHandler):
    def __init__(
        self, threads: int | None = None, direct_routes: dict[str, DirectRoute] | None = None
    ) -> None:
        super().__init__()
        # The chain as WSGI runs it (see the module docstring).
        self.load_middleware(is_async=False)
        if threads is None:
            threads = int(os.environ.get("ASGI_THREADS", DEFAULT_THREADS))
        if threads < 1:
            raise ValueError("ASGI_THREADS must be at least 1")
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-{n}")
            for n in range(threads)
        ]
        self.in_flight = [0] * threads
        if direct_routes is None:
            direct_routes = {
                path: import_string(route) if isinstance(route, str) else route
                for path, route in getattr(settings, "ASGI_DIRECT_ROUTES", {}).items()
            }
        self.direct_routes = direct_routes
        self._locale = LocaleMiddleware(_not_called)
        self._xframe = XFrameOptionsMiddleware(_not_called)
        self._security = SecurityMiddleware(_not_called)

    def close_connections(self, timeout: float = 10) -> None:
        """Close the database connections the pool's threads hold (a test
        server stopping before its test database is dropped)."""
        from django.db import connections

        for executor in self.executors:
            executor.submit(connections.close_all).result(timeout=timeout)

    async def get_response_async(self, request):
        # BaseHandler.get_response: URL conf, the chain, request.close on
        # the response's close, logging of 4xx/5xx, on the pooled thread.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    def _least_busy(self) -> int:
        # Runs on the event loop's thread only: no lock needed.
        return min(range(len(self.in_flight)), key=self.in_flight.__getitem__)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        n = self._least_busy()
        self.in_flight[n] += 1
        try:
            async with ThreadSensitiveContext(executor=self.executors[n]):
                route = self._direct_route(scope)
                if route is None:
                    await self.handle(scope, receive, send)
                else:
                    await self.handle_direct(route, scope, receive, send)
        finally:
            self.in_flight[n] -= 1

    # --- direct routes ----------------------------------------------------------

    def _direct_route(self, scope) -> DirectRoute | None:
        route = self.direct_routes.get(scope["path"])
        if route is None or scope["method"] not in route.methods or scope.get("query_string"):
            return None  # a query string (DRF's ?format=, say) is the full stack's
        raw = scope.get("headers") or ()
        headers = dict(raw)
        names = [name for name, _value in raw]
        if names.count(b"authorization") > 1 or names.count(b"cookie") > 1:
            return None  # ambiguous: Django joins repeats; let it decide
        # A body of declared size, within the limit, is read into memory; a
        # chunked body (no length) or an oversized one takes the full stack,
        # which spools to disk and answers it.
        length = headers.get(b"content-length", b"")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if not length.isdigit() or (limit is not None and int(length) > limit):
            return None
        return route if route.wants(headers) else None

    async def handle_direct(self, route: DirectRoute, scope, receive, send) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away (RequestAborted in Django's handler)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        response = await sync_to_async(self._direct_response, thread_sensitive=True)(
            route, scope, body
        )
        if response is None:
            await self.handle(scope, _replaying(body, receive), send)
            return
        await self.send_response(response, send)

    def _direct_response(self, route: DirectRoute, scope, body: bytes) -> HttpResponse | None:
        set_script_prefix(get_script_prefix(scope))
        request = self.request_class(scope, io.BytesIO(body))
        try:
            request.get_host()
        except DisallowedHost:
            return None  # Django's 400 and its log
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware's redirect
        signals.request_started.send(sender=self.__class__, scope=scope)
        set_urlconf(settings.ROOT_URLCONF)
        response = None
        try:
            try:
                self._locale.process_request(request)
                activate_preferences(request, None)  # the default zone, as for anyone unnamed
                response = route.respond(request)
            except Exception as exc:  # what convert_exception_to_response does
                response = response_for_exception(request, exc)
            if response is None:
                return None
            if response.streaming:  # routes answer in memory
                raise TypeError("a direct route must not stream")
            response = self._xframe.process_response(request, response)
            response = self._locale.process_response(request, response)
            response = self._security.process_response(request, response)
            response._resource_closers.append(request.close)
            if response.status_code >= 400:
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
            return response
        finally:
            timezone.deactivate()
            # Closed here, before it is sent: its body is in memory, and
            # closing on this thread (request_finished: the connection's
            # upkeep) saves a second hop to it after sending.
            if response is not None:
                response.close()
            else:
                signals.request_finished.send(sender=self.__class__)


def _replaying(body: bytes, receive):
    """`receive` with the body already read given back first."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay():
        return pending.pop() if pending else await receive()

    return replay


def get_pooled_asgi_application() -> PooledASGIHandler:
    """As django.core.asgi.get_asgi_application, with the thread pool."""
    import django

    django.setup(set_prefix=False)
    return PooledASGIHandler()
