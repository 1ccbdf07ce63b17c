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
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

DEFAULT_THREADS = 8


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int | None = None) -> None:
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
                await self.handle(scope, receive, send)
        finally:
            self.in_flight[n] -= 1


def get_pooled_asgi_application() -> PooledASGIHandler:
    """As django.core.asgi.get_asgi_application, with the thread pool."""
    import django

    django.setup(set_prefix=False)
    return PooledASGIHandler()
