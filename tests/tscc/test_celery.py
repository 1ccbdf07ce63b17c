import secrets

from django.conf import settings

from tscc.celery import app
from tscc.tasks import ping


def test_a_task_runs_on_a_real_worker_over_the_real_broker(celery_worker_process):
    assert app.conf.task_always_eager is False
    token = secrets.token_hex(8)

    result = ping.delay(token)

    assert result.get(timeout=30) == token
    assert result.state == "SUCCESS"


def test_celery_is_configured_for_at_least_once_json_tasks():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 300
    assert conf.broker_url.startswith(("redis://", "rediss://", "redis+socket://"))


def test_beat_schedule_is_defined_in_code():
    entries = app.conf.beat_schedule
    assert entries["beat-heartbeat"]["task"] == "tscc.tasks.beat_heartbeat"
    assert entries["beat-heartbeat"]["task"] in app.tasks


def test_broker_cache_and_channel_layer_share_one_redis():
    from tscc.settings import kombu_redis_url

    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] == settings.REDIS_URL
    assert app.conf.broker_url == kombu_redis_url(settings.REDIS_URL)
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
