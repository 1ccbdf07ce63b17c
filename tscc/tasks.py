from __future__ import annotations

from celery import shared_task


@shared_task(name="tscc.tasks.ping")
def ping(token: str) -> str:
    """Echo `token`: proves a worker takes tasks from the broker and answers."""
    return token


@shared_task(name="tscc.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Record that beat is alive; /healthz reports how long ago it last ran."""
    from tscc.health import beat_heartbeat_record

    beat_heartbeat_record()
