"""The project's own Redis counters (tscc/redisclient.py)."""

from __future__ import annotations

import uuid

from tscc.redisclient import count_hit, key, redis_client


def test_count_hit_counts_and_sets_the_window_expiry_once():
    name = f"test-count-{uuid.uuid4().hex}"
    assert [count_hit(name, 30) for _ in range(3)] == [1, 2, 3]
    ttl = redis_client().ttl(key(name))
    assert 0 < ttl <= 30  # made with its expiry
    redis_client().expire(key(name), 100)
    count_hit(name, 30)
    assert redis_client().ttl(key(name)) > 30  # later hits leave the expiry alone


def test_count_hit_survives_a_flushed_script_cache():
    # As after a Redis restart: EVALSHA answers NOSCRIPT, the script is loaded again.
    name = f"test-count-{uuid.uuid4().hex}"
    assert count_hit(name, 30) == 1
    redis_client().script_flush()
    assert count_hit(name, 30) == 2
