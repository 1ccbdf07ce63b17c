import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


@pytest.mark.django_db
def test_healthz_is_green_with_database_redis_layer_and_a_worker(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "redis",
        "channel_layer",
        "celery",
    }
    assert any(w.startswith("test-worker-") for w in body["checks"]["celery"]["detail"]["workers"])
    assert body["checks"]["channel_layer"]["detail"]["backend"] == "RedisChannelLayer"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = DEAD_REDIS
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [{"address": DEAD_REDIS}]}}
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert "Connection" in checks["redis"]["detail"]["error"]
    assert checks["channel_layer"]["ok"] is False
    assert checks["celery"]["ok"] is False
    assert response.json()["status"] == "down"


def test_health_is_down_when_no_worker_answers():
    """Under a key prefix of its own, the broker is up but no worker listens."""
    code = (
        "import json, django; django.setup(); from tscc.health import run_checks; "
        "ok, report = run_checks(); print(json.dumps(report))"
    )
    env = {**os.environ, "REDIS_PREFIX": f"tscc-test-noworker-{os.getpid()}"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,  # noqa: S603
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == "down"
    assert report["checks"]["redis"]["ok"] is True
    assert report["checks"]["celery"]["detail"]["error"].endswith(
        "no Celery worker answered a ping"
    )


def test_healthz_needs_no_login_and_is_not_cached(client, db):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_status_card_for_people_needs_login(client, make_user):
    assert client.get("/status/").status_code == 302
    client.force_login(make_user())
    response = client.get("/status/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="system-status"' in response.content
    assert b"<html" not in response.content  # the partial only
