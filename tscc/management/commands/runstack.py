"""Run everything `make run` needs: Redis (embedded), ASGI server, worker, beat.

Ctrl-C (or SIGTERM) stops every process this command started, in order:
web, beat and worker first, Redis last, and returns when all are gone.
"""

from __future__ import annotations

import os
import signal
import subprocess  # runs its own server and workers  # nosec B404
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tscc.embedded_redis import EmbeddedRedis, die_with_parent
from tscc.management.commands.seed_demo import DEMO_PASSWORD, USERS

RESTART_LIMIT = 5  # exits of one process within RESTART_WINDOW: give up
RESTART_WINDOW = 60  # seconds


class Command(BaseCommand):
    help = "Migrate, load demo data, and run the ASGI server, a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args, host: str, port: int, no_seed: bool, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.argvs: dict[str, list[str]] = {}
        self.redis = EmbeddedRedis(settings.EMBEDDED_REDIS_DIR) if settings.EMBEDDED_REDIS else None
        self.stopping = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            if self.redis is not None:
                self.redis.start()
                self.stdout.write(f"Embedded Redis on {self.redis.socket}")
            call_command("migrate", interactive=False, verbosity=1)
            if not no_seed:
                call_command("seed_demo", force=True)
            self._spawn(
                "web",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "tscc.asgi:application",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--lifespan",
                    "off",
                    "--ws",
                    "websockets-sansio",
                ],
            )
            self._spawn(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tscc",
                    "worker",
                    "-Q",
                    ",".join(settings.CELERY_TASK_QUEUES_ALL),
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                    "--hostname",
                    "worker@%h",
                ],
            )
            self._spawn(
                "beat",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tscc",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ],
            )
            self._banner(host, port)
            self._wait()
        finally:
            self._shutdown()

    def _start(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - argv built here, not from input  # nosec B603
            argv,
            preexec_fn=die_with_parent,  # noqa: S603, PLW1509
            start_new_session=True,
        )

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.children.append((name, self._start(argv)))
        self.argvs[name] = argv

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _wait(self) -> None:
        """Supervise: a process that exits is started again (Celery's worker
        can exit on a lost broker connection, e.g. when Redis restarts; its
        work waits as rows in the database meanwhile). One that exits
        RESTART_LIMIT times within RESTART_WINDOW seconds is broken, not
        unlucky: then everything stops."""
        exits: dict[str, list[float]] = {}
        while not self.stopping:
            for index, (name, proc) in enumerate(self.children):
                if proc.poll() is None:
                    continue
                now = time.monotonic()
                recent = [t for t in exits.get(name, []) if now - t < RESTART_WINDOW] + [now]
                exits[name] = recent
                if len(recent) >= RESTART_LIMIT:
                    self.stderr.write(
                        f"{name} exited with {proc.returncode} {len(recent)} times within "
                        f"{RESTART_WINDOW} s; stopping everything."
                    )
                    return
                self.stderr.write(f"{name} exited with {proc.returncode}; starting it again.")
                self.children[index] = (name, self._start(self.argvs[name]))
            time.sleep(0.3)

    def _shutdown(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for _name, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.redis is not None:
            self.redis.stop()
        self.stdout.write("TSCC stopped; every process it started has exited.")

    def _banner(self, host: str, port: int) -> None:
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104 - a comparison  # nosec B104
        lines = [
            "",
            f"  TSCC is running at http://{shown}:{port}/",
            f"  Health: http://{shown}:{port}/healthz   API docs: http://{shown}:{port}/api/docs/",
            f"  Demo logins (password {DEMO_PASSWORD}):",
            *[f"    {u['username']:<14} {u['role'].value}" for u in USERS],
            "  Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))
