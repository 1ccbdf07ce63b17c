"""Two posts racing for the same breached queue open one incident (the queue
row is locked while deciding; on PostgreSQL this is a real row lock)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Incident
from vendors.services import snapshot_post


@pytest.mark.django_db(transaction=True)
def test_concurrent_breaches_open_one_incident(lead, queue, breached):
    now = timezone.now().replace(second=0, microsecond=0)
    barrier = threading.Barrier(4)
    errors = []

    def post(minutes: int) -> None:
        try:
            barrier.wait(timeout=10)
            snapshot_post(
                actor=lead,
                queue_id=queue.id,
                fields=breached(taken_at=now - timedelta(minutes=minutes)),
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(m,)) for m in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Incident.objects.count() == 1
