"""Helpers shared by the benchmarks (imported after django.setup())."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from django.core.management import call_command
from stack import free_port  # noqa: F401  (re-exported for the benches)

ROOT = Path(__file__).resolve().parent.parent


def ensure_database(*, collectstatic: bool = False) -> None:
    """Create DATABASE_URL's PostgreSQL database if missing, then migrate
    (and collect static files for production settings' manifest)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    call_command("migrate", verbosity=0)
    if collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)


def start_uvicorn(port: int, log: Path, *args: str, wait: float = 60) -> subprocess.Popen:
    """`uvicorn tscc.asgi:application` on loopback (lifespan off, warnings
    only, as runstack and Compose start it) in a process group of its own,
    with this process's environment; returns once it listens."""
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "tscc.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--lifespan", "off", "--log-level", "warning", *args),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"uvicorn exited with {proc.returncode}; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    sys.exit(f"uvicorn did not listen on {port} within {wait:.0f} s; see {log}")


def stop_uvicorn(proc: subprocess.Popen) -> None:
    """SIGTERM to its whole process group (workers too), then SIGKILL."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- Results ------------------------------------------------------------------------

RESULTS = ROOT / "var" / "bench-results"


def report(bench: str, rows: list[tuple[str, str, str, bool | None]]) -> None:
    """Print a benchmark's rows (measure, result, target, met or None when
    nothing is judged) as a table, and keep them in
    var/bench-results/<bench>.json for `bench/summary.py` (`make bench`
    prints every benchmark's in one table)."""
    import json
    from datetime import UTC, datetime

    width = max(len("measure"), *(len(r[0]) for r in rows))
    vwidth = max(len("result"), *(len(r[1]) for r in rows))
    twidth = max(len("target"), *(len(r[2]) for r in rows))
    print()
    print(f"{'measure':<{width}}  {'result':<{vwidth}}  {'target':<{twidth}}  ok")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * twidth}  --")
    for label, value, target, good in rows:
        print(f"{label:<{width}}  {value:<{vwidth}}  {target:<{twidth}}  {verdict(good)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{bench}.json").write_text(
        json.dumps(
            {
                "bench": bench,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "rows": [list(r) for r in rows],
            },
            ensure_ascii=False,
            indent=1,
        )
    )


def verdict(good: bool | None) -> str:
    return "" if good is None else ("yes" if good else "NO")
