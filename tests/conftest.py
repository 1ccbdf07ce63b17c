"""Project-wide fixtures: real Redis (embedded or REDIS_URL), real workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.factories import UserFactory
from tscc.embedded_redis import EmbeddedRedis, die_with_parent
from tscc.roles import Role

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session", autouse=True)
def redis_server():
    """The suite's Redis: a private embedded server unless REDIS_URL is set."""
    server = None
    if settings.EMBEDDED_REDIS:
        server = EmbeddedRedis(settings.EMBEDDED_REDIS_DIR)
        started = server.start()
    client = redis.Redis.from_url(settings.REDIS_URL)
    # Start from a clean slate, touching only this suite's keys.
    for key in client.scan_iter(match=f"{settings.REDIS_PREFIX}*", count=1000):
        client.delete(key)
    client.close()
    yield settings.REDIS_URL
    if server is not None and started:
        server.stop()


@pytest.fixture
def make_user(db):
    def make(role: Role = Role.RESPONDER, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(scope="session", autouse=True)
def consumer_connections_closed(django_db_setup, django_db_blocker):
    """Websocket consumers keep a database connection on the process's shared
    sync thread (tscc.asyncdb); close it before the test database is dropped
    (PostgreSQL refuses to drop a database someone is connected to)."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture(scope="session")
def celery_worker_process(redis_server):
    """A real `celery worker` process on the suite's broker, as in production."""
    from tscc.celery import app

    hostname = f"test-worker-{os.getpid()}@%h"
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tscc",
            "worker",
            "--pool",
            "solo",
            "-Q",
            ",".join(settings.CELERY_TASK_QUEUES_ALL),
            "--hostname",
            hostname,
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=_worker_env(),
        preexec_fn=die_with_parent,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    expected = hostname.split("@")[0]
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {proc.returncode}")
        replies = app.control.ping(timeout=0.5)
        if any(name.startswith(expected) for reply in replies for name in reply):
            break
    else:
        proc.kill()
        raise RuntimeError("celery worker did not answer a ping within 60 s")
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(autouse=True)
def reference_data(request):
    """Transactional tests flush every table, seeded reference data too;
    put it back (the seed migration is idempotent) before each such test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    importlib.import_module("incidents.migrations.0002_reference_data").seed(apps, None)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel layer object for every test: channels-redis binds its
    receive locks to the event loop that first used them, and each async
    test runs in a loop of its own (a layer shared across tests fails with
    "bound to a different event loop" once one test leaves a lock taken)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
