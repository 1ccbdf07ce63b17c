"""The real stack for the benchmarks that run it as deployed (bench/faults.py,
bench/load.py): uvicorn, a Celery worker and beat as separate processes, a
private redis-server, a webhook sink that records every delivery, and
logged-in users. Importable before django.setup() (a bench picks its ports
first); the functions that touch the database need it done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Processes --------------------------------------------------------------------


def spawn(name: str, argv: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """A process in a session (process group) of its own, logging to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n--- {name} started {time.strftime('%H:%M:%S')}\n".encode())
        out.flush()
        return subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(proc: subprocess.Popen | None, sig: int = signal.SIGKILL, wait: float = 15) -> None:
    if proc is None:
        return
    if proc.poll() is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children left behind
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # prefork children of a killed parent


def wait_port(port: int, proc: subprocess.Popen, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {limit:.0f} s")


class RedisServer:
    """A private redis-server (no persistence) on `port`, which a bench may kill."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.port, self.log_dir = port, log_dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = spawn(
            "redis",
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            self.log_dir / "redis.log",
        )
        wait_port(self.port, self.proc, 10, "redis-server")

    def kill(self) -> None:
        kill_group(self.proc)


class Stack:
    """uvicorn (`web_workers` processes), a Celery worker on every queue, and
    beat; logs under `log_dir` named after `tag`."""

    def __init__(
        self,
        tag: str,
        log_dir: Path,
        database_url: str,
        *,
        web_workers: int = 1,
        concurrency: int = 2,
        realtime: bool = False,
    ) -> None:
        self.tag, self.log_dir = tag, log_dir
        self.env = {"DATABASE_URL": database_url}
        self.web_workers, self.concurrency = web_workers, concurrency
        self.port = free_port()
        # realtime: websockets get a uvicorn process of their own on ws_port
        # (as a proxy routing /ws/ there would), so page rendering on the
        # web processes' threads never holds their event loop back.
        self.ws_port = free_port() if realtime else self.port
        self.web = self.worker = self.beat = self.realtime = None

    def log(self, name: str) -> Path:
        return self.log_dir / f"{self.tag}-{name}.log"

    def _uvicorn(self, name: str, port: int, workers: int) -> subprocess.Popen:
        many = ("--workers", str(workers)) if workers > 1 else ()
        proc = spawn(
            "uvicorn",
            [
                *(sys.executable, "-m", "uvicorn", "tscc.asgi:application"),
                *("--host", "127.0.0.1", "--port", str(port), *many),
                *("--lifespan", "off", "--log-level", "warning", "--ws", "websockets-sansio"),
            ],
            self.log(name),
            self.env,
        )
        wait_port(port, proc, 60, f"uvicorn ({name})")
        return proc

    def start_web(self) -> None:
        self.web = self._uvicorn("web", self.port, self.web_workers)
        if self.ws_port != self.port:
            self.realtime = self._uvicorn("realtime", self.ws_port, 1)

    def start_worker(self) -> None:
        from django.conf import settings

        self.worker = spawn(
            "worker",
            [
                *(sys.executable, "-m", "celery", "-A", "tscc", "worker"),
                *("-Q", ",".join(settings.CELERY_TASK_QUEUES_ALL)),
                *("--concurrency", str(self.concurrency), "-O", "fair"),
                *("--loglevel", "WARNING", "--hostname", f"bench-{self.tag}@%h"),
            ],
            self.log("worker"),
            self.env,
        )

    def start_beat(self) -> None:
        schedule = self.log_dir / f"beat-schedule-{self.tag}"
        for old in self.log_dir.glob(f"beat-schedule-{self.tag}*"):
            old.unlink()
        self.beat = spawn(
            "beat",
            [
                *(sys.executable, "-m", "celery", "-A", "tscc", "beat"),
                *("--loglevel", "WARNING", "--schedule", str(schedule)),
            ],
            self.log("beat"),
            self.env,
        )

    def start(self) -> None:
        self.start_web()
        self.start_worker()
        self.start_beat()

    def stop(self) -> None:
        for proc in (self.web, self.realtime, self.worker, self.beat):
            kill_group(proc, signal.SIGTERM, wait=12)

    def revive(self) -> list[str]:
        """Restart whatever exited, as a supervisor (Compose's restart:
        unless-stopped) would; says what died and why."""
        died = []
        for name, start in (
            ("web", self.start_web),
            ("worker", self.start_worker),
            ("beat", self.start_beat),
        ):
            proc = getattr(self, name)
            if proc is not None and proc.poll() is not None:
                reason = ""
                with contextlib.suppress(OSError):
                    for line in self.log(name).read_text(errors="replace").splitlines():
                        if "Unrecoverable error" in line or "CRITICAL" in line:
                            reason = line.split(" ", 3)[-1][:140]
                died.append(f"{name} exited ({proc.returncode}) {reason}".strip())
                kill_group(proc)
                start()
        return died

    def alive(self) -> str:
        down = [
            name
            for name, p in (("web", self.web), ("worker", self.worker), ("beat", self.beat))
            if p is None or p.poll() is not None
        ]
        return "all up" if not down else "down: " + ",".join(down)


# --- The webhook sink -------------------------------------------------------------


class Sink:
    """A local webhook receiver: records (idempotency key, title, arrival
    time) of every delivery; `delay` makes it a slow provider."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str, float]] = []  # (key, title, time)
        self.delay = 0.0
        self.inflight = 0  # received, not yet answered
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key") or body.get("idempotency_key", "")
                with sink.lock:
                    sink.calls.append((key, str(body.get("title", "")), time.time()))
                    sink.inflight += 1
                try:
                    if sink.delay:  # a slow provider: received, not yet answered
                        time.sleep(sink.delay)
                finally:
                    with sink.lock:
                        sink.inflight -= 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a worker killed mid-request: its broken pipe is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def counts(self) -> Counter:
        with self.lock:
            return Counter(k for k, _, _ in self.calls)

    def last_arrival(self, keys: set[str]) -> float | None:
        with self.lock:
            times = [t for k, _, t in self.calls if k in keys]
        return max(times) if times else None


# --- War-room clients ------------------------------------------------------------

EVENT = 'id="room-timeline"'
SYNC = re.compile(r'id="room-sync"[^>]*data-seq="(\d+)"')
ERROR = re.compile(r'id="room-error"[^>]*data-code="([a-z_]+)"')
SEQ = re.compile(r'id="ev-(\d+)"')
MARK = re.compile(r"MARK(\d+)K")  # a marker in a chat text: its arrival is timed
PING_EVERY = 25.0  # seconds, as the page does (static/tscc/js/warroom.js): keeps presence


class RoomClient:
    """A war-room socket that reconnects (jittered backoff), resumes from
    the last contiguous sequence it holds and pings as the page does (without
    pings a member stops counting as present after 90 s, and the room's
    broadcasts go out bare: every member then reads each event from the
    database); records every event's arrival."""

    def __init__(
        self, uri: str, origin: str, cookie: str, since: int, mark: re.Pattern = MARK
    ) -> None:
        self.uri, self.origin, self.cookie, self.mark = uri, origin, cookie, mark
        self.high = since  # highest contiguous seq
        self.start = since
        self.order: list[int] = []
        self.seen: set[int] = set()
        self.duplicates = 0
        self.out_of_order = 0
        self.markers: dict[int, float] = {}
        self.errors: list[str] = []
        self.syncs: list[float] = []
        self.closes: list[float] = []
        self.ws = None
        self.synced = False
        self.stopping = False
        self.reconnect = True

    async def run(self) -> None:
        backoff = 0.5
        while not self.stopping:
            try:
                async with connect(
                    self.uri,
                    additional_headers=[("Origin", self.origin), ("Cookie", self.cookie)],
                    max_size=None,
                    ping_interval=None,
                    open_timeout=15,
                    close_timeout=2,
                ) as ws:
                    self.ws = ws
                    await ws.send(json.dumps({"type": "resume", "last_seq": self.high}))
                    pinger = asyncio.create_task(self.ping(ws))
                    try:
                        async for frame in ws:
                            if isinstance(frame, str):
                                self.handle(frame)
                                if self.synced:
                                    backoff = 0.5
                    finally:
                        pinger.cancel()
            except Exception as exc:  # refused, reset, closed: reconnect
                if not self.stopping:
                    self.errors.append(type(exc).__name__)
            self.ws = None
            self.synced = False
            if self.stopping or not self.reconnect:
                return
            self.closes.append(time.time())
            await asyncio.sleep(random.uniform(0.1, backoff))
            backoff = min(2.0, backoff * 2)

    async def ping(self, ws) -> None:
        with contextlib.suppress(Exception):  # closed: the reader reconnects
            while True:
                await asyncio.sleep(PING_EVERY)
                await ws.send('{"type":"ping"}')

    def handle(self, frame: str) -> None:
        now = time.time()
        if EVENT in frame:
            for m in self.mark.finditer(frame):
                self.markers.setdefault(int(m[1]), now)
            for s in SEQ.findall(frame):
                seq = int(s)
                if seq in self.seen or seq <= self.start:
                    self.duplicates += seq in self.seen
                    continue
                if self.order and seq < self.order[-1]:
                    self.out_of_order += 1
                self.seen.add(seq)
                self.order.append(seq)
                while self.high + 1 in self.seen:
                    self.high += 1
        elif SYNC.search(frame):
            self.synced = True
            self.syncs.append(now)
        elif (m := ERROR.search(frame)) is not None:
            self.errors.append(m[1])

    async def send_chat(self, text: str) -> bool:
        ws = self.ws
        if ws is None or not self.synced:
            return False
        try:
            await ws.send(json.dumps({"type": "chat", "text": text}))
            return True
        except Exception:  # closed meanwhile: not sent
            return False

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


# --- Paging ----------------------------------------------------------------------


def route_pages_to(paged, url: str, policy_name: str):
    """Every declaration pages `paged` (at once, any urgency) through a
    one-level policy whose only routing rule matches everything; `paged`'s
    only contact is a webhook to `url` (a Sink). Returns the policy."""
    from escalations.models import (
        ContactMethod,
        EscalationPolicy,
        LevelTarget,
        NotificationRule,
        PolicyLevel,
        RoutingRule,
    )

    ContactMethod.objects.filter(user=paged).delete()
    NotificationRule.objects.filter(user=paged).delete()
    ContactMethod.objects.create(user=paged, channel="webhook", address=url)
    for urgency in ("high", "low"):
        NotificationRule.objects.create(
            user=paged, channel="webhook", delay_minutes=0, urgency=urgency
        )
    policy, created = EscalationPolicy.objects.get_or_create(name=policy_name)
    if created:
        level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=60)
        LevelTarget.objects.create(level=level, kind="user", user=paged)
    RoutingRule.objects.all().delete()
    RoutingRule.objects.create(policy=policy, position=0)
    return policy


# --- People -----------------------------------------------------------------------


def users(prefix: str, count: int, role) -> list:
    """`count` users named `prefix0…` with `role`, created if missing (no
    usable password)."""
    from django.contrib.auth.hashers import make_password

    from tscc.models import User

    names = [f"{prefix}{i}" for i in range(count)]
    User.objects.bulk_create(
        [User(username=n, role=role, password=make_password(None)) for n in names],
        ignore_conflicts=True,
    )
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    return [found[n] for n in names]


def session_cookie(user) -> str:
    """A logged-in session, as django.contrib.auth.login leaves it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"sessionid={store.session_key}"
