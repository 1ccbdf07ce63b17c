"""The cache keeps one Redis pool and client per process (tscc/cache.py):
Django makes a cache object per thread and per request context, and each
used to open its own connection to Redis."""

from __future__ import annotations

import threading

from django.core.cache import caches


def _in_thread(fn):
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def test_cache_objects_of_separate_threads_share_one_client_and_pool():
    def grab():
        cache = caches["default"]
        cache.set("tscc-cache-test", threading.get_ident(), 30)
        return cache, cache._cache.get_client(write=True)

    seen = [_in_thread(grab) for _ in range(5)]
    caches_, clients = zip(*seen, strict=True)
    assert len({id(c) for c in caches_}) == 5  # Django's own per-thread objects
    assert len({id(c) for c in clients}) == 1  # one client, one pool
    pool = clients[0].connection_pool
    # Calls one after another reuse one connection rather than opening one each.
    created = pool._created_connections
    for _ in range(5):
        _in_thread(lambda: caches["default"].get("tscc-cache-test"))
    assert pool._created_connections == created
    # What one thread wrote, another reads (the same Redis, keys and prefix).
    assert _in_thread(lambda: caches["default"].get("tscc-cache-test")) is not None
