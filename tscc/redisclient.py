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
    if _client is not None:
        return _client
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            )
        return _client


def key(name: str) -> str:
    """`name` under this deployment's (or test run's) prefix."""
    return f"{settings.REDIS_PREFIX}:{name}"


# INCR, and the expiry when the counter is new, as one atomic command: no
# window's counter without an expiry. One EVALSHA costs half the CPU of a
# pipeline of SET NX EX + INCR in redis-py (measured on the token throttle);
# redis-py loads the script again after a Redis restart (NOSCRIPT).
_COUNT_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_count_script = None


def count_hit(name: str, ttl: int) -> int:
    """Count one hit on a fixed window's counter (made with a `ttl`-second
    expiry) and return the count, in one round trip."""
    global _count_script
    client = redis_client()
    if _count_script is None or _count_script.registered_client is not client:
        _count_script = client.register_script(_COUNT_LUA)
    return int(_count_script(keys=[key(name)], args=[ttl]))
