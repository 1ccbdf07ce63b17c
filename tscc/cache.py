"""Django's Redis cache with one connection pool and one client per process.

Django keeps a cache object per async context (its CacheHandler is not
thread-critical), and under ASGI every request runs in a context of its
own: each request built a new RedisCache, hence a new connection pool,
hence a new TCP connection to Redis (connect, handshake, close) for its
first cache call. And Django's RedisCacheClient makes a new `redis.Redis`
for every call (`get_client`), whose constructor builds its table of
response callbacks each time. Measured on a vendor's snapshot post (two
cache calls): ~8 ms of CPU on the 2-core bench machine, a third of the
request.

Here pools and clients live in the module, one per (server, options), as
django-redis keeps its pools. A redis-py pool is thread-safe and resets
itself in a forked child (uvicorn's and Celery's worker processes);
a client only wraps its pool. Serialization, keys and timeouts stay
Django's.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_lock = threading.Lock()
_pools: dict[tuple, object] = {}
_clients: dict[tuple, object] = {}


class SharedPoolRedisCacheClient(RedisCacheClient):
    @cached_property
    def _options_key(self) -> tuple:
        return tuple(sorted((k, repr(v)) for k, v in self._pool_options.items()))

    def _key(self, index: int) -> tuple:
        return (self._servers[index], self._pool_class, self._options_key)

    def _get_connection_pool(self, write):
        key = self._key(self._get_connection_pool_index(write))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(key[0], **self._pool_options)
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _clients.get(pool)
        if client is None:
            with _lock:
                client = _clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    @cached_property
    def _cache(self):
        return SharedPoolRedisCacheClient(self._servers, **self._options)
