"""Fixtures for the paging guarantees (test_guarantees.py): a real Celery
worker and a real beat as subprocesses on the test database and a broker of
their own, a webhook sink on loopback that can hold a request open, and a
private Redis server that can crash and come back empty.

The stack's broker is a Redis URL plus a key prefix nobody else uses, and the
test process publishes there while the stack is up (its on-commit hints
included), so no other worker, against another database, can take them."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.escalations.sink import Sink
from tests.processes import subprocess_database_url
from tscc.celery import app
from tscc.embedded_redis import EmbeddedRedis, die_with_parent
from tscc.settings import kombu_redis_url

ROOT = Path(__file__).resolve().parents[2]
# A claimed delivery whose worker died is retried after this (the production
# default is 60 s; the subprocesses and the test process both get this).
LEASE_SECONDS = 3
# Beat's escalation sweep period, from the schedule in tscc/celery.py.
SWEEP_INTERVAL = float(app.conf.beat_schedule["escalations-sweep"]["schedule"])

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1, logs=None
) -> T:
    """Poll `predicate` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n--- subprocess logs ---\n{logs()}" if logs else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


# --- The webhook sink ------------------------------------------------------------


@pytest.fixture
def make_sink():
    sinks: list[Sink] = []

    def make(*, hold_first: bool = False) -> Sink:
        sinks.append(Sink(hold_first=hold_first))
        return sinks[-1]

    yield make
    for sink in sinks:
        sink.close()


# --- A private Redis that can crash ------------------------------------------------


class CrashableRedis(EmbeddedRedis):
    """The project's embedded Redis in a folder of its own; `crash()` kills it
    with SIGKILL and drops its dump, so it comes back empty, as a Redis
    without persistence does after a restart."""

    def crash(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None
        (self.directory / "dump.rdb").unlink(missing_ok=True)

    def client(self) -> redis.Redis:
        # No connect retries: "is it up?" must answer at once, not after
        # redis-py's default backoff (~4 s) when it is down.
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )


