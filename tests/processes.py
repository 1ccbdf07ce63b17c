"""The project as real subprocesses on the test database: a DATABASE_URL for
them, and ASGI servers (uvicorn) as deployed."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tscc.embedded_redis import die_with_parent

ROOT = Path(__file__).resolve().parents[1]


def subprocess_database_url() -> str:
    """The test database (not the development one) as a DATABASE_URL."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        assert name not in ("", ":memory:") and "mode=memory" not in name, name
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        auth = quote(s.get("USER") or "", safe="")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = s.get("HOST") or "localhost"
        port = f":{s['PORT']}" if s.get("PORT") else ""
        return f"postgres://{auth}@{host}{port}/{s['NAME']}"
    pytest.skip(f"no subprocess DATABASE_URL for {connection.vendor}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AsgiServer:
    """`uvicorn tscc.asgi:application` in a process group of its own, on the
    test database and the suite's Redis under the suite's key prefix, so its
    channel layer is the test process's too."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.log = log
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="tscc.settings",
            DATABASE_URL=subprocess_database_url(),
            REDIS_URL=settings.REDIS_URL,
            REDIS_PREFIX=settings.REDIS_PREFIX,
            SECRET_KEY=settings.SECRET_KEY,
            DEBUG="true",
            ALLOWED_HOSTS="localhost,127.0.0.1",
        )
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "tscc.asgi:application"),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--ws", "websockets-sansio", "--lifespan", "off", "--log-level", "warning"),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # noqa: PLW1509
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.1)
        raise RuntimeError("uvicorn did not start")

    @property
    def ws(self) -> str:
        return f"ws://localhost:{self.port}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
