"""One Redis client per process for the project's own counters and keys
(Celery, the channel layer and the cache keep their own connections)."""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_client: redis.Redis | None = None
_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """A shared client (its connection pool is thread-safe)."""
    global _client
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            )
        return _client


def key(name: str) -> str:
    """`name` under this deployment's (or test run's) prefix."""
    return f"{settings.REDIS_PREFIX}:{name}"


def count_hit(name: str, ttl: int) -> int:
    """Count one hit on a fixed window's counter and return the count: the
    counter is made with its expiry if missing, then incremented, in one
    round trip (SET NX EX + INCR: no window without an expiry, on any Redis)."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(key(name), 0, ex=ttl, nx=True)
    pipe.incr(key(name))
    return int(pipe.execute()[1])
