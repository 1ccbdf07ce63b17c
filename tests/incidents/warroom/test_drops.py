"""Channel-layer drops (full queues) are counted and logged, never silent."""

import logging

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from incidents import warroom

pytestmark = pytest.mark.asyncio


async def test_a_full_member_queue_is_counted_and_warned(caplog):
    layer = RedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL}], prefix=f"{settings.REDIS_PREFIX}:drops", capacity=1
    )
    channel = await layer.new_channel()
    await layer.group_add("incident.drops", channel)
    before = warroom.drops()["group"]
    with caplog.at_level(logging.INFO, logger="channels_redis.core"):
        for seq in (1, 2, 3):  # nobody reads: the second and third do not fit
            await layer.group_send("incident.drops", {"type": "x", "seq": seq})
    assert warroom.drops()["group"] - before == 2
    warnings = [r for r in caplog.records if r.name == "incidents.warroom"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    await layer.flush()
