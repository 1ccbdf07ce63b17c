"""Health checks for /healthz: database, Redis, channel layer, Celery workers.

Each check returns a Check with its own time budget, so a dead dependency makes
the endpoint answer 503 quickly instead of hanging the load balancer's probe.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

BEAT_HEARTBEAT_KEY = "health:beat-heartbeat"
BEAT_STALE_AFTER_SECONDS = 60
TIMEOUT_SECONDS = 2.0


@dataclass
class Check:
    ok: bool
    ms: float
    detail: dict[str, Any] = field(default_factory=dict)


def _timed(fn) -> Check:
    started = time.perf_counter()
    try:
        detail = fn() or {}
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        detail = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        ok = False
    return Check(ok=ok, ms=round((time.perf_counter() - started) * 1000, 1), detail=detail)


def check_database() -> Check:
    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(run)


def check_redis() -> Check:
    def run():
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=TIMEOUT_SECONDS,
            socket_timeout=TIMEOUT_SECONDS,
        )
        try:
            client.ping()
            return {"embedded": settings.EMBEDDED_REDIS}
        finally:
            client.close()

    return _timed(run)


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    # The default "specific" prefix matters: channels-redis reads every
    # process-local channel through one receive loop per real channel, so a
    # private prefix would starve behind an open websocket's receive.
    channel = await layer.new_channel()
    token = secrets.token_hex(8)
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), TIMEOUT_SECONDS)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


def check_channel_layer() -> Check:
    def run():
        async_to_sync(_channel_layer_roundtrip)()
        return {"backend": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]}

    return _timed(run)


def check_celery(*, broker_ok: bool) -> Check:
    from tscc.celery import app

    def run():
        if not broker_ok:
            raise RuntimeError("broker (Redis) unreachable")
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
            replies = app.control.ping(timeout=1.0, connection=conn)
        workers = sorted(name for reply in replies for name in reply)
        if not workers:
            raise RuntimeError("no Celery worker answered a ping")
        return {"workers": workers}

    return _timed(run)


def beat_heartbeat_record() -> None:
    cache.set(BEAT_HEARTBEAT_KEY, timezone.now().timestamp(), timeout=3600)


def beat_status() -> dict[str, Any]:
    """Informational: beat's last heartbeat. Not part of the 503 decision."""
    try:
        last = cache.get(BEAT_HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001
        return {"state": "unknown"}
    if last is None:
        return {"state": "unknown"}
    age = timezone.now().timestamp() - float(last)
    return {
        "state": "ok" if age <= BEAT_STALE_AFTER_SECONDS else "stale",
        "last_seen_seconds": round(age, 1),
    }


def run_checks() -> tuple[bool, dict[str, Any]]:
    """All checks. Returns (healthy, JSON-ready report)."""
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "channel_layer": check_channel_layer(),
    }
    checks["celery"] = check_celery(broker_ok=checks["redis"].ok)
    healthy = all(c.ok for c in checks.values())
    report = {
        "status": "ok" if healthy else "down",
        "time": timezone.now().isoformat(),
        "checks": {name: asdict(c) for name, c in checks.items()},
        "beat": beat_status(),
    }
    return healthy, report
