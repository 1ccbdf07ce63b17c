"""HTTP requests run on a fixed pool of threads that keep their database
connections between requests (tscc/asgihandler.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.signals import request_finished
from django.db import connections

from tscc.asgihandler import PooledASGIHandler


async def _get(app, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []
    body_sent = False

    async def receive():
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # no disconnect while the response is built

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.fixture
def seen():
    """What each finished request left: its thread and its connection."""
    records: list[tuple[int, object]] = []

    def record(**kwargs):
        # request_finished runs on the request's own thread, before Django
        # decides whether to keep the connection (its handler is connected
        # earlier and runs first, so the connection is still the request's).
        records.append((threading.get_ident(), connections["default"].connection))

    request_finished.connect(record, dispatch_uid="test-asgihandler")
    yield records
    request_finished.disconnect(dispatch_uid="test-asgihandler")


@pytest.mark.django_db(transaction=True)
def test_a_thread_keeps_its_database_connection_between_requests(seen):
    app = PooledASGIHandler(threads=1)
    try:

        async def two_requests():
            return [await _get(app, "/healthz"), await _get(app, "/healthz")]

        answers = asyncio.run(two_requests())
        # /healthz queries the database (503 here: no Celery worker runs).
        assert all(b'"database"' in body for _status, body in answers)
        (thread_a, conn_a), (thread_b, conn_b) = seen
        assert thread_a == thread_b
        assert conn_a is not None
        assert conn_b is conn_a  # not reopened: no new PostgreSQL backend per request
    finally:
        app.close_connections()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_take_the_least_busy_threads(seen):
    app = PooledASGIHandler(threads=3)
    try:

        async def three_at_once():
            return await asyncio.gather(*(_get(app, "/healthz") for _ in range(3)))

        answers = asyncio.run(three_at_once())
        assert all(b'"database"' in body for _status, body in answers)
        assert len({thread for thread, _conn in seen}) == 3
        assert app.in_flight == [0, 0, 0]
    finally:
        app.close_connections()


def test_least_busy_thread_is_chosen():
    app = PooledASGIHandler(threads=3)
    app.in_flight[:] = [2, 0, 1]
    assert app._least_busy() == 1
    app.in_flight[:] = [1, 1, 1]
    assert app._least_busy() == 0


def test_at_least_one_thread():
    with pytest.raises(ValueError):
        PooledASGIHandler(threads=0)


def test_the_middleware_chain_runs_in_one_hop_on_the_request_thread():
    # Loaded in sync mode: no sync_to_async per middleware (tscc/asgihandler.py).
    app = PooledASGIHandler(threads=1)
    assert not asyncio.iscoroutinefunction(app._middleware_chain)


@pytest.mark.django_db(transaction=True)
def test_pages_work_through_the_sync_chain(seen):
    app = PooledASGIHandler(threads=2)
    try:
        status, body = asyncio.run(_get(app, "/login/"))
        assert status == 200
        assert b"csrfmiddlewaretoken" in body  # CSRF middleware and the template ran
        status, _body = asyncio.run(_get(app, "/incidents/"))
        assert status == 302  # the auth middleware sent the anonymous visitor to log in
    finally:
        app.close_connections()