@pytest.fixture
def private_redis():
    """Never the suite's Redis: a server of its own on a unix socket in a
    short temporary folder (socket paths are limited to ~100 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="tscc-redis-"))
    server = CrashableRedis(directory)
    server.start()
    yield server
    if server.process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


# --- Worker and beat subprocesses ----------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"


def _drop_publisher_pools() -> None:
    """Forget the test process's broker connections so the next publish opens
    them for the current broker settings (what Celery does after a fork,
    `Celery._after_fork`). The old pool is left open, not closed: kombu's
    global producer registry keeps using it for the suite's own broker URL
    once the stack is closed (closing it broke later tests' publishes)."""
    app._pool = None
    app.amqp._producer_pool = None


class CeleryStack:
    """`celery worker` and `celery beat` processes (each its own process
    group) on the test database and on `redis_url` under a key prefix of
    their own. While the stack is open the test process publishes there too."""

    def __init__(self, *, redis_url: str, workdir: Path):
        self.redis_url = redis_url
        self.prefix = f"tscc-guar-{uuid.uuid4().hex[:10]}"
        self.workdir = workdir
        self.procs: list[Proc] = []
        self.workers = 0
        self.env = dict(os.environ)
        self.env.update(
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="tscc.settings",
            DATABASE_URL=subprocess_database_url(),
            REDIS_URL=redis_url,
            REDIS_PREFIX=self.prefix,
            ESCALATION_DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
            LOG_LEVEL="INFO",
        )
        self._saved = (app.conf.broker_url, app.conf.broker_transport_options)
        app.conf.broker_url = kombu_redis_url(redis_url)
        app.conf.broker_transport_options = {
            **self._saved[1],
            "global_keyprefix": f"{self.prefix}:celery:",
        }
        _drop_publisher_pools()

    # Keys and results in the stack's Redis.

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)

    def queue_key(self, queue: str) -> str:
        return f"{self.prefix}:celery:{queue}"

    def queued(self, queue: str = "critical") -> list[tuple[str, list]]:
        """(task name, args) of every message waiting in `queue`, oldest
        first (kombu pushes on the left and pops on the right)."""
        with self.redis() as client:
            raws = client.lrange(self.queue_key(queue), 0, -1)
        out = []
        for raw in reversed(raws):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            out.append((message["headers"]["task"], args))
        return out

    def result(self, task_id: str) -> dict | None:
        """A task's stored result (the workers' result backend), or None."""
        with self.redis() as client:
            raw = client.get(f"{self.prefix}:celery:celery-task-meta-{task_id}")
        return json.loads(raw) if raw else None

    # Processes.

    def _spawn(self, name: str, args: list[str]) -> Proc:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tscc", *args, "--loglevel", "INFO"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # noqa: PLW1509
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_worker(self, *, concurrency: int = 1) -> Proc:
        """A worker on every queue, as in production: solo for one process,
        prefork for more (tasks then run at the same time)."""
        self.workers += 1
        name = f"{self.prefix}-worker{self.workers}"
        return self._spawn(
            name,
            [
                "worker",
                "--pool",
                "solo" if concurrency == 1 else "prefork",
                "--concurrency",
                str(concurrency),
                "-Q",
                ",".join(settings.CELERY_TASK_QUEUES_ALL),
                "--hostname",
                f"{name}@{socket.gethostname()}",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        )

    def start_beat(self) -> Proc:
        return self._spawn(
            f"{self.prefix}-beat",
            [
                "beat",
                "--schedule",
                str(self.workdir / "beat-schedule"),
                "--pidfile",
                str(self.workdir / "beat.pid"),
            ],
        )

    def wait_ready(self, worker: Proc, *, timeout: float = 60) -> datetime:
        """Ping `worker` until it answers; returns when the answered ping was
        sent (the worker was consuming no later than shortly after that)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.popen.poll() is not None:
                raise RuntimeError(f"{worker.name} exited\n{self.logs()}")
            sent = timezone.now()
            if app.control.ping(destination=[worker.hostname], timeout=0.25):
                return sent
        raise RuntimeError(f"{worker.name} did not answer a ping in {timeout} s\n{self.logs()}")

    @staticmethod
    def signal(proc: Proc, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, sig)

    def kill(self, proc: Proc) -> None:
        """SIGKILL the whole process group (a prefork worker's children too)."""
        self.signal(proc, signal.SIGCONT)
        self.signal(proc, signal.SIGKILL)
        proc.popen.wait(10)

    def count_in_log(self, proc: Proc, task: str, outcome: str = " succeeded in ") -> int:
        lines = proc.log.read_text(errors="replace").splitlines()
        return sum(1 for line in lines if f"{task}[" in line and outcome in line)

    def wait_sweeps(self, worker: Proc, n: int, *, timeout: float = 20) -> None:
        """Wait until `worker` has finished `n` more escalation sweeps."""
        task = "escalations.tasks.sweep_escalations"
        target = self.count_in_log(worker, task) + n
        wait_for(
            lambda: self.count_in_log(worker, task) >= target,
            timeout=timeout,
            what=f"{n} more sweeps by {worker.name}",
            logs=self.logs,
        )

    def logs(self) -> str:
        parts = []
        for proc in self.procs:
            text = proc.log.read_text(errors="replace") if proc.log.exists() else ""
            parts.append(f"== {proc.name} (exit {proc.popen.poll()})\n{text[-6000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for proc in self.procs:
            self.kill(proc)
        app.conf.broker_url, app.conf.broker_transport_options = self._saved
        _drop_publisher_pools()


@pytest.fixture
def celery_stack(transactional_db, tmp_path, settings):
    """A factory for one CeleryStack (on the suite's Redis unless given a
    URL); every process is killed before the test database is flushed."""
    settings.ESCALATION_DELIVERY_LEASE_SECONDS = LEASE_SECONDS
    stacks: list[CeleryStack] = []

    def make(*, redis_url: str | None = None) -> CeleryStack:
        assert not stacks, "one stack per test: the test process publishes to it"
        stacks.append(CeleryStack(redis_url=redis_url or settings.REDIS_URL, workdir=tmp_path))
        return stacks[0]

    yield make
    for stack in stacks:
        stack.close()
